#!/usr/bin/env bash
# `make browser`: the report page in headless Chromium at three widths, with axe-core (tests/browser/).
# Installs the pinned node packages of tests/browser/package-lock.json into .cache/browser (npm ci, only
# when the lock file changed; never committed), then runs tests/browser/check_report.py. Screenshots and
# the sample page are kept in tests/output/browser/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cache="$root/.cache/browser"
for tool in chromium node npm; do
  command -v "$tool" >/dev/null || { echo "make browser: $tool is missing (tests/host/setup.sh installs it)" >&2; exit 1; }
done
stamp="$cache/.installed-$(sha256sum "$root/tests/browser/package-lock.json" | cut -c1-16)"
if [[ ! -e "$stamp" ]]; then
  rm -rf "$cache"
  mkdir -p "$cache"
  cp "$root/tests/browser/package.json" "$root/tests/browser/package-lock.json" "$cache/"
  # puppeteer-core drives Debian's chromium: nothing to download, no install scripts
  (cd "$cache" && PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi
CHROMIUM=$(command -v chromium) exec "${PYTHON:-python}" "$root/tests/browser/check_report.py" \
  --node-modules "$cache/node_modules"
