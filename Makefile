# Tooling for govsec.banned_software.  See docs/testing.md.
#
#   make audit      scan this machine (read-only) and write reports/report.json
#   make test       unit -> integration -> sanity -> lint -> docs-check -> galaxy-import -> compat -> molecule
#                   (what CI runs), stops at the first failure
#
# Every target uses the pinned tools of .venv (requirements-dev.txt) and, where it runs the
# collection, its INSTALLED form under .collections/ (built with ansible-galaxy like a user gets it).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON     ?= python3
VENV       := $(CURDIR)/.venv
VENV_BIN   := $(VENV)/bin
REQS       := requirements-dev.txt
# The stamp is keyed on the content of the requirements file: editing a pin re-runs pip install.
REQS_HASH  := $(shell sha256sum $(REQS) 2>/dev/null | cut -c1-16)
VENV_STAMP := $(VENV)/.installed-$(REQS_HASH)

COLLECTIONS := $(CURDIR)/.collections
INSTALLED   := $(COLLECTIONS)/ansible_collections/govsec/banned_software
REPORT_DIR  := $(CURDIR)/reports
INVENTORY   := inventories/localhost.yml

# Tools of the venv first on PATH (ansible-lint and molecule call ansible-* by name).
export PATH := $(VENV_BIN):$(PATH)
export PIP_DISABLE_PIP_VERSION_CHECK := 1
# Targets that run the collection see only its installed form (plus the `ansible` package's).
WITH_COLLECTIONS := ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS)

TEST_STEPS ?= unit integration sanity lint docs-check galaxy-import compat browser molecule

.PHONY: help host venv collection audit test unit integration sanity lint yamllint ansible-lint molecule bench clean distclean
.PHONY: docs docs-check galaxy-import compat browser

help:
	@echo 'make venv        create .venv with the pinned tools (requirements-dev.txt)'
	@echo 'make collection  build build/govsec-banned_software-*.tar.gz and install it into .collections/'
	@echo 'make audit       scan this machine (read-only); report in reports/'
	@echo 'make test        $(TEST_STEPS) (stops at the first failure)'
	@echo 'make unit | integration | sanity | lint | docs-check | galaxy-import | compat | browser | molecule   one step of make test'
	@echo 'make docs        regenerate role READMEs, the catalog policy list, the docsite pages and CHANGELOG.md'
	@echo 'make molecule SCENARIO=<name>           one molecule scenario'
	@echo 'make bench       fleet benchmark (N podman hosts, BENCH_ARGS="--bench-hosts 20"); not part of make test'
	@echo 'make clean       remove build output (build/ .collections/ reports/ tests/output/)'
	@echo 'make distclean   clean, and remove .venv'

# --- environment -------------------------------------------------------------------------------

venv: $(VENV_STAMP)

$(VENV_STAMP): $(REQS)
	@test -n "$(REQS_HASH)" || { echo "cannot read $(REQS)" >&2; exit 1; }
	@if [ ! -x "$(VENV_BIN)/python" ]; then \
	  if ! $(PYTHON) -c 'import ensurepip' 2>/dev/null; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	      echo "installing python3-venv (needed to create $(VENV))"; \
	      DEBIAN_FRONTEND=noninteractive apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv; \
	    else echo "$(PYTHON) cannot create a venv: install python3-venv (apt-get install python3-venv)" >&2; exit 1; fi; \
	  fi; \
	  echo "creating $(VENV) with $$($(PYTHON) -V 2>&1)"; \
	  $(PYTHON) -m venv "$(VENV)"; \
	fi
	"$(VENV_BIN)/python" -m pip install --quiet -r $(REQS)
	@rm -f "$(VENV)"/.installed-*
	@touch "$@"

collection: venv
	@rm -f build/govsec-banned_software-*.tar.gz
	ansible-galaxy collection build --force --output-path build/ .
	$(WITH_COLLECTIONS) ansible-galaxy collection install --force -p "$(COLLECTIONS)" build/govsec-banned_software-*.tar.gz
	@echo "installed: $(INSTALLED)"

# --- audit ---------------------------------------------------------------------------------------

# Read-only for the host: the audit playbook only collects and reports; the report is written on
# the controller into $(REPORT_DIR).
audit: venv collection
	@mkdir -p "$(REPORT_DIR)"
	$(WITH_COLLECTIONS) ansible-playbook -i $(INVENTORY) govsec.banned_software.audit \
	  -e banned_software_report_dir="$(REPORT_DIR)"

# --- tests ---------------------------------------------------------------------------------------

# System packages and podman configuration the tests need (installs what is missing; root).
host:
	bash tests/host/setup.sh

test: host venv
	@summary=(); total_start=$$(date +%s); rc=0; \
	for step in $(TEST_STEPS); do \
	  echo; echo "==> make $$step"; start=$$(date +%s); \
	  if $(MAKE) --no-print-directory $$step; then \
	    summary+=("  $$step: passed ($$(( $$(date +%s) - start ))s)"); \
	  else \
	    rc=$$?; summary+=("  $$step: FAILED ($$(( $$(date +%s) - start ))s, exit $$rc)"); break; \
	  fi; \
	done; \
	echo; echo "make test summary:"; printf '%s\n' "$${summary[@]}"; \
	for step in $(TEST_STEPS); do \
	  printf '%s\n' "$${summary[@]}" | grep -q "^  $$step:" || echo "  $$step: not run"; \
	done; \
	echo "  total: $$(( $$(date +%s) - total_start ))s"; \
	exit $$rc

