# -*- coding: utf-8 -*-
"""The removal planner (plugin_utils/plan/planner.py): exact steps, in order, for what a host reports; and the outcomes.

Every case states the plan it expects (actions, argv, paths, finding keys); the host data is built
from records exactly as the collector returns them, and the findings from those records with the
key format of plugin_utils/match/matcher.py ("source|scope|name|path").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
import random

import pytest

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import Entry
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import (
    KIND_FIELDS as EXECUTOR_FIELDS)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import (
    PlanError, executor_steps, judge_outcomes, plan_removal, validate_options,
)

DPKG = "/usr/bin/dpkg"
RPM = "/usr/bin/rpm"
SYSTEMCTL = "/usr/bin/systemctl"
FLATPAK = "/usr/bin/flatpak"
SNAP = "/usr/bin/snap"
TOOLS = {"dpkg": DPKG, "rpm": RPM, "systemctl": SYSTEMCTL, "flatpak": FLATPAK, "snap": SNAP}
STATUS = "/var/lib/dpkg/status"
RPMDB = "/var/lib/rpm"
ALICE = {"name": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"}
NO_SYSTEMD = ["System has not been booted with systemd", "Failed to connect to bus", "Running in chroot, ignoring"]
FLATPAK_ABSENT = ["not installed", "No installed refs found"]


def entry(eid, data_policy="keep", data=None, leftovers=None):
    doc = {"id": eid, "vendor": "V", "product": eid, "policies": ["p"], "references": [{"url": "https://e.example"}],
           "signatures": {"linux": {"dpkg": [{"name": eid}]}}, "data_policy": data_policy}
    rem = {}
    if data:
        rem["data"] = data
    if leftovers:
        rem["leftovers"] = leftovers
    if rem:
        doc["remediation"] = {"linux": rem}
    return Entry("test", doc)


def default_entries(wechat_policy="keep"):
    return {"wechat": entry("wechat", wechat_policy, data=["~/.xwechat", "~/xwechat_files"],
                            leftovers=["/var/opt/wechat"]),
            "kesl": entry("kesl", leftovers=["/var/opt/kaspersky/kesl"])}


def key(source, name, path=None, scope="machine"):
    return "|".join([source, scope, name, path or ""])


class Host(object):
    """Records as the collector reports them, and the findings the matcher makes of them."""

    def __init__(self, users=(ALICE,), tools=None):
        self.records = {}
        self.findings = []
        self.matched = {}   # finding key -> record, as the matcher hands them to the planner
        self.users = [dict(u) for u in users]
        self.tools = dict(TOOLS if tools is None else tools)

    def add(self, eid, source, name, path=None, scope="machine", exempt=False, finding=True, **extra):
        rec = {"name": name, "scope": scope}
        if path is not None:
            rec["path"] = path
        rec.update(extra)
        self.records.setdefault(source, []).append(rec)
        if finding:
            f = {"id": eid, "product": eid, "vendor": "V", "source": source, "name": name, "version": None,
                 "scope": scope, "path": path, "policies": ["p"], "exempt": exempt, "key": key(source, name, path, scope)}
            if exempt:
                f["exemption"] = {"reason": "approved %s" % eid, "expires": "2099-01-01"}
            self.findings.append(f)
            self.matched.setdefault(f["key"], rec)
        return self

    def data(self, path, scope="user:alice", source="data", kind="dir"):
        return self.add(None, source, path, path, scope, finding=False, type=kind)

    def collected(self):
        return {"os": "linux", "root": "/", "users": self.users, "tools": self.tools, "records": self.records}

    def plan(self, entries=None, **options):
        options.setdefault("run_id", "R1")
        return plan_removal("linux", self.findings, self.collected(), entries or default_entries(), options,
                            self.matched)


def summary(plan):
    """One tuple per step: (id, action, what it acts on, finding keys)."""
    out = []
    for step in plan["steps"]:
        if step["kind"] == "command":
            what = step["argv"]
        elif step["kind"] == "kill":
            what = step["pids"]
        elif step["kind"] == "archive":
            what = step["paths"]
        else:
            what = step["path"]
        out.append((step["id"], step["action"], what, step["findings"]))
    return out


def argvs(plan):
    return [s["argv"] for s in plan["steps"] if s["kind"] == "command"]


def check(seen, expected, what="plan"):
    assert seen == expected, "%s:\nexpected %s\nseen     %s" % (
        what, json.dumps(expected, indent=1, default=str), json.dumps(seen, indent=1, default=str))


def full_host():
    h = Host()
    h.add("kesl", "dpkg", "kesl", STATUS)
    h.add("kesl", "dpkg", "kesl-gui", STATUS)
    h.add("wechat", "dpkg", "wechat", STATUS)
    h.add("kesl", "service", "kesl.service", "/lib/systemd/system/kesl.service", type="systemd",
          owner="kesl", owner_source="dpkg")
    h.add("wechat", "process", "wechat", scope="user:alice", pids=[4243, 4242], exe="/opt/wechat/wechat", comm="wechat")
    h.add("wechat", "flatpak", "com.tencent.WeChat", "/var/lib/flatpak/app/com.tencent.WeChat")
    h.add("wechat", "flatpak", "com.tencent.WeChat", "/home/alice/.local/share/flatpak/app/com.tencent.WeChat",
          scope="user:alice")
    h.add("wechat", "snap", "wechat", "/snap/wechat")
    h.add("wechat", "appimage", "WeChatLinux_x86_64.AppImage", "/home/alice/Applications/WeChatLinux_x86_64.AppImage",
          scope="user:alice", type="file")
    h.add("wechat", "file", "/opt/wechat", "/opt/wechat", type="dir", owner="wechat", owner_source="dpkg")
    h.add("kesl", "file", "/opt/kaspersky/kesl", "/opt/kaspersky/kesl", type="dir")
    h.add("wechat", "desktop", "wechat.desktop", "/home/alice/.local/share/applications/wechat.desktop",
          scope="user:alice", type="file")
    h.data("/home/alice/.xwechat")
    h.data("/home/alice/xwechat_files")
    h.data("/var/opt/kaspersky/kesl", scope="machine", source="leftover")
    h.data("/var/opt/wechat", scope="machine", source="leftover")
    return h


K_SVC = key("service", "kesl.service", "/lib/systemd/system/kesl.service")
K_PROC = key("process", "wechat", None, "user:alice")
K_KESL = key("dpkg", "kesl", STATUS)
K_GUI = key("dpkg", "kesl-gui", STATUS)
K_WECHAT = key("dpkg", "wechat", STATUS)
K_FP_SYS = key("flatpak", "com.tencent.WeChat", "/var/lib/flatpak/app/com.tencent.WeChat")
K_FP_USER = key("flatpak", "com.tencent.WeChat", "/home/alice/.local/share/flatpak/app/com.tencent.WeChat", "user:alice")
K_SNAP = key("snap", "wechat", "/snap/wechat")
K_APPIMAGE = key("appimage", "WeChatLinux_x86_64.AppImage", "/home/alice/Applications/WeChatLinux_x86_64.AppImage",
                 "user:alice")
K_OPT_WECHAT = key("file", "/opt/wechat", "/opt/wechat")
K_OPT_KESL = key("file", "/opt/kaspersky/kesl", "/opt/kaspersky/kesl")
K_DESKTOP = key("desktop", "wechat.desktop", "/home/alice/.local/share/applications/wechat.desktop", "user:alice")


# -- 1. the whole plan: order, grouping, exact argv -------------------------------------------------

def test_full_plan_exact_steps_in_design_order():
    plan = full_host().plan(data_policy="archive", remove_leftovers=True, purge_packages=True)
    check(summary(plan), [
        (1, "stop_service", [SYSTEMCTL, "stop", "--", "kesl.service"], [K_SVC]),
        (2, "disable_service", [SYSTEMCTL, "disable", "--", "kesl.service"], [K_SVC]),
        (3, "stop_process", [4242, 4243], [K_PROC]),
        (4, "archive_data", ["/home/alice/.xwechat", "/home/alice/xwechat_files"], []),
        (5, "purge_packages", [DPKG, "--purge", "--", "kesl", "kesl-gui", "wechat"], sorted([K_KESL, K_GUI, K_WECHAT])),
        (6, "uninstall_flatpak", [FLATPAK, "uninstall", "--system", "-y", "--noninteractive", "--",
                                  "com.tencent.WeChat"], [K_FP_SYS]),
        (7, "uninstall_flatpak", [FLATPAK, "uninstall", "--user", "-y", "--noninteractive", "--",
                                  "com.tencent.WeChat"], [K_FP_USER]),
        (8, "remove_snap", [SNAP, "remove", "--", "wechat"], [K_SNAP]),
        (9, "quarantine", "/home/alice/.local/share/applications/wechat.desktop", [K_DESKTOP]),
        (10, "quarantine", "/home/alice/Applications/WeChatLinux_x86_64.AppImage", [K_APPIMAGE]),
        (11, "quarantine", "/opt/kaspersky/kesl", [K_OPT_KESL]),
        (12, "purge_data", "/home/alice/.xwechat", []),
        (13, "purge_data", "/home/alice/xwechat_files", []),
        (14, "quarantine_leftover", "/var/opt/kaspersky/kesl", []),
        (15, "quarantine_leftover", "/var/opt/wechat", []),
    ])
    check(plan["covered"], {
        K_SVC: [1, 2, 5], K_PROC: [3], K_KESL: [5], K_GUI: [5], K_WECHAT: [5], K_FP_SYS: [6], K_FP_USER: [7],
        K_SNAP: [8], K_OPT_WECHAT: [5], K_DESKTOP: [9], K_APPIMAGE: [10], K_OPT_KESL: [11],
    }, "covered")
    steps = plan["steps"]
    check(steps[2], {"id": 3, "kind": "kill", "action": "stop_process", "pids": [4242, 4243], "grace": 10,
                     "exe": "/opt/wechat/wechat", "comm": "wechat", "findings": [K_PROC]}, "kill step")
    check(steps[3], {"id": 4, "kind": "archive", "action": "archive_data", "entry": "wechat", "name": "wechat-alice-R1",
                     "paths": ["/home/alice/.xwechat", "/home/alice/xwechat_files"], "findings": []}, "archive step")
    check(steps[4]["env"], {"DEBIAN_FRONTEND": "noninteractive"}, "dpkg env")
    check((steps[4]["lock"], steps[4]["absent"], steps[4]["ok_rc"], steps[4]["timeout"]), ("dpkg", [], [0], 900), "dpkg step")
    check(steps[0]["tolerate"], NO_SYSTEMD + ["not loaded"], "stop tolerate")
    check(steps[1]["tolerate"], NO_SYSTEMD + ["does not exist", "not loaded"], "disable tolerate")
    check(steps[6]["run_as"], {"user": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"}, "run_as")
    check("run_as" in steps[5], False, "system flatpak runs as root")
    check([(s["type"], s.get("requires")) for s in steps[8:]],
          [("file", None), ("file", None), ("dir", None), ("dir", [4]), ("dir", [4]), ("dir", None), ("dir", None)],
          "path types and requires")
    check(plan["data"], [
        {"entry": "wechat", "policy": "archive", "path": "/home/alice/.xwechat", "scope": "user:alice"},
        {"entry": "wechat", "policy": "archive", "path": "/home/alice/xwechat_files", "scope": "user:alice"},
    ], "data")
    check((plan["skipped"], plan["unplanned"], plan["removals"], plan["tripped"]), ([], [], 13, None), "totals")
    check((plan["version"], plan["os"], plan["run_id"], plan["max_removals"]), (1, "linux", "R1", 25), "header")


def test_plan_is_json_serialisable_and_deterministic():
    host = full_host()
    plan = host.plan(data_policy="archive", remove_leftovers=True)
    text = json.dumps(plan, sort_keys=True)
    check(json.loads(text), plan, "JSON round trip")
    rng = random.Random(7)
    for dummy in range(20):
        shuffled = copy.deepcopy(host)
        rng.shuffle(shuffled.findings)
        for items in shuffled.records.values():
            rng.shuffle(items)
        seen = json.dumps(shuffled.plan(data_policy="archive", remove_leftovers=True), sort_keys=True)
        assert seen == text, "same host in another order gave another plan:\nexpected %s\nseen     %s" % (text, seen)


def test_inputs_are_not_modified():
    host = full_host()
    before = copy.deepcopy((host.findings, host.collected()))
    host.plan(data_policy="purge", remove_leftovers=True)
    check((host.findings, host.collected()), before, "inputs after planning")


def test_nothing_found_gives_an_empty_plan():
    plan = Host().plan(remove_leftovers=True, data_policy="purge")
    check((plan["steps"], plan["skipped"], plan["unplanned"], plan["covered"], plan["removals"]),
          ([], [], [], {}, 0), "empty plan")


# -- packages -------------------------------------------------------------------------------------

@pytest.mark.parametrize("names, options, expected", [
    (["kesl"], {}, [[DPKG, "--remove", "--", "kesl"]]),
    (["kesl-gui", "kesl"], {}, [[DPKG, "--remove", "--", "kesl", "kesl-gui"]]),
    (["kesl", "kesl-gui"], {"purge_packages": True}, [[DPKG, "--purge", "--", "kesl", "kesl-gui"]]),
    (["wechat", "kesl-gui", "kesl", "com.tencent.weixin"], {},
     [[DPKG, "--remove", "--", "com.tencent.weixin", "kesl", "kesl-gui", "wechat"]]),
])
def test_dpkg_one_transaction_with_all_banned_packages(names, options, expected):
    host = Host()
    for name in names:
        host.add("kesl", "dpkg", name, STATUS)
    plan = host.plan(**options)
    check(argvs(plan), expected, "argv")
    step = plan["steps"][0]
    check((step["action"], step["lock"], step["packages"], step["manager"], step["findings"]),
          ("purge_packages" if options.get("purge_packages") else "remove_packages", "dpkg", sorted(names), "dpkg",
           sorted(key("dpkg", n, STATUS) for n in names)), "step")
    check(step["absent"], ["is not installed", "isn't installed"] if len(names) == 1 else [], "absent markers")
    check(plan["removals"], len(names), "removals")


def test_rpm_and_dpkg_one_step_each_dpkg_first():
    host = Host()
    host.add("kesl", "rpm", "kesl-gui", RPMDB)
    host.add("kesl", "rpm", "kesl", RPMDB)
    host.add("wechat", "dpkg", "wechat", STATUS)
    plan = host.plan(purge_packages=True)
    check(summary(plan), [
        (1, "purge_packages", [DPKG, "--purge", "--", "wechat"], [key("dpkg", "wechat", STATUS)]),
        (2, "remove_packages", [RPM, "-e", "--", "kesl", "kesl-gui"],
         sorted([key("rpm", "kesl", RPMDB), key("rpm", "kesl-gui", RPMDB)])),
    ])
    check((plan["steps"][1]["lock"], plan["steps"][1]["env"], plan["steps"][1]["manager"]), ("rpm", {}, "rpm"), "rpm step")


def test_same_package_found_by_two_entries_is_removed_once():
    host = Host()
    host.add("wechat", "dpkg", "wechat", STATUS)
    host.add("kesl", "dpkg", "wechat", STATUS)
    plan = host.plan()
    check(argvs(plan), [[DPKG, "--remove", "--", "wechat"]], "argv")
    check((plan["covered"], plan["removals"]), ({key("dpkg", "wechat", STATUS): [1]}, 1), "covered")


@pytest.mark.parametrize("source, name, extra", [
    ("dpkg", "libc6", []),
    ("dpkg", "libc6-dev", []),
    ("dpkg", "systemd", []),
    ("dpkg", "sudo", []),
    ("dpkg", "openssh-server", []),
    ("dpkg", "linux-image-6.1.0-13-amd64", []),
    ("dpkg", "python3.11", []),
    ("rpm", "kernel-core", []),
    ("rpm", "glibc", []),
    ("rpm", "openssh-server", []),
    ("dpkg", "kesl-gui", ["kesl-*"]),
    ("rpm", "wechat", ["wechat"]),
])
def test_protected_packages_are_skipped_and_never_in_an_argv(source, name, extra):
    db = STATUS if source == "dpkg" else RPMDB
    host = Host()
    host.add("kesl", source, name, db)
    host.add("kesl", source, "kesl", db)
    plan = host.plan(protected_packages=extra)
    check(plan["skipped"], [{"key": key(source, name, db), "outcome": "skipped_protected",
                             "reason": "package %s is protected and is never removed" % name}], "skipped")
    check(argvs(plan), [[DPKG if source == "dpkg" else RPM] + (["--remove"] if source == "dpkg" else ["-e"])
                        + ["--", "kesl"]], "argv")
    assert not any(name in arg for argv in argvs(plan) for arg in argv), "protected %s reached an argv" % name


HOSTILE_PACKAGES = ["-rf", "--root=/", "--force-remove-essential", "kesl gui", "kesl\n", "kesl\nlibc6", "kesl;reboot",
                    "kesl$(reboot)", "kesl`id`", "kesl|sh", "wéchat", "微信", "", "../kesl", "*", "KESL" + "x" * 200]


@pytest.mark.parametrize("source", ["dpkg", "rpm"])
@pytest.mark.parametrize("name", HOSTILE_PACKAGES)
def test_invalid_package_names_never_reach_an_argv(source, name):
    db = STATUS if source == "dpkg" else RPMDB
    host = Host()
    host.add("kesl", source, name, db)
    host.add("kesl", source, "kesl", db)
    plan = host.plan()
    check(plan["unplanned"], [{"key": key(source, name, db),
                               "reason": "package name %r is not a valid %s name; not passed to a command"
                               % (name, source)}], "unplanned")
    check(argvs(plan), [[DPKG if source == "dpkg" else RPM] + (["--remove"] if source == "dpkg" else ["-e"])
                        + ["--", "kesl"]], "argv")


HOSTILE_IDS = ["-y", "--system", "com.tencent.WeChat\n", "com.tencent.WeChat;id", "com tencent WeChat", "com.tencent",
               "com.tencent.WeChat/x86_64/stable", "cöm.tencent.WeChat", ""]


@pytest.mark.parametrize("name", HOSTILE_IDS)
def test_invalid_flatpak_ids_never_reach_an_argv(name):
    host = Host()
    host.add("wechat", "flatpak", name, "/var/lib/flatpak/app/x")
    plan = host.plan()
    check((plan["steps"], plan["unplanned"]),
          ([], [{"key": key("flatpak", name, "/var/lib/flatpak/app/x"),
                 "reason": "flatpak id %r is not valid; not passed to a command" % name}]), "plan")


@pytest.mark.parametrize("name", ["--purge", "wechat\n", "WeChat", "we chat", "wechat;id", "wéchat", "-wechat", ""])
def test_invalid_snap_names_never_reach_an_argv(name):
    host = Host()
    host.add("wechat", "snap", name, "/snap/x")
    plan = host.plan()
    check((plan["steps"], plan["unplanned"]),
          ([], [{"key": key("snap", name, "/snap/x"),
                 "reason": "snap name %r is not valid; not passed to a command" % name}]), "plan")


# -- flatpak per user -------------------------------------------------------------------------------

USER_FP_PATH = "/home/alice/.local/share/flatpak/app/com.tencent.WeChat"


@pytest.mark.parametrize("scope, users, run_as", [
    ("user:alice", [ALICE], {"user": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"}),
    ("user:alice", [dict(ALICE, gid=100)], {"user": "alice", "uid": 1000, "gid": 100, "home": "/home/alice"}),
    ("user:bob", [ALICE], None),                                   # user not reported
    ("user:alice", [dict(ALICE, uid=0)], None),                    # never as root
    ("user:alice", [{"name": "alice", "uid": 1000, "home": "/home/alice"}], None),   # no gid (collector today)
    ("user:alice", [dict(ALICE, gid="1000")], None),
    ("user:alice", [dict(ALICE, uid=True)], None),
    ("user:alice", [dict(ALICE, gid=False)], None),
    ("user:alice", [dict(ALICE, gid=-1)], None),
    ("user:alice", [dict(ALICE, home="home/alice")], None),
    ("user:alice", [dict(ALICE, home="/home/../root")], None),
    ("user:alice", [dict(ALICE, home=None)], None),
    ("user:-alice", [dict(ALICE, name="-alice")], None),           # invalid user names
    ("user:alice\n", [dict(ALICE, name="alice\n")], None),
    ("user:al ice", [dict(ALICE, name="al ice")], None),
    ("user:", [], None),
    ("system", [ALICE], None),
])
def test_per_user_flatpak_runs_as_that_user_or_is_unplanned(scope, users, run_as):
    host = Host(users=users)
    host.add("wechat", "flatpak", "com.tencent.WeChat", USER_FP_PATH, scope=scope)
    plan = host.plan()
    k = key("flatpak", "com.tencent.WeChat", USER_FP_PATH, scope)
    if run_as is None:
        check((plan["steps"], plan["unplanned"]),
              ([], [{"key": k, "reason": "cannot run as %s (unknown or invalid user)" % scope}]), "plan")
    else:
        check(summary(plan), [(1, "uninstall_flatpak", [FLATPAK, "uninstall", "--user", "-y", "--noninteractive", "--",
                                                        "com.tencent.WeChat"], [k])])
        check((plan["steps"][0]["run_as"], plan["steps"][0]["absent"]), (run_as, FLATPAK_ABSENT), "run_as")


# -- snap: --purge only with data policy purge ----------------------------------------------------

@pytest.mark.parametrize("catalog_policy, options, purge", [
    ("keep", {}, False),
    ("archive", {}, False),
    ("purge", {}, True),
    ("keep", {"data_policy": "purge"}, True),
    ("purge", {"data_policy": "keep"}, False),
    ("keep", {"data_policies": {"wechat": "purge"}}, True),
    ("purge", {"data_policies": {"wechat": "archive"}}, False),
    ("keep", {"data_policies": {"kesl": "purge"}}, False),
    ("keep", {"data_policy": "archive", "data_policies": {"wechat": "purge"}}, False),   # the override wins
])
def test_snap_purge_only_with_data_policy_purge(catalog_policy, options, purge):
    host = Host()
    host.add("wechat", "snap", "wechat", "/snap/wechat")
    plan = host.plan(entries=default_entries(catalog_policy), **options)
    check(argvs(plan), [[SNAP, "remove"] + (["--purge"] if purge else []) + ["--", "wechat"]], "argv")


# -- files, desktop entries, unit files: package ownership ----------------------------------------

@pytest.mark.parametrize("source, name, path, extra", [
    ("file", "/opt/wechat", "/opt/wechat", {"type": "dir"}),
    ("desktop", "wechat.desktop", "/usr/share/applications/wechat.desktop", {"type": "file"}),
    ("service", "wechat.service", "/lib/systemd/system/wechat.service", {"type": "systemd"}),
    ("service", "wechat", "/etc/init.d/wechat", {"type": "sysv"}),
])
def test_owned_by_a_package_being_removed_is_covered_by_the_package_step(source, name, path, extra):
    host = Host()
    host.add("wechat", "dpkg", "wechat", STATUS)
    host.add("wechat", source, name, path, owner="wechat", owner_source="dpkg", **extra)
    plan = host.plan()
    expected = [(1, "remove_packages", [DPKG, "--remove", "--", "wechat"], [key("dpkg", "wechat", STATUS)])]
    if extra["type"] == "systemd":
        expected = [(1, "stop_service", [SYSTEMCTL, "stop", "--", name], [key(source, name, path)]),
                    (2, "disable_service", [SYSTEMCTL, "disable", "--", name], [key(source, name, path)]),
                    (3, "remove_packages", [DPKG, "--remove", "--", "wechat"], [key("dpkg", "wechat", STATUS)])]
    check(summary(plan), expected)
    check(plan["covered"][key(source, name, path)], [s[0] for s in expected if s[3] == [key(source, name, path)]]
          + [expected[-1][0]], "covered")
    check((plan["unplanned"], plan["skipped"], plan["removals"]), ([], [], 1), "rest")


@pytest.mark.parametrize("owner, owners, pkg_finding, reason_names", [
    ("wechat-bridge", None, None, "wechat-bridge"),                        # an unrelated package
    ("libc6", None, ("dpkg", "libc6"), "libc6"),                           # a protected one, found
    ("wechat", ["wechat", "wechat-data"], ("dpkg", "wechat"), "wechat-data"),   # one of two owners stays
    ("wechat", None, ("rpm", "wechat"), "wechat"),                         # same name, other manager
])
def test_owned_by_a_package_that_stays_is_never_quarantined(owner, owners, pkg_finding, reason_names):
    host = Host()
    if pkg_finding:
        host.add("wechat", pkg_finding[0], pkg_finding[1], STATUS if pkg_finding[0] == "dpkg" else RPMDB)
    extra = {"owners": owners} if owners else {}
    host.add("wechat", "file", "/opt/wechat", "/opt/wechat", type="dir", owner=owner, owner_source="dpkg", **extra)
    host.add("wechat", "service", "wechat.service", "/lib/systemd/system/wechat.service", type="systemd", owner=owner,
             owner_source="dpkg", **extra)
    plan = host.plan()
    assert not [s for s in plan["steps"] if s["kind"] == "quarantine" or "systemctl" in s.get("argv", [""])[0]], \
        "expected no quarantine and no systemctl step, seen %s" % summary(plan)
    reason = "owned by package %s, which is not being removed" % reason_names
    check([u for u in plan["unplanned"] if not u["key"].startswith(("dpkg", "rpm"))], [
        {"key": key("file", "/opt/wechat", "/opt/wechat"), "reason": reason},
        {"key": key("service", "wechat.service", "/lib/systemd/system/wechat.service"), "reason": reason},
    ], "unplanned")


def test_owned_by_an_exempt_package_is_left_alone():
    host = Host()
    host.add("wechat", "dpkg", "wechat", STATUS, exempt=True)
    host.add("wechat", "desktop", "wechat.desktop", "/usr/share/applications/wechat.desktop", owner="wechat",
             owner_source="dpkg")
    plan = host.plan()
    check(plan["steps"], [], "steps")
    check(plan["unplanned"], [{"key": key("desktop", "wechat.desktop", "/usr/share/applications/wechat.desktop"),
                               "reason": "owned by package wechat, which is not being removed"}], "unplanned")


def test_unowned_sysv_script_is_unplanned_and_never_run():
    host = Host()
    host.add("kesl", "service", "kesl", "/etc/init.d/kesl", type="sysv")
    plan = host.plan()
    check((plan["steps"], plan["unplanned"]), ([], [{"key": key("service", "kesl", "/etc/init.d/kesl"),
                                                     "reason": "SysV init script not owned by a package being removed"}]),
          "plan")


def test_unowned_unit_is_stopped_disabled_then_quarantined():
    host = Host()
    host.add("kesl", "service", "kesl.service", "/etc/systemd/system/kesl.service", type="systemd")
    plan = host.plan()
    k = key("service", "kesl.service", "/etc/systemd/system/kesl.service")
    check(summary(plan), [(1, "stop_service", [SYSTEMCTL, "stop", "--", "kesl.service"], [k]),
                          (2, "disable_service", [SYSTEMCTL, "disable", "--", "kesl.service"], [k]),
                          (3, "quarantine", "/etc/systemd/system/kesl.service", [k])])
    check(plan["steps"][2]["type"], "file", "unit quarantined as a file")


@pytest.mark.parametrize("unit", ["-kesl.service\n", "kesl.service;reboot", "kesl", "--now", "kesl service.service"])
def test_invalid_unit_names_never_reach_systemctl(unit):
    host = Host()
    host.add("kesl", "service", unit, "/etc/systemd/system/x.service", type="systemd")
    plan = host.plan()
    check(summary(plan), [(1, "quarantine", "/etc/systemd/system/x.service",
                           [key("service", unit, "/etc/systemd/system/x.service")])])


# -- protected and nested paths -------------------------------------------------------------------

@pytest.mark.parametrize("source, path, scope, reason", [
    ("file", "/opt", "machine", "protected system path"),
    ("file", "/opt/", "machine", "protected system path"),
    ("file", "/usr/share/applications", "machine", "protected system path"),
    ("file", "/var/lib/flatpak", "machine", "protected system path"),
    ("file", "/home/alice", "user:alice", "a home directory"),
    ("file", "/home/alice/.local", "user:alice", "a shared directory in a home"),
    ("file", "/home/alice/.local/share/applications", "user:alice", "a shared directory in a home"),
    ("file", "/home/carol", "machine", "a home directory"),
    ("appimage", "/wechat.AppImage", "machine", "top-level path"),
])
def test_protected_paths_are_skipped(source, path, scope, reason):
    host = Host()
    host.add("wechat", source, path, path, scope=scope, type="dir")
    host.add("wechat", "file", "/opt/wechat", "/opt/wechat", type="dir")
    plan = host.plan()
    clean = "/" + "/".join(p for p in path.split("/") if p)
    check(plan["skipped"], [{"key": key(source, path, path, scope), "outcome": "skipped_protected",
                             "reason": "%s is %s" % (clean, reason)}], "skipped")
    check(summary(plan), [(1, "quarantine", "/opt/wechat", [key("file", "/opt/wechat", "/opt/wechat")])])


@pytest.mark.parametrize("path", ["opt/wechat", "/opt/../etc", "/opt/wechat/..", None])
def test_unusable_paths_are_unplanned(path):
    host = Host()
    host.add("wechat", "file", "x", path, type="dir")
    plan = host.plan()
    check((plan["steps"], plan["unplanned"]), ([], [{"key": key("file", "x", path), "reason": "no usable path"}]),
          "plan")


def test_nested_paths_are_quarantined_once():
    host = Host()
    host.add("kesl", "file", "/opt/kaspersky/kesl/bin", "/opt/kaspersky/kesl/bin", type="dir")
    host.add("kesl", "file", "/opt/kaspersky/kesl", "/opt/kaspersky/kesl", type="dir")
    host.add("kesl", "desktop", "kesl.desktop", "/opt/kaspersky/kesl/share/kesl.desktop", type="file")
    host.add("kesl", "file", "/opt/kaspersky/kesl2", "/opt/kaspersky/kesl2", type="dir")   # a sibling, not nested
    host.data("/opt/kaspersky/kesl", scope="machine", source="leftover")                 # same as a finding
    host.data("/opt/kaspersky/kesl/var", scope="machine", source="leftover")             # inside one
    host.data("/var/opt/kaspersky/kesl", scope="machine", source="leftover")
    entries = {"kesl": entry("kesl", leftovers=["/opt/kaspersky/kesl", "/opt/kaspersky/kesl/var",
                                                "/var/opt/kaspersky/kesl"])}
    plan = host.plan(entries=entries, remove_leftovers=True)
    k_dir = key("file", "/opt/kaspersky/kesl", "/opt/kaspersky/kesl")
    k_bin = key("file", "/opt/kaspersky/kesl/bin", "/opt/kaspersky/kesl/bin")
    k_desk = key("desktop", "kesl.desktop", "/opt/kaspersky/kesl/share/kesl.desktop")
    k_two = key("file", "/opt/kaspersky/kesl2", "/opt/kaspersky/kesl2")
    check(summary(plan), [(1, "quarantine", "/opt/kaspersky/kesl", [k_dir]),
                          (2, "quarantine", "/opt/kaspersky/kesl2", [k_two]),
                          (3, "quarantine_leftover", "/var/opt/kaspersky/kesl", [])])
    check(plan["covered"], {k_dir: [1], k_bin: [1], k_desk: [1], k_two: [2]}, "covered")
    check(plan["removals"], 3, "removals")


def test_same_path_found_by_two_sources_is_one_step():
    host = Host()
    path = "/home/alice/Applications/wechat.AppImage"
    host.add("wechat", "appimage", "wechat.AppImage", path, scope="user:alice", type="file")
    host.add("wechat", "file", path, path, scope="user:alice", type="file")
    plan = host.plan()
    check(summary(plan), [(1, "quarantine", path, sorted([key("appimage", "wechat.AppImage", path, "user:alice"),
                                                          key("file", path, path, "user:alice")]))])
    check(plan["removals"], 1, "removals")


@pytest.mark.parametrize("kind, expected", [("dir", "dir"), ("file", "file"), ("link", "link"), ("fifo", "file"),
                                            (None, "file")])
def test_quarantine_type(kind, expected):
    host = Host()
    extra = {"type": kind} if kind else {}
    host.add("wechat", "file", "/opt/wechat", "/opt/wechat", **extra)
    check(host.plan()["steps"][0]["type"], expected, "type")


# -- user data ------------------------------------------------------------------------------------

def data_host(exempt_flatpak=False):
    host = Host(users=[ALICE, {"name": "bob", "uid": 1001, "gid": 1001, "home": "/home/bob"}])
    host.add("wechat", "dpkg", "wechat", STATUS)
    if exempt_flatpak:
        host.add("wechat", "flatpak", "com.tencent.WeChat", "/var/lib/flatpak/app/com.tencent.WeChat", exempt=True)
    host.data("/home/alice/.xwechat")
    host.data("/home/bob/xwechat_files", scope="user:bob")
    host.data("/home/bob/.xwechat", scope="user:bob")
    host.data("/home/bob/.cache", scope="user:bob")      # matches no data signature of the entry
    return host


@pytest.mark.parametrize("catalog_policy, options, policy", [
    ("keep", {}, "keep"),
    ("archive", {}, "archive"),
    ("purge", {}, "purge"),
    ("keep", {"data_policy": "archive"}, "archive"),
    ("purge", {"data_policy": "keep"}, "keep"),
    ("keep", {"data_policies": {"wechat": "purge"}}, "purge"),
    ("archive", {"data_policies": {"wechat": "keep"}}, "keep"),
    ("keep", {"data_policies": {"kesl": "purge"}}, "keep"),
    ("keep", {"data_policy": "purge", "data_policies": {"wechat": "keep"}}, "purge"),
    ("keep", {"data_policy": None, "data_policies": {"wechat": "archive"}}, "archive"),
])
def test_data_policy_archive_before_removal_purge_after(catalog_policy, options, policy):
    plan = data_host().plan(entries=default_entries(catalog_policy), **options)
    remove = [DPKG, "--remove", "--", "wechat"]
    k = [key("dpkg", "wechat", STATUS)]
    expected = {
        "keep": [(1, "remove_packages", remove, k)],
        "purge": [(1, "remove_packages", remove, k),
                  (2, "purge_data", "/home/alice/.xwechat", []),
                  (3, "purge_data", "/home/bob/.xwechat", []),
                  (4, "purge_data", "/home/bob/xwechat_files", [])],
        "archive": [(1, "archive_data", ["/home/alice/.xwechat"], []),
                    (2, "archive_data", ["/home/bob/.xwechat", "/home/bob/xwechat_files"], []),
                    (3, "remove_packages", remove, k),
                    (4, "purge_data", "/home/alice/.xwechat", []),
                    (5, "purge_data", "/home/bob/.xwechat", []),
                    (6, "purge_data", "/home/bob/xwechat_files", [])],
    }[policy]
    check(summary(plan), expected)
    purges = [(s["path"], s.get("requires")) for s in plan["steps"] if s["kind"] == "purge"]
    if policy == "archive":
        check(purges, [("/home/alice/.xwechat", [1]), ("/home/bob/.xwechat", [2]), ("/home/bob/xwechat_files", [2])],
              "purge requires its archive")
        check([s["name"] for s in plan["steps"] if s["kind"] == "archive"], ["wechat-alice-R1", "wechat-bob-R1"],
              "archive names")
    elif policy == "purge":
        check([r for dummy, r in purges], [None, None, None], "purge without archive requires nothing")
    check(plan["data"], [{"entry": "wechat", "policy": policy, "path": p, "scope": s} for p, s in [
        ("/home/alice/.xwechat", "user:alice"), ("/home/bob/.xwechat", "user:bob"),
        ("/home/bob/xwechat_files", "user:bob")]], "data")
    check(plan["removals"], {"keep": 1, "purge": 4, "archive": 4}[policy], "removals")


def test_data_of_an_entry_with_an_exempt_finding_is_kept():
    plan = data_host(exempt_flatpak=True).plan(data_policy="purge")
    check(summary(plan), [(1, "remove_packages", [DPKG, "--remove", "--", "wechat"], [key("dpkg", "wechat", STATUS)])])
    check(sorted(set(d["policy"] for d in plan["data"])), ["keep"], "data policies")


def test_data_of_an_invalid_user_is_neither_archived_nor_purged():
    host = Host(users=[ALICE, {"name": "eve$", "uid": 1002, "gid": 1002, "home": "/home/eve"}])
    host.add("wechat", "dpkg", "wechat", STATUS)
    host.data("/home/alice/.xwechat")
    host.data("/home/eve/.xwechat", scope="user:eve$")
    plan = host.plan(data_policy="archive")
    check([s[1:3] for s in summary(plan)], [("archive_data", ["/home/alice/.xwechat"]),
                                            ("remove_packages", [DPKG, "--remove", "--", "wechat"]),
                                            ("purge_data", "/home/alice/.xwechat")])
    check([(d["path"], d["policy"]) for d in plan["data"]],
          [("/home/alice/.xwechat", "archive"), ("/home/eve/.xwechat", "keep")], "data")


def test_protected_data_paths_are_archived_but_never_purged():
    host = Host()
    host.add("wechat", "dpkg", "wechat", STATUS)
    host.data("/home/alice/.xwechat")
    host.data("/home/alice/.config", scope="user:alice")
    entries = {"wechat": entry("wechat", data=["~/.xwechat", "~/.config"])}
    plan = host.plan(entries=entries, data_policy="archive")
    check([s[1:3] for s in summary(plan)], [("archive_data", ["/home/alice/.config", "/home/alice/.xwechat"]),
                                            ("remove_packages", [DPKG, "--remove", "--", "wechat"]),
                                            ("purge_data", "/home/alice/.xwechat")])


# -- leftovers ------------------------------------------------------------------------------------

def leftover_host(exempt=False):
    host = Host()
    host.add("kesl", "dpkg", "kesl", STATUS, exempt=exempt)
    host.add("wechat", "dpkg", "wechat", STATUS)
    host.data("/var/opt/kaspersky/kesl", scope="machine", source="leftover")
    host.data("/var/opt/wechat", scope="machine", source="leftover")
    return host


@pytest.mark.parametrize("remove_leftovers, exempt, expected", [
    (False, False, []),
    (True, False, ["/var/opt/kaspersky/kesl", "/var/opt/wechat"]),
    (True, True, ["/var/opt/wechat"]),
    (False, True, []),
])
def test_leftovers_only_with_the_option_and_never_for_exempt_entries(remove_leftovers, exempt, expected):
    plan = leftover_host(exempt).plan(remove_leftovers=remove_leftovers)
    check([s["path"] for s in plan["steps"] if s["action"] == "quarantine_leftover"], expected, "leftovers")
    check(plan["steps"][-1]["action"] if expected else None, "quarantine_leftover" if expected else None, "last step")


def test_leftover_shared_with_an_exempt_entry_is_kept():
    host = Host()
    host.add("kesl", "dpkg", "kesl", STATUS, exempt=True)
    host.add("wechat", "dpkg", "wechat", STATUS)
    host.data("/var/opt/shared", scope="machine", source="leftover")
    host.data("/var/opt/shared/kesl", scope="machine", source="leftover")
    entries = {"kesl": entry("kesl", leftovers=["/var/opt/shared/kesl"]),
               "wechat": entry("wechat", leftovers=["/var/opt/shared"])}
    plan = host.plan(entries=entries, remove_leftovers=True)
    check(summary(plan), [(1, "remove_packages", [DPKG, "--remove", "--", "wechat"], [key("dpkg", "wechat", STATUS)])])


def test_protected_leftovers_are_never_planned():
    host = Host()
    host.add("kesl", "dpkg", "kesl", STATUS)
    host.data("/var/opt", scope="machine", source="leftover")
    entries = {"kesl": entry("kesl", leftovers=["/var/opt"])}
    plan = host.plan(entries=entries, remove_leftovers=True)
    check([s["action"] for s in plan["steps"]], ["remove_packages"], "actions")


# -- circuit breaker ------------------------------------------------------------------------------

MACHINE_ACTIONS = ["stop_service", "disable_service", "remove_packages", "uninstall_flatpak", "remove_snap",
                   "quarantine", "quarantine_leftover", "quarantine_leftover"]
ALICE_ACTIONS = ["stop_process", "archive_data", "uninstall_flatpak", "quarantine", "quarantine", "purge_data",
                 "purge_data"]
MACHINE_KEYS = [K_SVC, K_KESL, K_GUI, K_WECHAT, K_FP_SYS, K_SNAP, K_OPT_WECHAT, K_OPT_KESL]
ALICE_KEYS = [K_PROC, K_FP_USER, K_APPIMAGE, K_DESKTOP]


def _breaker_message(count, scope, limit):
    return ("the plan would remove %d items in scope %s, more than the maximum of %d per scope; nothing in that "
            "scope was removed (raise banned_software_max_removals after review)" % (count, scope, limit))


@pytest.mark.parametrize("max_removals, tripped", [
    (25, []), (8, []),                      # machine removes 8 items, alice's scope 5
    (7, ["machine"]), (5, ["machine"]),
    (4, ["machine", "user:alice"]), (0, ["machine", "user:alice"]),
])
def test_circuit_breaker_counts_per_scope(max_removals, tripped):
    """A scope (the machine, or one user) that would remove more than max_removals items is held back
    whole; the other scopes go on."""
    host = full_host()
    host.add("other", "dpkg", "wechat-beta", STATUS, exempt=True)
    host.add("kesl", "dpkg", "libc6", STATUS)
    plan = host.plan(data_policy="archive", remove_leftovers=True, max_removals=max_removals)
    check((plan["removals"], plan["removals_by_scope"]), (13, {"machine": 8, "user:alice": 5}), "removals")
    protected_and_exempt = [
        {"key": key("dpkg", "libc6", STATUS), "outcome": "skipped_protected",
         "reason": "package libc6 is protected and is never removed"},
        {"key": key("dpkg", "wechat-beta", STATUS), "outcome": "skipped_exempt", "reason": "approved other"}]
    counts = {"machine": 8, "user:alice": 5}
    messages = dict((s, _breaker_message(counts[s], s, max_removals)) for s in tripped)
    expected_actions = ((MACHINE_ACTIONS if "machine" not in tripped else []) +
                        (ALICE_ACTIONS if "user:alice" not in tripped else []))
    check(sorted(s["action"] for s in plan["steps"]), sorted(expected_actions), "steps that go on")
    check([s["id"] for s in plan["steps"]], list(range(1, len(plan["steps"]) + 1)), "steps renumbered")
    check(plan["tripped_scopes"], tripped, "tripped scopes")
    check(plan["tripped"], "; ".join(messages[s] for s in tripped) or None, "message")
    limited = [s for s in plan["skipped"] if s["outcome"] == "skipped_limit"]
    keys_by_scope = {"machine": MACHINE_KEYS, "user:alice": ALICE_KEYS}
    check(sorted(s["key"] for s in limited), sorted(k for t in tripped for k in keys_by_scope[t]), "skipped_limit")
    for item in limited:
        scope = "machine" if item["key"] in MACHINE_KEYS else "user:alice"
        check(item["reason"], messages[scope], "reason names its own scope")
    check(plan["skipped"][:2], protected_and_exempt, "protected and exempt kept")
    # every reference to a step is to a step of the plan (renumbered requires and covered)
    ids = set(s["id"] for s in plan["steps"])
    check(sorted(set(r for s in plan["steps"] for r in s.get("requires", [])) - ids), [], "requires")
    check(sorted(set(i for v in plan["covered"].values() for i in v) - ids), [], "covered")
    if "user:alice" in tripped and "machine" not in tripped:
        archive = [s for s in plan["steps"] if s["action"] == "archive_data"]
        check(archive, [], "the held scope's data is not archived either")


def test_a_user_flood_does_not_stop_machine_removal():
    """26 banned AppImages in one user's home trip that user's scope only: root-installed packages and
    another user's install are still removed."""
    bob = {"name": "bob", "uid": 1001, "gid": 1001, "home": "/home/bob"}
    host = Host(users=(ALICE, bob))
    host.add("kesl", "dpkg", "kesl", STATUS)
    host.add("wechat", "dpkg", "wechat", STATUS)
    for n in range(26):
        path = "/home/alice/Downloads/wechat-%d.AppImage" % n
        host.add("wechat", "appimage", "wechat-%d.AppImage" % n, path, scope="user:alice", type="file")
    host.add("wechat", "appimage", "WeChat.AppImage", "/home/bob/Applications/WeChat.AppImage", scope="user:bob",
             type="file")
    plan = host.plan()
    check(plan["tripped_scopes"], ["user:alice"], "only alice's scope trips")
    check(summary(plan), [
        (1, "remove_packages", [DPKG, "--remove", "--", "kesl", "wechat"],
         sorted([key("dpkg", "kesl", STATUS), key("dpkg", "wechat", STATUS)])),
        (2, "quarantine", "/home/bob/Applications/WeChat.AppImage",
         [key("appimage", "WeChat.AppImage", "/home/bob/Applications/WeChat.AppImage", "user:bob")]),
    ])
    limited = [s for s in plan["skipped"] if s["outcome"] == "skipped_limit"]
    check(len(limited), 26, "alice's AppImages are skipped_limit")
    check(set(s["reason"] for s in limited), set([_breaker_message(26, "user:alice", 25)]), "reason")


