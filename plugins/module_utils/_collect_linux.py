# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Linux collector: one call gathers the records the query asks for (docs/design.md, Records).

``collect_linux(root, query, run_command, users=None, sources=None)`` returns::

    {"os": "linux", "root": "/", "collector_version": "1",
     "available": {"dpkg": bool, "rpm": bool, "flatpak": bool, "snap": bool, "systemd": bool,
                   "sysv": bool, "proc": bool},
     "counts": {"dpkg": 812, ...},   # items examined per source, matching or not
     "users": [{"name", "uid", "home"}],
     "records": {"dpkg": [...], ...},  # one key per source examined; only records passing the query
     "warnings": [...]}

A source is examined when the query asks for it (``file``: when it has paths) and, if ``sources``
is given, when it is listed there. A source that fails adds a warning and never stops the others.
``available`` says, for the sources examined, whether each package system / service manager /
procfs exists and was read (keys: dpkg, rpm, flatpak, snap, systemd and sysv for ``service``,
proc for ``process``); a source that was not examined has no key.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.govsec.banned_software.plugins.module_utils._rootfs import RootFS
from ansible_collections.govsec.banned_software.plugins.module_utils._query import (
    CompiledQuery, compile_query)
from ansible_collections.govsec.banned_software.plugins.module_utils._linux_users import (
    read_passwd, select_users, uid_names)
from ansible_collections.govsec.banned_software.plugins.module_utils._dpkg import list_dpkg
from ansible_collections.govsec.banned_software.plugins.module_utils._rpm import list_rpm
from ansible_collections.govsec.banned_software.plugins.module_utils._flatpak import list_flatpak
from ansible_collections.govsec.banned_software.plugins.module_utils._snap import list_snap
from ansible_collections.govsec.banned_software.plugins.module_utils._linux_files import (
    list_appimages, list_desktop, list_files)
from ansible_collections.govsec.banned_software.plugins.module_utils._systemd import (
    list_systemd, list_sysv)
from ansible_collections.govsec.banned_software.plugins.module_utils._procfs import list_processes

COLLECTOR_VERSION = "1"
SOURCES = ("dpkg", "rpm", "flatpak", "snap", "appimage", "file", "desktop", "service", "process")


class _Never:
    def match(self, value):
        return False


def collect_linux(root, query, run_command, users=None, sources=None, proc_dir="/proc", rpm_bin=None):
    """Collect the records ``query`` asks for under ``root``; see the module docstring."""
    fs = RootFS(root)
    q = query if isinstance(query, CompiledQuery) else compile_query(query)
    warnings = list(q.warnings)
    wanted = [s for s in SOURCES if q.wants(s) and (sources is None or s in sources)]
    if sources is not None:
        for s in sources:
            if s not in SOURCES:
                warnings.append("unknown source %s ignored (known: %s)" % (s, ", ".join(SOURCES)))

    available = {}
    counts = {}
    records = {}

    entries = read_passwd(fs)
    selected = select_users(fs, entries, only=users)

    def run(source, func, *args):
        try:
            return func(*args)
        except Exception as exc:  # one source must never stop the others
            fs.warnings.append("%s: collector error, records from this source are incomplete: %s: %s"
                               % (source, type(exc).__name__, exc))
            return False, [], 0

    for source in wanted:
        sq = q.sources.get(source, _Never())
        if source == "dpkg":
            ok, recs, n = run(source, list_dpkg, fs, sq)
            available["dpkg"] = ok
        elif source == "rpm":
            ok, recs, n = run(source, list_rpm, fs, sq, run_command, rpm_bin)
            available["rpm"] = ok
        elif source == "flatpak":
            ok, recs, n = run(source, list_flatpak, fs, sq, selected)
            available["flatpak"] = ok
        elif source == "snap":
            ok, recs, n = run(source, list_snap, fs, sq)
            available["snap"] = ok
        elif source == "appimage":
            ok, recs, n = run(source, list_appimages, fs, sq, selected)
        elif source == "file":
            ok, recs, n = run(source, list_files, fs, q.paths, selected)
        elif source == "desktop":
            ok, recs, n = run(source, list_desktop, fs, sq, selected)
        elif source == "service":
            ok, recs, n = run(source, list_systemd, fs, sq)
            available["systemd"] = ok
            ok2, recs2, n2 = run(source, list_sysv, fs, sq)
            available["sysv"] = ok2
            recs = recs + recs2
            n += n2
        else:  # process
            if fs.live:
                ok, recs, n = run(source, list_processes, q, uid_names(entries), proc_dir, fs.warnings)
                available["proc"] = ok
            else:
                fs.warnings.append("process: not examined, %s is not the running system" % fs.root)
                available["proc"] = False
                recs, n = [], 0
        records[source] = recs
        counts[source] = n

    warnings.extend(fs.warnings)
    return {
        "os": "linux",
        "root": fs.root,
        "collector_version": COLLECTOR_VERSION,
        "available": available,
        "counts": counts,
        "users": [{"name": u["name"], "uid": u["uid"], "home": u["home"]} for u in selected],
        "records": records,
        "warnings": warnings,
    }
