# Two commands do all set-up on a fresh machine: `make demo` (a real build) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export MB_HOME ?= $(CURDIR)/.mb
export DAGSTER_HOME ?= $(MB_HOME)/dagster
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: install system demo ui test golden bench lint clean up down

# bubblewrap isolates the generated code's tests; without it the sandbox falls back to rlimits only.
# chromium is the browser the UI test (tests/e2e/test_ui_review.py) drives through Playwright.
system:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing bubblewrap (apt-get)"; \
	    (apt-get install -y -qq bubblewrap || (apt-get update -qq && apt-get install -y -qq bubblewrap)) >/dev/null; \
	  else echo "warning: bubblewrap (bwrap) is missing; install it for the full sandbox" >&2; fi; }
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium for the browser test (apt-get, about a minute)"; \
	    (apt-get install -y -qq chromium || (apt-get update -qq && apt-get install -y -qq chromium)) >/dev/null; \
	  else echo "warning: chromium is missing; the browser test (tests/e2e/test_ui_review.py) needs it" >&2; fi; }

$(BIN)/.installed: requirements.txt pyproject.toml
	@echo "creating $(VENV) and installing $$(grep -c '==' requirements.txt) pinned packages (Dagster, FastAPI, pytest, ...): about 2 minutes"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	@echo "installed: $(BIN)/mb (source $(BIN)/activate puts it on PATH)"
	touch $@

install: system $(BIN)/.installed

demo: install
	@echo "building the CRM spec end to end (spec, plan, diff, sandboxed tests, release): 1-2 minutes"
	$(BIN)/mb build "Build a CRM system with contacts and deals"

ui: install
	$(BIN)/mb ui

test: install
	$(BIN)/python -m pytest

golden: install
	$(BIN)/mb golden

bench: install
	$(BIN)/python bench/build_speed.py

lint: install
	$(BIN)/ruff check mb_core mb_dagster tests bench

# The distributed profile on this machine: webserver, daemon and WORKERS Celery run workers, each its
# own process (needs MB_DATABASE_URL, MB_DAGSTER_POSTGRES_URL, MB_CELERY_BROKER_URL; README: Deployment).
WORKERS ?= 2
up: install
	$(BIN)/python -m mb_dagster.deploy.processes up --workers $(WORKERS)

down:
	$(BIN)/python -m mb_dagster.deploy.processes down

clean:
	rm -rf $(MB_HOME)
