#!/usr/bin/env bash
# Build a local podman test image with mmdebstrap (no container registry is needed).
#
#   tests/images/build.sh NAME [--force]
#
# NAME may also be given as the full reference localhost/NAME:latest (as the Makefile does).
# NAME is one of:
#   govsec-debian12  Debian 12 (bookworm) minbase + python3, procps, sudo, systemd (not booted)
#   govsec-rpm       Debian 12 minbase + python3, procps, rpm, dnf: an RPM-managed test host
#                    (its rpmdb starts empty; install fixtures with `rpm -i --nodeps`)
#   govsec-debian12-flatpak  govsec-debian12 + flatpak (bookworm's 1.14) for the flatpak fixtures  #+flatpak
#
# The image is tagged localhost/NAME:latest and carries the label
# org.govsec.build-hash = sha256(this script + NAME). The build is skipped when an image with that
# tag and label already exists, so editing this script triggers a rebuild. --force always rebuilds.
#
# The Debian mirror comes from this machine's own apt configuration (deb822 *.sources files or
# sources.list); override with GOVSEC_MIRROR=<uri> if needed. Requires root (or a working
# mmdebstrap unshare mode), podman, mmdebstrap.
set -euo pipefail

# shellcheck disable=SC2317  # replaced on the next line  #+flatpak
usage() { echo "usage: $0 {govsec-debian12|govsec-rpm} [--force]" >&2; exit 2; }
usage() { echo "usage: $0 {govsec-debian12|govsec-debian12-flatpak|govsec-rpm} [--force]" >&2; exit 2; }  #+flatpak
[[ $# -ge 1 ]] || usage
NAME=${1#localhost/}
NAME=${NAME%:latest}
FORCE=0
[[ ${2:-} == --force ]] && FORCE=1

case "$NAME" in
  govsec-debian12) INCLUDE="python3,procps,sudo,systemd,ca-certificates" ;;
  govsec-rpm)      INCLUDE="python3,procps,rpm,dnf" ;;
  govsec-debian12-flatpak) INCLUDE="python3,procps,sudo,systemd,ca-certificates,flatpak" ;;  #+flatpak
  *) usage ;;
esac

SUITE=bookworm
TAG="localhost/${NAME}:latest"
LABEL_KEY=org.govsec.build-hash
SCRIPT="$(readlink -f "${BASH_SOURCE[0]}")"
HASH="$( { cat "$SCRIPT"; printf '%s\n' "$NAME"; } | sha256sum | cut -d' ' -f1)"
# Lines ending in "#+flatpak" serve only govsec-debian12-flatpak: the other images hash this script  #+flatpak
# without them, so adding that variant left their hash labels (and images) as they were.  #+flatpak
if [[ $NAME != govsec-debian12-flatpak ]]; then  #+flatpak
  HASH="$( { grep -v '#+flatpak$' "$SCRIPT"; printf '%s\n' "$NAME"; } | sha256sum | cut -d' ' -f1)"  #+flatpak
fi  #+flatpak

log() { printf '[build.sh %s] %s\n' "$NAME" "$*" >&2; }

for tool in podman mmdebstrap sha256sum; do
  command -v "$tool" >/dev/null || { log "missing tool: $tool"; exit 1; }
done

# Serialise concurrent builds of the same image.
exec 9>"/tmp/govsec-image-${NAME}.lock"
flock 9

if [[ $FORCE -eq 0 ]] && podman image exists "$TAG"; then
  have="$(podman image inspect --format "{{ index .Labels \"${LABEL_KEY}\" }}" "$TAG" 2>/dev/null || true)"
  if [[ "$have" == "$HASH" ]]; then
    log "up to date: $TAG (hash ${HASH:0:12}), skipping build"
    exit 0
  fi
  log "hash label differs (have '${have:0:12}', want '${HASH:0:12}'): rebuilding"
fi

# --- find the mirror in the machine's apt configuration ---------------------------------------
find_mirror() {
  local f uri
  # deb822: the first stanza with Types: deb whose Suites contain $SUITE; first URI of it.
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    uri="$(awk -v suite="$SUITE" '
      function flush() {
        if (types ~ /(^|[ \t])deb([ \t]|$)/ && (" " suites " ") ~ ("[ \t]" suite "[ \t]") && uris != "" && enabled != "no") {
          split(uris, u, /[ \t]+/); print u[1]; found = 1; exit
        }
        types = ""; suites = ""; uris = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      tolower($1) == "types:"   { sub(/^[^:]*:[ \t]*/, ""); types = $0 }
      tolower($1) == "suites:"  { sub(/^[^:]*:[ \t]*/, ""); suites = $0 }
      tolower($1) == "uris:"    { sub(/^[^:]*:[ \t]*/, ""); uris = $0 }
      tolower($1) == "enabled:" { sub(/^[^:]*:[ \t]*/, ""); enabled = tolower($0) }
      END { if (!found) flush() }
    ' "$f")"
    if [[ -n $uri ]]; then echo "$uri"; return 0; fi
  done
  # one-line format: deb [opts] URI SUITE COMPONENTS...
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -r $f ]] || continue
    uri="$(sed -e 's/#.*//' -e 's/\[[^]]*\]//' "$f" | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }')"
    if [[ -n $uri ]]; then echo "$uri"; return 0; fi
  done
  return 1
}

MIRROR="${GOVSEC_MIRROR:-}"
if [[ -z $MIRROR ]]; then
  MIRROR="$(find_mirror)" || { log "no '$SUITE' mirror found in /etc/apt (set GOVSEC_MIRROR)"; exit 1; }
fi
log "mirror: $MIRROR  suite: $SUITE  include: $INCLUDE"

WORK="$(mktemp -d /tmp/govsec-image-XXXXXX)"
trap 'rm -rf "$WORK"' EXIT

old_id="$(podman image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"

t0=$SECONDS
# The hooks are run by mmdebstrap with the root directory as "$1": single quotes on purpose.
# shellcheck disable=SC2016
mmdebstrap --quiet --variant=minbase --include="$INCLUDE" \
  --customize-hook='rm -f "$1"/etc/hostname' \
  --customize-hook='echo "govsec test image '"$NAME"'" > "$1"/etc/govsec-test-image' \
  "$SUITE" "$WORK/rootfs.tar" "$MIRROR"
t1=$SECONDS
log "mmdebstrap: $((t1 - t0)) s ($(du -h "$WORK/rootfs.tar" | cut -f1))"

podman import --quiet \
  --change "LABEL ${LABEL_KEY}=${HASH}" \
  --change "LABEL org.govsec.image=${NAME}" \
  --change 'CMD ["/bin/bash"]' \
  "$WORK/rootfs.tar" "$TAG" >/dev/null
t2=$SECONDS
log "podman import: $((t2 - t1)) s"
# Drop the image this build replaced (now untagged), unless a container still uses it.
new_id="$(podman image inspect --format '{{.Id}}' "$TAG")"
if [[ -n $old_id && $old_id != "$new_id" ]]; then
  podman image rm "$old_id" >/dev/null 2>&1 || log "kept the replaced image ${old_id:0:12} (still in use)"
fi
log "built $TAG (hash ${HASH:0:12}) in $((t2 - t0)) s"
