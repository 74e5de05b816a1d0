# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The summary callback: what it records from task results and the lines it prints."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.govsec.banned_software.plugins.callback.summary import CallbackModule, summarise


class Task:
    def __init__(self, action):
        self.resolved_action = action
        self.action = action


class Host:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class Result:
    def __init__(self, host, action, result):
        self._host = Host(host)
        self._task = Task(action)
        self._result = result


class Display:
    def __init__(self):
        self.lines = []

    def banner(self, text):
        self.lines.append("== " + text)

    def display(self, text, **kwargs):
        self.lines.append(text)


def f(eid, product, **kw):
    return dict({"id": eid, "product": product, "exempt": False}, **kw)


def test_callback_collects_results_and_prints_the_summary():
    cb = CallbackModule()
    cb._display = Display()
    cb.v2_runner_on_ok(Result("web01", "govsec.banned_software.remediate", {
        "status": "remediated", "findings": [f("wechat", "WeChat (Weixin)", outcome="removed")],
        "remediation": {"steps": [1]}}))
    cb.v2_runner_on_failed(Result("web02", "govsec.banned_software.remediate", {
        "status": "non_compliant", "msg": "still there",
        "findings": [f("wechat", "WeChat (Weixin)", outcome="failed"), f("kesl", "Kaspersky KESL", exempt=True)],
        "remediation": {"steps": [1]}}))
    cb.v2_runner_on_unreachable(Result("db01", "govsec.banned_software.remediate", {"msg": "ssh: timeout"}))
    cb.v2_runner_on_failed(Result("db02", "govsec.banned_software.remediate", {"msg": "module failure"}))
    cb.v2_runner_on_ok(Result("localhost", "ansible.builtin.debug", {"msg": "ignored"}))
    cb.v2_runner_on_ok(Result("localhost", "govsec.banned_software.report", {
        "summary": {"hosts": 4, "compliant": 0, "non_compliant": 1, "unreachable": 1, "failed": 1},
        "report_path": "/tmp/r/report.json"}))
    cb.v2_playbook_on_stats(None)
    assert cb._display.lines == [
        "== GOVSEC BANNED SOFTWARE",
        "BANNED SOFTWARE SUMMARY",
        "hosts scanned: 2 (non_compliant 1, remediated 1)",
        "findings by product:",
        "  Kaspersky KESL                              1 finding(s) on 1 host(s), 1 exempt",
        "  WeChat (Weixin)                             2 finding(s) on 2 host(s)",
        "removals: 1 removed, 1 failed",
        "UNREACHABLE: db01 (ssh: timeout)",
        "FAILED: db02 (module failure)",
        "fleet report: 4 host(s), 0 compliant, 1 non-compliant, 1 unreachable, 1 failed",
        "report: /tmp/r/report.json",
    ]


def test_audit_without_findings_and_nothing_printed_without_our_tasks():
    assert summarise({"h": {"name": "h", "status": "compliant", "findings": []}}, {}) == [
        "BANNED SOFTWARE SUMMARY", "hosts scanned: 1 (compliant 1)", "findings by product: none"]
    cb = CallbackModule()
    cb._display = Display()
    cb.v2_runner_on_ok(Result("h", "ansible.builtin.ping", {}))
    cb.v2_playbook_on_stats(None)
    assert cb._display.lines == []
    assert (CallbackModule.CALLBACK_TYPE, CallbackModule.CALLBACK_NEEDS_ENABLED) == ("notification", True)


def test_scan_results_recorded_as_unreachable_or_failed_are_problems():
    """With record_failures the scan task is ok but its result says unreachable/failed."""
    cb = CallbackModule()
    cb._display = Display()
    cb.v2_runner_on_ok(Result("lap3", "govsec.banned_software.scan", {
        "status": "unreachable", "findings": [], "error": "Failed to connect to the host via ssh"}))
    cb.v2_runner_on_ok(Result("lap4", "govsec.banned_software.scan", {
        "status": "failed", "findings": [], "error": "collector failed: python3: not found"}))
    cb.v2_runner_on_ok(Result("web1", "govsec.banned_software.scan", {"status": "compliant", "findings": []}))
    cb.v2_playbook_on_stats(None)
    assert "hosts scanned: 1 (compliant 1)" in cb._display.lines
    assert "UNREACHABLE: lap3 (Failed to connect to the host via ssh)" in cb._display.lines
    assert "FAILED: lap4 (collector failed: python3: not found)" in cb._display.lines
