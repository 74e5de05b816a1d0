# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running processes from ``/proc`` (live host only).

For each numeric entry: ``comm``, ``exe`` (``readlink``, omitted when not permitted or gone; a
`` (deleted)`` suffix is removed and reported as ``deleted: true``), the owner (``user`` name from
passwd, ``uid``) and ``name`` = base name of ``exe`` if readable, else base name of ``argv[0]`` from
``cmdline``, else ``comm``. Processes end while they are read: any error on one process skips it.

A record passes the query when any of ``name``, ``comm`` or the base name of ``exe`` passes.
Processes with the same ``name``, ``exe``, ``comm`` and ``user`` are reported once, with all their
``pids`` (and the lowest as ``pid``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.govsec.banned_software.plugins.module_utils._rootfs import safe_text

PROC = "/proc"
MAX_PROCESSES = 100000
_DELETED = " (deleted)"


def _read(path, limit=4096):
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)


def read_process(proc_dir, pid):
    """``{"pid", "comm", "uid", ["exe"], "name"}`` or None when the process is gone/unreadable."""
    base = os.path.join(proc_dir, pid)
    try:
        uid = os.stat(base).st_uid
        comm = _read(os.path.join(base, "comm"), 256).rstrip(b"\n")
    except OSError:
        return None
    info = {"pid": int(pid), "uid": uid, "comm": safe_text(comm)}
    exe = None
    try:
        exe = os.readlink(os.path.join(base, "exe"))
    except OSError:
        exe = None
    if exe:
        if exe.endswith(_DELETED):
            exe = exe[:-len(_DELETED)]
            info["deleted"] = True
        info["exe"] = safe_text(exe)
        info["name"] = safe_text(exe.rsplit("/", 1)[-1])
        return info
    try:
        argv0 = _read(os.path.join(base, "cmdline"), 4096).split(b"\0", 1)[0]
    except OSError:
        argv0 = b""
    if argv0:
        # argv[0] is chosen by the process: keep only its base name, and only up to a space
        # (some daemons rewrite their whole command line into argv[0]).
        info["name"] = safe_text(argv0.split(b" ", 1)[0].rsplit(b"/", 1)[-1]) or info["comm"]
    else:
        info["name"] = info["comm"]
    return info


def list_processes(query, uid_names, proc_dir=PROC, warnings=None):
    """Return ``(available, records, examined)``.

    ``query`` is a ``CompiledQuery`` (uses ``match_process``); ``uid_names`` maps uid -> user name.
    """
    try:
        entries = [e for e in os.listdir(proc_dir) if e.isdigit()]
    except OSError as exc:
        if warnings is not None:
            warnings.append("cannot list %s: %s (processes were not examined)" % (proc_dir, exc.strerror))
        return False, [], 0
    if len(entries) > MAX_PROCESSES:
        if warnings is not None:
            warnings.append("more than %d processes: only the first %d were examined"
                            % (MAX_PROCESSES, MAX_PROCESSES))
        entries = entries[:MAX_PROCESSES]
    groups = {}
    order = []
    examined = 0
    for pid in sorted(entries, key=int):
        info = read_process(proc_dir, pid)
        if info is None:
            continue
        examined += 1
        if not query.match_process(info["name"], info["comm"], info.get("exe")):
            continue
        user = uid_names.get(info["uid"])
        key = (info["name"], info.get("exe"), info["comm"], info["uid"])
        rec = groups.get(key)
        if rec is None:
            rec = {"name": info["name"], "scope": "machine", "pid": info["pid"], "pids": [],
                   "comm": info["comm"], "uid": info["uid"]}
            if "exe" in info:
                rec["exe"] = info["exe"]
                rec["path"] = info["exe"]
            if info.get("deleted"):
                rec["deleted"] = True
            if user is not None:
                rec["user"] = user
            groups[key] = rec
            order.append(key)
        rec["pids"].append(info["pid"])
    return True, [groups[k] for k in order], examined
