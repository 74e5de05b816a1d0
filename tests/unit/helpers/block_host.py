# -*- coding: utf-8 -*-
"""A simulated Linux host for reinstall-block tests: a ``block_state`` as the collector returns it, and
``apply`` that carries out write_file, remove_file, zypper and flatpak steps on it like the executor."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib

ZYPPER = "/usr/bin/zypper"
FLATPAK = "/usr/bin/flatpak"
ALICE = {"user": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"}


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_(content):
    return {"exists": True, "sha256": sha(content), "content": content, "error": None}


def absent():
    return {"exists": False, "sha256": None, "content": None, "error": None}


def host(apt=False, dnf="none", dnf5=False, zypper=None, flatpak=None, files=None):
    """A block_state; zypper: list of locks; flatpak: {scope: masked ids} (flatpak 1.14.10)."""
    state = {"files": dict(files or {}), "apt": {"present": apt}, "dnf": {"family": dnf, "dnf5": dnf5},
             "zypper": {"present": zypper is not None, "path": ZYPPER if zypper is not None else None,
                        "locks": list(zypper) if zypper is not None else None, "error": None},
             "flatpak": {"present": flatpak is not None, "path": FLATPAK if flatpak is not None else None,
                         "version": "Flatpak 1.14.10", "installations": []}}
    for scope, masked in sorted((flatpak or {}).items()):
        inst = {"scope": scope, "path": "/var/lib/flatpak" if scope == "system" else
                "/home/%s/.local/share/flatpak" % scope[5:], "masked": list(masked), "error": None}
        if scope != "system":
            inst["user"] = dict(ALICE, user=scope[5:])
        state["flatpak"]["installations"].append(inst)
    return state


def run_step(state, step):
    """Carry out one block step on ``state`` (in place); returns (status, msg) like the executor."""
    if step["kind"] == "write_file":
        current = state["files"].get(step["path"]) or absent()
        if current.get("sha256") != step["expect_sha256"]:
            return "failed", "%s changed since the scan" % step["path"]
        state["files"][step["path"]] = file_(step["content"])
        return "changed", "written"
    if step["kind"] == "remove_file":
        current = state["files"].get(step["path"]) or absent()
        if not current.get("exists"):
            return "absent", "does not exist"
        if current.get("sha256") != step["expect_sha256"]:
            return "failed", "%s changed since the scan" % step["path"]
        state["files"][step["path"]] = absent()
        return "changed", "removed"
    argv = step["argv"]
    names = argv[argv.index("--") + 1:]
    if argv[0] == ZYPPER:
        locks = set(state["zypper"]["locks"])
        locks = locks | set(names) if argv[2] == "addlock" else locks - set(names)
        state["zypper"]["locks"] = sorted(locks)
        return "changed", "rc 0"
    if argv[0] == FLATPAK:
        scope = "system" if "--system" in argv else "user:" + step["run_as"]["user"]
        inst = [i for i in state["flatpak"]["installations"] if i["scope"] == scope][0]
        masked = set(inst["masked"])
        inst["masked"] = sorted(masked - set(names) if "--remove" in argv else masked | set(names))
        return "changed", "rc 0"
    raise AssertionError("not a block step: %r" % (step,))


def apply(state, steps):
    """The host after ``steps`` ran (a step whose ``requires`` did not all succeed is skipped)."""
    state = copy.deepcopy(state)
    done = set()
    for step in steps:
        if any(r not in done for r in step.get("requires", [])):
            continue
        status, dummy = run_step(state, step)
        if status in ("changed", "ok", "absent"):
            done.add(step["id"])
    return state
