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


COLLECT = "govsec.banned_software.collect"
EXECUTE = "govsec.banned_software.execute"
DPKG = "/usr/bin/dpkg"
STATUS = "/var/lib/dpkg/status"
TOOLS = {"dpkg": DPKG, "flatpak": "/usr/bin/flatpak"}


class BlockHost(object):
    """An Ansible host for action tests: the collector returns dpkg records and (when asked) the block_state;
    the executor removes packages and applies block steps (``fail_kinds``: step kinds that fail)."""

    def __init__(self, packages=("wechat", "linuxqq"), state=None, fail_kinds=()):
        self.packages = list(packages)
        self.state = state if state is not None else host(apt=True, flatpak={"system": []})
        self.calls = []
        self.fail_kinds = set(fail_kinds)

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append((module_name, copy.deepcopy(module_args)))
        if module_name == COLLECT:
            out = {"os": "linux", "root": "/", "collector_version": "1", "available": {"dpkg": True},
                   "users": [{"name": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"}],
                   "records": {"dpkg": [{"name": n, "scope": "machine", "path": STATUS, "version": "1"}
                                        for n in self.packages]},
                   "tools": dict(TOOLS), "counts": {}, "reboot_required": False, "collector_warnings": []}
            if module_args.get("block_state"):
                out["block_state"] = copy.deepcopy(self.state)
            return out
        if module_name == EXECUTE:
            results = []
            for step in module_args["steps"]:
                result = {"id": step["id"], "kind": step["kind"], "action": step.get("action")}
                if step["kind"] in self.fail_kinds:
                    result.update(status="failed", msg="Read-only file system")
                elif step["kind"] == "command" and step["action"] == "remove_packages":
                    names = step["argv"][step["argv"].index("--") + 1:]
                    self.packages = [p for p in self.packages if p not in names]
                    result.update(status="changed", msg="rc 0")
                else:
                    status, msg = run_step(self.state, step)
                    result.update(status=status, msg=msg)
                results.append(result)
            out = {"steps": results, "changed": any(r["status"] == "changed" for r in results)}
            if any(r["status"] == "failed" for r in results):
                out.update(failed=True, msg="a step failed")
            return out
        raise AssertionError("unexpected module %s" % module_name)

    def modules(self):
        return [c[0] for c in self.calls]


def items(result):
    """(mechanism, target, state) of each block item of an action result."""
    return [(i["mechanism"], i["target"], i["state"]) for i in result["blocks"]["items"]]


def check(seen, expected, what):
    assert seen == expected, "%s:\nexpected %r\nseen     %r" % (what, expected, seen)
