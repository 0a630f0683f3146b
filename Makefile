# Every target bootstraps .venv from the lock when it is missing or older than the lock.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
# uv installs every lock (pip took about a minute for lock.txt). pip bootstraps it into .venv at the version
# lock.txt pins, read from there; the tool venvs are then installed by that same .venv/bin/uv. Its cache is uv's
# default (~/.cache/uv), never in the repo.
UV := $(BIN)/uv
UV_PIN = $(shell grep -x 'uv==[^ ]*' requirements/lock.txt)
# uv draws its progress bar on a terminal; elsewhere (CI) it is quiet and the build prints a few plain lines.
UV_OUTPUT := $$([ -t 2 ] || echo --quiet)
# Debian's chromium renders pages in tests/browser; `make browser` installs it when it can, else they are skipped.
CHROMIUM := /usr/bin/chromium
APT_GET := apt-get

.PHONY: run test lint format validate clean bench lock infra-check workflow-check browser

# checkov lives in its own venv: its pins clash with lock.txt. Rebuilt when its lock is newer, like .venv.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-from-lock
# check-jsonschema and zizmor (make workflow-check) live in their own venv too, rebuilt the same way.
TOOLS_VENV := .venv-tools
TOOLS_STAMP := $(TOOLS_VENV)/.installed-from-lock
# copier (the project generator, copier.yml; its render tests run in make test) lives in .venv-copier, the same way.
COPIER_STAMP := .venv-copier/.installed-from-lock

# $(call venv_from_lock,VENV,LOCK[,THEN]): a fresh VENV (`python -m venv`, so pip stays in it) holding exactly LOCK's
# pins, installed by uv with --no-deps, then THEN (a command), then pip check; one plain line per phase. uv is
# bootstrapped with pip when missing: only .venv's own build needs that. --compile-bytecode writes the .pyc files at
# install time as pip does: uv leaves them out by default, and where PYTHONDONTWRITEBYTECODE is set (this CI's
# machines) every process then compiled mlflow, scikit-learn and pandas from source (about 5 s each; `make test`
# took 24 min instead of 14).
define venv_from_lock
	$(if $(UV_PIN),,$(error requirements/lock.txt pins no uv==VERSION, and the venvs are installed with it))
	@echo "building $(1) from $(2): $$(grep -c '==' $(2)) packages with $(subst ==, ,$(UV_PIN)) …"
	@rm -rf $(1) && $(PYTHON) -m venv $(1)
	@[ -x $(UV) ] || $(BIN)/python -m pip install --quiet --quiet --no-deps "$(UV_PIN)"
	@start=$$(date +%s) && \
	  $(UV) pip install $(UV_OUTPUT) --no-deps --compile-bytecode --python $(1)/bin/python -r $(2) $(if $(3),&& $(3)) && \
	  if check=$$($(1)/bin/python -m pip check); then \
	    echo "$(1): installed in $$(( $$(date +%s) - start )) s; pip check: ok"; \
	  else echo "$$check"; exit 1; fi
	@touch $(1)/.installed-from-lock
endef

# After the lock, .venv gets this repo (the `mlops` command), editable, built with the lock's setuptools.
INSTALL_THIS_REPO = $(UV) pip install $(UV_OUTPUT) --no-deps --no-build-isolation --python $(BIN)/python -e .

$(STAMP): requirements/lock.txt pyproject.toml
	$(call venv_from_lock,$(VENV),requirements/lock.txt,$(INSTALL_THIS_REPO))

run: $(STAMP)  ## train on the sample data locally, then print a summary
	$(BIN)/mlops run

test: lint infra-check workflow-check $(COPIER_STAMP) browser  ## lint, the offline infrastructure and workflow checks, chromium when possible, then the full test suite
	$(BIN)/python -m pytest -n 2 --dist loadgroup --durations=25

# Tool venvs (.venv-checkov, .venv-tools, .venv-copier) each install their own lock, requirements/<tool>-lock.txt:
# their pins clash with lock.txt. Rebuilt when that lock is newer, like .venv. They are installed by .venv's uv, so
# .venv comes first (order-only: a newer lock.txt does not rebuild them).
.venv-%/.installed-from-lock: requirements/%-lock.txt | $(STAMP)
	$(call venv_from_lock,.venv-$*,$<)

# Debian's chromium for tests/browser: nothing when it is there; installed with apt-get when we are root and apt-get
# exists (when that install fails, say for a missing package index, `apt-get update` and one retry); otherwise, or
# when apt-get fails, one line says the browser tests will be skipped, and make goes on.
browser:  ## Debian's chromium for the browser tests, when it can be installed
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v $(APT_GET) >/dev/null; then \
	  echo "installing Debian's chromium for the browser tests (apt-get install chromium) …"; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  install="$(APT_GET) install -y -qq --no-install-recommends chromium"; \
	  $$install >/dev/null 2>&1 || { $(APT_GET) update -qq && $$install >/dev/null; } \
	    || echo "chromium not installed (apt-get failed): the browser tests will be skipped"; \
	else \
	  echo "chromium not installed: the browser tests will be skipped (install Debian's chromium to run them)"; \
	fi

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
	$(BIN)/python benchmarks/batch_scoring.py
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
