#!/usr/bin/env bash
# Build the benchmark host image localhost/bench-govsec-host:latest (idempotent).
#
#   benchmarks/image.sh [--force]
#
# Debian 12 minbase + the packages of benchmarks/packages.txt (with dependencies: a few hundred
# installed packages) + the test fixture .debs (banned and lookalike stand-ins, see
# tests/fixtures/packages/) copied to /opt/bench-debs. They are installed when a container starts
# (run.py does that) and re-installed to reset a host between remediation rounds.
# The image carries the label org.govsec.bench-hash = sha256(this script + packages.txt + fixtures);
# the build is skipped when that image exists. Mirror: from the machine's apt configuration, the same
# way tests/images/build.sh finds it (GOVSEC_MIRROR overrides). Needs root, podman, mmdebstrap.
set -euo pipefail
HERE="$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")"
ROOT="$(dirname "$HERE")"
TAG=localhost/bench-govsec-host:latest
LABEL_KEY=org.govsec.bench-hash
FORCE=0
[[ ${1:-} == --force ]] && FORCE=1
SUITE=bookworm
log() { printf '[bench image] %s\n' "$*" >&2; }

HASH="$(cat "$HERE/image.sh" "$HERE/packages.txt" "$ROOT"/tests/fixtures/packages/{packages.txt,lib.sh,build_debs.sh} | sha256sum | cut -d' ' -f1)"

exec 9>/tmp/bench-govsec-image.lock
flock 9
if [[ $FORCE -eq 0 ]] && podman image exists "$TAG"; then
  have="$(podman image inspect --format "{{ index .Labels \"${LABEL_KEY}\" }}" "$TAG" 2>/dev/null || true)"
  if [[ $have == "$HASH" ]]; then
    log "up to date: $TAG"
    exit 0
  fi
fi

MIRROR="${GOVSEC_MIRROR:-}"
if [[ -z $MIRROR ]]; then
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    MIRROR="$(awk -v s="$SUITE" 'tolower($1)=="uris:"{u=$2} tolower($1)=="suites:"{for(i=2;i<=NF;i++) if($i==s) ok=1}
                                  /^[ \t]*$/{if(ok&&u!=""){print u; exit} ok=0; u=""} END{if(ok&&u!="") print u}' "$f" | head -1)"
    [[ -n $MIRROR ]] && break
  done
  if [[ -z $MIRROR ]]; then
    MIRROR="$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' /etc/apt/sources.list 2>/dev/null | awk -v s="$SUITE" '$1=="deb" && $3==s {print $2; exit}')"
  fi
  [[ -n $MIRROR ]] || { log "no $SUITE mirror in /etc/apt (set GOVSEC_MIRROR)"; exit 1; }
fi
INCLUDE="$(grep -v -e '^#' -e '^[[:space:]]*$' "$HERE/packages.txt" | paste -sd, -)"

WORK="$(mktemp -d /tmp/bench-govsec-image-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
bash "$ROOT/tests/fixtures/packages/build_debs.sh" "$WORK/debs" >/dev/null
log "mirror $MIRROR; $(grep -c . <<<"${INCLUDE//,/$'\n'}") packages requested (+ dependencies)"
t0=$SECONDS
# shellcheck disable=SC2016
mmdebstrap --quiet --variant=minbase --include="$INCLUDE" \
  --customize-hook='rm -f "$1"/etc/hostname' \
  --customize-hook='mkdir -p "$1"/opt/bench-debs' \
  --customize-hook="copy-in $WORK/debs/. /opt/bench-debs" \
  --customize-hook='chroot "$1" dpkg-query -W -f "\${Package}\n" | wc -l > "$1"/etc/bench-package-count' \
  "$SUITE" "$WORK/rootfs.tar" "$MIRROR"
log "mmdebstrap: $((SECONDS - t0)) s"
podman import --quiet --change "LABEL ${LABEL_KEY}=${HASH}" --change 'CMD ["/bin/bash"]' \
  "$WORK/rootfs.tar" "$TAG" >/dev/null
log "built $TAG in $((SECONDS - t0)) s"
