# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Running processes from ``/proc`` (live host only).

For each numeric entry: ``comm``, ``exe`` (``readlink``, omitted when not permitted or gone; a
`` (deleted)`` suffix is removed and reported as ``deleted: true``), the owner (``user`` name from
passwd, ``uid``) and ``name`` = base name of ``exe`` if readable, else base name of ``argv[0]`` from
``cmdline``, else ``comm``. Processes end while they are read: a process that is gone is skipped.

A record passes the query when any of ``name``, ``comm`` or the base name of ``exe`` passes.
Processes with the same ``name``, ``exe``, ``comm`` and ``user`` are reported once, with all their
``pids`` (and the lowest as ``pid``).

Processes that cannot be examined. Reading another user's ``/proc/<pid>/exe`` needs ptrace read
access (``CAP_SYS_PTRACE``, which a root in a container often lacks, or the same uid and a dumpable
process), and ``hidepid`` hides the contents (``hidepid=1``) or the entries (``hidepid=2``) of other
users' processes. Catalog process signatures need ``exe``, so such a process can never be matched.
Their number is a warning. The ``process`` source is *incomplete* (``Budget.partial``) only when one
of them could be a banned program: its ``comm`` or ``argv[0]`` passes the query (a running
``wechat`` whose executable cannot be checked), its ``comm`` is cut at the kernel's 15 characters and
starts one of the query's names, or its ``/proc`` entry cannot be read at all; and when ``/proc`` is
mounted with ``hidepid`` and the collector has neither ``CAP_SYS_PTRACE`` nor the mount's ``gid=``
(it then cannot see every process). An unexaminable process whose ``comm`` and ``argv[0]`` pass no
name is not counted against the host: both are what the kernel and the program say it is, and a
program that rewrites both to hide is out of reach of any process list.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import read_kernel_file, safe_text

PROC = "/proc"
MAX_PROCESSES = 100000
TASK_COMM_LEN = 16          # comm holds at most 15 characters
CAP_SYS_PTRACE = 19
HIDEPID_OFF = ("0", "off")
MAX_NAMED = 5
_DELETED = " (deleted)"
_DENIED = (errno.EACCES, errno.EPERM)


def _read(path, limit=4096):
    return read_kernel_file(path, limit)


def read_process(proc_dir, pid):
    """``{"pid", "comm", "uid", ["exe"], "name"}`` or None when the process is gone.

    ``exe_denied: True`` when its executable could not be read (permission); ``{"pid", "uid",
    "denied": True}`` when not even its ``comm`` could (``hidepid=1``).
    """
    base = os.path.join(proc_dir, pid)
    try:
        uid = os.stat(base).st_uid
    except OSError:
        return None
    try:
        comm = _read(os.path.join(base, "comm"), 256).rstrip(b"\n")
    except OSError as exc:
        if exc.errno in _DENIED:
            return {"pid": int(pid), "uid": uid, "denied": True}
        return None
    info = {"pid": int(pid), "uid": uid, "comm": safe_text(comm)}
    exe = None
    try:
        exe = os.readlink(os.path.join(base, "exe"))
    except OSError as exc:
        exe = None
        if exc.errno in _DENIED:
            info["exe_denied"] = True
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


def _cut_name(query, comm):
    """True when ``comm`` is cut at the kernel's limit and one of the query's process names starts with it."""
    q = query.sources.get("process") if hasattr(query, "sources") else None
    if q is None or len(comm) < TASK_COMM_LEN - 1:
        return False
    folded = comm.casefold() if q.casefold else comm
    return any(n.startswith(folded) for n in q.names)


