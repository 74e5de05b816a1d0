# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: evidence per policy, the statement an auditor asks for, from the report's per-host data.

``policy_evidence(report, policies, selected)`` gives one row per selected policy: its record (title,
jurisdiction, instrument, date, URL, deadline when the record has one), the hosts in scope and how many
are compliant, non-compliant, unreachable or failed, the compliant percentage, and the exemptions under
it (reason, approver, expiry, expired ones flagged).

* A host is in scope of a policy when its scan selected the policy (the host's ``policies``, ``all``
  resolved with the catalog); a host without a selection (unreachable, failed) is in scope of every
  policy selected in the run: it is never left out of a statement.
* A scanned host in scope is non-compliant under a policy when it has a finding of that policy that is
  not exempt and not removed by the run's remediation; compliant otherwise. Unreachable and failed hosts
  are counted as such, never as compliant.
* An exemption is listed under the policies of the finding it covers, once per host and finding.
"""

import csv
import io

from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import GONE, SCANNED
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.csv_format import neutralise

RECORD_KEYS = ("title", "jurisdiction", "instrument", "date", "url", "deadline", "application")
EVIDENCE_FILE = "policy-evidence.csv"
# The order is a contract: new columns are appended, never inserted or renamed.
CSV_COLUMNS = ("row", "policy", "title", "jurisdiction", "instrument", "date", "url", "deadline", "hosts in scope",
               "compliant", "non-compliant", "unreachable", "failed", "compliant %", "exemptions",
               "expired exemptions", "host", "entry", "product", "finding", "exemption reason", "approved by",
               "expires", "expired")


def _selected_ids(entry, resolve):
    value = entry.get("policies")
    if not isinstance(value, list) or not value:
        return None
    ids = [p for p in value if isinstance(p, str)]
    return set(resolve(ids)) if resolve else set(p for p in ids if p != "all")


def _ran(entry):
    remediation = entry.get("remediation")
    return isinstance(remediation, dict) and not remediation.get("checked_only")


def policy_evidence(report, policies=None, resolve=None, selected=None):
    """The ``policy_evidence`` rows of ``report``.

    ``policies``: {id: policy record} (the catalog's); ``resolve(ids)``: the policy ids a host's selection
    stands for (``all`` resolved), default the ids without ``all``; ``selected``: the policies of the run
    when no host names its selection (default: every policy a host selected or a finding names).
    """
    policies = policies or {}
    hosts = report["hosts"]
    scopes = {}
    run = set(selected or ())
    for name, entry in hosts.items():
        ids = _selected_ids(entry, resolve)
        scopes[name] = ids
        if ids:
            run.update(ids)
        for finding in entry.get("findings") or []:
            run.update(p for p in finding.get("policies") or [] if isinstance(p, str))
    rows = dict((pid, {"id": pid, "hosts_in_scope": 0, "compliant": 0, "non_compliant": 0, "unreachable": 0,
                       "failed": 0, "exemptions": []}) for pid in run)
    for name in sorted(hosts):
        entry = hosts[name]
        status = entry.get("status")
        scope = scopes[name] if scopes[name] is not None else run
        ran = _ran(entry)
        bad = set()
        for finding in entry.get("findings") or []:
            finding_policies = [p for p in finding.get("policies") or [] if isinstance(p, str)]
            if finding.get("exempt") is not True and not (ran and finding.get("outcome") in GONE):
                bad.update(finding_policies)
            for key, expired in (("exemption", False), ("exemption_expired", True)):
                exemption = finding.get(key)
                if not isinstance(exemption, dict):
                    continue
                for pid in finding_policies:
                    if pid in rows:
                        rows[pid]["exemptions"].append({
                            "host": name, "entry": finding.get("id"), "product": finding.get("product"),
                            "finding": "%s %s" % (finding.get("source"), finding.get("name")),
                            "reason": exemption.get("reason"), "approved_by": exemption.get("approved_by"),
                            "expires": exemption.get("expires"), "expired": expired})
        for pid in scope:
            if pid not in rows:
                continue
            row = rows[pid]
            row["hosts_in_scope"] += 1
            if status in SCANNED:
                row["non_compliant" if pid in bad else "compliant"] += 1
            elif status == "unreachable":
                row["unreachable"] += 1
            else:
                row["failed"] += 1
    out = []
    for pid in sorted(rows):
        row = rows[pid]
        record = policies.get(pid) or {}
        for key in RECORD_KEYS:
            if record.get(key) is not None:
                row[key] = record[key]
        row["compliant_percent"] = (round(100.0 * row["compliant"] / row["hosts_in_scope"], 1)
                                    if row["hosts_in_scope"] else None)
        row["expired_exemptions"] = sum(1 for e in row["exemptions"] if e["expired"])
        out.append(row)
    return out


def add_policy_evidence(report, catalog=None):
    """Set ``report["policy_evidence"]`` with the records and the selection rules of ``catalog`` (a
    ``Catalog``; without one, policy ids only). Returns the report."""
    if catalog is None:
        report["policy_evidence"] = policy_evidence(report)
        return report
    cache = {}

    def resolve(ids):
        key = tuple(ids)
        if key not in cache:
            cache[key] = catalog.selected_policy_ids(list(ids))
        return cache[key]
    report["policy_evidence"] = policy_evidence(report, catalog.policies, resolve)
    return report


def statement(row):
    """One sentence: "Under <id>, N of M in-scope hosts are compliant (P%); ..."."""
    text = "Under %s, %d of %d in-scope host(s) are compliant" % (row["id"], row["compliant"], row["hosts_in_scope"])
    if row.get("compliant_percent") is not None:
        text += " (%s%%)" % row["compliant_percent"]
    text += "; %d non-compliant, %d unreachable, %d failed" % (row["non_compliant"], row["unreachable"], row["failed"])
    if row["exemptions"]:
        text += "; %d exemption(s), %d expired" % (len(row["exemptions"]), row["expired_exemptions"])
    return text + "."


def csv_rows(evidence):
    """One row per policy, then one row per exemption under it."""
    for row in evidence:
        base = {"policy": row["id"]}
        policy_row = dict(base, row="policy", **{
            "title": row.get("title"), "jurisdiction": row.get("jurisdiction"), "instrument": row.get("instrument"),
            "date": row.get("date"), "url": row.get("url"), "deadline": row.get("deadline"),
            "hosts in scope": row["hosts_in_scope"], "compliant": row["compliant"],
            "non-compliant": row["non_compliant"], "unreachable": row["unreachable"], "failed": row["failed"],
            "compliant %": row["compliant_percent"], "exemptions": len(row["exemptions"]),
            "expired exemptions": row["expired_exemptions"]})
        yield policy_row
        for exemption in row["exemptions"]:
            yield dict(base, row="exemption", **{
                "host": exemption["host"], "entry": exemption["entry"], "product": exemption["product"],
                "finding": exemption["finding"], "exemption reason": exemption["reason"],
                "approved by": exemption["approved_by"], "expires": exemption["expires"],
                "expired": exemption["expired"]})


def write_evidence_csv(report, handle):
    """Write policy-evidence.csv (same conventions as report.csv: BOM by the caller, CRLF, formula guard)."""
    writer = csv.writer(handle, dialect="excel", lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    count = 0
    for row in csv_rows(report.get("policy_evidence") or []):
        writer.writerow([neutralise(row.get(column)) for column in CSV_COLUMNS])
        count += 1
    return count


def render_evidence_csv(report):
    buf = io.StringIO(newline="")
    write_evidence_csv(report, buf)
    return buf.getvalue()
