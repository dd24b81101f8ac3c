# Every target creates the virtual environment it needs; a fresh machine needs only Python 3.11.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# The official SDK shares our import name, so it lives in a virtual environment of its own.
OFFICIAL := .venv-official/.installed
# The gallery's browser tests drive Debian's Chromium (installed by .ci/browser when missing).
BROWSER := /usr/bin/chromium
# The reference deployment's test runs Debian's HAProxy (installed by .ci/deploy-deps when missing).
HAPROXY := /usr/sbin/haproxy

.PHONY: install demo test lint typecheck unit bench bench-export bench-labelling bench-insights bench-scaled bench-s3-client soak deploy serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[postgres,redis,s3,dev]'
	touch $(STAMP)

$(OFFICIAL):
	$(PYTHON) -m venv .venv-official
	.venv-official/bin/python -m pip install --quiet --upgrade pip
	.venv-official/bin/python -m pip install --quiet 'pictograph[cli]==1.69.146' 'typer<0.17'
	touch $(OFFICIAL)

$(BROWSER):
	bash .ci/browser

$(HAPROXY):
	bash .ci/deploy-deps

install: $(STAMP) $(OFFICIAL) $(BROWSER) $(HAPROXY)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py

lint: $(STAMP)
	$(BIN)/ruff check src tests scripts bench deploy
	$(BIN)/ruff format --check src tests scripts bench deploy

typecheck: $(STAMP)
	$(BIN)/mypy --strict src

unit: $(STAMP) $(OFFICIAL) $(BROWSER) $(HAPROXY)
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP) $(OFFICIAL) $(HAPROXY)
	$(BIN)/python bench/run.py

# The fault suite at full size (server kills, faulty proxy, concurrent uploaders, 429 storm,
# hostile clients); prints one table. SOAK_FILES and SOAK_KILLS scale it.
soak: $(STAMP)
	$(BIN)/python -m tests.faults.soak

# A 20,000-image export: the server's memory growth (must stay under 100 MB).
bench-export: $(STAMP)
	$(BIN)/python bench/export_memory.py

# The labelling loop on a 20,000-image dataset: p50/p95 server time of the image page, "next
# image to label" and an annotation save (docs/benchmarks.md).
bench-labelling: $(STAMP)
	$(BIN)/python bench/labelling.py

# GET insights on a 100,000-image dataset: p50/p95 server time against 200 ms (docs/benchmarks.md).
bench-insights: $(STAMP)
	$(BIN)/python bench/insights.py

bench-scaled: $(STAMP) $(OFFICIAL) $(HAPROXY)
	$(BIN)/python bench/scaled.py

# Per object on s3:// storage, boto3 against a lean client (botocore's signer + httpx or urllib3):
# presigned PUT URLs and checksum HEADs against SeaweedFS (docs/benchmarks.md). N: objects (2000).
bench-s3-client: $(STAMP)
	$(BIN)/python bench/s3_client.py $(N)

# The reference deployment on loopback (deploy/README in docs/deploying.md); Ctrl-C stops it.
deploy: $(STAMP) $(HAPROXY)
	$(BIN)/python deploy/run.py

serve: $(STAMP)
	$(BIN)/pictograph serve

clean:
	rm -rf $(VENV) .venv-official .pytest_cache .mypy_cache .ruff_cache
