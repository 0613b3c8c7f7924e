# Seamless: every target builds what it needs from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
# Every install comes from uv.lock (each package pinned with its hashes): the same
# packages today and tomorrow. uv itself is pinned by hash in uv-requirements.txt.
UV := .tools/uv/bin/uv
UV_ENV := UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=$(VENV)
BUF_VERSION := 1.75.0
BUF := .tools/buf/node_modules/.bin/buf
PROTOS := $(wildcard proto/seamless/v1/*.proto)

.PHONY: up venv lock proto proto-check proto-lint browser postgres fault-tools lint docs test test-fast faults histories clean

# Start the whole platform on its embedded defaults (Ctrl-C stops it).
up: $(INSTALLED)
	$(VENV)/bin/seamless up

venv: $(INSTALLED)

$(UV): uv-requirements.txt
	$(PYTHON) -m venv .tools/uv
	.tools/uv/bin/python -m pip install --quiet --require-hashes -r uv-requirements.txt
	touch $@

# --locked: install exactly what uv.lock says, and fail rather than resolve afresh when
# pyproject.toml asks for something the lock does not hold (run `make lock`).
$(INSTALLED): pyproject.toml uv.lock $(UV)
	$(UV_ENV) $(UV) sync --quiet --locked --extra dev --python $(PYTHON)
	touch $@

# Resolve the dependencies again (newest releases pyproject.toml allows) into uv.lock: a
# deliberate change, committed on its own once `make test` passes with it.
lock: $(UV)
	$(UV_ENV) $(UV) lock --upgrade --python $(PYTHON)

# The gRPC stubs of every proto, and the Connect (HTTP/JSON) code of the two services
# people call (the agencies' services are internal, gRPC only).
PUBLIC_PROTOS := proto/seamless/v1/case_service.proto proto/seamless/v1/oversight.proto \
	proto/seamless/v1/report.proto
PROTOC = $(PY) -m grpc_tools.protoc -I proto \
	--plugin=protoc-gen-connectrpc=$(VENV)/bin/protoc-gen-connectrpc
generate = $(PROTOC) --python_out=$(1) --pyi_out=$(1) --grpc_python_out=$(1) $(PROTOS) && \
	$(PROTOC) --connectrpc_out=protobuf=google:$(1) $(PUBLIC_PROTOS)

# Regenerate the Python code from the protos (commit the result).
proto: $(INSTALLED)
	$(call generate,proto)

# Fails when the committed stubs differ from what the protos generate.
proto-check: $(INSTALLED)
	@tmp=$$(mktemp -d); \
	$(call generate,$$tmp) && \
	diff -r -x __init__.py -x __pycache__ $$tmp/seamless/v1 proto/seamless/v1 \
		--exclude='*.proto' \
		|| { echo "generated stubs are stale: run 'make proto' and commit"; rm -rf $$tmp; exit 1; }; \
	rm -rf $$tmp; echo "proto stubs are up to date"

$(BUF):
	npm install --silent --no-audit --no-fund --prefix .tools/buf @bufbuild/buf@$(BUF_VERSION)

proto-lint: $(BUF)
	$(BUF) lint

# The console's browser tests drive Debian's Chromium (never a browser downloaded at run
# time), with a CJK font so the Chinese pages render (and their screenshots read).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
browser:
	@command -v chromium >/dev/null && fc-list 2>/dev/null | grep -qi wenquanyi || { \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium fonts-wqy-zenhei; }

# PostgreSQL's server binaries (initdb, pg_ctl, postgres) from Debian: the tests start a
# real server of their own in a temporary directory (whatever cluster the package makes
# for itself is not used).
PG_BIN := /usr/lib/postgresql/15/bin
postgres:
	@test -x $(PG_BIN)/initdb || { \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q postgresql-15; }

# What the fault suite's faults beyond a process's end need (bench/faults/isolation.py):
# iptables and iproute2 to cut a port inside a network namespace of the suite's own, and
# libfaketime to step one process's clock.
fault-tools:
	@{ command -v iptables && command -v ip && dpkg -s libfaketime; } >/dev/null 2>&1 || { \
		$(SUDO) apt-get update -q && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q iptables iproute2 \
			libfaketime; }

lint: $(INSTALLED)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy workflows agencies gateway observability records trust cli bench tests

# The tiers (tests/tiers.py) on two processes each: the units, the services and the
# thorough ones, then the whole-platform tests two modules at a time (each module starts
# every process of a platform of its own, and they spend much of their time waiting on
# those processes), the longest modules first (tests/e2e/order.py, from the last run's
# durations). Each tier's time is printed at the end.
TIER_TIMES := $(VENV)/.tier-times
# A tier: its name, then pytest's arguments; its wall time is kept for the summary.
define tier
	@start=$$(date +%s); SEAMLESS_REQUIRE_POSTGRES=1 $(VENV)/bin/pytest $(2); status=$$?; \
	echo "  $(1): $$(( $$(date +%s) - start )) s" >> $(TIER_TIMES); exit $$status
endef

test: lint proto-check proto-lint browser postgres fault-tools
	@rm -f $(TIER_TIMES)
	$(call tier,units,-n 2 -m "not e2e and not service and not thorough")
	$(call tier,services and thorough,-n 2 -m "(service or thorough) and not e2e")
	$(call tier,whole platform,-n 2 --dist loadfile --no-loadscope-reorder -m e2e)
	@echo "make test: every tier passed"; cat $(TIER_TIMES)

# The unit tiers (rules, catalog, workflows, ledger, analysis, rendering), with fewer
# random examples: under a minute, for the edit-test loop, without root. The PostgreSQL
# variants run when the server's binaries are there (`make postgres`) and are skipped,
# said in one line at the end, when not. The gateway's service tests and the
# whole-platform ones run in `make test`.
test-fast: $(INSTALLED)
	HYPOTHESIS_PROFILE=fast $(VENV)/bin/pytest -n 2 -m "not e2e and not service and not thorough"

# The fault suite (bench/faults): every kind of fault a hundred times at random moments
# of live cases under `seamless up`, the records compared after each round, on the
# embedded default and then with the records on PostgreSQL; its figures go to
# RELIABILITY.md. A hundred of each kind is hours on two cores (Temporal stopped a
# hundred times for 30 s is one of them): FAULTS_ARGS="--per-kind 5" for the figures
# RELIABILITY.md keeps, "--seed N" to replay a run's choices, "--soak-minutes 10" for the
# soak. `make test` runs a sample (tests/e2e/test_faults*.py).
FAULTS_ARGS ?=
POSTGRES_FAULTS := restart:postgres,kill:worker,kill:agencies,kill:gateway
faults: $(INSTALLED) postgres fault-tools
	$(PY) -m bench.faults --markdown RELIABILITY.md --json bench/results/faults.json $(FAULTS_ARGS)
	$(PY) -m bench.faults --postgres --kinds $(POSTGRES_FAULTS) --markdown RELIABILITY.md \
		--json bench/results/faults-postgres.json $(FAULTS_ARGS)

# The documentation's tables written from the code (docs/case-engine.md's limits;
# tests/docs fails while they differ).
docs: $(INSTALLED)
	$(PY) -m tests.docs.limits_table

# Re-record the replay histories after a deliberate, versioned workflow change.
histories: $(INSTALLED)
	$(PY) -m tests.workflows.record_histories

clean:
	rm -rf $(VENV) .tools build *.egg-info
