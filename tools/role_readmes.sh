#!/usr/bin/env bash
# Role READMEs (roles/<role>/README.md) generated from meta/main.yml and meta/argument_specs.yml
# with aar-doc and tools/role_readme.md.j2: one source of truth for the role variables.
#
#   bash tools/role_readmes.sh          rewrite every roles/*/README.md
#   bash tools/role_readmes.sh --check  fail (naming the file and the difference) when one is stale
#
# aar-doc comes from .venv (requirements-dev.txt); run through `make docs` / `make docs-check`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
AAR_DOC=${AAR_DOC:-aar-doc}
CHECK=0
[[ ${1:-} == --check ]] && CHECK=1
TEMPLATE="$PWD/tools/role_readme.md.j2"

WORK="$(mktemp -d /tmp/govsec-role-readmes-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
# aar-doc reads galaxy.yml two levels above the role (the collection's name gives the role's FQCN)
# and writes README.md into the role: work on a copy, then compare or copy back.
cp galaxy.yml "$WORK/"
mkdir -p "$WORK/roles"
stale=0
for role_dir in roles/*/; do
  role=$(basename "$role_dir")
  [[ -f $role_dir/meta/argument_specs.yml ]] || { echo "roles/$role: no meta/argument_specs.yml" >&2; exit 1; }
  mkdir -p "$WORK/roles/$role"
  cp -r "$role_dir/meta" "$WORK/roles/$role/"
  (cd "$WORK" && "$AAR_DOC" --config-file "$OLDPWD/tools/aar_doc.yml" --output-template "$TEMPLATE" \
     "roles/$role" markdown >/dev/null)
  generated="$WORK/roles/$role/README.md"
  if ((CHECK)); then
    if ! diff -u "$role_dir/README.md" "$generated" > "$WORK/$role.diff" 2>&1; then
      echo "roles/$role/README.md is stale (regenerate with: make docs):" >&2
      cat "$WORK/$role.diff" >&2
      stale=1
    fi
  else
    cp "$generated" "$role_dir/README.md"
    echo "wrote roles/$role/README.md"
  fi
done
exit $stale
