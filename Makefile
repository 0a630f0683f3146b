# Every target bootstraps .venv from the lock when it is missing or older than the lock.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock

.PHONY: run test lint format validate clean bench lock infra-check workflow-check

# checkov lives in its own venv: its pins clash with lock.txt. Rebuilt when its lock is newer, like .venv.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-from-lock
# check-jsonschema and zizmor (make workflow-check) live in their own venv too, rebuilt the same way.
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed-from-lock
# copier (the project generator, copier.yml; its render tests run in make test) lives in .venv-copier, the same way.
COPIER_STAMP := .venv-copier/.installed-from-lock

$(STAMP): requirements/lock.txt pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --quiet --no-deps -r requirements/lock.txt
	$(BIN)/python -m pip install --quiet --quiet --no-deps --no-build-isolation -e .
	$(BIN)/python -m pip check
	touch $(STAMP)

run: $(STAMP)  ## train on the sample data locally, then print a summary
	$(BIN)/mlops run

test: lint infra-check workflow-check $(COPIER_STAMP)  ## lint, the offline infrastructure and workflow checks, then the full test suite
	$(BIN)/python -m pytest -n 2 --dist loadgroup

# Tool venvs (.venv-checkov, .venv-tools) each install their own lock, requirements/<tool>-lock.txt: their pins
# clash with lock.txt. Rebuilt when that lock is newer, like .venv.
.venv-%/.installed-from-lock: requirements/%-lock.txt
	rm -rf .venv-$*
	$(PYTHON) -m venv .venv-$*
	.venv-$*/bin/python -m pip install --quiet --quiet --no-deps -r $<
	.venv-$*/bin/python -m pip check
	touch $@

# Every .bicep file must parse (with our pycep-parser and with checkov's own, because checkov skips a file it cannot
# parse and still exits 0), then checkov must report 0 failed checks; skips are justified next to each resource.
# CKV_AZURE_189 is also skipped here: checkov 3.3.30 crashes on it (a traceback, no result) when publicNetworkAccess
# is a parameter; the skip and its reason stand in infra/modules/key-vault.bicep, and tests/contract/test_infra.py
# checks the setting.
infra-check: $(STAMP) $(CHECKOV_STAMP)  ## offline Bicep checks: syntax (pycep-parser) and checkov
	$(BIN)/python infra/check_bicep.py infra
	$(CHECKOV_VENV)/bin/python infra/check_bicep.py infra
	$(CHECKOV_VENV)/bin/checkov -d infra --framework bicep --skip-download --compact --quiet --skip-check CKV_AZURE_189

# GitHub's own schemas for workflows, composite actions and dependabot.yml (vendored in check-jsonschema: offline),
# then zizmor's security audit, offline, with .github/zizmor.yml: both must report nothing. Only a networked job
# (.github/workflows/infra.yml) compiles the Bicep; tests/contract/test_workflows.py checks the wiring.
workflow-check: $(TOOLS_STAMP)  ## offline workflow checks: GitHub schemas (check-jsonschema) and zizmor
	$(TOOLS_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(TOOLS_VENV)/bin/check-jsonschema --builtin-schema vendor.github-actions .github/actions/*/action.yml
	$(TOOLS_VENV)/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml
	$(TOOLS_VENV)/bin/zizmor --offline --no-progress .github/

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
	$(BIN)/python benchmarks/serving_throughput.py
	$(BIN)/python benchmarks/monitor_metrics.py
	$(BIN)/python benchmarks/sweep_overhead.py
	$(BIN)/python benchmarks/model_quality.py
	$(BIN)/python benchmarks/rai_overhead.py

clean:  ## remove local state (tracking DB, runs, cache); keeps .venv
	rm -rf .mlops

lock:  ## re-resolve requirements.in into lock.txt in a clean, throwaway venv
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet --quiet --upgrade -r requirements/requirements.in
	.lock-venv/bin/python -m pip check
	{ sed -n '1,3p' requirements/lock.txt; .lock-venv/bin/python -m pip freeze --all | grep -v "^pip=="; } > requirements/lock.txt.new
	mv requirements/lock.txt.new requirements/lock.txt
	rm -rf .lock-venv
