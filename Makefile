# cro_cmo — the two commands:
#   make run    fresh clone → running app on the embedded default (SQLite + filesystem broker) with demo data
#   make test   install test dependencies and run the whole suite (plus ruff, checks, migration drift)
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
export PIP_BUILD_CONSTRAINT := $(CURDIR)/constraints/build.txt
export PIP_DISABLE_PIP_VERSION_CHECK := 1
PYTEST_ARGS ?=

.PHONY: run install install-test test lint check bench chromium schema clean

$(VENV)/bin/python:
	"$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade "pip>=25.3"

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	DEBUG=$${DEBUG:-true} $(PY) manage.py migrate --noinput
	DEBUG=$${DEBUG:-true} $(PY) manage.py seed_demo
	scripts/run-embedded

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
	SECRET_KEY=check-only $(PY) manage.py check
	SECRET_KEY=check-only $(PY) manage.py makemigrations --check --dry-run
	env -u DATABASE_URL SECRET_KEY=check-only $(PY) manage.py spectacular --file var/openapi-check.yaml --validate --fail-on-warn
	@diff -q openapi.yaml var/openapi-check.yaml >/dev/null || { \
	  echo "openapi.yaml is out of date with the code: run 'make schema' and commit it." >&2; \
	  diff -u openapi.yaml var/openapi-check.yaml | head -40 >&2; exit 1; }

schema: install
	# Generated on the embedded default so the file does not depend on the database backend.
	env -u DATABASE_URL SECRET_KEY=schema-only $(PY) manage.py spectacular --file openapi.yaml --validate --fail-on-warn

test: install-test chromium lint check
	$(PY) -m pytest $(PYTEST_ARGS)

bench: install-test
	$(PY) -m bench

clean:
	rm -rf $(VENV) var staticfiles
