# Two targets a student needs: `make demo` and `make test` (lint, type check, then the tests).
# Each creates a local virtual environment (.venv) on first use and installs what it needs: the demo only seqnn
# itself (numpy, threadpoolctl), the tests also their tools (pyproject.toml's `test` extra).
# `make test WITH_TORCH=1` also installs PyTorch 2.13.0 (CPU) so that the live parity tests
# run instead of being skipped (CI does this; on a laptop, PyPI's default torch build may be large).
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: demo test clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/hello.py

$(VENV)/.torch: $(VENV)/.test-installed
	$(PY) -m pip install --quiet torch==2.13.0
	touch $@

test: $(VENV)/.test-installed $(if $(WITH_TORCH),$(VENV)/.torch)
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

clean:
	rm -rf $(VENV) src/*.egg-info .pytest_cache
