# Every target creates the virtual environment it needs; a fresh machine needs only Python 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The official SDK shares our import name, so it lives in a virtual environment of its own.
OFFICIAL := .venv-official/.installed
# The gallery's browser tests drive Debian's Chromium (installed by .ci/browser when missing).
BROWSER := /usr/bin/chromium

.PHONY: install demo test lint typecheck unit bench soak serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[postgres,redis,s3,dev]'
	touch $(STAMP)

$(OFFICIAL):
	$(PYTHON) -m venv .venv-official
	.venv-official/bin/python -m pip install --quiet --upgrade pip
	.venv-official/bin/python -m pip install --quiet 'pictograph==1.69.146'
	touch $(OFFICIAL)

$(BROWSER):
	bash .ci/browser

install: $(STAMP) $(OFFICIAL) $(BROWSER)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

unit: $(STAMP) $(OFFICIAL) $(BROWSER)
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP) $(OFFICIAL)
	$(BIN)/python bench/run.py

# The fault suite at full size (server kills, faulty proxy, concurrent uploaders, 429 storm,
# hostile clients); prints one table. SOAK_FILES and SOAK_KILLS scale it.
soak: $(STAMP)
	$(BIN)/python -m tests.faults.soak

serve: $(STAMP)
	$(BIN)/pictograph serve

clean:
	rm -rf $(VENV) .venv-official .pytest_cache .mypy_cache .ruff_cache
