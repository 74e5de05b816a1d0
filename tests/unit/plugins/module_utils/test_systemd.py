# -*- coding: utf-8 -*-
"""systemd unit files and SysV scripts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.systemd import list_systemd, list_sysv

Q = compile_query({"service": {"names": ["kesl.service", "klnagent64", "wechat.service"],
                               "regex": ["kesl-supervisor\\..*", "klnagent64(\\.service)?", "ksn@.*"]}}
                  ).sources["service"]


def test_units(tmp_path):
    usr = tmp_path / "usr" / "lib" / "systemd" / "system"
    usr.mkdir(parents=True)
    os.symlink("usr/lib", str(tmp_path / "lib"))  # merged /usr: /lib/systemd/system read once
    etc = tmp_path / "etc" / "systemd" / "system"
    (etc / "multi-user.target.wants").mkdir(parents=True)
    for u in ["kesl.service", "kesl-supervisor.service", "klnagent64.service", "ssh.service",
              "ksn@.service", "kesl.timer"]:
        (usr / u).write_text("[Unit]\n")
    (usr / "kesl.service.d").mkdir()
    os.symlink("/usr/lib/systemd/system/kesl.service", str(etc / "multi-user.target.wants" / "kesl.service"))
    os.symlink("/usr/lib/systemd/system/ksn@.service", str(etc / "multi-user.target.wants" / "ksn@a.service"))
    os.symlink("/dev/null", str(etc / "klnagent64.service"))  # masked in /etc
    (etc / "wechat.service").write_text("[Service]\n")
    fs = RootFS(str(tmp_path))
    ok, recs, examined = list_systemd(fs, Q)
    assert ok is True
    assert examined == 7
    assert recs == [
        {"name": "kesl-supervisor.service", "scope": "machine", "type": "systemd",
         "path": "/usr/lib/systemd/system/kesl-supervisor.service", "enabled": False},
        {"name": "kesl.service", "scope": "machine", "type": "systemd",
         "path": "/usr/lib/systemd/system/kesl.service", "enabled": True},
        {"name": "klnagent64.service", "scope": "machine", "type": "systemd",
         "path": "/etc/systemd/system/klnagent64.service", "enabled": False, "masked": True},
        {"name": "ksn@.service", "scope": "machine", "type": "systemd",
         "path": "/usr/lib/systemd/system/ksn@.service", "enabled": True},
        {"name": "wechat.service", "scope": "machine", "type": "systemd",
         "path": "/etc/systemd/system/wechat.service", "enabled": False},
    ]


def test_run_dir_only_on_live_root(tmp_path):
    run = tmp_path / "run" / "systemd" / "system"
    run.mkdir(parents=True)
    (run / "kesl.service").write_text("")
    assert list_systemd(RootFS(str(tmp_path)), Q) == (False, [], 0)


def test_sysv(tmp_path):
    initd = tmp_path / "etc" / "init.d"
    initd.mkdir(parents=True)
    for s in ["klnagent64", "kesl-supervisor", "README", "skeleton", "cron", "klnagent64.dpkg-old"]:
        (initd / s).write_text("#!/bin/sh\n")
    rc2 = tmp_path / "etc" / "rc2.d"
    rc2.mkdir()
    os.symlink("../init.d/klnagent64", str(rc2 / "S01klnagent64"))
    os.symlink("../init.d/kesl-supervisor", str(rc2 / "K01kesl-supervisor"))
    ok, recs, examined = list_sysv(RootFS(str(tmp_path)), Q)
    assert (ok, examined) == (True, 3)
    assert recs == [
        {"name": "klnagent64", "scope": "machine", "type": "sysv", "path": "/etc/init.d/klnagent64",
         "enabled": True},
    ]


def test_no_init(tmp_path):
    assert list_sysv(RootFS(str(tmp_path)), Q) == (False, [], 0)
