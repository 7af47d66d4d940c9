# The two quick-start commands:
#   make run    set up, then run the main job on the default SQLite database
#   make test   set up, then lint, type-check and run the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run test lint typecheck pytest bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

# The main job: the daemon over feeds.yaml and ./data/aggregator.sqlite3 (or
# $AGGREGATOR_DATABASE_URL), polling what is due every 30 s; Ctrl-C stops it cleanly.
run: setup
	$(BIN)/aggregator db upgrade
	$(BIN)/aggregator run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: setup
	$(BIN)/mypy

# pytest exits 5 when it collected nothing: that is a failure here, never hidden.
# -n: the tests run in a process per core (at most 4); each has its own database or schema.
pytest: setup
	$(BIN)/pytest -p no:cacheprovider -n auto --maxprocesses 4 --cov=aggregator --cov-report=term:skip-covered

test: lint typecheck pytest

bench: setup
	$(BIN)/python benchmarks/poll.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
