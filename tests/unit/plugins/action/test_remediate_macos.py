# -*- coding: utf-8 -*-
"""The whole macOS removal run, on a simulated macOS volume inside this Linux machine.

remediate action -> the real macOS collector on the tree (root = the tree, live-only sources off) ->
the real matcher and MacosPlanner -> the real executor (``_execute/run.py``) -> the collector again.

What is simulated, and how:

* Paths: the plan speaks of macOS paths (``/Applications/WeChat.app``). The test's host maps them into
  the tree (``<tree>/Applications/WeChat.app``): ``path``/``paths`` of path steps, ``run_as.home``,
  the executor's ``homes``, ``quarantine_dir``/``archive_dir`` and ``argv[0]``. ``unmap`` of the mapped
  steps must give back the plan's steps exactly (the rewrite is the only change).
* Commands: ``launchctl``, ``pkgutil``, ``osascript``, ``brew`` and the Kaspersky UninstallScripts are
  recording stand-ins (tests/unit/helpers/standins.py). ``pkgutil --forget`` deletes the receipt from
  the tree and ``brew uninstall --cask`` its Caskroom directory, as the real tools would; the others
  only record. The UninstallScript stand-ins lie in the tree at the vendor's paths.
* ``run_as``: the executor is asked to demote (it checks root, the home and passes a demotion to the
  runner); the recording runner notes the request and runs the stand-in without it.
* The UninstallScript paths are file signatures of the catalog: found, they are the vendor uninstaller
  the planner runs first (and findings covered by the quarantine of their product directory).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import hashlib
import json
import os
import plistlib
import signal

import pytest


from ansible_collections.govsec.banned_software.plugins.action import remediate as remediate_action
from ansible_collections.govsec.banned_software.plugins.module_utils._execute import process
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.macos import collect_macos
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import run_plan
from ansible_collections.govsec.banned_software.tests.unit.helpers import macos_tree as M
from ansible_collections.govsec.banned_software.tests.unit.helpers.standins import read_calls, write_standin
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner
from ansible_collections.govsec.banned_software.tests.unit.helpers.action_runner import without_fact

KAV_SCRIPT = "/Library/Application Support/Kaspersky Lab/KAV/Binaries/UninstallScript"
KLN_SCRIPT = "/Library/Application Support/Kaspersky Lab/klnagent/Binaries/UninstallScript"
QDIR = "/private/var/db/govsec-banned-software/quarantine"
ADIR = "/private/var/db/govsec-banned-software/archive"
TOOLS = {"/bin/launchctl": "launchctl", "/usr/sbin/pkgutil": "pkgutil", "/usr/bin/osascript": "osascript",
         "/opt/homebrew/bin/brew": "brew-opt", "/usr/local/bin/brew": "brew-local", "/bin/ps": "ps"}
DATA = "/Users/alice/Library/Containers/com.tencent.xinWeChat/Data/Documents/xwechat_files/wxid_x/msg/file"
ALICE_UID = 501 if os.geteuid() == 0 else os.getuid()


class Mac(object):
    """The simulated Mac: its tree, the stand-ins' bin directory and call log, and the host calls."""

    def __init__(self, base):
        self.tree = str(M.build_macos_tree(base / "mac"))
        self.bin = str(base / "bin")
        self.log = str(base / "calls.jsonl")
        self.module_calls = []
        self.runs = []
        self.sent_steps = None
        if ALICE_UID != 501:
            # not root: alice is the test's own user, so that the Caskroom can be hers without chown
            path = os.path.join(self.tree, M.DSLOCAL, "alice.plist")
            with open(path, "rb") as handle:
                record = plistlib.load(handle)
            record["uid"] = [str(ALICE_UID)]
            with open(path, "wb") as handle:
                plistlib.dump(record, handle, fmt=plistlib.FMT_BINARY)
        for cask in ("opt/homebrew/Caskroom/wechat", "usr/local/Caskroom/wechatwork"):
            if os.geteuid() == 0:
                os.chown(os.path.join(self.tree, cask), ALICE_UID, 20)
        receipts = os.path.join(self.tree, "private/var/db/receipts")
        caskrooms = {"brew-opt": os.path.join(self.tree, "opt/homebrew/Caskroom"),
                     "brew-local": os.path.join(self.tree, "usr/local/Caskroom")}
        write_standin(os.path.join(self.bin, "launchctl"), self.log, "/bin/launchctl")
        write_standin(os.path.join(self.bin, "osascript"), self.log, "/usr/bin/osascript")
        write_standin(os.path.join(self.bin, "pkgutil"), self.log, "/usr/sbin/pkgutil", effect=(
            "import glob\nfor f in glob.glob(os.path.join(%r, args[1] + '.*')):\n    os.unlink(f)\n" % receipts))
        for name, macos in (("brew-opt", "/opt/homebrew/bin/brew"), ("brew-local", "/usr/local/bin/brew")):
            write_standin(os.path.join(self.bin, name), self.log, macos, effect=(
                "import shutil\nshutil.rmtree(os.path.join(%r, args[-1]))\n" % caskrooms[name]))
        for script in (KAV_SCRIPT, KLN_SCRIPT):
            write_standin(self.map(script), self.log, script)

    # -- the path mapping ----------------------------------------------------------------------
    def map(self, path):
        return self.tree + path

    def unmap(self, path):
        assert path.startswith(self.tree + "/"), path
        return path[len(self.tree):]

    def map_step(self, step):
        step = copy.deepcopy(step)
        if step["kind"] in ("quarantine", "purge"):
            step["path"] = self.map(step["path"])
        elif step["kind"] == "archive":
            step["paths"] = [self.map(p) for p in step["paths"]]
        elif step["kind"] == "command":
            argv0 = step["argv"][0]
            step["argv"][0] = os.path.join(self.bin, TOOLS[argv0]) if argv0 in TOOLS else self.map(argv0)
            if "run_as" in step:
                step["run_as"]["home"] = self.map(step["run_as"]["home"])
        return step

    def unmap_step(self, step):
        step = copy.deepcopy(step)
        if step["kind"] in ("quarantine", "purge"):
            step["path"] = self.unmap(step["path"])
        elif step["kind"] == "archive":
            step["paths"] = [self.unmap(p) for p in step["paths"]]
        elif step["kind"] == "command":
            argv0 = step["argv"][0]
            back = dict((os.path.join(self.bin, v), k) for k, v in TOOLS.items())
            step["argv"][0] = back[argv0] if argv0 in back else self.unmap(argv0)
            if "run_as" in step:
                step["run_as"]["home"] = self.unmap(step["run_as"]["home"])
        return step

    # -- the host's modules ----------------------------------------------------------------------
    def runner(self, argv, env=None, cwd=None, timeout=None, preexec_fn=None):
        self.runs.append({"argv": list(argv), "cwd": cwd, "demoted": preexec_fn is not None,
                          "user": (env or {}).get("USER")})
        return process.run_argv(argv, env=env, cwd=cwd, timeout=timeout)

    def collect(self, module_args):
        query = copy.deepcopy(module_args["query"].get("macos") or {})
        # the catalog lists the vendor UninstallScripts as file signatures, so the query asks for them
        assert KAV_SCRIPT in query["file"]["paths"] and KLN_SCRIPT in query["file"]["paths"]

        def no_command(argv, **kwargs):
            raise AssertionError("the collector ran %r with live sources off" % (argv,))

        result = collect_macos(self.tree, query, no_command, users=module_args.get("users"),
                               sources=module_args.get("sources"), live=False)
        result["root"] = "/"   # the Mac's own view: the tree is its root
        result["collector_warnings"] = result.pop("warnings")
        return result

    def execute(self, module_args):
        self.sent_steps = module_args["steps"]
        mapped = [self.map_step(s) for s in module_args["steps"]]
        assert [self.unmap_step(s) for s in mapped] == module_args["steps"]
        options = {"run_id": module_args["run_id"], "quarantine_dir": self.map(module_args["quarantine_dir"]),
                   "archive_dir": self.map(module_args["archive_dir"]),
                   "homes": [self.map(h) for h in module_args["homes"]],
                   "lock_timeout": module_args["lock_timeout"], "default_timeout": module_args["default_timeout"]}
        results = run_plan(mapped, options, runner=self.runner)
        return {"steps": results, "changed": any(r["status"] == "changed" for r in results)}

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.module_calls.append(module_name)
        if module_name == "govsec.banned_software.collect":
            return self.collect(module_args)
        assert module_name == "govsec.banned_software.execute"
        return self.execute(module_args)


