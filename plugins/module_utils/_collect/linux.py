# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Linux collector: one call gathers the records the query asks for (docs/design.md, Records).

``collect_linux(root, query, run_command, users=None, sources=None, source_timeout=60)`` returns::

    {"os": "linux", "root": "/", "collector_version": "1",
     "available": {"dpkg": bool, "rpm": bool, "flatpak": bool, "snap": bool, "systemd": bool,
                   "sysv": bool, "proc": bool, "npm": bool},
     "incomplete": {"process": "..."},  # sources read only in part, with the first reason
     "counts": {"dpkg": 812, ...},   # items examined per source, matching or not
     "users": [{"name", "uid", "gid", "home"}],
     "records": {"dpkg": [...], ...},  # one key per source examined; only records passing the query
     "tools": {"dpkg": "/usr/bin/dpkg", ...},  # live: on the host; image: inside the image
     "reboot_required": bool,                  # live scans only, else False
     "warnings": [...]}

A source is examined when the query asks for it (``file``, ``data``, ``leftover``: when it has
paths) and, if ``sources`` is given, when it is listed there. A source that fails adds a warning and
never stops the others. ``available`` says, for the sources examined, whether each package system /
service manager / procfs exists and was read (keys: dpkg, rpm, flatpak, snap, systemd and sysv for
``service``, proc for ``process``, npm: a global ``node_modules`` folder exists, ``module_utils/_collect/npm.py``);
a source that was not examined has no key.

Each source runs on a wall-clock budget of ``source_timeout`` seconds (0: none; ``module_utils/_collect/budget.py``).
``incomplete`` names the sources read only in part and why: the budget ran out, a listing was cut at
its cap, something that exists could not be read, processes that could be banned could not be examined
(``module_utils/_collect/procfs.py``), or the source's lister failed. The pseudo-source ``ownership`` is the package
ownership below, on its own budget.

``data`` and ``leftover`` are pseudo-sources for remediation (``{"data": {"paths": [...]}}``, same
grammar as ``file``): collected exactly like ``file`` and never used to find products.

Package ownership: a machine-scope ``file``, ``desktop`` or ``service`` record whose path belongs to a
package that passed the dpkg or rpm pre-filter gets ``owner`` (the package name; the first in name
order when several own it, all of them in ``owners`` then) and ``owner_source`` (``dpkg`` or
``rpm``). dpkg: the ``.list`` files of those packages only; rpm: one ``rpm -qf`` per database that
yielded records, for all record paths not already owned through dpkg.

``tools``: for a live scan, the absolute path of each of ``TOOLS`` found executable in
``TOOL_DIRS`` (first directory wins); for an image, the same names found as files inside it. ``reboot_required``: a live scan with ``/run/reboot-required``
or ``/var/run/reboot-required`` present.

``block_state`` (only when asked for): the reinstall blocks of the tree
(``module_utils/_collect/block_state_linux.py``).

``local_fact``: the drift state of the host's local fact (``module_utils/_collect/local_fact.py``: the removals a
remediation recorded in ``/etc/ansible/facts.d/banned_software.fact`` under ``root``), or None.
``local_fact_file``: the same file for its writer, the executor (``read_local_fact_file``): its sha256 and
parsed record, ``{"refused": reason}``, or None when there is no file.
``run_state`` (live scans): the executor's last run as its journal and run lock tell it (``_collect/run_state.py``):
None, ``{"running": holder}`` or ``{"interrupted_run": record}``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.budget import (
    DEFAULT_SOURCE_TIMEOUT, Budget, SourceTimeout)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.loop import (
    guarded, list_path_source, not_examined_offline, source_query, timed_runner, wanted_sources,
)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.sources import (
    LINUX_SOURCES, PATH_QUERY_SOURCES)
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS, find_executables
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import (
    CompiledQuery, compile_query)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux_users import (
    read_passwd, select_users, uid_names)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.dpkg import (
    INFO_DIR, dpkg_other_owners, dpkg_owners, list_dpkg, merged_aliases)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.rpm import list_rpm, rpm_owners
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.flatpak import list_flatpak
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.snap import list_snap
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux_files import (
    list_appimages, list_desktop)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.systemd import (
    list_systemd, list_sysv)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.procfs import list_processes
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.npm import list_npm
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.local_fact import read_local_fact_file
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.run_state import read_run_state
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import STATE_DIRS

COLLECTOR_VERSION = "1"
SOURCES = LINUX_SOURCES
OWNED_SOURCES = ("file", "desktop", "service")
TOOLS = ("dpkg", "apt-get", "rpm", "dnf", "yum", "zypper", "flatpak", "snap", "systemctl", "runuser", "tar")
TOOL_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
REBOOT_FLAGS = ("/run/reboot-required", "/var/run/reboot-required")


def find_tools(dirs=None):
    """``{name: path}`` of the ``TOOLS`` that are executable files in ``dirs`` (``TOOL_DIRS``)."""
    return find_executables(TOOLS, TOOL_DIRS if dirs is None else dirs)


def image_tools(fs):
    """``{name: path}`` of the ``TOOLS`` present inside a mounted image (paths as the image sees them).

    Planning for an image describes what would run on the system deployed from it.
    """
    found = {}
    for name in TOOLS:
        for d in TOOL_DIRS:
            vpath = "%s/%s" % (d, name)
            if fs.isfile(vpath):
                found[name] = vpath
                break
    return found


def reboot_required(flags=None):
    """True when one of ``REBOOT_FLAGS`` exists on the running system."""
    return any(os.path.exists(f) for f in (REBOOT_FLAGS if flags is None else flags))