def test_circuit_breaker_counts_packages_flatpaks_snaps_and_paths_not_stops_kills_archives():
    host = Host()
    host.add("kesl", "service", "kesl.service", "/lib/systemd/system/kesl.service", type="systemd", owner="kesl",
             owner_source="dpkg")
    host.add("kesl", "process", "kesl", pids=[100], exe="/opt/kaspersky/kesl/bin/kesl")
    host.add("kesl", "dpkg", "kesl", STATUS)
    host.add("kesl", "dpkg", "kesl-gui", STATUS)
    plan = host.plan(max_removals=2)
    check(([s["action"] for s in plan["steps"]], plan["removals"], plan["tripped"]),
          (["stop_service", "disable_service", "stop_process", "remove_packages"], 2, None), "plan")
    # one less trips the machine scope: its stops and kills are held back with its removals
    check(host.plan(max_removals=1)["steps"], [], "one less trips")


# -- exemptions, processes, tools -----------------------------------------------------------------

def test_exempt_findings_are_skipped_with_their_reason():
    host = Host()
    host.add("wechat", "dpkg", "wechat", STATUS, exempt=True)
    host.add("wechat", "file", "/opt/wechat", "/opt/wechat", type="dir", exempt=True)
    host.add("kesl", "dpkg", "kesl", STATUS)
    plan = host.plan()
    check(plan["skipped"], [
        {"key": key("dpkg", "wechat", STATUS), "outcome": "skipped_exempt", "reason": "approved wechat"},
        {"key": key("file", "/opt/wechat", "/opt/wechat"), "outcome": "skipped_exempt", "reason": "approved wechat"},
    ], "skipped")
    check(argvs(plan), [[DPKG, "--remove", "--", "kesl"]], "argv")


