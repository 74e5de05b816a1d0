#!/usr/bin/env bash
# Run `ansible-test sanity` on a copy of the collection (see docs/testing.md).
#
#   tests/sanity/run.sh [extra ansible-test sanity options, e.g. --test pep8]
#
# ansible-test needs the collection at .../ansible_collections/<namespace>/<name>/ and scans every
# file it finds there. The wrapper therefore copies the files git knows about (tracked, plus
# untracked files that are not ignored) to build/sanity/ansible_collections/govsec/banned_software/
# and gives the copy its own (empty) git repository, so that ansible-test lists exactly those files
# and never tests/output/, .venv/ or .collections/.
#
# Two adjustments make ansible-test work without the internet (docs/testing.md, "Sanity"):
#  * it bootstraps pip in each test venv with a get-pip script downloaded from a host that is not
#    reachable: a stand-in at ~/.ansible/test/cache/get_pip_<version>.py runs ensurepip, installs
#    the requested pip from the package index with the system CA bundle, and writes a pip.conf into
#    that venv (its site configuration) so that later installs there use the CA bundle too
#    (ansible-test does not pass PIP_CERT or PIP_CONFIG_FILE through to pip);
#  * tests that cannot run on this kind of machine are skipped by name (SKIP below).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PYTHON_VERSION="${SANITY_PYTHON:-3.11}"
CA_BUNDLE="${SANITY_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}"
NAMESPACE=govsec
NAME=banned_software
COPY="$ROOT/build/sanity/ansible_collections/$NAMESPACE/$NAME"

# Sanity tests that cannot run here, with the reason (also in docs/testing.md):
SKIP=(
  # needs pwsh (PowerShell), which no reachable package registry provides; .ps1 files are parsed
  # by a unit test with tree-sitter-powershell instead
  pslint
)

log() { printf '[sanity] %s\n' "$*" >&2; }

# ansible-test comes from the project's venv (make venv) unless already on PATH.
if [[ -x "$ROOT/.venv/bin/ansible-test" ]]; then
  export PATH="$ROOT/.venv/bin:$PATH"
fi
command -v ansible-test >/dev/null || { log "ansible-test not found: run 'make venv' first"; exit 1; }
[[ -r "$CA_BUNDLE" ]] || { log "CA bundle $CA_BUNDLE not readable (set SANITY_CA_BUNDLE)"; exit 1; }

# --- the stand-in get-pip script ------------------------------------------------------------------
# ansible-test asks for the pip version of get_venv_packages(); read it from the installed
# ansible-test rather than hard-coding it.
PIP_VERSION="$(python - <<'EOF'
import ast, inspect
from ansible_test._internal import python_requirements as pr
src = inspect.getsource(pr.get_venv_packages)
for node in ast.walk(ast.parse(src)):
    if isinstance(node, ast.keyword) and node.arg == "pip":
        print(node.value.value)
        break
EOF
)"
[[ -n "$PIP_VERSION" ]] || { log "cannot tell which pip version ansible-test bootstraps"; exit 1; }
GET_PIP="$HOME/.ansible/test/cache/get_pip_${PIP_VERSION//./_}.py"
MARKER="# govsec.banned_software stand-in for get-pip"
if [[ -e "$GET_PIP" ]] && ! grep -qF "$MARKER" "$GET_PIP"; then
  log "using the existing $GET_PIP (not ours)"
else
  mkdir -p "$(dirname "$GET_PIP")"
  cat > "$GET_PIP.tmp" <<EOF
$MARKER (written by tests/sanity/run.sh).
# ansible-test runs it as get-pip.py with arguments such as:
#   --disable-pip-version-check pip==$PIP_VERSION --no-setuptools --no-wheel
"""Install pip into the running (virtual) environment without downloading get-pip.py."""
import ensurepip
import os
import subprocess
import sys

CA_BUNDLE = "$CA_BUNDLE"

