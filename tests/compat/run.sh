#!/usr/bin/env bash
# `make compat`: the built collection on every ansible-core release it claims (tests/compat/versions.txt),
# installed and run the way a user does, against a podman test host (docs/testing.md, "Compatibility").
#
#   bash tests/compat/run.sh [CORE_VERSION ...]     (default: every version in versions.txt)
#
# Per version, in a venv of its own that holds ansible-core and nothing else (build/compat/venv-<core>,
# kept between runs while the pin is the same):
#   1. `ansible-galaxy collection install --offline` of build/govsec-banned_software-*.tar.gz into an empty
#      collections path; the install must hold this collection only (Linux-only install);
#   2. ansible-doc of every module, plugin and role; --syntax-check of every playbook on that install;
#   3. the Windows-only task files fail to load on it, and load once ansible.windows is installed offline
#      from a tarball made of .venv's copy (Windows-capable install; ansible-core 2.16 and later, the oldest
#      that ansible.windows 3 supports);
#   4. audit (gate off: exit 0; gate on: exit non-zero naming the host and the product), remediate --check
#      (host unchanged) and an image scan against the test host `compat-debian12`, which carries the banned
#      fixture package wechat;
#   5. the audit of this machine through Python 3.6 and 2.7 (pyenv builds): scanned where the collection and
#      ansible-core support the interpreter, else failed with the message naming the Python needed;
# and for the oldest version also a real remediate, a second run with changed=0, and unblock.
# The venvs are made first, then the versions are checked two at a time (every step above only reads the
# test host); the oldest version's removal runs last, alone. COMPAT_JOBS=1 checks one at a time.
#
# Needs: make collection (the tarball), podman and the images of tests/images/build.sh, .venv (for the
# containers.podman connection plugin and ansible.windows). Containers: compat-debian12 (removed at the end).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
OUT="$ROOT/build/compat"
HERE="$ROOT/tests/compat"
CONTAINER=compat-debian12
IMAGE=localhost/govsec-debian12:latest
DEV_PYTHON="$ROOT/.venv/bin/python"
PYENV_VERSIONS="${PYENV_ROOT:-$HOME/.pyenv}/versions"
mkdir -p "$OUT"
# ansible.cfg of the checkout must not apply: every command runs in a work directory of its own.
WORK="$OUT/work"
mkdir -p "$WORK"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 ANSIBLE_RETRY_FILES_ENABLED=False ANSIBLE_HOST_KEY_CHECKING=False
export ANSIBLE_COLLECTIONS_SCAN_SYS_PATH=False PIP_DISABLE_PIP_VERSION_CHECK=1
unset ANSIBLE_CONFIG