def test_an_item_exempt_under_one_entry_is_not_removed_for_another():
    host = Host()
    host.add("wechat", "dpkg", "wechat", STATUS, exempt=True)
    host.add("kesl", "dpkg", "wechat", STATUS)
    plan = host.plan()
    check(plan["steps"], [], "steps")
    check(plan["skipped"], [
        {"key": key("dpkg", "wechat", STATUS), "outcome": "skipped_exempt",
         "reason": "the same item is exempt under another entry"},
        {"key": key("dpkg", "wechat", STATUS), "outcome": "skipped_exempt", "reason": "approved wechat"}], "skipped")


@pytest.mark.parametrize("extra, expected", [
    ({"pids": [300, 200, 300], "exe": "/opt/wechat/wechat"}, {"pids": [200, 300], "exe": "/opt/wechat/wechat"}),
    ({"pid": 77, "comm": "wechat"}, {"pids": [77], "comm": "wechat"}),
    ({"pids": [1, 0, -5, "12", True, 40]}, {"pids": [40]}),
])
def test_process_kill_step(extra, expected):
    host = Host()
    host.add("wechat", "process", "wechat", **extra)
    step = host.plan()["steps"][0]
    check(dict((k, step[k]) for k in step if k in ("pids", "exe", "comm")), expected, "kill step")
    check((step["kind"], step["action"], step["grace"]), ("kill", "stop_process", 10), "kind")


