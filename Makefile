# `make demo` and `make test` work on a fresh machine with Python 3.11: they create .venv if needed.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKDIR ?= demo_output

.PHONY: setup demo test benchmark clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: setup.py | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/python examples/demo.py --workdir=$(WORKDIR)

test: setup
	$(BIN)/python -m pytest tf_tests -n 2 -q --durations=15

benchmark: setup
	$(BIN)/python benchmarks/mixing.py
	$(BIN)/python benchmarks/in_model.py

clean:
	rm -rf $(VENV) $(WORKDIR) *.egg-info