log() { printf '[compat %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
die() { printf '[compat] FAILED: %s\n' "$*" >&2; exit 1; }

shopt -s nullglob
tarballs=(build/govsec-banned_software-*.tar.gz)
[[ ${#tarballs[@]} -eq 1 ]] || die "expected one build/govsec-banned_software-*.tar.gz (run make collection), found ${#tarballs[@]}"
TARBALL="$ROOT/${tarballs[0]}"

# --- versions -------------------------------------------------------------------------------------
declare -a CORES PYS NEEDS
while read -r core py need; do
  [[ -z $core || $core == \#* ]] && continue
  CORES+=("$core"); PYS+=("$py"); NEEDS+=("$need")
done < "$HERE/versions.txt"
OLDEST="${CORES[0]}"
if [[ $# -gt 0 ]]; then SELECTED=("$@"); else SELECTED=("${CORES[@]}"); fi

controller_python() {  # a pyenv build of X.Y if this machine has one, else python3
  local want=$1 exe
  for exe in "$PYENV_VERSIONS/$want".*/bin/"python$want"; do
    if "$exe" -c 'import ensurepip' 2>/dev/null; then echo "$exe"; return; fi
  done
  command -v python3
}

old_python() {  # the pyenv build of X.Y, or nothing
  local exe
  for exe in "$PYENV_VERSIONS/$1".*/bin/"python$1"; do
    [[ -x $exe ]] && { echo "$exe"; return; }
  done
}

# run NAME CMD...: run in $WORK, output to $LOGDIR/NAME.log; sets RC; prints the log tail on demand.
run() {
  local name=$1; shift
  RC=0
  (cd "$WORK" && "$@") > "$LOGDIR/$name.log" 2>&1 || RC=$?
}
expect_rc() {  # expect_rc NAME WANT (0 | nonzero)
  local name=$1 want=$2
  if [[ $want == 0 && $RC -ne 0 ]] || [[ $want == nonzero && $RC -eq 0 ]]; then
    tail -n 40 "$LOGDIR/$name.log" >&2
    die "$CORE: $name exited $RC, expected $want (log: $LOGDIR/$name.log)"
  fi
}
expect_in_log() {  # expect_in_log NAME TEXT
  grep -qF -- "$2" "$LOGDIR/$1.log" || { tail -n 40 "$LOGDIR/$1.log" >&2; die "$CORE: $1: expected '$2' in the output"; }
}
host_exec() { podman exec "$CONTAINER" "$@"; }

# --- shared preparation --------------------------------------------------------------------------
log "test host image"
bash tests/images/build.sh "$IMAGE" >/dev/null

log "transport: containers.podman, and an ansible.windows tarball, from .venv's ansible package"
src_collections="$("$DEV_PYTHON" -c 'import ansible, os; print(os.path.join(os.path.dirname(os.path.dirname(ansible.__file__)), "ansible_collections"))')"
[[ -d $src_collections/containers/podman && -d $src_collections/ansible/windows ]] \
  || die "no containers.podman / ansible.windows under $src_collections (the ansible package of .venv)"
TRANSPORT="$OUT/transport"
rm -rf "$TRANSPORT"
mkdir -p "$TRANSPORT/ansible_collections/containers"
cp -a "$src_collections/containers/podman" "$TRANSPORT/ansible_collections/containers/"
win_version="$("$DEV_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["collection_info"]["version"])' "$src_collections/ansible/windows/MANIFEST.json")"
WIN_TARBALL="$OUT/ansible-windows-$win_version.tar.gz"
python3 "$HERE/collection_tarball.py" "$src_collections/ansible/windows" "$WIN_TARBALL" >/dev/null

log "fixture package wechat"
FIXTURE_ONLY=wechat bash tests/fixtures/packages/build_debs.sh "$OUT/debs" >/dev/null
FIXTURE_DEB="$OUT/debs/$(head -n1 "$OUT/debs/install-order.txt")"

cleanup() {
  podman rm -f "$CONTAINER" >/dev/null 2>&1 || true
  # A run killed while podman created the container can leave storage without a container.
  if podman container exists "$CONTAINER" 2>/dev/null; then podman rm -f "$CONTAINER" >/dev/null 2>&1 || true; fi
  podman rm --storage "$CONTAINER" >/dev/null 2>&1 || true
}
trap cleanup EXIT
start_host() {
  cleanup
  podman run -d --name "$CONTAINER" --hostname "$CONTAINER" "$IMAGE" sleep infinity >/dev/null
  podman cp "$FIXTURE_DEB" "$CONTAINER:/var/tmp/fixture.deb"
  host_exec dpkg -i /var/tmp/fixture.deb >/dev/null
  # A mounted "image": a copy of the host's dpkg database and users under /srv/compat-image.
  host_exec sh -c 'mkdir -p /srv/compat-image/var/lib/dpkg /srv/compat-image/etc &&
    cp /var/lib/dpkg/status /srv/compat-image/var/lib/dpkg/status && cp /etc/passwd /srv/compat-image/etc/passwd'
}
log "test host $CONTAINER from $IMAGE with the banned fixture package installed"
start_host

modules=()
for f in plugins/modules/*.py; do modules+=("govsec.banned_software.$(basename "$f" .py)"); done
playbooks=()
for f in playbooks/*.yml; do playbooks+=("govsec.banned_software.$(basename "$f" .yml)"); done

OLD_INVENTORY="$OUT/old-python.yml"
{
  echo "all:"
  echo "  hosts:"
  for v in 3.6 2.7; do
    exe="$(old_python "$v")"
    [[ -n $exe ]] || die "no Python $v build under $PYENV_VERSIONS: the old-interpreter check needs it"
    echo "    python${v/./}:"
    echo "      ansible_connection: local"
    echo "      ansible_python_interpreter: $exe"
  done
} > "$OLD_INVENTORY"

make_venv() {  # make_venv INDEX: build/compat/venv-<core> with ansible-core==<core> only (kept while the pin is the same)
  local i=$1 core="${CORES[$1]}" venv="$OUT/venv-${CORES[$1]}" py
  [[ -f $venv/.installed-$core ]] && return 0
  py="$(controller_python "${PYS[$i]}")"
  log "$core: venv with $("$py" -V 2>&1) and ansible-core==$core only"
  rm -rf "$venv"
  "$py" -m venv "$venv"
  if ! "$venv/bin/python" -m pip install --no-compile "ansible-core==$core" > "$OUT/venv-$core.log" 2>&1; then
    tail -n 20 "$OUT/venv-$core.log" >&2
    return 1
  fi
  touch "$venv/.installed-$core"
}

check_version() {  # check_version INDEX: every read-only check of one ansible-core release
  local i=$1
  CORE="${CORES[$i]}"
  local started=$SECONDS
  VENV="$OUT/venv-$CORE"
  LOGDIR="$OUT/logs-$CORE"
  rm -rf "$LOGDIR" "$OUT/collections-$CORE" "$OUT/collections-win-$CORE" "$OUT/reports-$CORE"
  mkdir -p "$LOGDIR"
  pyver="$("$VENV/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  B="$VENV/bin"
  COLL="$OUT/collections-$CORE"
  REPORTS="$OUT/reports-$CORE"
  # 1. install, as a user does, offline from the tarball
  run install "$B/ansible-galaxy" collection install --offline -p "$COLL" "$TARBALL"
  expect_rc install 0
  run list env ANSIBLE_COLLECTIONS_PATH="$COLL" "$B/ansible-galaxy" collection list -p "$COLL" --format json
  expect_rc list 0
  "$VENV/bin/python" - "$LOGDIR/list.log" "$COLL" <<'EOF' || die "$CORE: the install holds more than govsec.banned_software"
import json, sys
text = open(sys.argv[1]).read()
data = json.loads(text[text.index("{"):])
# ansible-core's own internal collections (ansible.builtin, ansible._protomatter in 2.19) are not installs.
names = sorted(n for path in data.values() for n in path if not n.startswith(("ansible.builtin", "ansible._")))
sys.exit(0 if names == ["govsec.banned_software"] else "collections installed: %s" % names)
EOF
  if grep -q "does not support Ansible version" "$LOGDIR/install.log"; then
    die "$CORE: ansible-galaxy says the collection does not support this version (meta/runtime.yml requires_ansible)"
  fi

  # 2. documentation and playbooks load on ansible-core + this collection alone
  run doc env ANSIBLE_COLLECTIONS_PATH="$COLL" "$B/ansible-doc" -t module --json "${modules[@]}"
  expect_rc doc 0
  run doc-catalog env ANSIBLE_COLLECTIONS_PATH="$COLL" "$B/ansible-doc" -t module govsec.banned_software.catalog
  expect_rc doc-catalog 0
  expect_in_log doc-catalog "us-dhs-bod-17-01"
  run doc-other env ANSIBLE_COLLECTIONS_PATH="$COLL" sh -c "'$B/ansible-doc' -t filter govsec.banned_software.local_fact &&
    '$B/ansible-doc' -t callback govsec.banned_software.summary &&
    '$B/ansible-doc' -t role govsec.banned_software.detect govsec.banned_software.remediate govsec.banned_software.report"
  expect_rc doc-other 0
  run syntax env ANSIBLE_COLLECTIONS_PATH="$COLL" "$B/ansible-playbook" -i "$HERE/inventory.yml" --syntax-check "${playbooks[@]}"
  expect_rc syntax 0

  # 3. the Windows-only task files need ansible.windows, and only they do
  run windows-linux-only env ANSIBLE_COLLECTIONS_PATH="$COLL" "$B/ansible-playbook" -i "$HERE/inventory.yml" --syntax-check "$HERE/windows_tasks.yml"
  expect_rc windows-linux-only nonzero
  expect_in_log windows-linux-only "ansible.windows."
  windows_capable="no (ansible.windows $win_version needs ansible-core 2.16 or later)"
  if [[ $CORE != 2.15.* ]]; then
    run install-win "$B/ansible-galaxy" collection install --offline -p "$OUT/collections-win-$CORE" "$TARBALL" "$WIN_TARBALL"
    expect_rc install-win 0
    run windows-capable env ANSIBLE_COLLECTIONS_PATH="$OUT/collections-win-$CORE" "$B/ansible-playbook" -i "$HERE/inventory.yml" --syntax-check "$HERE/windows_tasks.yml" "${playbooks[@]}"
    expect_rc windows-capable 0
    windows_capable="yes"
  fi

  # 4. against the test host
  export ANSIBLE_COLLECTIONS_PATH="$COLL:$TRANSPORT"
  run audit "$B/ansible-playbook" -i "$HERE/inventory.yml" govsec.banned_software.audit -e "banned_software_report_dir=$REPORTS/audit"
  expect_rc audit 0
  run audit-report python3 "$HERE/check_report.py" "$REPORTS/audit/report.json" "$CONTAINER" non_compliant "dpkg|wechat"
  expect_rc audit-report 0
  run audit-gate "$B/ansible-playbook" -i "$HERE/inventory.yml" govsec.banned_software.audit -e banned_software_fail_on=non_compliant -e "banned_software_report_dir=$REPORTS/gate"
  expect_rc audit-gate nonzero
  expect_in_log audit-gate "banned software on $CONTAINER (banned_software_fail_on=non_compliant): WeChat"
  run remediate-check "$B/ansible-playbook" -i "$HERE/inventory.yml" govsec.banned_software.remediate --check --diff -e "banned_software_report_dir=$REPORTS/check"
  expect_rc remediate-check 0
  run remediate-check-report python3 "$HERE/check_report.py" "$REPORTS/check/report.json" "$CONTAINER" non_compliant "dpkg|wechat"
  expect_rc remediate-check-report 0
  host_exec dpkg-query -W wechat >/dev/null || die "$CORE: remediate --check removed wechat"
  host_exec test ! -e /etc/apt/preferences.d/govsec-banned-software || die "$CORE: remediate --check wrote the APT pin"
  run image-scan "$B/ansible-playbook" -i "$HERE/inventory.yml" "$HERE/image_scan.yml"
  expect_rc image-scan 0

  # 5. old interpreters on this machine (read-only audit of localhost)
  unset ANSIBLE_COLLECTIONS_PATH
  run old-python env ANSIBLE_COLLECTIONS_PATH="$COLL" "$B/ansible-playbook" -i "$OLD_INVENTORY" govsec.banned_software.audit
  expect_rc old-python nonzero
  need="${NEEDS[$i]}"
  expect_in_log old-python "the managed host's Python 2.7."
  expect_in_log old-python "is too old: Python $need or later is required on managed hosts"
  if [[ $need == 3.6 ]]; then
    grep -Eq '"python36 +(compliant|non_compliant) ' "$LOGDIR/old-python.log" \
      || die "$CORE: expected the scan through Python 3.6 to complete (see $LOGDIR/old-python.log)"
  else
    expect_in_log old-python "the managed host's Python 3.6."
  fi

  printf '  ansible-core %-8s controller Python %-5s passed in %3ds (Windows-capable install: %s)\n' \
    "$CORE" "$pyver" "$((SECONDS - started))" "$windows_capable" > "$OUT/result-$CORE.txt"
}

remove_and_unblock() {  # the oldest release: real remediate, a second run with changed=0, unblock
  CORE="$OLDEST"
  VENV="$OUT/venv-$CORE"; B="$VENV/bin"; COLL="$OUT/collections-$CORE"; REPORTS="$OUT/reports-$CORE"
  LOGDIR="$OUT/logs-$CORE"
  local started=$SECONDS
  export ANSIBLE_COLLECTIONS_PATH="$COLL:$TRANSPORT"
  run remediate "$B/ansible-playbook" -i "$HERE/inventory.yml" govsec.banned_software.remediate -e "banned_software_report_dir=$REPORTS/remediate"
  expect_rc remediate 0
  run remediate-report python3 "$HERE/check_report.py" "$REPORTS/remediate/report.json" "$CONTAINER" remediated
  expect_rc remediate-report 0
  # shellcheck disable=SC2016  # dpkg-query's format, not a shell expansion
  if host_exec dpkg-query -W -f '${db:Status-Status}' wechat 2>/dev/null | grep -qx installed; then
    die "$CORE: wechat is still installed after remediate"
  fi
  host_exec test -f /etc/apt/preferences.d/govsec-banned-software || die "$CORE: no APT pin after remediate"
  run remediate-again "$B/ansible-playbook" -i "$HERE/inventory.yml" govsec.banned_software.remediate
  expect_rc remediate-again 0
  grep -Eq "^$CONTAINER +: ok=[0-9]+ +changed=0 " "$LOGDIR/remediate-again.log" \
    || { tail -n 20 "$LOGDIR/remediate-again.log" >&2; die "$CORE: the second remediate run changed something"; }
  run unblock "$B/ansible-playbook" -i "$HERE/inventory.yml" govsec.banned_software.unblock
  expect_rc unblock 0
  host_exec test ! -e /etc/apt/preferences.d/govsec-banned-software || die "$CORE: the APT pin is still there after unblock"
  unset ANSIBLE_COLLECTIONS_PATH
  printf '  ansible-core %-8s remediate, second run changed=0, unblock: passed in %3ds\n' "$CORE" "$((SECONDS - started))" \
    > "$OUT/result-remove.txt"
}

for i in "${!CORES[@]}"; do
  [[ " ${SELECTED[*]} " == *" ${CORES[$i]} "* ]] || continue
  make_venv "$i" || die "${CORES[$i]}: pip install ansible-core==${CORES[$i]} failed (log: $OUT/venv-${CORES[$i]}.log)"
done

JOBS=${COMPAT_JOBS:-2}
rm -f "$OUT"/result-*.txt "$OUT"/out-*.txt
declare -A PIDS
for i in "${!CORES[@]}"; do
  [[ " ${SELECTED[*]} " == *" ${CORES[$i]} "* ]] || continue
  while (( $(jobs -rp | wc -l) >= JOBS )); do wait -n || true; done
  log "${CORES[$i]}: checks started"
  ( check_version "$i" ) > "$OUT/out-${CORES[$i]}.txt" 2>&1 &
  PIDS[${CORES[$i]}]=$!
done
failed=()
for core in "${!PIDS[@]}"; do
  if ! wait "${PIDS[$core]}"; then failed+=("$core"); fi
done
for core in "${failed[@]}"; do
  printf '\n----- ansible-core %s\n' "$core" >&2
  cat "$OUT/out-$core.txt" >&2
done
((${#failed[@]} == 0)) || die "ansible-core ${failed[*]}"

if [[ " ${SELECTED[*]} " == *" $OLDEST "* ]]; then
  log "$OLDEST: remediate, second run, unblock"
  ( remove_and_unblock ) > "$OUT/out-remove.txt" 2>&1 || { cat "$OUT/out-remove.txt" >&2; die "$OLDEST: remediate / unblock"; }
fi

printf '\nmake compat summary (collection %s):\n' "$(basename "$TARBALL")"
for core in "${CORES[@]}"; do
  [[ -f $OUT/result-$core.txt ]] && cat "$OUT/result-$core.txt"
done
[[ -f $OUT/result-remove.txt ]] && cat "$OUT/result-remove.txt"