def _hidden_by_hidepid(proc_dir):
    """A reason when ``proc_dir`` is mounted with hidepid and this process may not see every process."""
    try:
        mountinfo = _read(os.path.join(proc_dir, "self", "mountinfo"), 1024 * 1024).decode("utf-8", "replace")
        status = _read(os.path.join(proc_dir, "self", "status"), 64 * 1024).decode("utf-8", "replace")
    except OSError:
        return None
    real = os.path.realpath(proc_dir)
    options = None
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields = left.split()
        rfields = right.split()
        if sep and len(fields) >= 5 and fields[4] == real and rfields[:1] == ["proc"]:
            options = rfields[2] if len(rfields) > 2 else ""
    if options is None:
        return None
    opts = dict((o.partition("=")[0], o.partition("=")[2]) for o in options.split(","))
    hidepid = opts.get("hidepid")
    if hidepid is None or hidepid in HIDEPID_OFF:
        return None
    for line in status.splitlines():
        if line.startswith("CapEff:"):
            try:
                if int(line.split(":", 1)[1].strip(), 16) >> CAP_SYS_PTRACE & 1:
                    return None
            except ValueError:
                pass
    gid = opts.get("gid")
    if gid and gid.isdigit() and (int(gid) == os.getegid() or int(gid) in os.getgroups()):
        return None
    return ("%s is mounted with hidepid=%s and the collector has neither CAP_SYS_PTRACE nor the mount's "
            "group: processes of other users may be hidden" % (proc_dir, hidepid))


def list_processes(query, uid_names, proc_dir=PROC, warnings=None, budget=None):
    """Return ``(available, records, examined)``.

    ``query`` is a ``CompiledQuery`` (uses ``match_process``); ``uid_names`` maps uid -> user name;
    ``budget`` (``budget.Budget``, the current source being ``process``) is checked between
    processes and told when the source is incomplete (see the module docstring).
    """
    warnings = warnings if warnings is not None else []
    try:
        entries = [e for e in os.listdir(proc_dir) if e.isdigit()]
    except OSError as exc:
        warnings.append("cannot list %s: %s (processes were not examined)" % (proc_dir, exc.strerror))
        return False, [], 0
    if len(entries) > MAX_PROCESSES:
        msg = "more than %d processes: only the first %d were examined" % (MAX_PROCESSES, MAX_PROCESSES)
        warnings.append(msg)
        if budget is not None:
            budget.partial(msg)
        entries = entries[:MAX_PROCESSES]
    groups = {}
    order = []
    examined = 0
    unreadable = 0
    suspects = []
    for pid in sorted(entries, key=int):
        if budget is not None:
            budget.check()
        info = read_process(proc_dir, pid)
        if info is None:
            continue
        if info.get("denied"):
            unreadable += 1
            suspects.append("pid %d (not readable)" % info["pid"])
            continue
        examined += 1
        passed = query.match_process(info["name"], info["comm"], info.get("exe"))
        if info.get("exe_denied"):
            unreadable += 1
            if passed or _cut_name(query, info["comm"]):
                suspects.append("%s (pid %d)" % (info["comm"], info["pid"]))
        if not passed:
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
    _report_unexamined(unreadable, suspects, warnings, budget)
    hidden = _hidden_by_hidepid(proc_dir)
    if hidden:
        warnings.append(hidden)
        if budget is not None:
            budget.partial(hidden)
    return True, [groups[k] for k in order], examined


def _report_unexamined(unreadable, suspects, warnings, budget):
    if not unreadable:
        return
    msg = ("%d process(es) could not be examined: their executable (/proc/<pid>/exe) or /proc entry is not "
           "readable (no CAP_SYS_PTRACE, or hidepid); they were checked by comm and argv[0] only" % unreadable)
    if suspects:
        shown = ", ".join(safe_text(s) for s in suspects[:MAX_NAMED])
        more = " and %d more" % (len(suspects) - MAX_NAMED) if len(suspects) > MAX_NAMED else ""
        msg += "; %d of them may be a banned program and could not be confirmed: %s%s" % (len(suspects), shown, more)
        if budget is not None:
            budget.partial(msg)
    warnings.append(msg)