@pytest.mark.parametrize("extra", [{}, {"pids": []}, {"pids": [1]}, {"pid": "42"}])
def test_process_without_pid_is_unplanned(extra):
    host = Host()
    host.add("wechat", "process", "wechat", **extra)
    plan = host.plan()
    check((plan["steps"], plan["unplanned"]),
          ([], [{"key": key("process", "wechat"), "reason": "no process id to stop"}]), "plan")


@pytest.mark.parametrize("missing, source, name, path, reason", [
    ("dpkg", "dpkg", "kesl", STATUS, "dpkg is not installed on the host"),
    ("rpm", "rpm", "kesl", RPMDB, "rpm is not installed on the host"),
    ("flatpak", "flatpak", "com.tencent.WeChat", "/var/lib/flatpak/app/com.tencent.WeChat",
     "flatpak is not installed on the host"),
    ("snap", "snap", "wechat", "/snap/wechat", "snap is not installed on the host"),
])
def test_missing_tool_makes_its_findings_unplanned(missing, source, name, path, reason):
    tools = dict((k, v) for k, v in TOOLS.items() if k != missing)
    host = Host(tools=tools)
    host.add("wechat", source, name, path)
    host.add("wechat", "file", "/opt/wechat", "/opt/wechat", type="dir")
    plan = host.plan()
    check(plan["unplanned"], [{"key": key(source, name, path), "reason": reason}], "unplanned")
    check(summary(plan), [(1, "quarantine", "/opt/wechat", [key("file", "/opt/wechat", "/opt/wechat")])])


