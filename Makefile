# The two commands of the README's quick start. Each makes its own virtualenv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: example test

$(BIN)/layerguard: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

# Runs layerguard on the example project; exit 1 (violations found) is the expected outcome.
example: $(BIN)/layerguard
	cd example && ../$(BIN)/layerguard check . ; status=$$?; [ $$status -le 1 ]

test: $(BIN)/layerguard
	$(BIN)/python -m pytest
