# Beacon's commands. The first two are the README's: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INDEX := var/index/meta.json
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install dev index check fmt lint types nightly clean promtool redis-server chromium bench eval drills

run: $(VENV)/.installed $(INDEX)  ## set up and serve on the embedded defaults (no API key, no network)
	$(BIN)/beacon serve --host $(HOST) --port $(PORT)

test: $(VENV)/.installed-dev promtool redis-server chromium  ## set up and run the whole test suite
	$(BIN)/pytest

# Debian's `prometheus` package gives promtool (alert rule checks and unit tests) and the real
# Prometheus the deploy tests scrape Beacon with. CI runs as root; elsewhere use sudo.
promtool:
	@command -v promtool >/dev/null && command -v prometheus >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq --no-install-recommends prometheus)

# Debian's `redis-server`: the shared-state tests and drills start their own throwaway servers
# on loopback ports (no persistence, nothing left running).
redis-server:
	@command -v redis-server >/dev/null || \
		(apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server)

# Debian's headless Chromium and its chromedriver for the chat page's browser tests (tests/web),
# driven by Selenium with the driver's path given, so nothing is downloaded at test time; CJK and
# emoji fonts so the screenshots show what a customer sees.
chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null && \
		fc-list | grep -qi wqy || \
		(apt-get update -qq && apt-get install -y -qq --no-install-recommends \
			chromium chromium-driver fonts-wqy-zenhei fonts-noto-color-emoji)

install: $(VENV)/.installed
dev: $(VENV)/.installed-dev

$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(INDEX): $(VENV)/.installed
	$(BIN)/beacon index build

index: $(VENV)/.installed  ## rebuild the FAQ index from rag/kb
	$(BIN)/beacon index build

fmt: dev
	$(BIN)/ruff format service rag prompts evals tests

lint: dev
	$(BIN)/ruff format --check service rag prompts evals tests
	$(BIN)/ruff check service rag prompts evals tests

types: dev
	$(BIN)/mypy

check: lint types test  ## format check, lint, types, tests

eval: $(VENV)/.installed  ## regression eval of SUITE (default regression), gated on its baseline
	$(BIN)/beacon eval run --suite $(or $(SUITE),regression)

nightly: dev  ## long property-based profile, then the full prompt-injection eval
	HYPOTHESIS_PROFILE=nightly $(BIN)/pytest -m "nightly or not nightly"
	$(BIN)/beacon eval run --suite injection

bench: $(VENV)/.installed  ## benchmarks (Beacon on core 0, load on core 1): table, var/bench.json
	$(BIN)/beacon bench --json var/bench.json

drills: $(VENV)/.installed  ## fault-injection drills on real processes: table, var/drills.json
	$(BIN)/beacon drill run --json var/drills.json

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis
