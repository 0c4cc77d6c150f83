# cxstream: the two commands a newcomer runs are `make demo` and `make test`.
# Everything else here is what they call. Settings come from CXSTREAM_* env vars (see README).

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The venv is rebuilt when the declared or locked dependencies change.
INSTALLED := $(VENV)/.installed
# Test processes (pytest-xdist) for make check and make test; 1 runs one stream.
PYTEST_STREAMS ?= 2

.PHONY: help install stack-up stack-down stack-status check lint typecheck test test-cluster integration demo bench faults clean

help:
	@echo "make demo    install, start Kafka + ClickHouse, run the pipeline on generated traffic, serve the live page"
	@echo "make test    the whole suite on the real local stack (started and stopped as needed)"
	@echo "make check   the quick tier: lint, types and every test that needs no service (no Kafka, no ClickHouse)"
	@echo "make test-cluster  the scenarios on the local cluster: 3 Kafka brokers, 2 ClickHouse replicas, 3 workers"
	@echo "make faults  the fault scenarios as a soak (longer outages, more events, kills and rebalances)"
	@echo "make bench   cxstream vs the ceiling and Quix Streams (BENCH_TOUCHPOINTS=200000)"
	@echo "make install the virtualenv in $(VENV) with the locked dependency set"
	@echo "make stack-up | stack-down | stack-status"

install: $(INSTALLED)

$(INSTALLED): pyproject.toml requirements/lock.txt
	@command -v $(PYTHON) >/dev/null || { echo "cxstream: $(PYTHON) not found: install Python 3.11+"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c requirements/lock.txt -e '.[dev]'
	@touch $@

stack-up: install
	$(BIN)/cxstream stack up

stack-down: install
	$(BIN)/cxstream stack down

stack-status: install
	$(BIN)/cxstream stack status

typecheck: install
	$(BIN)/mypy

lint: install
	$(BIN)/ruff check .

# The quick tier (docs/DEVELOPING.md): every test not marked integration (tests that use the stack
# fixture are marked automatically), with CXSTREAM_TEST_TIER=check making any that would still
# ask for the stack fail instead of starting it.
check: lint typecheck
	CXSTREAM_TEST_TIER=check $(BIN)/python -m pytest -q -n $(PYTEST_STREAMS) -m "not integration and not faults"

# The whole suite, unit -> integration -> fault scenarios, in two streams (pytest-xdist, a test
# file per stream at a time): the integration tier mostly waits on brokers, servers and worker
# processes, and two streams overlap those waits. Kafka and ClickHouse are started when they are
# not running and exactly what was started is stopped at the end, also when tests fail.
test: lint typecheck
	$(BIN)/python -m pytest -n $(PYTEST_STREAMS) --dist loadfile --durations=30 -m "not cluster"

# The scenarios beyond one machine (tests/cluster): a broker, a ClickHouse replica and one of three
# workers killed and back, each checked against the ground truth. One stream: they kill servers
# the others use. The cluster is started when not running and stopped at the end.
test-cluster: install
	$(BIN)/python -m pytest -m cluster tests/cluster --durations=10

# The integration tier alone (the stack must be up or startable), without the fault scenarios.
integration: install
	$(BIN)/python -m pytest -m "integration and not faults and not cluster"

# The fault scenarios as a soak: 100k malformed messages, and CXSTREAM_FAULTS_SCALE (default 3) times
# the events, kills, rebalances and broker outages of the versions in make test. Ends with a table.
faults: install
	CXSTREAM_FAULTS_BAD_MESSAGES=$${CXSTREAM_FAULTS_BAD_MESSAGES:-100000} \
	CXSTREAM_FAULTS_SCALE=$${CXSTREAM_FAULTS_SCALE:-3} \
	CXSTREAM_FAULTS_OUTAGE_SECONDS=$${CXSTREAM_FAULTS_OUTAGE_SECONDS:-60} \
	$(BIN)/python -m pytest -m "faults" tests/faults

# cxstream against the ceiling (aiokafka + fastavro decode) and Quix Streams on one seeded workload,
# then event -> ClickHouse latency; prints the table and writes .cxstream/bench/report.md.
# BENCH_TOUCHPOINTS sizes the workload; BENCH_ARGS passes more flags (see --help).
BENCH_TOUCHPOINTS ?= 200000
bench: install
	$(BIN)/python -m benchmarks.bench --touchpoints $(BENCH_TOUCHPOINTS) $(BENCH_ARGS)

demo: install
	$(BIN)/python scripts/demo.py

clean:
	-$(BIN)/cxstream stack down
	rm -rf .cxstream .pytest_cache .mypy_cache