@pytest.mark.parametrize("tools", [{}, {"dpkg": "dpkg"}, {"dpkg": None}, {"dpkg": 3}])
def test_tools_must_be_absolute_paths(tools):
    host = Host(tools=tools)
    host.add("kesl", "dpkg", "kesl", STATUS)
    plan = host.plan()
    check((plan["steps"], plan["unplanned"]),
          ([], [{"key": key("dpkg", "kesl", STATUS), "reason": "dpkg is not installed on the host"}]), "plan")


def test_without_systemctl_units_go_with_their_package_or_to_quarantine():
    host = Host(tools={"dpkg": DPKG})
    host.add("kesl", "dpkg", "kesl", STATUS)
    host.add("kesl", "service", "kesl.service", "/lib/systemd/system/kesl.service", type="systemd", owner="kesl",
             owner_source="dpkg")
    host.add("kesl", "service", "kesl-supervisor.service", "/etc/systemd/system/kesl-supervisor.service",
             type="systemd")
    plan = host.plan()
    check(summary(plan), [
        (1, "remove_packages", [DPKG, "--remove", "--", "kesl"], [key("dpkg", "kesl", STATUS)]),
        (2, "quarantine", "/etc/systemd/system/kesl-supervisor.service",
         [key("service", "kesl-supervisor.service", "/etc/systemd/system/kesl-supervisor.service")]),
    ])
    check(plan["covered"][key("service", "kesl.service", "/lib/systemd/system/kesl.service")], [1], "covered")


