# Consult: `make run` starts it with demo data, `make test` runs the checks.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test i18n translations lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel compile -d translations > /dev/null 2>&1

run: translations
	$(BIN)/consult dev

test: translations
	$(BIN)/ruff check consult workers tests
	$(BIN)/pytest

# Measures (never asserts); see bench/run.py.
bench: translations
	$(BIN)/python bench/run.py

lint: $(STAMP)
	$(BIN)/ruff check consult workers tests
	$(BIN)/ruff format --check consult workers tests

# Extract the sources' strings, update es/en/pt (English is filled from the
# sources), compile, and list what is still to translate.
i18n: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k ngettext:1,2 \
	  --no-location --sort-output --project=Consult --copyright-holder="Consult developers" \
	  -o translations/messages.pot . > /dev/null
	$(BIN)/pybabel update -i translations/messages.pot -d translations \
	  --no-fuzzy-matching --ignore-obsolete > /dev/null
	$(BIN)/python -m consult.catalogs fill-english
	$(BIN)/pybabel compile -d translations > /dev/null 2>&1
	$(BIN)/python -m consult.catalogs check || true

clean:
	rm -rf $(VENV) instance .pytest_cache
