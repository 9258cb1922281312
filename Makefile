# Mita: `make demo` serves the demo on SQLite; `make test` runs the whole suite (DATABASE_URL picks PostgreSQL).
PYTHON ?= python3
VENV ?= .venv
HOST ?= 127.0.0.1
PORT ?= 8000
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint messages browser clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Mita needs Python >= 3.11; run make PYTHON=python3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(BIN)/mita i18n compile
	touch $(STAMP)

install: $(STAMP)

# Refresh the catalogues from the code (needs GNU gettext), then compile them.
messages: $(STAMP)
	$(BIN)/mita makemessages -a --ignore=.venv --ignore=var --ignore='*/tests/*' --ignore=conftest.py
	$(BIN)/mita i18n compile

browser:
	@command -v chromium >/dev/null 2>&1 || sh scripts/install-chromium

demo: install
	$(BIN)/mita migrate --no-input
	$(BIN)/mita demo
	@sh scripts/serve-demo $(HOST) $(PORT)

test: install browser
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy mita
	$(BIN)/lint-imports
	$(BIN)/mita makemigrations --check --dry-run

clean:
	rm -rf $(VENV) var/mita.sqlite3* var/demo-users.json
