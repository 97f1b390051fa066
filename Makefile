# Two commands do all the set-up on a fresh machine:
#   make run    virtual environment, install, development PKI, gateway on the embedded SQLite store
#   make test   the same set-up, then the whole test suite
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test install certs lint typecheck bench demo clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

# Idempotent: creates what is missing and re-signs the development CRL before it expires.
certs: install
	$(BIN)/uams-gateway certs init

run: install certs
	$(BIN)/uams-gateway serve --config config/gateway.toml

test: install certs
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check gateway protocol handlers adapters tests bench
	$(BIN)/mypy gateway protocol handlers adapters

# Declarations with one gateway process, then one per core (the deployment `[server] workers`
# recommends); then vehicle pre-arrivals, a lighter message, one process per core.
bench: install certs
	$(BIN)/python bench/ingest.py --header
	$(BIN)/python bench/ingest.py --server-workers $$(nproc)
	$(BIN)/python bench/ingest.py --server-workers $$(nproc) --message pre-arrival

# "A day at the border" against the running gateway of `make run` (start it in another
# terminal first); e.g. DEMO_ARGS="--port 7500" for another address.
demo: install certs
	$(BIN)/uams-gateway demo $(DEMO_ARGS)

clean:
	rm -rf $(VENV) var certs/dev .pytest_cache .mypy_cache
