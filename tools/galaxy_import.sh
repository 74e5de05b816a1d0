#!/usr/bin/env bash
# Run galaxy-importer (what Galaxy and Automation Hub run on upload) on the built collection tarball,
# with its defaults: ansible-doc of every plugin, ansible-lint --profile production (offline).
#
#   bash tools/galaxy_import.sh build/govsec-banned_software-<version>.tar.gz
#
# Fails when the import fails or logs any error or warning (the importer itself exits 0 on lint
# findings; Galaxy shows them on the collection's import log). Needs ansible-doc and ansible-lint on
# PATH (the Makefile puts .venv/bin first).
set -euo pipefail
[[ $# -eq 1 && -f $1 ]] || { echo "usage: $0 COLLECTION_TARBALL (run make collection first)" >&2; exit 2; }
tarball="$(readlink -f "$1")"
for tool in ansible-doc ansible-lint; do
  command -v "$tool" >/dev/null || { echo "galaxy_import.sh: $tool is not on PATH" >&2; exit 1; }
done
work="$(mktemp -d /tmp/govsec-galaxy-import-XXXXXX)"
trap 'rm -rf "$work"' EXIT
log="$work/import.log"
rc=0
(cd "$work" && python -m galaxy_importer.main "$tarball") > "$log" 2>&1 || rc=$?
problems="$(grep -E '^(WARNING|ERROR)' "$log" || true)"
if [[ $rc -ne 0 ]] || ! grep -q '^Importer processing completed successfully' "$log" || [[ -n $problems ]]; then
  grep -v '^Loading ' "$log" >&2
  echo "galaxy-importer: FAILED on $(basename "$tarball") (exit $rc; errors and warnings above)" >&2
  exit 1
fi
grep -v '^Loading ' "$log"
echo "galaxy-importer: $(basename "$tarball") imports with no error and no warning"
