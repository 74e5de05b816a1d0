# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: write the fleet report (the dict of ``build.build_report``) as CSV.

One row per host x finding, and one row for each host without findings (finding columns empty), so
every host of the report appears at least once. Standard library only.

Decisions (docs/usage.md, "The report"):

* Encoding UTF-8 **with** a byte order mark (``utf-8-sig``): Excel opens a BOM-less UTF-8 CSV as the
  local ANSI code page and garbles non-ASCII host and product names; every CSV reader that matters
  (Python's with ``encoding="utf-8-sig"``, LibreOffice, pandas) skips the BOM.
* Line ends ``\\r\\n`` (RFC 4180), every cell quoted only when needed (``csv.QUOTE_MINIMAL``).
* Host data is untrusted: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
  return would be evaluated as a formula by spreadsheet programs, so it gets a leading apostrophe
  (OWASP "CSV injection"). Booleans are ``true``/``false``; ``policies`` are joined with ``;``.
* ``drift`` is ``reinstalled`` for a finding a remediation removed before (``removed at``: when it last
  did), empty otherwise (docs/usage.md, "Drift").
"""

import csv
import io

# The order is a contract: new columns are appended, never inserted or renamed.
COLUMNS = ("host", "status", "error", "finding id", "product", "vendor", "source", "name", "version", "scope",
           "path", "policies", "exempt", "exemption reason", "exemption expires", "outcome", "drift", "removed at",
           "required by", "applied by extension")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ENCODING = "utf-8-sig"


def neutralise(value):
    """A cell's text: None -> "", bool -> true/false, formula-looking text -> leading apostrophe."""
    if value is None:
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (list, tuple)):
        value = ";".join(str(v) for v in value)
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def _exemption(finding):
    exemption = finding.get("exemption")
    if not isinstance(exemption, dict):
        exemption = finding.get("exemption_expired")
    return exemption if isinstance(exemption, dict) else {}


def rows(report):
    """Yield one dict per CSV row (values not yet neutralised), hosts in report order."""
    for host in sorted(report["hosts"]):
        entry = report["hosts"][host]
        base = {"host": host, "status": entry.get("status"), "error": entry.get("error")}
        findings = [f for f in entry.get("findings") or [] if isinstance(f, dict)]
        if not findings:
            yield dict(base)
            continue
        for finding in findings:
            exemption = _exemption(finding)
            row = dict(base)
            row.update({
                "finding id": finding.get("id"), "product": finding.get("product"), "vendor": finding.get("vendor"),
                "source": finding.get("source"), "name": finding.get("name"), "version": finding.get("version"),
                "scope": finding.get("scope"), "path": finding.get("path"),
                "policies": finding.get("policies") if isinstance(finding.get("policies"), list) else None,
                "exempt": finding.get("exempt") is True,
                "exemption reason": exemption.get("reason"), "exemption expires": exemption.get("expires"),
                "outcome": finding.get("outcome"),
                "drift": finding.get("drift"), "removed at": finding.get("removed_at"),
                "required by": finding.get("required_by") if isinstance(finding.get("required_by"), list) else None,
                "applied by extension": (finding.get("applied_by_extension")
                                         if isinstance(finding.get("applied_by_extension"), list) else None),
            })
            yield row


def write_csv(report, handle):
    """Write the CSV to a text ``handle`` opened with ``newline=""`` (the BOM is the caller's encoding)."""
    writer = csv.writer(handle, dialect="excel", lineterminator="\r\n")
    writer.writerow(COLUMNS)
    count = 0
    for row in rows(report):
        writer.writerow([neutralise(row.get(column)) for column in COLUMNS])
        count += 1
    return count


def render_csv(report):
    """The CSV as text (without the BOM; encode with ``ENCODING`` to get it)."""
    buf = io.StringIO(newline="")
    write_csv(report, buf)
    return buf.getvalue()
