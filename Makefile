# entegrator — the two commands a new user needs are `make run` and `make test`.
# Both install everything first (uv is bootstrapped with pip when missing).

SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PY_SRC := src tests benchmarks scripts

.PHONY: help uv system-tools install run test lint format bench clean

help:
	@echo "make run    install, then run entegrator (document tour until the server lands)"
	@echo "make test   install, then run every test"
	@echo "make lint   ruff + mypy"
	@echo "make bench  benchmarks (see benchmarks/README.md)"

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

install: uv
	@$(UV) sync --frozen --quiet

run: install
	@$(UV) run entegrator tour

# The tests check signatures with an independent verifier, Debian's xmlsec1 command.
system-tools:
	@command -v xmlsec1 >/dev/null 2>&1 || { \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q xmlsec1 >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q xmlsec1 >/dev/null 2>&1; } \
	    || echo "note: could not install xmlsec1 (Debian package); its interop tests will fail"; \
	  else echo "note: install xmlsec1 (Debian/Ubuntu: apt-get install xmlsec1) for the interop tests"; fi; }

test: install system-tools
	@$(UV) run pytest -q

lint: install
	@$(UV) run ruff check $(PY_SRC)
	@$(UV) run ruff format --check $(PY_SRC)
	@$(UV) run mypy

format: install
	@$(UV) run ruff format $(PY_SRC)
	@$(UV) run ruff check --fix $(PY_SRC)

bench: install
	@$(UV) run python benchmarks/documents.py
	@$(UV) run python benchmarks/validate.py
	@$(UV) run python benchmarks/signing.py

clean:
	rm -rf .entegrator .pytest_cache .mypy_cache .ruff_cache
