# Two commands do all set-up on a fresh machine: `make demo` (a real build) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
export MB_HOME ?= $(CURDIR)/.mb
export DAGSTER_HOME ?= $(MB_HOME)/dagster
export DAGSTER_DISABLE_TELEMETRY := 1

.PHONY: install system demo ui test golden bench lint clean up down

# bubblewrap isolates the generated code's tests; without it the sandbox falls back to rlimits only.
system:
	@command -v bwrap >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    (apt-get install -y -qq bubblewrap || (apt-get update -qq && apt-get install -y -qq bubblewrap)) >/dev/null; \
	  else echo "warning: bubblewrap (bwrap) is missing; install it for the full sandbox" >&2; fi; }

$(BIN)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	$(BIN)/pip install -q --no-deps -e .
	touch $@

install: system $(BIN)/.installed

demo: install
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
