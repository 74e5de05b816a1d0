#!/usr/bin/env bash
# Prepare a Debian machine to run `make test` (and CI): the system packages the tests use and the
# podman configuration that works on these machines (docs/testing.md). Idempotent: installs only
# what is missing, rewrites the podman configuration only when it differs.
#
#   tests/host/setup.sh          as root (CI runs it from .ci/run; `make test` runs it too)
set -euo pipefail

APT_PACKAGES=(
  # test hosts: podman containers from images built with mmdebstrap (docs/testing.md)
  podman runc mmdebstrap uidmap
  # fixtures and collectors: RPM-managed host, flatpak, Windows registry hives, .deb packages
  rpm dnf flatpak libhivex-bin python3-hivex dpkg-dev fakeroot
  # reinstall blocks: the lock file a real `zypper addlock` writes (tests/unit, test_block_state_linux.py)
  zypper
  # package repositories of the fixtures (molecule block_*: dpkg-scanpackages is in dpkg-dev)
  createrepo-c
  # the C# module utils (win_execute's no-follow file operations) compiled as C# 5 and run with mono
  # (tests/unit/plugins/module_utils/test_no_follow_tree.py)
  mono-mcs mono-runtime libmono-system-io-compression4.0-cil
  # ansible-test sanity: git (layout), shellcheck (shellcheck test), en_US.UTF-8 locale
  git shellcheck locales
  # tooling
  make ca-certificates python3-venv
  # report.html checked in a real browser (tests/integration/test_report_html_browser.py, `make browser`:
  # tests/browser/), with CJK fonts so that Chinese product names render, and node (with npm) for the pinned
  # puppeteer-core and axe-core (tests/browser/package.json)
  chromium fonts-noto-cjk nodejs
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  status=$(dpkg-query -W -f '${Status}' "$pkg" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$pkg")
done

need_root() {
  if [[ $(id -u) -ne 0 ]]; then
    echo "tests/host/setup.sh: $1; run it as root (or: sudo tests/host/setup.sh)" >&2
    exit 1
  fi
}

if ((${#missing[@]})); then
  need_root "missing system packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q "${missing[@]}"
fi

# ansible-test prefers the en_US.UTF-8 locale.
if ! locale -a 2>/dev/null | grep -qi '^en_US\.utf-\?8$'; then
  need_root "the en_US.UTF-8 locale is missing"
  sed -i 's/^# *\(en_US\.UTF-8 UTF-8\)/\1/' /etc/locale.gen
  locale-gen
fi

# podman's default runtime (crun) and cgroup manager fail on these machines (docs/testing.md).
conf='[containers]
default_ulimits = []

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"'
if [[ "$(cat /etc/containers/containers.conf 2>/dev/null)" != "$conf" ]]; then
  need_root "/etc/containers/containers.conf must select runc and cgroupfs"
  mkdir -p /etc/containers
  printf '%s\n' "$conf" > /etc/containers/containers.conf
fi
echo "test host ready (${#missing[@]} package(s) installed now)"
