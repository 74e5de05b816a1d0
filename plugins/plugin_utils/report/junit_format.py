# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: write the fleet report (the dict of ``build.build_report``) as JUnit XML.

``<testsuites>`` holds one ``<testsuite>`` per host and, in it, one ``<testcase classname=HOST
name=ENTRY_ID>`` per catalog entry enabled for that host (the scan's ``entries_enabled``), so CI systems
and molecule pipelines show banned software as failed tests:

* ``<failure>``: the host has a finding of the entry that is not exempt and still present (a finding
  whose remediation outcome is ``removed``/``already_absent`` after a real remediation run is gone);
* ``<skipped message=...>``: the host's only findings of the entry are exempt (reasons and expiry in
  the message);
* ``<error>``: the host is ``unreachable`` or ``failed`` (its compliance is unknown, never a pass);
* nothing: the entry was checked and not found (or removed).

A failure whose findings include one a remediation removed before (``drift: reinstalled``, not
exempt) has ``type="reinstalled"`` and a message that starts with ``reinstalled:`` and says when it was
removed; other failures have ``type="banned_software"``. The suite's properties carry ``reinstalled``
(the number of reinstalled findings of the host) and ``blocks`` (its reinstall blocks in one line)
when the host has them.

Hosts without ``entries_enabled`` (unreachable, failed) get the union of every host's enabled entries;
when nothing is known, one test case named ``scan``. Findings of an entry missing from the list add
that entry, so a finding is never dropped. Characters that XML 1.0 cannot hold (control characters)
are removed from every text and attribute; ElementTree escapes the rest. Standard library only.
"""

import re
import xml.etree.ElementTree as ET

from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import (
    GONE, REINSTALLED, block_summary, extension_policies, reinstalled_findings)

# Everything outside the XML 1.0 "Char" production (and surrogates, which cannot be encoded).
_INVALID_XML = re.compile(u"[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
UNKNOWN = ("unreachable", "failed")
SUITES_NAME = "govsec.banned_software"
NO_ENTRIES = "scan"


def xml_text(value):
    """Text safe for an XML 1.0 document (control characters removed)."""
    if value is None:
        return ""
    return _INVALID_XML.sub("", str(value))


def _entry_list(value):
    if not isinstance(value, list):
        return None
    return [e for e in value if isinstance(e, str) and e]


def fleet_entries(report):
    """Sorted union of the enabled entries of every host that reports them."""
    union = set()
    for entry in report["hosts"].values():
        union.update(_entry_list(entry.get("entries_enabled")) or [])
    return sorted(union)


def host_entries(entry, fallback):
    """The entry ids that are test cases of one host."""
    ids = _entry_list(entry.get("entries_enabled"))
    ids = set(fallback if ids is None else ids)
    for finding in entry.get("findings") or []:
        if isinstance(finding, dict) and isinstance(finding.get("id"), str) and finding["id"]:
            ids.add(finding["id"])
    return sorted(ids) or [NO_ENTRIES]


def _remediation_ran(entry):
    remediation = entry.get("remediation")
    return isinstance(remediation, dict) and not remediation.get("checked_only")


def _describe(finding):
    parts = ["%s %s" % (finding.get("source"), finding.get("name"))]
    for key in ("version", "scope", "path", "outcome", "drift", "removed_at"):
        if finding.get(key) not in (None, ""):
            parts.append("%s=%s" % (key, finding.get(key)))
    extended = extension_policies(finding)
    if extended:
        parts.append("applied_by_extension=%s" % ",".join(extended))
    return " ".join(xml_text(p) for p in parts)


def _exemption_text(finding):
    exemption = finding.get("exemption") if isinstance(finding.get("exemption"), dict) else {}
    return "%s: %s (expires %s)" % (_describe(finding), exemption.get("reason"), exemption.get("expires"))


def case_result(entry, entry_id, remediation_ran):
    """(kind, message, text) for one host x entry; kind is failure | reinstalled (a failure of findings
    found again after a removal) | skipped | error | None (passed)."""
    status = entry.get("status")
    if status in UNKNOWN:
        return "error", "host %s: %s" % (status, entry.get("error") or "no result"), ""
    findings = [f for f in entry.get("findings") or [] if isinstance(f, dict) and f.get("id") == entry_id]
    live = [f for f in findings if f.get("exempt") is not True]
    present = [f for f in live if not (remediation_ran and f.get("outcome") in GONE)]
    if present:
        product = present[0].get("product") or entry_id
        message = "%d finding(s) of %s (not exempt)" % (len(present), product)
        again = [f for f in present if f.get("drift") == REINSTALLED]
        if again:
            removed = sorted(set(str(f.get("removed_at")) for f in again))
            return ("reinstalled", "reinstalled: %s, found again after a remediation removed %s on %s"
                    % (message, "it" if len(again) == 1 else "them", ", ".join(removed)),
                    "\n".join(_describe(f) for f in present))
        return "failure", message, "\n".join(_describe(f) for f in present)
    if findings and not live:
        return ("skipped", "exempt: " + "; ".join(_exemption_text(f) for f in findings), "")
    if live:
        return None, "", "removed: " + "; ".join(_describe(f) for f in live)
    return None, "", ""


def build_tree(report):
    """The ElementTree of the JUnit document and its totals."""
    fallback = fleet_entries(report)
    root = ET.Element("testsuites", {"name": SUITES_NAME})
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    timestamp = xml_text(report.get("generated_at"))
    catalog = xml_text((report.get("catalog") or {}).get("version"))
    for host in sorted(report["hosts"]):
        entry = report["hosts"][host]
        name = xml_text(host)
        suite = ET.SubElement(root, "testsuite", {"name": name, "timestamp": timestamp, "time": "0"})
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", {"name": "status", "value": xml_text(entry.get("status"))})
        ET.SubElement(props, "property", {"name": "catalog_version", "value": catalog})
        again = reinstalled_findings(entry.get("findings") or [])
        if again:
            ET.SubElement(props, "property", {"name": "reinstalled", "value": str(len(again))})
        blocks = block_summary(entry.get("blocks"))
        if blocks:
            ET.SubElement(props, "property", {"name": "blocks", "value": xml_text(blocks)})
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        ran = _remediation_ran(entry)
        for entry_id in host_entries(entry, fallback):
            case = ET.SubElement(suite, "testcase", {"classname": name, "name": xml_text(entry_id), "time": "0"})
            kind, message, text = case_result(entry, entry_id, ran)
            counts["tests"] += 1
            if kind in ("failure", REINSTALLED):
                node = ET.SubElement(case, "failure", {"type": "banned_software" if kind == "failure" else REINSTALLED,
                                                       "message": xml_text(message)})
                node.text = xml_text(text)
                counts["failures"] += 1
            elif kind == "error":
                ET.SubElement(case, "error", {"type": xml_text(entry.get("status")), "message": xml_text(message)})
                counts["errors"] += 1
            elif kind == "skipped":
                ET.SubElement(case, "skipped", {"message": xml_text(message)})
                counts["skipped"] += 1
            elif text:
                ET.SubElement(case, "system-out").text = xml_text(text)
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", "0")
    return ET.ElementTree(root), totals


def write_junit(report, handle):
    """Write the document to a binary ``handle``; return the totals (tests, failures, errors, skipped)."""
    tree, totals = build_tree(report)
    tree.write(handle, encoding="utf-8", xml_declaration=True)
    handle.write(b"\n")
    return totals


def render_junit(report):
    """The document as bytes."""
    tree, dummy = build_tree(report)
    return ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True) + b"\n"
