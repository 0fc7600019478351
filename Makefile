# Interzap: `make run-server`, `make run-client`, `make admin ARGS=users`, `make test`.
# Every target bootstraps .venv from PyPI on first use; nothing else is assumed, except that
# `make test` runs the server suites on PostgreSQL too when its server binaries are installed
# (Debian: postgresql-15; skipped with one line otherwise, failed under CI=true).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
ARGS ?=

.PHONY: run-server run-client admin test lint typecheck bench bench-quick soak clean

$(STAMP): setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run-server: $(STAMP)
	$(BIN)/interzap-server $(ARGS)

run-client: $(STAMP)
	$(BIN)/interzap-client $(ARGS)

admin: $(STAMP)
	$(BIN)/interzap-admin $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench $(ARGS)

bench-quick: $(STAMP)
	$(BIN)/python -m bench --quick $(ARGS)

soak: $(STAMP)
	$(BIN)/python -m soak $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