@pytest.fixture
def mac(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        # run_as needs root in the executor; the recording runner never demotes
        monkeypatch.setattr(process.os, "geteuid", lambda: 0)
    return Mac(tmp_path)


def remediate(host, check_mode=False, **args):
    action = action_runner.make_action(remediate_action, host, without_fact(args), check_mode=check_mode)
    return action.run(task_vars={"inventory_hostname": "mac1", "ansible_connection": "ssh",
                                 "ansible_facts": {"system": "Darwin"}})


def sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def call(cmd, *args):
    return (cmd, list(args))


EXPECTED_CALLS = [
    call("/bin/launchctl", "bootout", "system/com.kaspersky.kav"),
    call("/bin/launchctl", "bootout", "gui/%d/com.kaspersky.kav.gui" % ALICE_UID),
    call(KAV_SCRIPT),
    call(KLN_SCRIPT),
    call("/opt/homebrew/bin/brew", "uninstall", "--cask", "wechat"),
    call("/usr/local/bin/brew", "uninstall", "--cask", "wechatwork"),
    call("/usr/sbin/pkgutil", "--forget", "com.kaspersky.kav.application"),
    call("/usr/sbin/pkgutil", "--forget", "com.kaspersky.kav.kext"),
    call("/usr/sbin/pkgutil", "--forget", "com.kaspersky.kav.uninstaller"),
]
QUARANTINED = ["/Applications/Kaspersky Anti-Virus For Mac.app", "/Applications/Kaspersky Lab/Kaspersky Security.app",
               "/Applications/WeChat.app", "/Applications/企业微信.app", "/Applications/微信.app",
               "/Library/Application Support/Kaspersky Lab/KAV", "/Library/Application Support/Kaspersky Lab/klnagent",
               "/Library/LaunchDaemons/com.kaspersky.kav.plist", "/Users/alice/Applications/WeChat.app",
               "/Users/alice/Library/LaunchAgents/com.kaspersky.kav.gui.plist"]
NETFILTER = ("sysext|machine|com.kaspersky.kav.netfilter|/Library/SystemExtensions/9D1A3C4E-1B2C-4D5E-8F90-A1B2C3D4E5F6/"
             "com.kaspersky.kav.netfilter.systemextension")
KLIF = "sysext|machine|com.kaspersky.kext.klif|/Library/Extensions/klif.kext"


def recorded(host):
    return [(c["cmd"], c["args"]) for c in read_calls(host.log)]


def test_whole_removal_run_on_a_simulated_mac(mac):
    data = dict((u, sha256(mac.map(DATA.replace("alice", u)))) for u in ("alice", "bob"))
    result = remediate(mac)
    rem = result["remediation"]
    plan = rem["plan"]
    assert mac.module_calls == ["govsec.banned_software.collect", "govsec.banned_software.execute",
                                "govsec.banned_software.collect"]
    # the exact commands, in order, and nothing else ran
    assert recorded(mac) == EXPECTED_CALLS
    assert [(s["argv"][0], s["argv"][1:]) for s in plan["steps"] if s["kind"] == "command"] == EXPECTED_CALLS
    assert [r["argv"][0] for r in mac.runs] == [mac.map_step({"kind": "command", "argv": [c[0]]})["argv"][0]
                                                for c in EXPECTED_CALLS]
    # brew ran as the Caskroom's owner (the executor asked for the demotion), in her home
    brew_runs = [r for r in mac.runs if "brew" in r["argv"][0]]
    assert [(r["demoted"], r["user"], r["cwd"]) for r in brew_runs] == [(True, "alice", mac.map("/Users/alice"))] * 2
    assert [r["demoted"] for r in mac.runs if "brew" not in r["argv"][0]] == [False] * 7
    # every step succeeded; the quarantine is inside the tree at the macOS default, with its manifest
    assert [r["status"] for r in rem["steps"]] == ["changed"] * 19
    assert sorted(s["path"] for s in plan["steps"] if s["kind"] == "quarantine") == QUARANTINED
    run_dir = mac.map(QDIR + "/" + rem["run_id"])
    with open(os.path.join(run_dir, "MANIFEST.jsonl")) as handle:
        lines = [json.loads(line) for line in handle]
    # Each item: its "moving" line (before the move), then its full line.
    assert [line.get("state") for line in lines] == ["moving", None] * len(QUARANTINED)
    manifest = lines[1::2]
    assert sorted(mac.unmap(m["original"]) for m in manifest) == QUARANTINED
    for item in manifest:
        assert item["quarantined"] == run_dir + item["original"]
        assert os.path.isdir(item["quarantined"]) == (item["type"] == "dir")
        assert not os.path.lexists(item["original"])
    assert os.path.isfile(run_dir + mac.map("/Applications/WeChat.app/Contents/Info.plist"))
    # user data kept, unchanged
    assert dict((u, sha256(mac.map(DATA.replace("alice", u)))) for u in ("alice", "bob")) == data
    assert sorted((d["path"], d["policy"]) for d in plan["data"]) == [
        ("/Users/alice/Library/Containers/com.tencent.xinWeChat", "keep"),
        ("/Users/alice/Library/Group Containers/5A4RE8SF68.com.tencent.xinWeChat", "keep"),
        ("/Users/bob/Library/Containers/com.tencent.xinWeChat", "keep")]
    # receipts forgotten, casks gone, lookalikes untouched
    receipts = sorted(os.listdir(mac.map("/private/var/db/receipts")))
    assert receipts == ["com.apple.pkg.MRTConfigData.bom", "com.apple.pkg.MRTConfigData.plist",
                        "com.tencent.xinWeChat.pkg.bom", "com.tencent.xinWeChat.pkg.plist"]
    assert sorted(os.listdir(mac.map("/opt/homebrew/Caskroom"))) == ["qq"]
    assert sorted(os.listdir(mac.map("/usr/local/Caskroom"))) == ["wechatwebdevtools"]
    for app in ("QQ.app", "Tencent Meeting.app", "CapCut.app", "ClamXAV.app", "Utilities/Terminal.app"):
        assert os.path.isfile(mac.map("/Applications/%s/Contents/Info.plist" % app))
    # outcomes: everything removed but the two extensions, which need MDM
    outcomes = dict((f["key"], f["outcome"]) for f in result["findings"])
    assert rem["outcomes"] == {"removed": 21, "needs_mdm": 2}
    assert (outcomes[NETFILTER], outcomes[KLIF]) == ("needs_mdm", "needs_mdm")
    assert plan["needs_mdm"] == [
        {"entry": "kaspersky-macos", "name": "com.kaspersky.kav.netfilter", "team_id": "2Y8XE5CQ94",
         "state": "activated_enabled"},
        {"entry": "kaspersky-macos", "name": "com.kaspersky.kext.klif", "team_id": None, "state": None}]
    assert plan["reboot_may_be_required"] is True
    assert (result["status"], result["changed"]) == ("non_compliant", True)

    # idempotence: a second run plans nothing, calls no executor, runs nothing
    calls_before = len(read_calls(mac.log))
    mac.module_calls = []
    again = remediate(mac)
    assert again["remediation"]["plan"]["steps"] == []
    assert mac.module_calls == ["govsec.banned_software.collect"]
    assert len(read_calls(mac.log)) == calls_before
    assert sorted((s["key"], s["outcome"]) for s in again["remediation"]["plan"]["skipped"]) == [
        (NETFILTER, "needs_mdm"), (KLIF, "needs_mdm")]
    assert again["changed"] is False


def test_check_mode_predicts_exactly_the_calls(tmp_path, monkeypatch):
    if os.geteuid() != 0:
        monkeypatch.setattr(process.os, "geteuid", lambda: 0)
    checked = Mac(tmp_path / "one")
    before = sorted(os.listdir(checked.map("/Applications")))
    result = remediate(checked, check_mode=True)
    assert checked.module_calls == ["govsec.banned_software.collect"]
    assert read_calls(checked.log) == [] and checked.runs == []
    assert sorted(os.listdir(checked.map("/Applications"))) == before
    assert result["changed"] is True and result["remediation"]["checked_only"] is True
    predicted = [(s["argv"][0], s["argv"][1:]) for s in result["remediation"]["plan"]["steps"] if s["kind"] == "command"]
    assert predicted == EXPECTED_CALLS
    assert result["remediation"]["outcomes"] == {"would_remove": 21, "needs_mdm": 2}
    real = Mac(tmp_path / "two")
    remediate(real)
    assert recorded(real) == predicted


def test_a_failed_vendor_uninstaller_holds_back_the_rest_of_its_product(mac):
    write_standin(mac.map(KAV_SCRIPT), mac.log, KAV_SCRIPT, rc=1, stderr="uninstall password required\n")
    result = remediate(mac)
    steps = dict((s["id"], s) for s in result["remediation"]["plan"]["steps"])
    statuses = dict((r["id"], r["status"]) for r in result["remediation"]["steps"])
    held = sorted(i for i, s in steps.items() if 3 in (s.get("requires") or []))
    assert statuses[3] == "failed"
    assert [statuses[i] for i in held] == ["skipped"] * len(held) and len(held) == 8
    assert os.path.isdir(mac.map("/Applications/Kaspersky Anti-Virus For Mac.app"))
    assert not os.path.exists(mac.map("/Applications/WeChat.app"))
    assert ("/usr/sbin/pkgutil", ["--forget", "com.kaspersky.kav.kext"]) not in recorded(mac)
    failed = sorted(f["key"] for f in result["findings"] if f["outcome"] == "failed")
    assert len(failed) == 10 and all("kaspersky" in k.lower() for k in failed)
    assert result["status"] == "non_compliant"


# --- the kill step where there is no /proc (macOS): ps through the same runner --------------------

def test_kill_reads_the_executable_with_ps_when_there_is_no_proc(tmp_path, monkeypatch):
    exe = "/Applications/WeChat.app/Contents/MacOS/WeChat"
    state = tmp_path / "ps.json"
    state.write_text(json.dumps({"4242": exe, "4250": exe, "4300": "/usr/bin/login"}))
    log = tmp_path / "calls.jsonl"
    ps = write_standin(tmp_path / "bin" / "ps", log, "/bin/ps", effect=(
        "procs = json.load(open(%r))\nif args[1] not in procs:\n    sys.exit(1)\nprint(procs[args[1]])\n" % str(state)))
    signals = []

    def fake_kill(pid, sig):
        signals.append((pid, sig))
        procs = json.loads(state.read_text())
        procs.pop(str(pid), None)
        state.write_text(json.dumps(procs))

    monkeypatch.setattr(os, "kill", fake_kill)
    monkeypatch.setattr(process, "_sleep", lambda seconds: None)
    runs = []

    def runner(argv, **kwargs):
        runs.append(list(argv))
        assert argv[0] == "/bin/ps"
        return process.run_argv([ps] + argv[1:], **kwargs)

    step = {"id": 1, "kind": "kill", "action": "stop_process", "pids": [4242, 4250, 4300, 4999], "exe": exe, "grace": 1}
    options = {"run_id": "r1", "quarantine_dir": str(tmp_path / "q"), "archive_dir": str(tmp_path / "a"),
               "proc_dir": str(tmp_path / "no-proc")}
    res = run_plan([step], options, runner=runner)[0]
    assert signals == [(4242, signal.SIGTERM), (4250, signal.SIGTERM)]
    assert (res["status"], res["signalled"], res["killed"], res["not_matching"], res["already_gone"]) == (
        "changed", [4242, 4250], [], [4300], [4999])
    assert runs[:4] == [["/bin/ps", "-p", str(p), "-o", "comm="] for p in (4242, 4250, 4300, 4999)]
    assert [c["args"] for c in read_calls(log)][:4] == [["-p", str(p), "-o", "comm="] for p in (4242, 4250, 4300, 4999)]


def test_kill_fails_without_signalling_when_ps_cannot_run(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "kill", lambda pid, sig: pytest.fail("signalled %d" % pid))
    step = {"id": 1, "kind": "kill", "pids": [4242], "exe": "/Applications/WeChat.app/Contents/MacOS/WeChat"}
    options = {"run_id": "r1", "proc_dir": str(tmp_path / "no-proc")}
    res = run_plan([step], options, runner=lambda argv, **kw: (None, b"", b"", False, "cannot run /bin/ps: missing"))[0]
    assert (res["status"], res["msg"]) == ("failed", "cannot check pid 4242 with /bin/ps: cannot run /bin/ps: missing")


def test_kill_on_linux_still_reads_proc_and_never_runs_ps(tmp_path, monkeypatch):
    proc = tmp_path / "proc" / "900001"
    proc.mkdir(parents=True)
    (proc / "comm").write_text("wechat\n")
    (proc / "stat").write_text("900001 (wechat) S 1 1 1")
    os.symlink("/opt/wechat/wechat", str(proc / "exe"))
    signals = []

    def fake_kill(pid, sig):
        signals.append((pid, sig))
        for child in proc.iterdir():
            child.unlink()
        proc.rmdir()

    monkeypatch.setattr(os, "kill", fake_kill)
    step = {"id": 1, "kind": "kill", "pids": [900001], "exe": "/opt/wechat/wechat"}
    options = {"run_id": "r1", "proc_dir": str(tmp_path / "proc")}
    res = run_plan([step], options, runner=lambda *a, **k: pytest.fail("ran %r" % (a,)))[0]
    assert (res["status"], signals) == ("changed", [(900001, signal.SIGTERM)])
