# PhotoChanger developer commands. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=
BENCH_ARGS ?=
# pytest-xdist workers for the suite (`PYTEST_WORKERS=0` runs it in one process).
PYTEST_WORKERS ?= auto

.PHONY: help install system-deps run dev test test-sqlite test-postgres lint format typecheck check migrate bench test-reliability clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-16s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --disable-pip-version-check --upgrade pip
	$(PY) -m pip install -qq --disable-pip-version-check -e ".[dev]"
	touch $@

install: $(VENV)/.installed ## create .venv and install the package with dev tools

system-deps: ## install the system tools the suite drives (nginx, chromium, zbar, promtool…) when missing
	@bash scripts/system_deps.sh

migrate: install ## upgrade the database schema (PHOTOCHANGER_DATABASE_URL, default var/photochanger.db)
	$(VENV)/bin/photochanger migrate

run: install ## migrate and serve on 127.0.0.1:8000 (PHOTOCHANGER_HOST / PHOTOCHANGER_PORT override)
	@PHOTOCHANGER_LOG_FORMAT=$${PHOTOCHANGER_LOG_FORMAT:-text} $(VENV)/bin/photochanger serve

dev: install ## serve with auto-reload for development
	$(VENV)/bin/photochanger migrate
	PHOTOCHANGER_LOG_FORMAT=text $(VENV)/bin/uvicorn --factory photochanger.app:create_app_from_env --reload \
		--host $${PHOTOCHANGER_HOST:-127.0.0.1} --port $${PHOTOCHANGER_PORT:-8000}

lint: install ## ruff lint and format check
	$(VENV)/bin/ruff check src tests scripts
	$(VENV)/bin/ruff format --check src tests scripts

format: install ## apply ruff formatting and safe fixes
	$(VENV)/bin/ruff format src tests scripts
	$(VENV)/bin/ruff check --fix src tests scripts

typecheck: install ## mypy --strict over src, tests and scripts
	$(VENV)/bin/mypy

test-sqlite: install ## the suite on SQLite only
	$(PY) -m pytest -n $(PYTEST_WORKERS) -m "not reliability" $(PYTEST_ARGS)

test-postgres: install ## the suite on PostgreSQL only (fails in CI when PostgreSQL is unreachable)
	@if $(PY) scripts/pg_ready.py "$(PG_TEST_URL)"; then \
		PHOTOCHANGER_TEST_DATABASE_URL="$(PG_TEST_URL)" $(PY) -m pytest -n $(PYTEST_WORKERS) -m "not reliability" $(PYTEST_ARGS); \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL at $(PG_TEST_URL) is unreachable: CI requires it" >&2; exit 1; \
	else \
		echo "PostgreSQL at $(PG_TEST_URL) is unreachable: skipping the PostgreSQL run (CI would fail)" >&2; \
	fi

test: system-deps lint typecheck test-sqlite test-postgres ## system tools, ruff, mypy, then pytest on SQLite and PostgreSQL

check: test ## alias of test

bench: install ## benchmarks (numbers and ratios, JSON under bench/results/; BENCH_ARGS=--quick for a smoke run)
	$(PY) scripts/bench.py $(BENCH_ARGS)

test-reliability: install system-deps ## Schemathesis, bad-input corpus and fault injection (PostgreSQL required; restarts it)
	@$(PY) scripts/pg_ready.py "$(PG_TEST_URL)" || { echo "PostgreSQL at $(PG_TEST_URL) is unreachable" >&2; exit 1; }
	PHOTOCHANGER_TEST_DATABASE_URL="$(PG_TEST_URL)" $(PY) -m pytest -m reliability tests/reliability $(PYTEST_ARGS)

clean: ## remove the virtualenv, caches and local data under var/
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache var build dist src/*.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