def add_owners(fs, records, run_command, rpm_bin=None, rpm_ok=False):
    """Set ``owner``/``owner_source`` (and ``owners``) on machine-scope file, desktop, service records."""
    targets = [r for s in OWNED_SOURCES for r in records.get(s, ())
               if r.get("scope") == "machine" and isinstance(r.get("path"), str)]
    if not targets:
        return
    paths = sorted(set(r["path"] for r in targets))
    owners = {}
    for path, names in dpkg_owners(fs, records.get("dpkg") or [], paths).items():
        owners[path] = ("dpkg", names)
    rest = [p for p in paths if p not in owners]
    if rpm_ok and rest:
        found = rpm_owners(fs, run_command, records.get("rpm") or [], rest, rpm_bin, merged_aliases(fs))
        for path, names in found.items():
            owners[path] = ("rpm", names)
    # A path no banned package owns may still belong to another package: remediation must then
    # leave it alone, so look it up in every package's file list (only these few paths).
    rest = [p for p in paths if p not in owners]
    if rest and fs.isdir(INFO_DIR):
        for path, names in dpkg_other_owners(fs, rest).items():
            owners[path] = ("dpkg", names)
    for rec in targets:
        hit = owners.get(rec["path"])
        if hit:
            rec["owner"] = hit[1][0]
            rec["owner_source"] = hit[0]
            if len(hit[1]) > 1:
                rec["owners"] = hit[1]


def collect_linux(root, query, run_command, users=None, sources=None, proc_dir="/proc", rpm_bin=None,
                  block_state=False, source_timeout=DEFAULT_SOURCE_TIMEOUT):
    """Collect the records ``query`` asks for under ``root``; see the module docstring."""
    fs = RootFS(root, budget=Budget(source_timeout))
    timed = timed_runner(fs, run_command)
    q = query if isinstance(query, CompiledQuery) else compile_query(query)
    wanted, unknown = wanted_sources(q, SOURCES, sources)
    warnings = list(q.warnings) + unknown

    available = {}
    counts = {}
    records = {}

    entries = read_passwd(fs)
    selected = select_users(fs, entries, only=users)

    for source in wanted:
        sq = source_query(q, source)
        if source == "dpkg":
            ok, recs, n = guarded(fs, source, list_dpkg, fs, sq)
            available["dpkg"] = ok
        elif source == "rpm":
            ok, recs, n = guarded(fs, source, list_rpm, fs, sq, timed, rpm_bin)
            available["rpm"] = ok
        elif source == "flatpak":
            ok, recs, n = guarded(fs, source, list_flatpak, fs, sq, selected)
            available["flatpak"] = ok
        elif source == "snap":
            ok, recs, n = guarded(fs, source, list_snap, fs, sq)
            available["snap"] = ok
        elif source == "appimage":
            ok, recs, n = guarded(fs, source, list_appimages, fs, sq, selected)
        elif source in PATH_QUERY_SOURCES:
            ok, recs, n = list_path_source(fs, q, source, selected)
        elif source == "npm":
            ok, recs, n = guarded(fs, source, list_npm, fs, sq, selected)
            available["npm"] = ok
        elif source == "desktop":
            ok, recs, n = guarded(fs, source, list_desktop, fs, sq, selected)
        elif source == "service":
            ok, recs, n = guarded(fs, source, list_systemd, fs, sq)
            available["systemd"] = ok
            ok2, recs2, n2 = guarded(fs, source, list_sysv, fs, sq)
            available["sysv"] = ok2
            recs = recs + recs2
            n += n2
        else:  # process
            if fs.live:
                ok, recs, n = guarded(fs, source, list_processes, q, uid_names(entries), proc_dir, fs.warnings,
                                      fs.budget)
            else:
                ok, recs, n = not_examined_offline(fs, source)
            available["proc"] = ok
        records[source] = recs
        counts[source] = n

    fs.budget.begin("ownership")
    try:
        add_owners(fs, records, timed, rpm_bin, available.get("rpm", False))
    except SourceTimeout:
        fs.warnings.append("package ownership: %s: owners are incomplete" % fs.budget.incomplete["ownership"])
    except Exception as exc:  # ownership is extra information, never a reason to lose the records
        msg = "package ownership: collector error, owners are incomplete: %s: %s" % (type(exc).__name__, exc)
        fs.warnings.append(msg)
        fs.budget.partial(msg)
    finally:
        fs.budget.end()
    blocks = None
    if block_state:
        # Imported only when asked for: the audit never needs it, and each import costs every scanned
        # host compile time (docs/performance.md).
        from ansible_collections.govsec.banned_software.plugins.module_utils._collect.block_state_linux import (
            read_block_state)
        blocks = read_block_state(fs, selected, run_command)
    local_fact, fact_file, fact_warnings = read_local_fact_file(fs)
    run_state, run_warnings = read_run_state(STATE_DIRS["linux"]) if fs.live else (None, [])
    warnings.extend(fs.warnings + fact_warnings + run_warnings)
    result = {
        "os": "linux",
        "root": fs.root,
        "collector_version": COLLECTOR_VERSION,
        "available": available,
        "incomplete": dict(fs.budget.incomplete),
        "counts": counts,
        "users": [{"name": u["name"], "uid": u["uid"], "gid": u["gid"], "home": u["home"]} for u in selected],
        "records": records,
        "tools": find_tools() if fs.live else image_tools(fs),
        "reboot_required": reboot_required() if fs.live else False,
        "local_fact": local_fact,
        "local_fact_file": fact_file,
        "run_state": run_state,
        "warnings": warnings,
    }
    if block_state:
        result["block_state"] = blocks
    return result