def test_unknown_sources_are_unplanned():
    host = Host()
    host.add("wechat", "pacman", "wechat", "/var/lib/pacman")
    plan = host.plan()
    check((plan["steps"], plan["unplanned"]), ([], [{"key": key("pacman", "wechat", "/var/lib/pacman"),
                                                     "reason": "no removal method for source pacman"}]), "plan")


# -- options --------------------------------------------------------------------------------------

@pytest.mark.parametrize("options, message", [
    ({"data_policy": "delete"}, "banned_software_data_policy must be one of keep, archive, purge, got 'delete'"),
    ({"data_policies": ["wechat"]}, "banned_software_data_policies must map entry ids to keep, archive or purge"),
    ({"data_policies": {"wechat": "delete"}},
     "banned_software_data_policies[wechat] must be one of keep, archive, purge, got 'delete'"),
    ({"max_removals": -1}, "banned_software_max_removals must be a whole number >= 0, got -1"),
    ({"max_removals": True}, "banned_software_max_removals must be a whole number >= 0, got True"),
    ({"max_removals": "5"}, "banned_software_max_removals must be a whole number >= 0, got '5'"),
    ({"step_timeout": 0}, "banned_software_step_timeout must be a whole number of seconds > 0, got 0"),
    ({"protected_packages": "libc6"}, "banned_software_protected_packages must be a list of package names or patterns"),
    ({"protected_packages": [""]}, "banned_software_protected_packages must be a list of package names or patterns"),
])
def test_invalid_options_raise_plan_error(options, message):
    with pytest.raises(PlanError) as err:
        validate_options(options)
    check(str(err.value), message, "message")
    with pytest.raises(PlanError):
        plan_removal("linux", [], {}, {}, options, {})


