# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make compat`: check one host of a report.json.

    python3 tests/compat/check_report.py REPORT HOST STATUS [SOURCE|NAME ...]

Exits 1 with a message saying what was expected and what was seen when the host's status differs or a
listed finding (source|name) is missing.
"""

from __future__ import absolute_import, division, print_function

import json
import sys


def main(argv):
    path, host, status = argv[1:4]
    wanted = argv[4:]
    with open(path) as handle:
        report = json.load(handle)
    entry = report.get("hosts", {}).get(host)
    if entry is None:
        return "%s: expected host %s, seen hosts %s" % (path, host, sorted(report.get("hosts", {})))
    seen = sorted("%s|%s" % (f.get("source"), f.get("name")) for f in entry.get("findings") or [])
    missing = [w for w in wanted if w not in seen]
    if entry.get("status") != status or missing:
        return "%s: expected %s %s with findings %s; seen %s with %s (error: %s)" % (
            path, host, status, wanted, entry.get("status"), seen, entry.get("error", ""))
    print("%s: %s %s, findings %s" % (path, host, status, seen))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
