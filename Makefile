# The commands people type. Everything runs from the virtualenv in .venv,
# created and kept in step with pyproject.toml by the `venv` target.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# `make test` talks to real services: the local PostgreSQL and Redis unless
# DATABASE_URL / REDIS_URL say otherwise.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/reci
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
DATABASE_URL ?= $(TEST_DATABASE_URL)
REDIS_URL ?= $(TEST_REDIS_URL)

.PHONY: demo test lint format bench venv clean messages

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python manage.py demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: lint
	# Checks that need no server run on the default settings (SQLite under var/).
	mkdir -p var
	env -u DATABASE_URL $(BIN)/python manage.py check
	env -u DATABASE_URL $(BIN)/python manage.py makemigrations --check --dry-run
	DATABASE_URL=$(DATABASE_URL) REDIS_URL=$(REDIS_URL) $(BIN)/python -m pytest
	# The zero-set-up default (SQLite and the server-less broker) with a real worker too.
	env -u DATABASE_URL -u REDIS_URL -u CELERY_BROKER_URL $(BIN)/python -m pytest -m embedded

# Extract every translatable string into locale/es and compile it (needs GNU gettext).
messages: $(STAMP)
	env -u DATABASE_URL $(BIN)/python manage.py makemessages -l es --no-location
	env -u DATABASE_URL $(BIN)/python manage.py compilemessages -l es --ignore=.venv --ignore=var

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python bench/assignment.py
	$(BIN)/python bench/osm.py
	$(BIN)/python bench/network_pages.py

clean:
	rm -rf var/test-* var/test-media var/test-broker
