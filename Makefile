# entegrator — the two commands a new user needs are `make run` and `make test`.
# Both install everything first (uv is bootstrapped with pip when missing).

SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "python3 -m uv")
PY_SRC := src tests benchmarks scripts

.PHONY: help uv system-tools install run demo test lint format bench clean

help:
	@echo "make run    install, then start the platform (API + worker, embedded PostgreSQL)"
	@echo "make test   install, then run every test"
	@echo "make demo   GİB simulator + two integrators as processes, invoices between them"
	@echo "make lint   ruff + mypy"
	@echo "make bench  benchmarks (see benchmarks/README.md)"

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || python3 -m pip install --quiet uv

install: uv
	@$(UV) sync --frozen --quiet

# The whole platform in one process: API + worker on the embedded PostgreSQL (./.entegrator),
# with a demo tenant whose API key is printed. ENTEGRATOR_DATABASE_URL points elsewhere.
run: install system-tools
	@$(UV) run entegrator serve --with-worker --demo

# GİB's network on this machine: the simulator and two integrator instances as processes, each
# on its own database (embedded PostgreSQL unless ENTEGRATOR_DATABASE_URL is set).
demo: install system-tools
	@$(UV) run entegrator demo

# Debian packages: xmlsec1 (the tests' independent signature verifier), Pango and fonts for
# WeasyPrint (PDF views). Installed when missing and when we may (root with apt-get).
SYSTEM_PACKAGES := xmlsec1 libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core
# Only the tests need these: Debian's chromium draws the HTML view whose QR code they decode.
TEST_PACKAGES := chromium
system-tools:
	@missing=""; for p in $(SYSTEM_PACKAGES); do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1 \
	    || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q $$missing >/dev/null 2>&1; } \
	    || echo "note: could not install$$missing (Debian packages)"; \
	  else echo "note: please install$$missing (Debian/Ubuntu packages)"; fi; fi

# The layer contracts first (pyproject.toml [tool.importlinter]; docs/architecture.md), then pytest,
# which runs them again in tests/architecture/ so that a plain `pytest` keeps them too.
test: install system-tools
	@$(MAKE) --no-print-directory system-tools SYSTEM_PACKAGES="$(TEST_PACKAGES)"
	@$(UV) run lint-imports --no-cache --no-logo
	@$(UV) run pytest -q

# mypy checks the files [tool.mypy] names (src, tests, benchmarks, scripts), all strict.
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
	@$(UV) run python benchmarks/pipeline.py
	@$(UV) run python benchmarks/views.py
	@$(UV) run python benchmarks/earsiv.py
	@$(UV) run python benchmarks/imports.py

clean:
	rm -rf .entegrator .pytest_cache .mypy_cache .ruff_cache
