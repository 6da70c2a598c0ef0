# cbt: the two commands are `make run` and `make test`. See README.md.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: help run test test-js check lint fmt i18n install install-dev system-deps bench bench-smoke bench-steps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## help: the documented targets
help:
	@sed -n 's/^## //p' $(MAKEFILE_LIST)

## run: set everything up and serve the platform on http://$(HOST):$(PORT) with gunicorn
run: install
	$(BIN)/python -m cbt init
	$(BIN)/python -m cbt demo --keep
	$(BIN)/gunicorn --bind $(HOST):$(PORT) --access-logfile - wsgi:app  # the rest: gunicorn.conf.py

## system-deps: the Debian packages the tests need (PostgreSQL server, Chromium, Redis, Node.js, the CJK font)
system-deps:
	bash .ci/system-deps.sh

## test: lint, then the whole suite (unit, integration, PostgreSQL, end-to-end in Chromium)
test: install-dev system-deps lint test-js
	CBT_REQUIRE_POSTGRES=1 CBT_REQUIRE_BROWSER=1 CBT_REQUIRE_REDIS=1 $(BIN)/python -m pytest

## check: lint and every test but the browser and end-to-end ones, on SQLite: the fast loop while working
check: install-dev lint test-js
	$(BIN)/python -m pytest tests --ignore=tests/e2e -k "not postgresql"

## test-js: the exam page's modules under node (outbox, clock, i18n, states; no npm packages): node --test tests/js/
test-js:
	node --test tests/js/

## fmt: format the code and fix what ruff can fix
fmt: install-dev
	$(BIN)/ruff check --fix cbt tests bench tools wsgi.py gunicorn.conf.py
	$(BIN)/ruff format cbt tests bench tools wsgi.py gunicorn.conf.py

## bench: compressed exam days for 1 000, 2 000 and 5 000 candidates, figures against the targets
##        (BENCH_MODE=scaleout: PostgreSQL + Redis, two processes; BENCH_ARGS="--candidates 10000" for more)
bench: install-dev
	$(BIN)/python -m bench.run --keep-going $(or $(BENCH_ARGS),--candidates 1000 2000 5000)

## bench-smoke: the same exam for 500 candidates answering ten times as often, in under a minute; last line is JSON
bench-smoke: install-dev
	$(BIN)/python -m bench.run --candidates 500 --exam-seconds 30 --interval 2 6 --commit-seconds 1

## bench-steps: server CPU and memory per candidate for each step of arriving and starting (1 000 candidates)
bench-steps: install-dev
	$(BIN)/python -m bench.steps $(BENCH_ARGS)

## lint: ruff (lint and format check), mypy, and the i18n check (every shown string marked and translated)
lint: install-dev
	$(BIN)/ruff check cbt tests bench tools wsgi.py gunicorn.conf.py
	$(BIN)/ruff format --check cbt tests bench tools wsgi.py gunicorn.conf.py
	$(BIN)/mypy cbt
	$(BIN)/python tools/i18n.py check

## i18n: extract every message id into cbt/translations, merge into each catalogue, compile (then translate)
i18n: install-dev
	$(BIN)/python tools/i18n.py update

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
