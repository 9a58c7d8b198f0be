# Two entry points for a fresh machine with Python 3.11 and pip:
#   make demo   -> set up .venv, run the pipeline on seeds/ into outputs/
#   make test   -> set up .venv, run lint, types and the test suite
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

$(BIN)/geo-control: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	@touch $@

.PHONY: demo test lint bench clean
demo: $(BIN)/geo-control
	$(BIN)/geo-control run seeds --out outputs

test: $(BIN)/geo-control
	$(BIN)/ruff check geo_control tests bench
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(BIN)/geo-control
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) outputs/* .pytest_cache
