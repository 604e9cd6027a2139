# Every target creates .venv on first use, so a fresh machine needs only Python 3.11/3.12 and pip.
# The first interpreter that actually runs and is 3.11 or 3.12 (pyenv shims may exist but fail).
PYTHON ?= $(shell for p in python3.12 python3.11 python3; do \
	$$p -c 'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] < (3, 13))' 2>/dev/null \
	&& { echo $$p; break; }; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: up test bench bench-kafka bench-policy bench-tickets bench-messaging bench-billing bench-commissions lint fmt clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Roofline needs Python 3.11 or 3.12 (durable-rules does not build on 3.13)."; exit 1; }
	@$(PYTHON) -c 'import sys; v = sys.version_info[:2]; sys.exit(0 if (3, 11) <= v < (3, 13) else "Roofline needs Python 3.11 or 3.12 (durable-rules does not build on 3.13); found %d.%d. Run: make PYTHON=python3.12 ..." % v)'
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

up: $(STAMP)
	$(BIN)/roofline up

test: $(STAMP)
	$(BIN)/roofline policy test policies
	$(BIN)/python -m services.commissions.plans test commission_plans
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m bench.bus
	$(BIN)/python -m bench.policy

# The bus figures on Tansu and on a local 3-broker Apache Kafka cluster, side by side, and consumer
# throughput with 1, 2 and 3 replicas of one service (Java and Maven needed, as for --broker kafka).
bench-kafka: $(STAMP)
	$(BIN)/python -m bench.bus --broker kafka

bench-policy: $(STAMP)
	$(BIN)/python -m bench.policy

bench-tickets: $(STAMP)
	$(BIN)/python -m bench.tickets

# The installer portal's reads under load (unread counts, a thread's latest page) beside a bare
# FastAPI + asyncpg app, and emails drained to the local SMTP sink per second.
bench-messaging: $(STAMP)
	$(BIN)/python -m bench.messaging

# Billing catching up on 100,000 of jobs' and tickets' events beside the platform pipeline, and
# the balance of a job of 1,000 money records under load beside a bare FastAPI + asyncpg app.
bench-billing: $(STAMP)
	$(BIN)/python -m bench.billing

# Recompute a year of 20,000 released jobs for 50 salesmen under the shipped standard plan, beside
# the same plan written out by hand.
bench-commissions: $(STAMP)
	$(BIN)/python -m bench.commissions

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

fmt: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .roofline .pytest_cache
