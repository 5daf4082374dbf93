# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed

.PHONY: run test install lint bench messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# FullCalendar and luxon for the calendars, served as static files (config/settings.py); reinstalled
# exactly as package-lock.json says whenever it changes.
$(NODE_STAMP): package-lock.json
	@command -v npm >/dev/null || { echo "npm (Node.js) is needed for the calendars: apt-get install npm" >&2; exit 1; }
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

install: $(STAMP) $(NODE_STAMP)

# Development defaults: DEBUG on, SQLite and the embedded broker unless DATABASE_URL and
# CELERY_BROKER_URL say otherwise.
run: $(STAMP) $(NODE_STAMP)
	DEBUG=$${DEBUG-1} exec $(BIN)/python -m config.runall

# Tests need PostgreSQL and Redis (locking, redelivery): the local ones unless configured.
test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m config.compile_translations
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/social_matrix} \
	CELERY_BROKER_URL=$${CELERY_BROKER_URL:-redis://127.0.0.1:6379/15} \
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# Regenerate the message catalogues after changing translatable strings.
messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=node_modules --no-obsolete
	$(BIN)/python -m config.compile_translations

clean:
	rm -rf $(VENV) .run staticfiles node_modules
