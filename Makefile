# Consult: `make run` starts it with demo data, `make test` runs the checks.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test i18n translations bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy=false -q -d translations 2>/dev/null || $(BIN)/pybabel compile -q -d translations

run: translations
	$(BIN)/consult dev

test: translations
	$(BIN)/ruff check consult workers tests
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check consult workers tests
	$(BIN)/ruff format --check consult workers tests

i18n: $(STAMP)
	$(BIN)/pybabel extract -q -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 \
	  --no-location --sort-output --project=Consult --copyright-holder="Consult developers" \
	  -o translations/messages.pot .
	$(BIN)/pybabel update -q -i translations/messages.pot -d translations --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel compile -q -d translations

clean:
	rm -rf $(VENV) instance .pytest_cache
