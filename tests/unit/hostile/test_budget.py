# -*- coding: utf-8 -*-
"""Attack: make a source too slow, or unreadable, so that the scan says "nothing found".

A source that runs out of its wall-clock budget, or is read only in part (processes whose executable
root cannot read, ``hidepid``, a listing cut at its cap, a registry key cut at its cap), must be reported:
a collector warning, the ``incomplete`` marker next to ``available``, and on the controller a host that is
*not* compliant while a source an enabled entry has signatures for is incomplete (status ``failed``,
``error`` naming the source), through every report format.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import time

import jsonschema
import pytest

from ansible_collections.govsec.banned_software.plugins.action import remediate as remediate_action
from ansible_collections.govsec.banned_software.plugins.action import scan as scan_action
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import budget as _collect_budget
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import linux as _collect_linux
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import loop as _collect_loop
from ansible_collections.govsec.banned_software.plugins.module_utils._collect import procfs as _procfs
from ansible_collections.govsec.banned_software.plugins.module_utils._fs import rootfs as _rootfs
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.budget import Budget
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux import collect_linux
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import build_report, summary_lines
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.csv_format import render_csv
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.html_format import render_html
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.junit_format import render_junit
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def no_command(*args, **kwargs):
    return 1, "", "not used"


class FakeClock(object):
    """``time`` for _collect_budget: stands still until a test moves it."""

    def __init__(self):
        self.now = 1000.0

    def monotonic(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(_collect_budget, "time", fake)
    return fake


def tree(tmp_path):
    root = tmp_path / "img"
    (root / "var/lib/dpkg").mkdir(parents=True)
    (root / "var/lib/dpkg/status").write_text("Package: wechat\nStatus: install ok installed\nVersion: 4.0\n")
    (root / "etc").mkdir()
    (root / "etc/passwd").write_text("root:x:0:0::/root:/bin/sh\n")
    (root / "root").mkdir()
    (root / "usr/share/applications").mkdir(parents=True)
    for i in range(30):
        (root / ("usr/share/applications/app%02d.desktop" % i)).write_text("[Desktop Entry]\n")
    return root


# -- the budget in the collector ---------------------------------------------------------------------
def test_a_source_that_runs_out_of_time_is_stopped_and_reported(tmp_path, clock, monkeypatch):
    root = tree(tmp_path)

    def slow_desktop(fs, query, users):
        # A lister stuck on a huge, slow tree: every entry it reads costs (fake) time.
        while True:
            clock.now += 7
            fs.listdir("/usr/share/applications")

    monkeypatch.setattr(_collect_linux, "list_desktop", slow_desktop)
    res = collect_linux(str(root), {"dpkg": {"names": ["wechat"]}, "desktop": {"names": ["wechat.desktop"]}},
                        no_command, source_timeout=60)
    assert res["incomplete"] == {"desktop": "stopped after its time budget of 60 s"}
    assert "desktop: stopped after its time budget of 60 s: records from this source are incomplete" in res["warnings"]
    assert res["records"]["desktop"] == []
    assert [r["name"] for r in res["records"]["dpkg"]] == ["wechat"], "the other sources are complete"
    assert "dpkg" not in res["incomplete"]


def test_the_real_clock_stops_a_slow_source(tmp_path, monkeypatch):
    root = tree(tmp_path)

    def slow_desktop(fs, query, users):
        while True:
            time.sleep(0.02)
            fs.listdir("/usr/share/applications")

    monkeypatch.setattr(_collect_linux, "list_desktop", slow_desktop)
    start = time.monotonic()
    res = collect_linux(str(root), {"desktop": {"names": ["wechat.desktop"]}}, no_command, source_timeout=1)
    assert time.monotonic() - start < 10
    assert res["incomplete"] == {"desktop": "stopped after its time budget of 1 s"}


def test_zero_means_no_budget(tmp_path, clock):
    root = tree(tmp_path)
    clock.now = 10 ** 9
    res = collect_linux(str(root), {"dpkg": {"names": ["wechat"]}}, no_command, source_timeout=0)
    assert res["incomplete"] == {}


def test_a_parser_of_a_huge_status_file_checks_the_budget(tmp_path, clock, monkeypatch):
    root = tree(tmp_path)
    stanzas = "".join("Package: p%d\nStatus: install ok installed\n\n" % i for i in range(5000))
    (root / "var/lib/dpkg/status").write_text(stanzas + "Package: wechat\nStatus: install ok installed\n")
    ticks = []
    real_check = Budget.check

    def check(self):
        ticks.append(1)
        if len(ticks) == 2000:
            clock.now += 3600
        return real_check(self)

    monkeypatch.setattr(Budget, "check", check)
    res = collect_linux(str(root), {"dpkg": {"names": ["wechat"]}}, no_command)
    assert res["incomplete"] == {"dpkg": "stopped after its time budget of 60 s"}
    assert res["records"]["dpkg"] == []


def test_rpm_runs_under_timeout_with_the_time_left(tmp_path, clock, monkeypatch):
    root = tree(tmp_path)
    (root / "var/lib/rpm").mkdir(parents=True)
    (root / "var/lib/rpm/rpmdb.sqlite").write_bytes(b"")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "timeout").write_text("#!/bin/sh\n")
    (bindir / "timeout").chmod(0o755)
    monkeypatch.setattr(_collect_loop, "TIMEOUT_DIRS", (str(bindir),))
    calls = []

    def run(argv, **kwargs):
        calls.append(argv)
        clock.now += 45      # rpm hangs on a lock: timeout kills it when the source's time is up
        return 124, "", ""

    res = collect_linux(str(root), {"rpm": {"names": ["wechat"]}}, run, rpm_bin="/usr/bin/rpm", source_timeout=40)
    assert calls == [[str(bindir / "timeout"), "-k", "5", "40", "/usr/bin/rpm", "--root", str(root), "--dbpath",
                      "/var/lib/rpm", "-qa", "--qf", "%{NAME}\\t%{EPOCH}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{VENDOR}\\n"]]
    assert res["incomplete"] == {"rpm": "stopped after its time budget of 40 s"}
    assert res["available"]["rpm"] is False


def test_a_listing_cut_at_its_cap_makes_the_source_incomplete(tmp_path, monkeypatch):
    # 30 desktop entries, listings capped at 10 (a user's flood of files in a real directory).
    root = tree(tmp_path)
    real_init = _rootfs.RootFS.__init__

    def small(self, root="/", max_entries=10, budget=None):
        real_init(self, root, 10, budget)

    monkeypatch.setattr(_rootfs.RootFS, "__init__", small)
    res = collect_linux(str(root), {"desktop": {"names": ["wechat.desktop"]}}, no_command)
    assert res["incomplete"] == {
        "desktop": "/usr/share/applications has more than 10 entries: only the first 10 were examined "
                   "(desktop entries)"}


# -- processes ---------------------------------------------------------------------------------------
def proc(base, pid, comm, exe=None, cmdline=b""):
    d = base / str(pid)
    d.mkdir()
    (d / "comm").write_bytes(comm + b"\n")
    (d / "cmdline").write_bytes(cmdline)
    if exe is not None:
        os.symlink(exe, str(d / "exe"))


@pytest.fixture
def proc_tree(tmp_path, monkeypatch):
    p = tmp_path / "proc"
    p.mkdir()
    proc(p, 1, b"systemd", "/usr/lib/systemd/systemd")
    proc(p, 77, b"bash", "/usr/bin/bash", b"-bash\0")
    proc(p, 4242, b"wechat", "/opt/wechat/wechat", b"/opt/wechat/wechat\0")
    proc(p, 5000, b"wechat-launcher", "/opt/wechat/wechat-launcher-helper", b"")
    denied = set()
    real_readlink = os.readlink

    def readlink(path, *a, **kw):
        if os.path.basename(os.path.dirname(str(path))) in denied and str(path).endswith("/exe"):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_readlink(path, *a, **kw)

    monkeypatch.setattr(os, "readlink", readlink)
    return p, denied


QUERY = compile_query({"process": {"names": ["wechat", "wechat-launcher-helper"], "regex": ["kesl.*"]}})


def test_a_banned_client_whose_executable_root_cannot_read_is_reported(proc_tree):
    p, denied = proc_tree
    denied.update(["77", "4242"])
    budget = Budget()
    budget.begin("process")
    warnings = []
    ok, recs, examined = _procfs.list_processes(QUERY, {}, proc_dir=str(p), warnings=warnings, budget=budget)
    assert warnings == [
        "2 process(es) could not be examined: their executable (/proc/<pid>/exe) or /proc entry is not readable "
        "(no CAP_SYS_PTRACE, or hidepid); they were checked by comm and argv[0] only; 1 of them may be a banned "
        "program and could not be confirmed: wechat (pid 4242)"]
    assert budget.incomplete == {"process": warnings[0]}
    rec = [r for r in recs if r["pid"] == 4242][0]
    assert "exe" not in rec, "no executable was invented"


def test_unrelated_unexaminable_processes_are_counted_but_leave_the_source_complete(proc_tree):
    p, denied = proc_tree
    denied.update(["1", "77"])
    budget = Budget()
    budget.begin("process")
    warnings = []
    _procfs.list_processes(QUERY, {}, proc_dir=str(p), warnings=warnings, budget=budget)
    assert warnings == [
        "2 process(es) could not be examined: their executable (/proc/<pid>/exe) or /proc entry is not readable "
        "(no CAP_SYS_PTRACE, or hidepid); they were checked by comm and argv[0] only"]
    assert budget.incomplete == {}


def test_a_comm_cut_at_15_characters_that_starts_a_banned_name_is_suspect(proc_tree):
    p, denied = proc_tree
    denied.add("5000")
    budget = Budget()
    budget.begin("process")
    warnings = []
    _procfs.list_processes(QUERY, {}, proc_dir=str(p), warnings=warnings, budget=budget)
    assert "wechat-launcher (pid 5000)" in budget.incomplete["process"]


def test_a_proc_entry_hidden_by_hidepid_1_is_suspect(proc_tree, monkeypatch):
    p, dummy = proc_tree
    real_read = _procfs._read

    def read(path, limit=4096):
        if "/4242/" in path:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_read(path, limit)

    monkeypatch.setattr(_procfs, "_read", read)
    budget = Budget()
    budget.begin("process")
    _procfs.list_processes(QUERY, {}, proc_dir=str(p), warnings=[], budget=budget)
    assert "pid 4242 (not readable)" in budget.incomplete["process"]


@pytest.mark.parametrize("capeff, expected", [("0000000000000000", True), ("000001ffffffffff", False)])
def test_hidepid_without_cap_sys_ptrace_makes_the_process_source_incomplete(proc_tree, capeff, expected):
    p, dummy = proc_tree
    (p / "self").mkdir()
    (p / "self/mountinfo").write_text(
        "22 1 0:5 / / rw - ext4 /dev/sda1 rw\n"
        "25 22 0:21 / %s rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw,hidepid=invisible\n"
        % os.path.realpath(str(p)))
    (p / "self/status").write_text("Name:\tpython3\nCapEff:\t%s\n" % capeff)
    budget = Budget()
    budget.begin("process")
    warnings = []
    _procfs.list_processes(QUERY, {}, proc_dir=str(p), warnings=warnings, budget=budget)
    hidden = ("%s is mounted with hidepid=invisible and the collector has neither CAP_SYS_PTRACE nor the mount's "
              "group: processes of other users may be hidden" % p)
    assert (budget.incomplete == {"process": hidden}) is expected
    assert (hidden in warnings) is expected


def test_the_linux_collector_reports_the_process_source(tmp_path, proc_tree):
    p, denied = proc_tree
    denied.add("4242")
    res = collect_linux("/", {"process": {"names": ["wechat"]}}, no_command, sources=["process"], proc_dir=str(p))
    assert sorted(res["incomplete"]) == ["process"]
    assert "wechat (pid 4242)" in res["incomplete"]["process"]


# -- the controller: host status and every report format --------------------------------------------
def collector_result(records=None, incomplete=None):
    return {"os": "linux", "root": "/", "collector_version": "1", "available": {"dpkg": True, "proc": True},
            "incomplete": incomplete if incomplete is not None else {}, "counts": {"dpkg": 900, "process": 200},
            "users": [], "records": records or {}, "tools": {}, "reboot_required": False, "local_fact": None,
            "collector_warnings": ["1 process(es) could not be examined: ..."]}


def run_scan(result, args=None):
    calls, execute = action_runner.recording(lambda **kw: json.loads(json.dumps(result)))
    action = action_runner.make_action(scan_action, execute, args=dict(args or {}))
    out = action.run(task_vars={"inventory_hostname": "h1", "ansible_connection": "ssh"})
    return out, calls


PROCESS_REASON = ("1 process(es) could not be examined: ...; 1 of them may be a banned program and could not be "
                  "confirmed: wechat (pid 4242)")


def schema():
    with open(os.path.join(ROOT, "docs", "report.schema.json"), encoding="utf-8") as handle:
        return jsonschema.Draft202012Validator(json.load(handle))


def test_an_incomplete_source_that_could_hold_wechat_makes_the_host_failed(tmp_path):
    out, calls = run_scan(collector_result(incomplete={"process": PROCESS_REASON}), {"record_failures": True})
    assert calls[0][1]["source_timeout"] == 60
    assert out.get("failed") is not True
    assert out["status"] == "failed"
    assert out["error"] == ("scan incomplete, compliance unknown: process: %s (docs/usage.md, \"Incomplete scans\")"
                            % PROCESS_REASON)
    assert out["incomplete"] == {"process": PROCESS_REASON}
    assert out["ansible_facts"]["banned_software"]["status"] == "failed"

    # The registered result is the host's result for the report: every format says "not a pass".
    clean = dict((k, v) for k, v in out.items() if k != "error")
    report = build_report({"h1": out, "h2": dict(clean, status="compliant", incomplete={})}, "2026.1")
    assert report["hosts"]["h1"]["status"] == "failed"
    assert report["hosts"]["h1"]["incomplete"] == {"process": PROCESS_REASON}
    assert report["summary"]["failed"] == 1 and report["summary"]["compliant"] == 1
    assert not list(schema().iter_errors(json.loads(json.dumps(report))))
    assert any(line.startswith("h1") and "failed" in line and "scan incomplete" in line for line in summary_lines(report))
    assert "scan incomplete, compliance unknown: process" in render_csv(report)
    junit = render_junit(report).decode("utf-8") if isinstance(render_junit(report), bytes) else render_junit(report)
    assert 'type="failed"' in junit and "scan incomplete" in junit
    assert "scan incomplete, compliance unknown" in render_html(report)


def test_without_record_failures_the_task_fails_with_the_reason():
    out, dummy = run_scan(collector_result(incomplete={"process": PROCESS_REASON}))
    assert out["failed"] is True
    assert out["msg"].startswith("scan incomplete, compliance unknown: process: ")


def test_an_incomplete_source_no_entry_looks_at_keeps_the_host_compliant():
    # Only the Kaspersky entries: none of them has a flatpak signature.
    out, dummy = run_scan(collector_result(incomplete={"flatpak": "stopped after its time budget of 60 s",
                                                       "ownership": "stopped after its time budget of 60 s"}),
                          {"policies": ["au-pspf-002-2025-kaspersky"], "record_failures": True})
    assert out["status"] == "compliant"
    assert "error" not in out
    assert out["incomplete"] == {"flatpak": "stopped after its time budget of 60 s",
                                 "ownership": "stopped after its time budget of 60 s"}


def test_a_finding_keeps_the_host_non_compliant_whatever_is_incomplete():
    records = {"dpkg": [{"name": "wechat", "scope": "machine", "path": "/var/lib/dpkg/status", "state": "installed"}]}
    out, dummy = run_scan(collector_result(records, {"process": PROCESS_REASON}), {"record_failures": True})
    assert out["status"] == "non_compliant"
    assert out["incomplete"] == {"process": PROCESS_REASON}


def test_a_malformed_marker_is_a_warning_not_a_crash():
    out, dummy = run_scan(collector_result(incomplete=["process"]), {"record_failures": True})
    assert out["status"] == "compliant"
    assert "collector returned list instead of a mapping for 'incomplete'; ignored" in out["scan_warnings"]


def test_source_timeout_is_read_from_the_role_variable():
    out, calls = run_scan(collector_result(), {"source_timeout": 5})
    assert calls[0][1]["source_timeout"] == 5


def test_a_remediation_verified_by_an_incomplete_scan_is_not_remediated():
    records = {"dpkg": [{"name": "wechat", "scope": "machine", "path": "/var/lib/dpkg/status", "arch": "amd64",
                         "version": "1.0"}]}
    seen = []

    def host(module_name=None, module_args=None, task_vars=None, **kwargs):
        seen.append(module_name)
        if module_name == "govsec.banned_software.collect":
            first = seen.count(module_name) == 1
            after = {"dpkg": "stopped after its time budget of 60 s"}
            result = collector_result(records if first else {}, {} if first else after)
            result["tools"] = {"dpkg": "/usr/bin/dpkg"}
            return result
        steps = module_args["steps"]
        return {"changed": True, "steps": [{"id": s["id"], "kind": s["kind"], "action": s.get("action"),
                                            "status": "changed", "rc": 0, "msg": ""} for s in steps]}

    action = action_runner.make_action(remediate_action, host, {"prevent_reinstall": False})
    out = action.run(task_vars={"inventory_hostname": "h1", "ansible_connection": "ssh"})
    assert seen.count("govsec.banned_software.collect") == 2
    assert out["status"] == "failed"
    assert out["error"].startswith("scan incomplete, compliance unknown: dpkg: stopped after its time budget")
    facts = out["ansible_facts"]["banned_software"]
    assert facts["status"] == "failed" and facts["incomplete"] == {"dpkg": "stopped after its time budget of 60 s"}
    report = build_report({"h1": facts}, "2026.1")
    assert report["hosts"]["h1"]["status"] == "failed"
    assert [f["outcome"] for f in report["hosts"]["h1"]["findings"]] == ["removed"]
    assert not list(schema().iter_errors(json.loads(json.dumps(report))))


# -- a Windows image: keys cut at their cap -----------------------------------------------------------
def test_a_registry_key_cut_at_its_cap_makes_registry_incomplete(tmp_path, monkeypatch):
    pytest.importorskip("regipy")
    from ansible_collections.govsec.banned_software.plugins.module_utils._collect import windows_image as cwi
    from ansible_collections.govsec.banned_software.tests.unit.helpers import hive as H
    if H.hivexsh() is None:
        pytest.skip("hivexsh is needed to write test hives")
    root = H.make_windows_image(tmp_path / "win")
    monkeypatch.setattr(cwi, "MAX_SUBKEYS", 1)
    res = cwi.collect_windows_image(str(root), {"registry": {"names": ["WeChat"], "casefold": True}},
                                    sources=None)
    assert "registry" in res["incomplete"]
    assert "subkeys: only the first 1 were read" in res["incomplete"]["registry"]


def test_budget_reasons_are_readable():
    budget = Budget(2.5)
    budget.begin("x")
    budget.deadline = budget.clock() - 1
    with pytest.raises(_collect_budget.SourceTimeout):
        budget.check()
    assert budget.incomplete == {"x": "stopped after its time budget of 2.5 s"}