def test_valid_options_and_defaults():
    opts = validate_options({"max_removals": 0, "data_policy": None, "data_policies": {"wechat": "purge"}})
    check((opts["max_removals"], opts["data_policy"], opts["data_policies"], opts["purge_packages"],
           opts["remove_leftovers"], opts["step_timeout"]), (0, None, {"wechat": "purge"}, False, False, 900), "opts")


@pytest.mark.parametrize("platform", ["freebsd", "solaris"])
def test_other_platforms_are_refused(platform):
    with pytest.raises(PlanError) as err:
        plan_removal(platform, [], {}, {}, {}, {})
    check(str(err.value), "removal planning for %s is not available in this release" % platform, "message")


def test_step_timeout_option_reaches_command_steps():
    host = Host()
    host.add("kesl", "dpkg", "kesl", STATUS)
    check(host.plan(step_timeout=60)["steps"][0]["timeout"], 60, "timeout")


def test_executor_steps_keep_only_the_fields_the_executor_knows():
    plan = full_host().plan(data_policy="archive", remove_leftovers=True)
    for step in executor_steps(plan["steps"]):
        extra = set(step) - set(("id", "kind", "action", "findings", "requires") + EXECUTOR_FIELDS[step["kind"]])
        assert not extra, "step %s sent with fields the executor does not know: %s" % (step["id"], sorted(extra))
    sent = executor_steps(plan["steps"])
    check([s["id"] for s in sent], list(range(1, 16)), "ids")
    check(sorted(sent[4]), sorted(["id", "kind", "action", "findings", "argv", "timeout", "ok_rc", "lock", "env",
                                   "absent"]), "package step fields")
    check("packages" in plan["steps"][4], True, "the plan keeps its bookkeeping for the report")


