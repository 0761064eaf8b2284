# Consult: `make run` starts it with demo data, `make test` runs the checks.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

AXE_VERSION := 4.14.1
AXE := tests/browser/vendor/axe.min.js
AXE_STAMP := tests/browser/vendor/.axe-core-$(AXE_VERSION)

.PHONY: run test i18n translations lint bench audit clean

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

# axe-core, for the browser journeys' accessibility checks, from the npm
# registry, once per version. Without npm (outside CI) the journeys skip.
$(AXE_STAMP):
	@mkdir -p $(@D)
	@if ! command -v npm > /dev/null; then \
	  if [ "$$CI" = true ]; then echo "npm is needed to fetch axe-core" >&2; exit 1; fi; \
	  echo "npm not found: the browser journeys will be skipped"; exit 0; \
	fi; \
	cd $(@D) && rm -rf package && npm pack --silent axe-core@$(AXE_VERSION) > /dev/null \
	  && tar -xzf axe-core-$(AXE_VERSION).tgz package/axe.min.js \
	  && mv package/axe.min.js axe.min.js && rm -rf package axe-core-$(AXE_VERSION).tgz \
	  && touch $(notdir $@)

test: translations $(AXE_STAMP)
	$(BIN)/ruff check consult workers tests bench
	$(BIN)/lint-imports
	$(BIN)/pytest

# Known vulnerabilities in the installed packages (pip-audit) and risky code
# (bandit); accepted findings and their reasons are in .ci/audit-exceptions.toml.
audit: $(STAMP)
	$(BIN)/python .ci/audit.py

# Measures (never asserts); see bench/run.py. `make bench PARTS="pdf load"` runs
# only those parts; with BENCH_DATABASE_URL (a PostgreSQL server) also on PostgreSQL.
bench: translations
	$(BIN)/python bench/run.py $(PARTS)

# The Python (ruff) and the templates (djLint, rules in pyproject.toml).
lint: $(STAMP)
	$(BIN)/ruff check consult workers tests bench
	$(BIN)/ruff format --check consult workers tests bench
	$(BIN)/djlint templates --lint

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