ensurepip.bootstrap(upgrade=True)
wanted = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
options = [arg for arg in sys.argv[1:] if arg == "--disable-pip-version-check"]
if wanted:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "--cert", CA_BUNDLE]
                          + options + wanted)
# Site configuration of this venv: later "pip install" runs here use the CA bundle as well.
if sys.prefix != sys.base_prefix:
    with open(os.path.join(sys.prefix, "pip.conf"), "w", encoding="utf-8") as conf:
        conf.write("[global]\ncert = %s\n" % CA_BUNDLE)
EOF
  mv "$GET_PIP.tmp" "$GET_PIP"
fi

# --- the copy of the collection ---------------------------------------------------------------------
log "copying the collection to $COPY"
rm -rf "$ROOT/build/sanity"
mkdir -p "$COPY"
(
  cd "$ROOT"
  git ls-files -z --cached --others --exclude-standard \
    | python -c '
import os, sys
for path in sys.stdin.buffer.read().split(b"\0"):
    if not path or not os.path.lexists(path):
        continue  # deleted in the working tree
    parts = path.split(b"/")
    if b".molecule" in parts or b"__pycache__" in parts:
        continue
    sys.stdout.buffer.write(path + b"\0")
' \
    | tar --null --no-recursion -T - -cf - \
    | tar -xf - -C "$COPY"
)
git -C "$COPY" init --quiet

# validate-modules asks pwsh for the argument spec of a PowerShell module that uses Ansible.Basic
# and crashes (FileNotFoundError) when pwsh is missing. Without pwsh, skip validate-modules for
# those .ps1 files only, in the copy's ignore file: their documentation (the .py or .yml next to
# them) is still validated, and their syntax is checked by the unit tests (tree-sitter).
ANSIBLE_CORE_MINOR="$(python -c 'from ansible.release import __version__ as v; print(".".join(v.split(".")[:2]))')"
IGNORE_FILE="$COPY/tests/sanity/ignore-$ANSIBLE_CORE_MINOR.txt"
if ! command -v pwsh >/dev/null; then
  while IFS= read -r -d '' ps1; do
    rel="${ps1#"$COPY"/}"
    grep -qiE '^#[[:space:]]*ansiblerequires[[:space:]]+-csharputil[[:space:]]+Ansible\.Basic' "$ps1" || continue
    entry="$rel validate-modules!skip"
    if [[ ! -e "$IGNORE_FILE" ]] || ! sed 's/ *#.*$//' "$IGNORE_FILE" | grep -qxF "$entry"; then
      mkdir -p "$(dirname "$IGNORE_FILE")"
      [[ ! -s "$IGNORE_FILE" ]] || [[ -z "$(tail -c1 "$IGNORE_FILE")" ]] || echo >> "$IGNORE_FILE"
      echo "$entry # no pwsh here: argument spec cannot be read (tests/sanity/run.sh)" >> "$IGNORE_FILE"
      log "no pwsh: $entry (in the copy only)"
    fi
  done < <(find "$COPY/plugins/modules" -name '*.ps1' -print0 2>/dev/null)
fi
log "$(git -C "$COPY" ls-files --others --exclude-standard | wc -l) files to test"

# --- ansible-test ---------------------------------------------------------------------------------
skip_args=()
for test in "${SKIP[@]}"; do
  skip_args+=(--skip-test "$test")
done

cd "$COPY"
log "ansible-test sanity --python $PYTHON_VERSION ${skip_args[*]} $*"
set +e
ansible-test sanity --python "$PYTHON_VERSION" --color no "${skip_args[@]}" "$@"
rc=$?
set -e
# Keep the results where a developer (or CI) finds them after the copy is replaced.
if [[ -d "$COPY/tests/output" ]]; then
  mkdir -p "$ROOT/tests/output"
  rm -rf "$ROOT/tests/output/sanity"
  mkdir -p "$ROOT/tests/output/sanity"
  tar -C "$COPY/tests/output" --exclude=./.tmp -cf - . | tar -C "$ROOT/tests/output/sanity" -xf - || true
fi
exit "$rc"
