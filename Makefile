# `make demo` and `make test` work on a fresh machine with Python 3.11: they create .venv if needed.
# demo installs keras_cutmix with its experiments extra; test adds the dev extra (the tests' references,
# JAX) and PyTorch's CPU build (TORCH=, e.g. `make test TORCH=`, leaves it out: the torch backend test then
# fails). On this project's machines torch==2.13.0 is a CPU wheel on local disk; elsewhere pick a CPU build.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKDIR ?= demo_output
TORCH ?= torch==2.13.0

.PHONY: setup setup-dev demo mix_demo test rehearse benchmark clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[experiments]"
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev]" $(TORCH)
	touch $@

setup: $(VENV)/.installed

setup-dev: $(VENV)/.installed-dev

# The localization experiment (Table 9) in small: the shipped pretrained cam_vgg fine-tuned on the embedded
# CUB-like data with the baseline and CutMix, seed 0 (examples/cub_wsol.py's docstring).
demo: setup
	$(BIN)/python examples/cub_wsol.py --config=wsol_demo --methods=baseline,cutmix --workdir=$(WORKDIR)

# The earlier demo: a grid of CutMix / Mixup / Cutout images.
mix_demo: setup
	$(BIN)/python examples/demo.py --workdir=$(WORKDIR)/mix

test: setup-dev
	$(BIN)/python -m pytest tf_tests -n 2 -q --durations=15 --ignore=tf_tests/rehearsals

# The paper's real-data commands as documented, on tfds mock data (tf_tests/rehearsals/): slow, since each
# builds the paper's full-size networks (ResNet-50, PyramidNet-200, SSD and RetinaNet) and traces their steps.
rehearse: setup-dev
	$(BIN)/python -m pytest tf_tests/rehearsals -n 2 -q --durations=15

benchmark: setup-dev
	$(BIN)/python benchmarks/mixing.py
	$(BIN)/python benchmarks/in_model.py
	$(BIN)/python benchmarks/localization.py
	$(BIN)/python benchmarks/boxes.py

clean:
	rm -rf $(VENV) $(WORKDIR) *.egg-info
