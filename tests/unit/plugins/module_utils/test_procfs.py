# -*- coding: utf-8 -*-
"""Processes from a fake /proc tree, including processes that vanish while being read."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

from ansible_collections.govsec.banned_software.plugins.module_utils._collect import procfs as _procfs
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query

Q = compile_query({"process": {"names": ["wechat", "kesl"], "regex": ["(?i)deepseek.*", "klnagent.*"]}})
UIDS = {0: "root", 1000: "alice"}


def proc(base, pid, comm, exe=None, cmdline=b"", uid=None):
    d = base / str(pid)
    d.mkdir()
    (d / "comm").write_bytes(comm + b"\n")
    (d / "cmdline").write_bytes(cmdline)
    if exe is not None:
        os.symlink(exe, str(d / "exe"))
    return d


def make(tmp_path):
    p = tmp_path / "proc"
    p.mkdir()
    proc(p, 1, b"systemd", "/usr/lib/systemd/systemd", b"/sbin/init\0")
    proc(p, 2, b"kthreadd")
    proc(p, 100, b"WeChatAppEx", "/opt/wechat/wechat", b"/opt/wechat/wechat\0--x\0")
    proc(p, 101, b"WeChatAppEx", "/opt/wechat/wechat", b"/opt/wechat/wechat\0")
    proc(p, 200, b"kesl", None, b"/opt/kaspersky/kesl/libexec/kesl\0-d\0")  # exe unreadable
    proc(p, 300, b"python3", "/usr/bin/python3.11", b"python3\0deepseek.py\0")
    proc(p, 400, b"klnagent", "/opt/kaspersky/klnagent64/sbin/klnagent (deleted)", b"")
    proc(p, 500, b"DeepSeek", None, b"")  # no exe, no cmdline: comm
    proc(p, 600, b"bash", "/usr/bin/bash", b"-bash\0")
    (p / "self").mkdir()
    (p / "meminfo").write_text("")
    return p


def test_processes(tmp_path):
    p = make(tmp_path)
    ok, recs, examined = _procfs.list_processes(Q, UIDS, proc_dir=str(p), warnings=[])
    assert (ok, examined) == (True, 9)
    uid = os.getuid()
    user = UIDS.get(uid)
    expected = [
        {"name": "wechat", "scope": "machine", "pid": 100, "pids": [100, 101], "comm": "WeChatAppEx",
         "uid": uid, "exe": "/opt/wechat/wechat", "path": "/opt/wechat/wechat"},
        {"name": "kesl", "scope": "machine", "pid": 200, "pids": [200], "comm": "kesl", "uid": uid},
        {"name": "klnagent", "scope": "machine", "pid": 400, "pids": [400], "comm": "klnagent",
         "uid": uid, "exe": "/opt/kaspersky/klnagent64/sbin/klnagent",
         "path": "/opt/kaspersky/klnagent64/sbin/klnagent", "deleted": True},
        {"name": "DeepSeek", "scope": "machine", "pid": 500, "pids": [500], "comm": "DeepSeek", "uid": uid},
    ]
    if user is not None:
        for e in expected:
            e["user"] = user
    assert recs == expected


def test_vanishing_processes(tmp_path, monkeypatch):
    p = make(tmp_path)
    real_read = _procfs._read
    real_readlink = os.readlink

    def flaky_read(path, limit=4096):
        if "/100/" in path:  # gone between listdir and reading comm
            raise OSError(errno.ESRCH, "No such process")
        if path.endswith("/200/cmdline"):  # gone before its cmdline was read
            raise OSError(errno.ENOENT, "gone")
        return real_read(path, limit)

    def flaky_readlink(path, *a, **kw):
        if path.endswith("/101/exe"):
            raise OSError(errno.EACCES, "Permission denied")
        return real_readlink(path, *a, **kw)

    monkeypatch.setattr(_procfs, "_read", flaky_read)
    monkeypatch.setattr(_procfs.os, "readlink", flaky_readlink)
    (p / "700").mkdir()  # an entry without comm (exited while listed)
    ok, recs, examined = _procfs.list_processes(Q, UIDS, proc_dir=str(p), warnings=[])
    assert (ok, examined) == (True, 8)
    got = [(r["name"], r["pids"], r.get("exe")) for r in recs]
    # 101: exe denied -> name from argv[0]; 200: no exe, cmdline gone -> comm
    assert got == [("wechat", [101], None), ("kesl", [200], None),
                   ("klnagent", [400], "/opt/kaspersky/klnagent64/sbin/klnagent"),
                   ("DeepSeek", [500], None)]


def test_proc_missing(tmp_path):
    warnings = []
    assert _procfs.list_processes(Q, UIDS, proc_dir=str(tmp_path / "nope"), warnings=warnings) == (False, [], 0)
    assert warnings == ["cannot list %s: No such file or directory (processes were not examined)"
                        % (tmp_path / "nope")]


def test_real_proc_smoke():
    q = compile_query({"process": {"names": ["python3", "python", "pytest"], "regex": ["python.*"]}})
    ok, recs, examined = _procfs.list_processes(q, {}, warnings=[])
    assert ok is True and examined >= 1
    assert os.getpid() in [pid for r in recs for pid in r["pids"]]
