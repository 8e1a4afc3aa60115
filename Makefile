# cro_cmo — the two commands:
#   make run    fresh clone → running app on the embedded default (SQLite + filesystem broker) with demo data
#   make test   install test dependencies and run the whole suite (plus ruff, checks, migration drift)
# Other targets: seed, checks, assets, schema, bench, clean (see the README).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PIP_DISABLE_PIP_VERSION_CHECK := 1
PYTEST_ARGS ?=

# manage.py reads the local .env (written by `make run`); the checks below must not depend on it.
NO_ENV_FILE := ENV_FILE=/dev/null

.PHONY: run install install-test test lint check bench chromium schema clean seed checks assets

# A Python >= 3.12 for the venv, looked up only when the venv is made. scripts/find-python prints
# its path or, on stderr, why there is none: that one message is all make shows.
FOUND_PYTHON = $(shell scripts/find-python 2>&1)

$(VENV)/bin/python:
	$(if $(filter /%,$(firstword $(FOUND_PYTHON))),,$(error $(FOUND_PYTHON)))
	$(FOUND_PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

# A local .env makes every `.venv/bin/python manage.py …` of the README work as typed (DEBUG on);
# written only when absent, so a developer's own settings are never overwritten.
.env:
	@printf '%s\n' \
	  '# Local settings of this checkout, written by `make run` because there was no .env. Read by' \
	  '# manage.py and scripts/run-embedded (never by the tests); the environment wins over it.' \
	  '# Every variable is described in .env.example.' \
	  'DEBUG=true' >$@
	@echo "Wrote .env (DEBUG=true) for local development."

run: install .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	scripts/run-embedded

seed: install .env
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo

checks: install .env
	$(PY) manage.py run_checks

# Refresh the committed Bootstrap build (static/vendor/bootstrap/) from the npm registry.
assets:
	scripts/fetch-bootstrap $(if $(BOOTSTRAP),bootstrap@$(BOOTSTRAP))

chromium:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing Debian's chromium for the browser tests…"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "Browser tests need Chromium at /usr/bin/chromium: run 'sudo apt-get install chromium'." >&2; exit 1; \
	  fi; }

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

check: install-test
	$(NO_ENV_FILE) SECRET_KEY=check-only $(PY) manage.py check
	$(NO_ENV_FILE) SECRET_KEY=check-only $(PY) manage.py makemigrations --check --dry-run
	env -u DATABASE_URL $(NO_ENV_FILE) SECRET_KEY=check-only $(PY) manage.py spectacular --file var/openapi-check.yaml --validate --fail-on-warn
	@diff -q openapi.yaml var/openapi-check.yaml >/dev/null || { \
	  echo "openapi.yaml is out of date with the code: run 'make schema' and commit it." >&2; \
	  diff -u openapi.yaml var/openapi-check.yaml | head -40 >&2; exit 1; }

schema: install
	# Generated on the embedded default so the file does not depend on the database backend.
	env -u DATABASE_URL $(NO_ENV_FILE) SECRET_KEY=schema-only $(PY) manage.py spectacular --file openapi.yaml --validate --fail-on-warn

test: install-test chromium lint check
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install-test
	$(PY) -m bench

clean:
	rm -rf $(VENV) var staticfiles
