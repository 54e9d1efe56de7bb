# Setup, run and test. `make run` and `make test` are all a newcomer needs (see README).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup run test bench bench-scale lint clean

setup: $(VENV)/.installed

# torch goes in first and pinned: the machine carries that CPU build, and letting pip resolve
# torch for detoxify would download gigabytes of CUDA packages.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[test]"
	touch $@

run: setup
	$(BIN)/monitor demo

test: setup
	$(BIN)/pytest

bench: setup
	MONITOR_BENCH_FULL=1 $(BIN)/pytest tests/benchmarks --benchmark-enable --benchmark-only

# N loopback hosts, the real daemon, a steady stream of comments: comments/s, lag p50/p95, CPU and
# RSS per process. SQLite, then PostgreSQL with two workers where MONITOR_TEST_POSTGRES_URL names a
# throw-away database (its monitor tables are emptied).
bench-scale: setup
	$(BIN)/python bench/scale.py --hosts 10 --rate 20 --duration 60
	if [ -n "$$MONITOR_TEST_POSTGRES_URL" ]; then \
		$(BIN)/python bench/scale.py --hosts 10 --rate 20 --duration 60 --workers 2 \
			--database "$$MONITOR_TEST_POSTGRES_URL" --reset; fi

clean:
	rm -rf $(VENV) .pytest_cache .benchmarks
