# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: the collectors' parsers of host data on hostile input, against benign input of the same size.

    python benchmarks/hostile_parsers.py [--kib 512] [--repeat 3]

For each parser, a pathological input a user (or an image) can write (a ``<release `` tag repeated through a
flatpak metainfo, a dpkg field full of blanks, ...) and a benign input of the same size are parsed, best of
``--repeat``. Prints a table in milliseconds and exits 1 when a hostile input takes more than MAX_SECONDS or
more than MAX_RATIO times the benign one plus SLACK_SECONDS (docs/performance.md, "Hostile input").

``CASES`` is also used by tests/unit/hostile/test_linear_parsers.py (the same bound, measured in a child
process that is killed when a parser runs away).
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # benchmarks/checkout.py, also when loaded by path
from checkout import use_checkout  # noqa: E402  pylint: disable=wrong-import-position
MAX_SECONDS = 2.0
MAX_RATIO = 50.0
SLACK_SECONDS = 0.25


def _import_collection():
    """Import the parsers from this checkout (as conftest does for the unit tests)."""
    use_checkout()


def _fill(unit, size):
    """``unit`` repeated to ``size`` bytes (or characters)."""
    return (unit * (size // len(unit) + 1))[:size]


class _MemFS(object):
    """The part of RootFS read_plist uses, serving one file from memory."""

    def __init__(self, data):
        # pylint: disable=import-outside-toplevel
        from ansible_collections.govsec.banned_software.plugins.module_utils._collect.budget import Budget
        self.data = data
        self.warnings = []
        self.budget = Budget()

    def read_bytes(self, vpath, max_bytes, what=None):  # pylint: disable=unused-argument
        return self.data[:max_bytes], len(self.data) > max_bytes

    def lstat(self, vpath):  # pylint: disable=unused-argument
        return None

    def tick(self):
        pass


def cases():
    """``[(name, parse, hostile(size), benign(size))]``; ``parse`` takes the input and returns anything."""
    _import_collection()
    # pylint: disable=import-outside-toplevel
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.block import dnf_conf as _dnf_conf
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect import macos as _collect_macos
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect import dpkg as _dpkg
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect import flatpak as _flatpak
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect import linux_files as _linux_files
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect import local_fact as _local_fact_read
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect import rpm as _rpm
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect import snap as _snap
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query

    query = compile_query({"dpkg": {"names": ["wechat"], "regex": ["(?i).*wechat.*", "kesl(-gui)?(-astra)?"]}})
    dpkg_q = query.sources["dpkg"]
    stanza = ("Package: pkg%05d\nStatus: install ok installed\nVersion: 1.0-1\nArchitecture: amd64\n"
              "Description: a package\n\n")
    plist_head = b'<?xml version="1.0" encoding="UTF-8"?>\n<plist version="1.0"><dict><key>Label</key>'
    return [
        ("flatpak metainfo: '<release ' repeated",
         _flatpak.release_version,
         lambda n: _fill(b"<release ", n),
         lambda n: _fill(b"<p>Chat with your friends and family, " * 3 + b"</p>\n", n - 40)
         + b'<release version="4.0.1" date="2025"/>'),
        ("flatpak metainfo: one tag with a long blank run",
         _flatpak.release_version,
         lambda n: b"<release version" + _fill(b" ", n - 17) + b"=",
         lambda n: _fill(b"<p>words words words words</p>\n", n)),
        ("flatpak metainfo: 'version ' repeated in a tag",
         _flatpak.release_version,
         lambda n: _fill(b"<release " + _fill(b"version ", 4000) + b">", n),
         lambda n: _fill(b"<p>words words words words</p>\n", n)),
        ("dpkg status: a field of blanks",
         lambda text: _dpkg.parse_status(text, dpkg_q, []),
         lambda n: "Package: a" + _fill(" ", n - 64) + "b\nStatus: install ok installed\n",
         lambda n: "".join(stanza % i for i in range(n // len(stanza % 0) + 1))[:n]),
        ("dpkg status: blank runs between newlines",
         lambda text: _dpkg.parse_status(text, dpkg_q, []),
         lambda n: _fill("x\n" + " " * 1000, n),
         lambda n: "".join(stanza % i for i in range(n // len(stanza % 0) + 1))[:n]),
        ("snap.yaml: a version line of blanks",
         _snap.snap_version,
         lambda n: b"version: a" + _fill(b" ", n - 11) + b"b",
         lambda n: _fill(b"summary: a snap\n", n - 20) + b"\nversion: '4.0.1'\n"),
        ("dnf.conf: a [main] line of blanks",
         _dnf_conf.main_excludes,
         lambda n: "[main]\na" + _fill(" ", n - 10) + "b\n",
         lambda n: "[main]\n" + _fill("gpgcheck=1\n", n - 20) + "excludepkgs=x\n"),
        ("ps output: a command path of blanks",
         lambda text: [_collect_macos.parse_ps_line(line) for line in text.splitlines()],
         lambda n: "1 501 /a" + _fill(" ", n - 10) + "b",
         lambda n: _fill("  812   501 /Applications/WeChat.app/Contents/MacOS/WeChat\n", n)),
        ("plist: a 500 KiB integer",
         lambda data: _collect_macos.read_plist(_MemFS(data), "/x.plist"),
         lambda n: plist_head + b"<integer>" + _fill(b"9", n - 200) + b"</integer></dict></plist>",
         lambda n: plist_head + b"<array>" + _fill(b"<string>com.example.job</string>", n - 200)
         + b"</array></dict></plist>"),
        ("local fact: JSON nested 500 KiB deep",
         lambda text: _local_fact_read.parse_fact_text(text, "fact"),
         lambda n: _fill("[", n),
         lambda n: '{"schema": 1, "removals": [' + ",".join(
             ['{"key": "dpkg|machine|x|/p", "removed_at": "2026-01-01T00:00:00Z"}'] * (n // 70)) + "]}"),
        ("desktop entry: an Exec of blanks",
         _linux_files.parse_desktop,
         lambda n: b"[Desktop Entry]\nExec=" + _fill(b" ", n - 30) + b"x\n",
         lambda n: b"[Desktop Entry]\n" + _fill(b"Keywords=chat;message;\n", n - 20)),
        ("rpm -qa output: tabs",
         lambda text: _rpm.parse_output(text, dpkg_q, "/var/lib/rpm"),
         lambda n: _fill("\t", n),
         lambda n: _fill("bash\t(none)\t5.1\t1\tx86_64\tFedora\n", n)),
        ("package name of 500 KiB against the query",
         dpkg_q.match,
         lambda n: _fill("a", n),
         lambda n: _fill("wechat", n)),
    ]


def best(parse, data, repeat):
    """Best wall-clock time of ``repeat`` parses of ``data``, in seconds."""
    times = []
    for dummy in range(repeat):
        start = time.perf_counter()
        parse(data)
        times.append(time.perf_counter() - start)
    return min(times)


def within_bound(hostile, benign):
    return hostile <= MAX_SECONDS and hostile <= MAX_RATIO * benign + SLACK_SECONDS


def measure(size, repeat):
    """``[(name, hostile seconds, benign seconds)]``."""
    out = []
    for name, parse, hostile, benign in cases():
        out.append((name, best(parse, hostile(size), repeat), best(parse, benign(size), repeat)))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kib", type=int, default=512, help="input size in KiB (default 512)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per input, best kept (default 3)")
    args = parser.parse_args(argv)
    rows = measure(args.kib * 1024, args.repeat)
    print("%-50s %12s %12s %8s" % ("input (%d KiB)" % args.kib, "hostile ms", "benign ms", "ratio"))
    failed = False
    for name, hostile, benign in rows:
        ratio = hostile / benign if benign > 0 else float("inf")
        ok = within_bound(hostile, benign)
        failed = failed or not ok
        print("%-50s %12.2f %12.2f %8.1f%s" % (name, hostile * 1000, benign * 1000, ratio, "" if ok else "  FAIL"))
    print("bound: hostile <= %.1f s and <= %g x benign + %.2f s: %s"
          % (MAX_SECONDS, MAX_RATIO, SLACK_SECONDS, "FAIL" if failed else "PASS"))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