unit: venv
	python -m pytest

# Playbooks run for real with ansible-playbook against the installed collection (localhost and
# loopback hosts only).
integration: venv collection
	$(WITH_COLLECTIONS) python -m pytest -p no:cacheprovider tests/integration

sanity: venv
	bash tests/sanity/run.sh

lint: ansible-lint yamllint

yamllint: venv
	yamllint --strict .

# ansible-lint resolves govsec.banned_software.* through the installed collection.
ansible-lint: venv collection
	$(WITH_COLLECTIONS) ansible-lint --profile production

# Every extensions/molecule/<name>/molecule.yml is a scenario; SCENARIO=<name> runs only that one.
# The base images (localhost/govsec-*) are built first by tests/images/build.sh (idempotent).
molecule: venv collection
	@cd extensions; \
	if [ -n "$(SCENARIO)" ]; then scenarios="$(SCENARIO)"; \
	else scenarios=$$(for f in molecule/*/molecule.yml; do if [ -e "$$f" ]; then basename "$$(dirname "$$f")"; fi; done | sort); fi; \
	if [ -z "$$scenarios" ]; then \
	  echo "molecule: no scenario under extensions/molecule/ (no */molecule.yml): skipped"; exit 0; \
	fi; \
	files=$$(for s in $$scenarios; do echo "molecule/$$s/molecule.yml"; done); \
	images=$$(python -c 'import sys, yaml; seen = []; [seen.append(i) for p in sys.argv[1:] for i in [str(x.get("image") or "") for x in (yaml.safe_load(open(p)) or {}).get("platforms") or []] if i.startswith("localhost/") and i not in seen]; print("\n".join(seen))' $$files); \
	for image in $$images; do \
	  echo "==> base image $$image"; \
	  bash ../tests/images/build.sh "$$image"; \
	done; \
	for s in $$scenarios; do \
	  echo "==> molecule test -s $$s"; start=$$(date +%s); \
	  $(WITH_COLLECTIONS) molecule test -s "$$s"; \
	  echo "<== molecule scenario $$s passed in $$(( $$(date +%s) - start ))s"; \
	done

# --- documentation and packaging ------------------------------------------------------------------

# Generated documentation: role READMEs (aar-doc, from meta/argument_specs.yml), the policy list of the
# catalog module (from catalog/policies.yml), the docsite pages (pandoc, from docs/*.md), CHANGELOG.md
# (antsibull-changelog, from changelogs/changelog.yaml).
docs: venv
	bash tools/role_readmes.sh
	python tools/catalog_doc.py
	python tools/docsite.py
	antsibull-changelog generate

# Fails when a generated file is stale, a changelog fragment is malformed, or antsibull-docs finds an
# error in the docsite (extra-docs.yml, links.yml, the pages) or in a plugin's documentation.
docs-check: venv collection
	bash tools/role_readmes.sh --check
	python tools/catalog_doc.py --check
	python tools/docsite.py --check
	antsibull-changelog lint
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; cp -a CHANGELOG.md changelogs "$$tmp/"; \
	  antsibull-changelog generate >/dev/null; \
	  if ! diff -u "$$tmp/CHANGELOG.md" CHANGELOG.md; then cp "$$tmp/CHANGELOG.md" CHANGELOG.md; \
	    echo "CHANGELOG.md is stale (regenerate with: make docs)" >&2; exit 1; fi
	$(WITH_COLLECTIONS) antsibull-docs lint-collection-docs --plugin-docs "$(INSTALLED)"

# galaxy-importer (what Galaxy and Automation Hub run on upload) on the built tarball; any error or
# warning fails. Then ansible-builder creates the execution environment's build context: it must carry the
# tarball and the first-step check that stops a build without it.
galaxy-import: venv collection
	bash tools/galaxy_import.sh build/govsec-banned_software-*.tar.gz
	@tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  ansible-builder create -f execution-environment.yml -c "$$tmp/context" >/dev/null; \
	  ls "$$tmp"/context/_build/collection/govsec-banned_software-*.tar.gz >/dev/null; \
	  grep -q 'govsec-banned_software-\*.tar.gz is missing' "$$tmp/context/Containerfile"; \
	  echo "execution environment: the build context carries the tarball and the check for it"

# The built tarball on every supported ansible-core (tests/compat/versions.txt), each in a venv that holds
# ansible-core only, against a podman test host (compat-debian12). COMPAT_VERSIONS="2.15.13" for a subset.
COMPAT_VERSIONS ?=
compat: venv collection
	bash tests/compat/run.sh $(COMPAT_VERSIONS)

# report.html in headless Chromium at 390, 1280 and 1920 pixels: no console error, no external request, no clipped
# chart label or broken host name, keyboard-usable controls, no serious or critical axe-core violation. The pinned
# puppeteer-core and axe-core (tests/browser/package-lock.json) are installed into .cache/browser; screenshots in
# tests/output/browser/.
browser: venv
	bash tests/browser/run.sh

# --- benchmark ---------------------------------------------------------------------------------

# Fleet benchmark of issue 7 (docs/performance.md): podman containers bench-host-NN, ~15 min at N=20.
# Not part of `make test`. Options: BENCH_ARGS="--bench-hosts 20 --rounds 5 --connection ssh".
BENCH_ARGS ?=
bench: venv
	python benchmarks/run.py $(BENCH_ARGS)

# --- housekeeping --------------------------------------------------------------------------------

clean:
	rm -rf build .collections reports tests/output .pytest_cache .cache
	find . -path ./.venv -prune -o -path ./.git -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf .venv
