# Sandpit: one command per task. `make run` serves at http://localhost:3001;
# `make test` runs the whole test pass. Both install what is missing first,
# and do nothing again when nothing changed (file stamps in .stamps/).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := backend/.venv
PY := $(VENV)/bin/python
STAMPS := .stamps
FRONTEND_SOURCES := $(shell find frontend/src frontend/public frontend/scripts -type f 2>/dev/null) \
	frontend/package.json frontend/next.config.ts frontend/tsconfig.json frontend/postcss.config.mjs
BACKEND_SOURCES := $(shell find backend/src -name '*.py' 2>/dev/null)

.PHONY: help run test lint format bench setup setup-test frontend image api-types clean

help:
	@echo "make run    install what is missing, build, serve at http://localhost:3001"
	@echo "make test   install what is missing and run every test (TEST_WORKERS=N: phase 1 on N workers)"
	@echo "make lint   ruff, import layering, mypy --strict, the TypeScript compiler and ESLint"
	@echo "make bench  run the benchmarks in bench/"

run: setup
	@echo "==> Serving Sandpit at http://localhost:$${PORT:-3001} (Ctrl+C to stop)"
	$(VENV)/bin/sandpit serve

# The pass runs in two phases. Phase 1: every test but the `exclusive` ones on
# TEST_WORKERS pytest-xdist workers (most tests wait on sandboxes, browsers and
# servers, not on the CPU, so 2 cores keep more than 2 workers busy); a test
# file stays on one worker, so a module's shared server is started once, and
# tests/workers.py keeps the workers' host uids apart; the longest files go
# first (tests/plugins/schedule.py), so none runs alone at the end. Phase 2: the tests
# marked `exclusive` (they assert on a CPU share or on a deadline, which holds
# only with the machine to themselves), one at a time. Both phases run even
# when the first fails, so one pass shows every failure. TEST_WORKERS=0 runs
# phase 1 in one process too. Four, measured on 2 cores from a clean clone:
# the whole of `.ci/run` took 19.5 min, against 22 with three.
TEST_WORKERS ?= 4

test: setup-test
	@scripts/start-docker.sh
	@echo "==> Frontend unit tests (Vitest)"
	cd frontend && npm run --silent test
	@echo "==> Test pass, phase 1: all but the exclusive tests ($(TEST_WORKERS) workers)"
	@cd backend && status=0 \
	&& { .venv/bin/pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder -m "not exclusive" || status=$$?; } \
	&& echo "==> Test pass, phase 2: the exclusive tests, one at a time" \
	&& { .venv/bin/pytest -n 0 -m exclusive || status=$$?; } \
	&& exit $$status

lint: setup backend/openapi.json
	@echo "==> ruff"
	cd backend && .venv/bin/ruff check src tests ../bench && .venv/bin/ruff format --check src tests ../bench
	@echo "==> Package layering (import-linter contracts in backend/pyproject.toml)"
	cd backend && .venv/bin/lint-imports --no-cache
	@echo "==> mypy --strict"
	cd backend && .venv/bin/mypy
	@echo "==> TypeScript"
	cd frontend && npm run --silent typecheck
	@echo "==> ESLint"
	cd frontend && npm run --silent lint
	@echo "==> Generated API types match the backend's OpenAPI document"
	cd frontend && SANDPIT_OPENAPI=../backend/openapi.json npm run --silent gen:api:check

format:
	cd backend && .venv/bin/ruff format src tests ../bench && .venv/bin/ruff check --fix src tests ../bench

bench: setup
	@echo "==> Benchmarks"
	$(PY) bench/run.py

setup: $(STAMPS)/system-run $(STAMPS)/venv frontend image

setup-test: $(STAMPS)/system-test $(STAMPS)/venv frontend image

$(STAMPS)/system-run: scripts/setup-system.sh
	@scripts/setup-system.sh run
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/system-test: scripts/setup-system.sh $(STAMPS)/system-run
	@scripts/setup-system.sh test
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/venv: backend/requirements.lock backend/pyproject.toml scripts/setup-python.sh
	@scripts/setup-python.sh
	@mkdir -p $(STAMPS) && touch $@

frontend: frontend/out/index.html

$(STAMPS)/npm: frontend/package.json frontend/package-lock.json
	@echo "==> Installing frontend packages (npm ci)"
	cd frontend && npm ci --no-audit --no-fund --loglevel=error
	@mkdir -p $(STAMPS) && touch $@

# The API types (frontend/src/api/schema.d.ts) are generated from this
# document and committed; `make api-types` regenerates them after a backend
# change, and `make lint` fails when they are out of date.
backend/openapi.json: $(STAMPS)/venv $(BACKEND_SOURCES)
	@echo "==> Writing the OpenAPI document (backend/openapi.json)"
	tmp=$$(mktemp -d) && PYTHON_SANDBOX_PATH=$$tmp $(VENV)/bin/sandpit openapi $@; rm -rf "$$tmp"

# The sandbox's root filesystem, built once per definition (cached by its hash
# under the data directory; a no-op when it is already there).
image: $(STAMPS)/venv
	@$(VENV)/bin/python -m sandpit.runtime.image build --data-dir "$${PYTHON_SANDBOX_PATH:-data}" >/dev/null

api-types: backend/openapi.json $(STAMPS)/npm
	cd frontend && SANDPIT_OPENAPI=../backend/openapi.json npm run --silent gen:api

frontend/out/index.html: $(STAMPS)/npm $(FRONTEND_SOURCES)
	@echo "==> Building the web app (Next.js static export)"
	cd frontend && NEXT_TELEMETRY_DISABLED=1 npm run --silent build

clean:
	rm -rf $(STAMPS) frontend/out frontend/.next backend/openapi.json
