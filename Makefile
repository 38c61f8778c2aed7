# Two targets a student needs: `make demo` and `make test`.
# Each creates a local virtual environment (.venv) on first use and installs what it needs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python

.PHONY: demo test clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

demo: $(VENV)/.installed
	$(PY) examples/hello.py

test: $(VENV)/.installed
	$(PY) -m pytest

clean:
	rm -rf $(VENV) src/*.egg-info .pytest_cache
