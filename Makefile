# `make demo` and `make test` work on a fresh machine with Python 3.11: they create .venv if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKDIR ?= demo_output

.PHONY: setup demo mix_demo test benchmark clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: setup.py | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

# The localization experiment (Table 9) on the embedded CUB-like data: all four methods, one seed.
demo: setup
	$(BIN)/python examples/cub_wsol.py --config=wsol_demo --workdir=$(WORKDIR)

# The earlier demo: a grid of CutMix / Mixup / Cutout images.
mix_demo: setup
	$(BIN)/python examples/demo.py --workdir=$(WORKDIR)/mix

test: setup
	$(BIN)/python -m pytest tf_tests -n 2 -q --durations=15

benchmark: setup
	$(BIN)/python benchmarks/mixing.py
	$(BIN)/python benchmarks/in_model.py
	$(BIN)/python benchmarks/localization.py
	$(BIN)/python benchmarks/boxes.py

clean:
	rm -rf $(VENV) $(WORKDIR) *.egg-info
