# The two commands of the README:
#   scripts/run  set up and run the dashboard (embedded default: SQLite, embedded Redis, sandbox);
#                `make run` is the same (but make itself reports Ctrl-C as an interrupt, status 130)
#   make test    set up and run the test suite (DATABASE_URL=postgres://... make test for PostgreSQL)
# make lock: recompile requirements.txt and requirements-dev.txt from the .in files.
.PHONY: run test lock setup setup-dev bench-sync bench-inbox bench-load bench-health bench-export bench-browser

PY := .venv/bin/python

setup:
	@scripts/bootstrap

setup-dev:
	@scripts/bootstrap --dev

run:
	scripts/run

lock:
	scripts/lock

test: setup-dev
	scripts/test

bench-sync: setup-dev
	$(PY) bench/sync_bench.py

bench-inbox: setup-dev
	$(PY) bench/inbox_bench.py

bench-export: setup-dev
	$(PY) bench/export_bench.py

bench-browser: setup-dev
	$(PY) bench/browser_bench.py

bench-load: setup-dev
	$(PY) bench/load.py

bench-search: setup-dev
	$(PY) bench/search_bench.py

bench-resilience: setup-dev
	$(PY) bench/resilience_bench.py kill
	$(PY) bench/resilience_bench.py outage

bench-health: setup-dev
	$(PY) bench/health_bench.py
