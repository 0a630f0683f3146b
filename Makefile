# Every target bootstraps .venv from the lock when it is missing or older than the lock.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock

.PHONY: run test lint format validate clean bench lock

$(STAMP): requirements/lock.txt pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

run: $(STAMP)  ## train on the sample data locally, then print a summary
	$(BIN)/mlops run

test: lint  ## lint, then the full test suite
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

validate: $(STAMP)  ## load every Azure ML YAML with azure-ai-ml and check what the SDK misses
	$(BIN)/mlops validate

bench: $(STAMP)
	$(BIN)/python benchmarks/executor_overhead.py

clean:  ## remove local state (tracking DB, runs, cache); keeps .venv
	rm -rf .mlops

lock:  ## re-resolve requirements.in into lock.txt in a clean, throwaway venv
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --upgrade -r requirements/requirements.in
	.lock-venv/bin/python -m pip check
	{ sed -n '1,3p' requirements/lock.txt; .lock-venv/bin/python -m pip freeze --all | grep -v "^pip=="; } > requirements/lock.txt.new
	mv requirements/lock.txt.new requirements/lock.txt
	rm -rf .lock-venv
