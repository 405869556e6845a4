# Ninefold — the two commands users need are `make dev` and `make test`.
# Everything else here is what those two are made of.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
PORT ?= 8000
VENV := .venv
VENV_CDK := .venv-cdk
PY := $(VENV)/bin/python
PY_CDK := $(VENV_CDK)/bin/python
# jsii prints a Node end-of-life banner on Node 20; the value is the major version.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
# Offline synth: skip asset bundling (pip for the Lambda platform runs only for deploy).
SYNTH_CONTEXT := -c aws:cdk:bundling-stacks=[]
ifdef SYSTEMS
SYNTH_CONTEXT += -c ninefold:systems=$(SYSTEMS)
export NINEFOLD_SYSTEMS := $(SYSTEMS)
endif

.PHONY: help dev test install synth lint format unit contract integration infra e2e bench docs deploy destroy clean lock

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  make %-12s %s\n", $$1, $$2}'

# --- environments -------------------------------------------------------------

$(VENV)/.installed: requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required (set PYTHON=...)")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/dev.txt
	@# Lambda puts the function code (/var/task) and the core layer (/opt/python) on sys.path; so do we.
	@printf '%s\n%s\n' "$(CURDIR)" "$(CURDIR)/layers/core/python" > $$($(PY) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ninefold.pth
	@touch $@

$(VENV_CDK)/.installed: requirements/cdk.txt
	@test -x $(PY_CDK) || $(PYTHON) -m venv $(VENV_CDK)
	$(PY_CDK) -m pip install --quiet --upgrade pip
	$(PY_CDK) -m pip install --quiet -r requirements/cdk.txt
	@printf '%s\n' "$(CURDIR)" > $$($(PY_CDK) -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ninefold.pth
	@touch $@

install: $(VENV)/.installed $(VENV_CDK)/.installed ## Create or refresh both virtual environments

lock: ## Re-resolve requirements/*.in into the pinned requirements/*.txt
	$(PYTHON) -m venv /tmp/ninefold-lock && /tmp/ninefold-lock/bin/pip install --quiet -r requirements/dev.in \
	  && (echo "# Locked from requirements/dev.in (make lock). Python 3.11."; /tmp/ninefold-lock/bin/pip freeze --exclude-editable) > requirements/dev.txt; rm -rf /tmp/ninefold-lock
	$(PYTHON) -m venv /tmp/ninefold-lock && /tmp/ninefold-lock/bin/pip install --quiet -r requirements/cdk.in \
	  && (echo "# Locked from requirements/cdk.in (make lock). Python 3.11."; /tmp/ninefold-lock/bin/pip freeze --exclude-editable) > requirements/cdk.txt; rm -rf /tmp/ninefold-lock

# --- build --------------------------------------------------------------------

# Synth reruns only when what shapes the templates changed (or SYSTEMS picks another set).
# Handler code, the core package and the sites are read from the working tree by the local
# cloud, so editing them never waits for a synth; only the merged OpenAPI document is rebuilt.
find_files = $(shell find $(1) -type f -not -path '*/__pycache__/*' -not -name '*.pyc' 2>/dev/null)
SYNTH_INPUTS := app.py cdk.json layers/deps/requirements.txt $(call find_files,stacks statemachines)
API_INPUTS := $(call find_files,functions layers/core)
comma := ,
SYSTEMS_KEY := $(subst $(comma),_,$(or $(SYSTEMS),default))
SYNTH_STAMP := cdk.out/.synth-$(SYSTEMS_KEY)
OPENAPI_STAMP := build/openapi/.built-$(SYSTEMS_KEY)

$(OPENAPI_STAMP): $(VENV)/.installed $(API_INPUTS) cdk.json
	@rm -f build/openapi/.built-*
	$(PY) -m scripts.openapi
	@touch $@

$(SYNTH_STAMP): $(VENV_CDK)/.installed $(SYNTH_INPUTS) | $(OPENAPI_STAMP)
	@rm -f cdk.out/.synth-*
	$(PY_CDK) app.py $(SYNTH_CONTEXT)
	@touch $@

synth: $(OPENAPI_STAMP) $(SYNTH_STAMP) ## Synthesize the CDK app into cdk.out/ (offline)

docs: install ## Regenerate docs/events.md from the event catalog
	$(PY) -m scripts.events_doc

# --- run ------------------------------------------------------------------------

dev: synth ## Set up and run the whole platform locally on http://127.0.0.1:$(PORT)
	PORT=$(PORT) $(PY) -m localcloud serve --cdk-out cdk.out --port $(PORT) --seed scripts.dev_seed:seed

# --- checks -------------------------------------------------------------------

lint: install ## ruff, mypy, import contracts, cfn-lint, events doc drift
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy layers/core/python/ninefold_core functions localcloud scripts
	$(VENV)/bin/lint-imports
	$(PY) -m scripts.events_doc --check
	@if ls cdk.out/*.template.json >/dev/null 2>&1; then $(VENV)/bin/cfn-lint cdk.out/*.template.json; fi

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

unit: install ## Unit tier (sockets blocked)
	$(PY) -m pytest tests/unit -m unit -q

contract: install ## Provider conformance suites against local fakes
	$(PY) -m pytest tests/contract -m contract -q

integration: synth ## Handlers against the local cloud
	$(PY) -m pytest tests/integration -m integration -q

infra: install ## CDK assertions, cdk-nag, bundling
	$(PY_CDK) -m pytest tests/infra -m infra -q

e2e: synth ## Playwright in headless Chromium against the local cloud
	@$(PY) -m tests.e2e.browser --ensure
	$(PY) -m pytest tests/e2e -m e2e -q

test: synth lint unit contract integration infra e2e ## Set up and run every test tier
	@echo "make test: every tier passed"

bench: synth ## Run the benchmarks and record their figures in benchmarks/results/
	$(PY) -m benchmarks.run

# --- cloud ----------------------------------------------------------------------

node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deploy: install node_modules/.installed ## Bundle and deploy every stack to your AWS account
	$(PY) -m scripts.openapi
	PATH="$(CURDIR)/$(VENV_CDK)/bin:$$PATH" npx cdk deploy --all --require-approval broadening --app "python app.py"

destroy: node_modules/.installed ## Tear every stack down
	PATH="$(CURDIR)/$(VENV_CDK)/bin:$$PATH" npx cdk destroy --all --app "python app.py"

clean: ## Remove build output (keeps the virtual environments)
	rm -rf cdk.out build .pytest_cache .mypy_cache .ruff_cache
