.PHONY: run test lint bench

# Runs SmartPlex: web server + django-q2 worker on SQLite (demo library when no PLEX_URL).
run:
	bash scripts/run.sh

# Runs the whole test suite on SQLite and on a throwaway PostgreSQL 15.
test:
	bash scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
