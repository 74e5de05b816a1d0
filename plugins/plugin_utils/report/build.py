# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: build the fleet report (report.json) and its human summary from per-host results.

Per-host results are the hosts' ``banned_software_host_report``: the registered result of the scan, remediate
or block task (the host result's keys at the top level, its warnings as ``scan_warnings``), a role's record of a
failure ``{"status": "failed", "findings": [], "error": "..."}``, or Ansible's ``{"unreachable": true, "msg"}``.
A host without a usable result is never counted as compliant.
"""

import datetime

REPORT_SCHEMA = 1
STATUSES = ("compliant", "non_compliant", "unreachable", "failed", "remediated")
SCANNED = ("compliant", "non_compliant", "remediated")
GONE = ("removed", "already_absent")
HOST_KEYS = ("status", "findings", "error", "os", "scanned_at", "warnings", "catalog_version", "policies",
             "remediation", "entries_enabled", "reinstalled", "last_remediation_at", "blocks", "incomplete")
REINSTALLED = "reinstalled"
# The ``changes`` section (report/history.py): when the previous report was generated, then host lists and
# finding lists.
CHANGE_KEYS = ("previous_generated_at", "new_non_compliant", "resolved", "reinstalled", "new_findings",
               "removed_findings", "newly_unreachable")


EXTENSION_LABEL = "applied by extension"


def extension_policies(finding):
    """The policy ids a finding's entry applies beyond their wording (``applied_by_extension``)."""
    value = finding.get("applied_by_extension")
    return [str(p) for p in value] if isinstance(value, list) else []


def policy_labels(finding):
    """A finding's policies as text: ``id`` when its wording requires the removal, ``id (applied by
    extension)`` when the collection applies the measure beyond its wording (docs/catalog.md)."""
    extended = set(extension_policies(finding))
    policies = finding.get("policies") if isinstance(finding.get("policies"), list) else []
    return [("%s (%s)" % (p, EXTENSION_LABEL)) if str(p) in extended else str(p) for p in policies]


def reinstalled_findings(findings):
    """The findings found again after a remediation removed them (``drift``) that are not exempt:
    what makes a host "reinstalled" (an exempt one is marked but accepted)."""
    return [f for f in findings if f.get("drift") == REINSTALLED and f.get("exempt") is not True
            and isinstance(f.get("key"), str)]


def block_summary(blocks):
    """One line for a host's reinstall blocks (the ``blocks`` of the host result), "" without them.

    ``blocks (present): applied 2, not_supported 1, failed 1 (dnf_excludepkgs); 2 not blockable``
    """
    if not isinstance(blocks, dict):
        return ""
    items = [i for i in blocks.get("items") or [] if isinstance(i, dict)]
    if blocks.get("prevent_reinstall") is False and not items:
        return "blocks: off"
    states = {}
    failed = set()
    for item in items:
        state = str(item.get("state"))
        states[state] = states.get(state, 0) + 1
        if state == "failed":
            failed.add(str(item.get("mechanism")))
    parts = []
    for state in sorted(states):
        text = "%s %d" % (state, states[state])
        if state == "failed":
            text += " (%s)" % ", ".join(sorted(failed))
        parts.append(text)
    not_blockable = [n for n in blocks.get("not_blockable") or [] if isinstance(n, dict)]
    line = "blocks (%s): %s" % (blocks.get("mode") or "present", ", ".join(parts) or "none")
    if not_blockable:
        line += "; %d not blockable" % len(not_blockable)
    return line


def scanned_status(findings, remediation_ran):
    """The status a scanned host's findings imply (a host result must agree with its findings)."""
    live = [f for f in findings if f.get("exempt") is not True]
    if not live:
        return "compliant"
    if remediation_ran and all(f.get("outcome") in GONE for f in live):
        return "remediated"
    return "non_compliant"


def _host_entry(result):
    """Normalise one host's result; anything unexpected becomes ``failed``."""
    if not isinstance(result, dict):
        return {"status": "failed", "findings": [], "error": "no scan result for this host"}
    status = result.get("status")
    findings = result.get("findings")
    if status is None and result.get("unreachable") is True:
        # A task result registered for a host Ansible could not reach.
        return {"status": "unreachable", "findings": [], "error": result.get("msg") or "host unreachable"}
    if status not in STATUSES:
        return {"status": "failed", "findings": [],
                "error": result.get("error") or "unknown status %r" % (status,)}
    if status in SCANNED and not (
            isinstance(findings, list) and all(isinstance(f, dict) for f in findings)):
        # A scanned host must list its findings; garbage never counts as compliant.
        return {"status": "failed", "findings": [],
                "error": "malformed scan result (status %s without a list of findings)" % status}
    if not isinstance(findings, list):
        findings = []
    findings = [f for f in findings if isinstance(f, dict)]
    entry = dict((k, result[k]) for k in HOST_KEYS if k in result)
    if isinstance(result.get("scan_warnings"), list):
        # A registered task result carries the host's warnings as scan_warnings; its "warnings" are Ansible's
        # record of the task's own warnings (ansible-core 2.19: objects, not text), never the host's.
        entry["warnings"] = result["scan_warnings"]
    if "warnings" in entry:
        warnings = entry["warnings"] if isinstance(entry["warnings"], list) else []
        entry["warnings"] = [w for w in warnings if isinstance(w, str)]
    entry["findings"] = findings
    for key, kind in (("blocks", dict), ("last_remediation_at", str), ("incomplete", dict)):
        if key in entry and not isinstance(entry[key], kind):
            del entry[key]
    if "incomplete" in entry:
        entry["incomplete"] = dict((k, v) for k, v in entry["incomplete"].items()
                                   if isinstance(k, str) and isinstance(v, str))
    # The host's reinstalled keys always agree with its findings (a merged or hand-made result too).
    entry.pop("reinstalled", None)
    if status in SCANNED and ("reinstalled" in result or any(f.get("drift") == REINSTALLED for f in findings)):
        entry["reinstalled"] = sorted(set(f["key"] for f in reinstalled_findings(findings)))
    if status in SCANNED:
        remediation = result.get("remediation")
        ran = isinstance(remediation, dict) and not remediation.get("checked_only")
        entry["status"] = scanned_status(findings, ran)
        if isinstance(remediation, dict):
            entry["reboot_required"] = remediation.get("reboot_required") is True
    return entry


def build_report(host_results, catalog_version, generated_at=None, extra=None):
    """Return the report dict for ``{inventory_hostname: result}``."""
    generated_at = generated_at or datetime.datetime.now(datetime.timezone.utc)
    hosts = {}
    summary = dict((s, 0) for s in STATUSES)
    by_product = {}
    findings_total = 0
    exempt_total = 0
    outcomes = {}
    reboot_pending = []
    reinstalled_hosts = 0
    reinstalled_total = 0
    for name in sorted(host_results):
        entry = _host_entry(host_results[name])
        hosts[name] = entry
        summary[entry["status"]] += 1
        host_products = set()
        for finding in entry["findings"]:
            findings_total += 1
            product_id = finding.get("id")
            product_id = product_id if isinstance(product_id, str) and product_id else "?"
            host_products.add(product_id)
            product = by_product.setdefault(product_id, {
                "product": finding.get("product"), "vendor": finding.get("vendor"),
                "hosts": 0, "findings": 0, "exempt": 0})
            product["findings"] += 1
            if finding.get("exempt") is True:
                exempt_total += 1
                product["exempt"] += 1
            outcome = finding.get("outcome")
            if isinstance(outcome, str):
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
        if entry.get("reboot_required"):
            reboot_pending.append(name)
        if entry.get("reinstalled"):
            reinstalled_hosts += 1
            reinstalled_total += len(reinstalled_findings(entry["findings"]))
        for product_id in host_products:
            by_product[product_id]["hosts"] += 1
    summary["hosts"] = len(hosts)
    summary["findings"] = findings_total
    summary["exempt_findings"] = exempt_total
    if outcomes:
        summary["outcomes"] = outcomes
    summary["reboot_required"] = reboot_pending
    summary["reinstalled_hosts"] = reinstalled_hosts
    summary["reinstalled_findings"] = reinstalled_total
    report = {
        "schema": REPORT_SCHEMA,
        "generated_at": generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "catalog": {"version": catalog_version},
        "summary": summary,
        "products": by_product,
        "hosts": hosts,
    }
    if extra:
        report.update(extra)
    return report


def _cell(text, width):
    text = "".join(c if c.isprintable() else "?" for c in str(text))
    return text if len(text) <= width else text[:width - 1] + "~"


def summary_lines(report, max_rows=50):
    """A short fixed-width table for the end of a play: problems first, then totals."""
    order = {"unreachable": 0, "failed": 1, "non_compliant": 2, "remediated": 3, "compliant": 4}
    rows = sorted(report["hosts"].items(), key=lambda kv: (order.get(kv[1]["status"], 9), kv[0]))
    lines = ["%-30s %-14s %8s %6s  %s" % ("HOST", "STATUS", "FINDINGS", "EXEMPT", "PRODUCTS / ERROR")]
    for name, host in rows[:max_rows]:
        findings = [f for f in host["findings"] if isinstance(f, dict)]
        exempt = sum(1 for f in findings if f.get("exempt") is True)
        detail = ", ".join(sorted(set(str(f.get("id")) for f in findings))) or host.get("error") or "-"
        outcomes = {}
        for f in findings:
            if isinstance(f.get("outcome"), str):
                outcomes[f["outcome"]] = outcomes.get(f["outcome"], 0) + 1
        if outcomes:
            detail += " (%s)" % ", ".join("%s %d" % (k, outcomes[k]) for k in sorted(outcomes))
        if host.get("reboot_required"):
            detail += " [reboot required]"
        if host.get("reinstalled"):
            # first, so that the cell's width never cuts it off
            detail = "[reinstalled %d] %s" % (len(host["reinstalled"]), detail)
        row = (_cell(name, 30), host["status"], len(findings), exempt, _cell(detail, 60))
        lines.append("%-30s %-14s %8d %6d  %s" % row)
        blocks = block_summary(host.get("blocks"))
        if blocks:
            lines.append("%-30s %s" % ("", _cell(blocks, 100)))
    if len(rows) > max_rows:
        lines.append("... %d more host(s) in report.json" % (len(rows) - max_rows))
    s = report["summary"]
    remediated = ", %d remediated" % s["remediated"] if s.get("remediated") else ""
    extended = sorted(set(p for host in report["hosts"].values() for f in host["findings"] if isinstance(f, dict)
                          and f.get("exempt") is not True for p in extension_policies(f)))
    if extended:
        lines.append("APPLIED BY EXTENSION (beyond the measure's wording; docs/catalog.md): %s"
                     % _cell(", ".join(extended), 200))
    lines.append("TOTAL %d host(s): %d compliant%s, %d non-compliant, %d unreachable, %d failed; "
                 "%d finding(s), %d exempt" % (s["hosts"], s["compliant"], remediated, s["non_compliant"],
                                               s["unreachable"], s["failed"], s["findings"], s["exempt_findings"]))
    if s.get("outcomes"):
        lines.append("OUTCOMES " + ", ".join("%s %d" % (k, s["outcomes"][k]) for k in sorted(s["outcomes"])))
    if s.get("reinstalled_hosts"):
        again = [name for name, host in rows if host.get("reinstalled")]
        lines.append("REINSTALLED %d finding(s) on %d host(s) after a remediation removed them: %s"
                     % (s["reinstalled_findings"], s["reinstalled_hosts"], _cell(", ".join(again), 200)))
    if s.get("reboot_required"):
        pending = s["reboot_required"]
        lines.append("REBOOT REQUIRED on %d host(s): %s" % (len(pending), _cell(", ".join(pending), 200)))
    lines.extend(change_lines(report.get("changes")))
    return lines


def has_changes(changes):
    """Whether a ``changes`` section names any host or finding."""
    return isinstance(changes, dict) and any(changes.get(key) for key in CHANGE_KEYS[1:])


def change_lines(changes, width=200):
    """Lines for the summary table: what changed since the previous run, or that nothing did."""
    if not isinstance(changes, dict):
        return []
    since = changes.get("previous_generated_at")
    if not has_changes(changes):
        return ["CHANGES since %s: none" % since]
    parts = []
    labels = (("new_non_compliant", "new non-compliant"), ("resolved", "resolved"), ("reinstalled", "reinstalled"),
              ("newly_unreachable", "newly unreachable"))
    lines = ["CHANGES since %s:" % since]
    for key, label in labels:
        hosts = changes.get(key) or []
        if hosts:
            text = _cell(", ".join(hosts), width)
            lines.append("  %s %d: %s" % (label, len(hosts), text))
    for key, label in (("new_findings", "new findings"), ("removed_findings", "removed findings")):
        items = changes.get(key) or []
        if items:
            parts.append("%s %d" % (label, len(items)))
    if parts:
        lines.append("  " + ", ".join(parts))
    return lines
