# Ceiba: `make run` to try it, `make test` to check it. `make help` lists every target.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CEIBA := $(BIN)/ceiba
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run serve worker demo migrate test test-postgres lint fmt typecheck bench messages clean

help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-14s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create the virtualenv and install Ceiba with its development tools
	$(CEIBA) compiletranslations

run: install ## Set up (migrate, demo data) and serve on http://127.0.0.1:8000
	$(CEIBA) migrate --no-input
	$(CEIBA) demo
	$(CEIBA) serve --host 127.0.0.1 --port 8000

serve: install ## Serve without reloading demo data
	$(CEIBA) serve

worker: install ## Run the background job worker
	$(CEIBA) worker

demo: install ## Load the demo administration (idempotent)
	$(CEIBA) migrate --no-input
	$(CEIBA) demo

migrate: install ## Create or upgrade the database
	$(CEIBA) migrate --no-input

lint: install ## Check style (ruff) and formatting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install ## Format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: install ## Check types (mypy with django-stubs)
	$(BIN)/mypy

test: install lint typecheck ## Run ruff, mypy, migration checks and the whole test suite
	$(CEIBA) makemigrations --check --dry-run
	$(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install ## Run the test suite on PostgreSQL (CEIBA_TEST_DATABASE_URL)
	CEIBA_TEST_DATABASE_URL=$${CEIBA_TEST_DATABASE_URL:-postgresql://postgres@127.0.0.1:5432/test} $(BIN)/pytest $(PYTEST_ARGS)

bench: install ## Run the benchmarks under benches/ (results go to docs/benchmarks.md by hand)
	@for bench in benches/*_bench.py; do echo "== $$bench"; $(BIN)/python $$bench || exit 1; done

messages: install ## Extract translatable strings into the .po catalogs (needs GNU gettext)
	cd src/ceiba && ../../$(CEIBA) makemessages --all --no-obsolete --ignore 'migrations/*'

clean: ## Remove the virtualenv and caches (keeps var/, your data)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
