# Two commands do everything on a fresh machine (Python 3.11, make, apt):
#   make run    set up, import content/, serve http://127.0.0.1:8000 (SQLite)
#   make test   set up, lint, run the whole suite on SQLite and on PostgreSQL + Redis, browser tests included
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell sha1sum pyproject.toml | cut -c1-12)
SECRET := var/secret_key
# The secret key: from the environment, else the one generated into var/ on first run.
MANAGE = DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat $(SECRET))}" $(BIN)/python manage.py

.PHONY: run serve import test test-sqlite test-postgres test-e2e lint checks setup system-deps bench bench-curve bench-load messages clean

run: setup $(SECRET)
	@$(MANAGE) migrate --noinput -v0
	@$(MANAGE) collectstatic --noinput -v0
	@$(MANAGE) import_content -v0
	@echo "Serving http://127.0.0.1:8000/ (Ctrl-C to stop)"
	@$(MANAGE) runserver 127.0.0.1:8000 --noreload

# Production-style: nginx (buffering) in front of gunicorn + whitenoise, DEBUG off, on
# http://127.0.0.1:8000 (scripts/serve.sh). Set DJANGO_SECRET_KEY, DATABASE_URL, DJANGO_ALLOWED_HOSTS.
serve: setup system-deps $(SECRET)
	@$(MANAGE) migrate --noinput -v0
	@$(MANAGE) collectstatic --noinput -v0
	@$(MANAGE) import_content -v0
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$(cat $(SECRET))}" scripts/serve.sh

# After editing content/: import it into the database a running site uses (it sees it within a second).
import: setup $(SECRET)
	@$(MANAGE) migrate --noinput -v0
	@$(MANAGE) import_content

setup: $(STAMP)

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "$(PYTHON) not found"; exit 1; }
	@[ -x $(BIN)/python ] || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[test]"
	@rm -f $(VENV)/.installed-* && touch $@

$(SECRET):
	@mkdir -p -m 700 var
	@$(PYTHON) -c "import secrets; print(secrets.token_urlsafe(50))" > $@
	@chmod 600 $@

system-deps:
	@scripts/system_deps.sh

# lint formats and fixes; checks (part of make test) only reports.
lint: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .
	@$(MAKE) --no-print-directory checks

checks: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	DJANGO_SECRET_KEY=lint $(BIN)/mypy
	DJANGO_SECRET_KEY=lint $(BIN)/python manage.py check --fail-level WARNING
	DJANGO_SECRET_KEY=lint $(BIN)/python manage.py makemigrations --check --dry-run -v0
	@scripts/check_deploy.sh

test: setup system-deps checks
	$(BIN)/python -m pytest -q -p no:randomly tests/e2e -m e2e
	$(BIN)/python -m pytest -q -m "not e2e"
	scripts/with_postgres.sh scripts/with_redis.sh $(BIN)/python -m pytest -q -m "not e2e"

test-sqlite: setup
	$(BIN)/python -m pytest -q -m "not e2e"

test-postgres: setup system-deps
	scripts/with_postgres.sh scripts/with_redis.sh $(BIN)/python -m pytest -q -m "not e2e"

test-e2e: setup system-deps
	$(BIN)/python -m pytest -q -p no:randomly tests/e2e -m e2e

bench: setup
	$(BIN)/python bench/search_bench.py

# The cost curve of search, one fresh database and index per size (~3 min for 1000,10000).
# The long run, with the goals at 50,000: make bench-curve SIZES=1000,10000,50000 (~12 min on 2 cores).
SIZES ?= 1000,10000
bench-curve: setup
	$(BIN)/python bench/search_bench.py --sizes $(SIZES)

bench-load: setup $(SECRET)
	@scripts/system_deps.sh wrk
	scripts/with_postgres.sh $(BIN)/python bench/load_bench.py

messages: setup
	DJANGO_SECRET_KEY=x $(BIN)/python manage.py makemessages -l ja --no-obsolete --ignore '.venv/*' --ignore 'bench/*'
	DJANGO_SECRET_KEY=x $(BIN)/python manage.py compilemessages --ignore '.venv/*'

clean:
	rm -rf var/index var/staticfiles test-artifacts
