# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test install lint bench messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Development defaults: DEBUG on, SQLite and the embedded broker unless DATABASE_URL and
# CELERY_BROKER_URL say otherwise.
run: $(STAMP)
	DEBUG=$${DEBUG-1} exec $(BIN)/python -m config.runall

# Tests need PostgreSQL and Redis (locking, redelivery): the local ones unless configured.
test: $(STAMP)
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
	rm -rf $(VENV) .run staticfiles
