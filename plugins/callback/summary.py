# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: summary
type: notification
short_description: Banned-software summary at the end of a run (terminal and AWX job output)
version_added: 0.1.0
author: govsec.banned_software maintainers (@govsec)
description:
  - At the end of a playbook run prints the hosts scanned by C(govsec.banned_software.scan) or
    C(govsec.banned_software.remediate) with their status, the findings by product, the removals and
    the failures, and hosts that were unreachable or whose scan failed.
  - Reads the results of those tasks as they come back, so it works with any playbook that uses
    them, and adds the fleet totals of a C(govsec.banned_software.report) or
    C(govsec.banned_software.merge_reports) task when one ran.
  - Works next to any stdout callback (the default one in a terminal, AWX's in a job); AWX shows the
    lines in the job output.
  - Enable it with C(callbacks_enabled = govsec.banned_software.summary) in the C([defaults]) section
    of C(ansible.cfg), or C(ANSIBLE_CALLBACKS_ENABLED=govsec.banned_software.summary).
requirements:
  - enable in configuration
"""

from ansible.plugins.callback import CallbackBase

SCAN_ACTIONS = ("govsec.banned_software.scan", "govsec.banned_software.remediate")
REPORT_ACTIONS = ("govsec.banned_software.report", "govsec.banned_software.merge_reports")
GONE = ("removed", "already_absent")


def _action(task):
    return getattr(task, "resolved_action", None) or getattr(task, "action", "")


def summarise(hosts, problems, report=None):
    """The summary lines for ``hosts`` ({name: {status, findings}}), ``problems`` ({name: (status, msg)})
    and an optional report task result (its ``summary``)."""
    lines = ["BANNED SOFTWARE SUMMARY"]
    scanned = dict((name, host) for name, host in hosts.items() if name not in problems)
    statuses = {}
    for host in scanned.values():
        statuses[host["status"]] = statuses.get(host["status"], 0) + 1
    lines.append("hosts scanned: %d (%s)" % (len(scanned), ", ".join(
        "%s %d" % (k, statuses[k]) for k in sorted(statuses)) or "none"))
    products = {}
    removed = failed = 0
    for host in scanned.values():
        for finding in host["findings"]:
            if not isinstance(finding, dict):
                continue
            product = products.setdefault(str(finding.get("product") or finding.get("id")), [0, 0, set(), set()])
            product[0] += 1
            extended = finding.get("applied_by_extension")
            if isinstance(extended, list) and finding.get("exempt") is not True:
                product[3].update(str(p) for p in extended)
            product[1] += 1 if finding.get("exempt") is True else 0
            product[2].add(host["name"])
            if finding.get("outcome") == "removed":
                removed += 1
            elif finding.get("outcome") == "failed":
                failed += 1
    if products:
        lines.append("findings by product:")
        for name in sorted(products):
            count, exempt, on, extended = products[name]
            lines.append("  %-40s %4d finding(s) on %d host(s)%s%s" % (
                name[:40], count, len(on), (", %d exempt" % exempt) if exempt else "",
                ("; applied by extension: %s" % ", ".join(sorted(extended))) if extended else ""))
    else:
        lines.append("findings by product: none")
    if any(host.get("remediation") for host in scanned.values()):
        lines.append("removals: %d removed, %d failed" % (removed, failed))
    for name in sorted(problems):
        status, msg = problems[name]
        lines.append("%s: %s%s" % (status.upper(), name, (" (%s)" % msg[:200]) if msg else ""))
    if report:
        s = report.get("summary") or {}
        lines.append("fleet report: %s host(s), %s compliant, %s non-compliant, %s unreachable, %s failed"
                     % tuple(s.get(k, "?") for k in ("hosts", "compliant", "non_compliant", "unreachable", "failed")))
        if report.get("report_path"):
            lines.append("report: %s" % report["report_path"])
    return lines


class CallbackModule(CallbackBase):
    """Collect the banned-software task results and print a summary at the end of the run."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "govsec.banned_software.summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super(CallbackModule, self).__init__()
        self._hosts = {}
        self._problems = {}
        self._report = None

    def _record(self, result, problem=None):
        action = _action(result._task)
        name = result._host.get_name()
        if action in REPORT_ACTIONS and problem is None:
            self._report = dict(result._result)
            return
        if action not in SCAN_ACTIONS:
            return
        if problem:
            self._problems[name] = (problem, str(result._result.get("msg") or ""))
            return
        res = result._result
        if res.get("status") in ("unreachable", "failed") and res.get("error"):
            # A scan with record_failures reports an unreachable host or a failed collector as its result.
            self._problems[name] = (res["status"], str(res["error"]))
            self._hosts.pop(name, None)
            return
        self._problems.pop(name, None)
        self._hosts[name] = {"name": name, "status": res.get("status") or "unknown",
                             "findings": res.get("findings") if isinstance(res.get("findings"), list) else [],
                             "remediation": res.get("remediation")}

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        # A remediation whose verification still finds software fails the host but carries findings.
        if isinstance(result._result.get("findings"), list):
            self._record(result)
        else:
            self._record(result, problem="failed")

    def v2_runner_on_unreachable(self, result):
        self._record(result, problem="unreachable")

    def v2_playbook_on_stats(self, stats):
        if not self._hosts and not self._problems and self._report is None:
            return
        self._display.banner("GOVSEC BANNED SOFTWARE")
        for line in summarise(self._hosts, self._problems, self._report):
            self._display.display(line)