# -- 2. judge_outcomes ----------------------------------------------------------------------------

def judge_plan():
    return {"steps": [], "covered": {"a": [1], "b": [1, 2], "c": [3], "d": [4], "e": [5, 6], "g": [1]},
            "skipped": [{"key": "x", "outcome": "skipped_exempt", "reason": "ticket 1"},
                        {"key": "p", "outcome": "skipped_protected", "reason": "package libc6 is protected"},
                        {"key": "l", "outcome": "skipped_limit", "reason": "too many"}],
            "unplanned": [{"key": "u", "reason": "dpkg is not installed on the host"},
                          {"key": "g", "reason": "owned by package other, which is not being removed"}]}


RESULTS = [{"id": 1, "action": "remove_packages", "status": "changed"},
           {"id": 2, "action": "quarantine", "status": "absent"},
           {"id": 3, "action": "quarantine", "status": "absent"},
           {"id": 4, "action": "uninstall_flatpak", "status": "failed", "msg": "rc 1 (expected 0)", "stderr": "boom"},
           {"id": 5, "action": "stop_service", "status": "ok"},
           {"id": 6, "action": "quarantine", "status": "absent"}]


@pytest.mark.parametrize("keyname, remaining, outcome, detail", [
    ("a", set(), "removed", None),
    ("b", set(), "removed", None),                          # one step changed it
    ("c", set(), "already_absent", None),
    ("e", set(), "already_absent", None),                   # tolerated + absent: nothing was there
    ("z", set(), "removed", None),                          # gone, no step of ours
    ("d", {"d"}, "failed", "step 4 uninstall_flatpak: rc 1 (expected 0)"),
    ("a", {"a"}, "failed", "still present after the run"),
    ("u", {"u"}, "failed", "dpkg is not installed on the host"),
    ("x", {"x"}, "skipped_exempt", "ticket 1"),
    ("p", {"p"}, "skipped_protected", "package libc6 is protected"),
    ("l", {"l"}, "skipped_limit", "too many"),
    ("a", None, "would_remove", None),
    ("u", None, "failed", "dpkg is not installed on the host"),
    ("g", None, "failed", "owned by package other, which is not being removed"),   # stopped, not removable
    ("z", None, "failed", None),
    ("x", None, "skipped_exempt", "ticket 1"),
    ("l", None, "skipped_limit", "too many"),
])
def test_judge_outcomes(keyname, remaining, outcome, detail):
    finding = {"key": keyname}
    counts = judge_outcomes([finding], judge_plan(), [] if remaining is None else RESULTS, remaining)
    check((finding["outcome"], finding.get("outcome_detail")), (outcome, detail), "outcome of %s" % keyname)
    check(counts, {outcome: 1}, "counts")


def test_judge_outcomes_counts_and_stderr_when_no_msg():
    findings = [{"key": k} for k in ("a", "b", "c", "d", "u", "x", "p")]
    results = [dict(r, msg="") if r["id"] == 4 else r for r in RESULTS]
    counts = judge_outcomes(findings, judge_plan(), results, {"d", "u", "p"})
    check(counts, {"removed": 2, "already_absent": 1, "failed": 2, "skipped_exempt": 1, "skipped_protected": 1},
          "counts")
    check(findings[3]["outcome_detail"], "step 4 uninstall_flatpak: boom", "detail from stderr")


def test_judge_outcomes_after_a_real_plan():
    host = full_host()
    plan = host.plan()
    check_mode = copy.deepcopy(host.findings)
    check(judge_outcomes(check_mode, plan, [], None), {"would_remove": len(check_mode)}, "check mode")
    results = [{"id": s["id"], "action": s["action"], "status": "changed"} for s in plan["steps"]]
    real = copy.deepcopy(host.findings)
    check(judge_outcomes(real, plan, results, set()), {"removed": len(real)}, "real run")
    again = copy.deepcopy(host.findings)
    failing = [dict(r, status="failed", msg="rc 2 (expected 0)") if r["action"] == "remove_packages" else r
               for r in results]
    check(judge_outcomes(again, plan, failing, {K_KESL, K_OPT_WECHAT}), {"removed": 10, "failed": 2}, "failure")
    check([(f["key"], f["outcome_detail"]) for f in again if f["outcome"] == "failed"],
          [(K_KESL, "step 4 remove_packages: rc 2 (expected 0)"),
           (K_OPT_WECHAT, "step 4 remove_packages: rc 2 (expected 0)")], "details")


# -- a user's own files and links -----------------------------------------------------------------

def test_an_appimage_link_in_a_home_moves_the_link_and_the_appimage_it_leads_to():
    host = Host()
    link = "/home/alice/Applications/WeChat.AppImage"
    target = "/home/alice/tools/WeChat-x86_64.AppImage"
    host.add("wechat", "appimage", "WeChat.AppImage", link, scope="user:alice", type="link", link=True, target=target)
    plan = host.plan()
    k = key("appimage", "WeChat.AppImage", link, "user:alice")
    check([(s["action"], s["path"], s["type"], s["findings"]) for s in plan["steps"]], [
        ("quarantine", link, "link", [k]), ("quarantine", target, "file", [k])], "steps")
    check(plan["removals_by_scope"], {"user:alice": 2}, "both count in alice's scope")


@pytest.mark.parametrize("source, path, extra", [
    # records a forged or buggy collector could send: never moved as root outside the user's home
    ("appimage", "/etc/passwd", {"type": "file"}),
    ("appimage", "/home/alice/Applications/WeChat.AppImage", {"type": "link", "target": "/etc/shadow"}),
    ("appimage", "/home/bob/Applications/WeChat.AppImage", {"type": "file"}),
    ("desktop", "/usr/share/applications/wechat.desktop", {"type": "file"}),
    ("file", "/home/alicesmith/.xwechat", {"type": "dir"}),
])
def test_a_user_scope_path_outside_the_users_home_is_never_moved(source, path, extra):
    host = Host()
    name = path.rsplit("/", 1)[-1]
    host.add("wechat", source, name, path, scope="user:alice", **extra)
    plan = host.plan()
    check(plan["steps"], [], "no step")
    bad = extra.get("target", path)
    check(plan["unplanned"], [{"key": key(source, name, path, "user:alice"), "reason": (
        "%s lies outside the home of alice: a user's item is never moved outside their own files; remove it by "
        "hand" % bad)}], "unplanned")


def test_user_data_outside_the_users_home_is_never_touched():
    host = Host()
    host.add("wechat", "dpkg", "wechat", STATUS)
    host.data("/home/alice/.xwechat")
    host.data("/etc", scope="user:alice")
    host.data("/home/alice2/.xwechat", scope="user:alice")
    plan = host.plan(data_policy="purge")
    check([(s["action"], s.get("path")) for s in plan["steps"] if s["kind"] == "purge"],
          [("purge_data", "/home/alice/.xwechat")], "purges")
    check(plan["data"], [{"entry": "wechat", "policy": "purge", "path": "/home/alice/.xwechat", "scope": "user:alice"}],
          "data")
