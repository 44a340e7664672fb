# The whole set-up on a fresh machine is `make demo` or `make test`.
# `make test PYTHON=python3.12` tests another interpreter in its own venv (.venv-python3.12),
# type-checked for that version; a full path works too (PYTHON=/opt/python3.12/bin/python3.12).
PYTHON ?= python3
VENV   ?= $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
# branch coverage of the whole suite must stay at or above this (93% measured on 2026-12-03)
COVERAGE_FLOOR ?= 90
BIN    := $(VENV)/bin
STAMP_DEMO := $(VENV)/.installed-demo
STAMP_TEST := $(VENV)/.installed-test

.PHONY: demo test lint typecheck contracts pytest bench clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "'$(PYTHON)' does not run a Python 3.11 or newer: name one on PATH or by its full path"; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP_DEMO): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[all]'
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(STAMP_DEMO)

demo: $(STAMP_DEMO)
	$(BIN)/python -m creditmgmt.cli demo

lint: $(STAMP_TEST)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

# mypy with pyproject's [tool.mypy] (strict), for the version of the venv's interpreter
MYPY = $(BIN)/mypy --python-version "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')"

# the library, then the test suite: tests/ has no __init__.py files (its modules import each
# other as tests.x.y, named from the repository root), hence --explicit-package-bases
typecheck: $(STAMP_TEST)
	$(MYPY) src
	$(MYPY) --explicit-package-bases tests

contracts: $(STAMP_TEST)
	$(BIN)/lint-imports

pytest: $(STAMP_TEST)
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage report --fail-under=$(COVERAGE_FLOOR) --skip-covered --skip-empty

test: lint typecheck contracts pytest

bench: $(STAMP_TEST)
	$(BIN)/python -m bench

clean:
	rm -rf .venv .venv-* .mypy_cache .pytest_cache .ruff_cache .hypothesis build dist .coverage
