# Chat Desk: `make run` serves the demo desk, `make test` runs every check.
# Both create or update .venv themselves.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint venv clean bench chaos

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-run

venv: $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/chatdesk run --demo --host $(HOST) --port $(PORT)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# Tests run in parallel (TEST_WORKERS processes, pytest-xdist), then the chaos and benchmark
# tests alone: they stop services and load the whole machine, and beside them the browser
# tests' waits would be starved (measured: a transfer's success took over 15 s).
TEST_WORKERS ?= auto
SERIAL_TESTS := tests/chaos tests/bench

test: lint
	scripts/ensure-browser
	$(BIN)/pytest -n $(TEST_WORKERS) $(addprefix --ignore=,$(SERIAL_TESTS))
	$(BIN)/pytest $(SERIAL_TESTS)

$(VENV)/.installed-bench: pyproject.toml $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

# The benchmarks on the local PostgreSQL and Redis (BENCH_DATABASE_URL, BENCH_REDIS_URL):
# quick by default (about 10 minutes), FULL=1 for the published figures in docs/benchmarks.md.
bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench $(if $(FULL),--full,) $(if $(ONLY),--only $(ONLY),)

# The reliability tests at full size (make test runs them scaled down).
chaos: $(VENV)/.installed-test
	CHATDESK_CHAOS_SCALE=full $(BIN)/pytest tests/chaos tests/fuzz -p no:cacheprovider

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
