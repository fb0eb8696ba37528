# The two commands: `make run` and `make test`. Everything else supports them.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run test lint format ci clean

$(BIN)/python:
	@PY=$$(scripts/find-python) && echo "Using $$PY" && "$$PY" -m venv $(VENV)

$(STAMP): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $(STAMP)

.env:
	@$(BIN)/python scripts/write_dev_env.py

## make run: install, migrate, create logins and the demo, start web + worker + Telesign sandbox
## (on PORT, 8000 unless given: `make run PORT=8001`). A signal to make stops all
## three: run_local also stops when make dies or handles a stop signal itself.
run: $(STAMP) .env
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py ensure_login
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py run_local --port $(PORT)

## make test: the whole suite (SQLite unless DATABASE_URL says otherwise)
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

ci:
	bash .ci/run

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
