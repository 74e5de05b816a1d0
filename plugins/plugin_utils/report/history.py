# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: what changed since the last run, and the fleet's trend over runs.

* ``compute_changes(previous, report)``: the ``changes`` section of report.json against the latest earlier
  report (docs/report.schema.json): hosts that became non-compliant, were resolved, had software
  reinstalled or became unreachable, and the findings that appeared or went away.
* ``trend_rows(previous, report)``: one summary row per run, the earlier ones carried over from the
  previous report's ``trend`` (so only one earlier report is ever read), at most ``TREND_ROWS``.
* ``load_previous(paths, before)``: the latest readable earlier report among files, read bounded (a file
  larger than ``MAX_BYTES`` or that is not a report is skipped with a warning, never an error).
* ``keep_copy(history_dir, source_path, report)``: the run's report.json kept as
  ``history/report-<generated_at>.json``; the oldest beyond ``HISTORY_KEEP`` are removed.

Finding identity: the finding's ``key`` (source, scope, name, path) when it has one, else its entry id,
source, scope, name and path. A finding counts as present unless the run's remediation removed it
(outcome ``removed`` or ``already_absent``); exempt findings count too (marked ``exempt``).
Findings are compared only for hosts scanned in this run; ``removed_findings`` only for hosts scanned
in both runs (an unreachable host's findings are unknown, not removed).
"""

import json
import os
import re
import shutil

from ansible_collections.govsec.banned_software.plugins.plugin_utils._atomic_write import dump_json, write_atomically

from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import CHANGE_KEYS, GONE, SCANNED
HOST_LISTS = ("new_non_compliant", "resolved", "reinstalled", "newly_unreachable")
TREND_KEYS = ("generated_at", "hosts", "compliant", "non_compliant", "remediated", "unreachable", "failed",
              "findings", "reinstalled_hosts")
TREND_ROWS = 90
HISTORY_KEEP = 30
MAX_BYTES = 256 * 1024 * 1024
HISTORY_NAME = re.compile(r"^report-[0-9]{8}T[0-9]{6}Z\.json\Z")
TIMESTAMP = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")


def empty_changes(previous_generated_at=None):
    """``changes`` with no change (the shape of the section, for artifacts when there is no earlier run)."""
    changes = dict((key, []) for key in CHANGE_KEYS)
    changes["previous_generated_at"] = previous_generated_at
    return changes


def _remediation_ran(entry):
    remediation = entry.get("remediation")
    return isinstance(remediation, dict) and not remediation.get("checked_only")


def _finding_key(finding):
    key = finding.get("key")
    if isinstance(key, str) and key:
        return key
    return "|".join(str(finding.get(k)) for k in ("id", "source", "scope", "name", "path"))


def present_findings(entry):
    """{identity: finding} of the findings still on a host (not removed by this run's remediation)."""
    if not isinstance(entry, dict):
        return {}
    ran = _remediation_ran(entry)
    found = {}
    for finding in entry.get("findings") or []:
        if not isinstance(finding, dict) or (ran and finding.get("outcome") in GONE):
            continue
        found[_finding_key(finding)] = finding
    return found


def _finding_item(host, key, finding):
    return {"host": host, "key": key, "id": finding.get("id"), "product": finding.get("product"),
            "source": finding.get("source"), "name": finding.get("name"), "exempt": finding.get("exempt") is True}


def _status(entry):
    return entry.get("status") if isinstance(entry, dict) else None


def _reinstalled(entry):
    value = entry.get("reinstalled") if isinstance(entry, dict) else None
    return set(k for k in value if isinstance(k, str)) if isinstance(value, list) else set()


def compute_changes(previous, report):
    """The ``changes`` section of ``report`` against the earlier report ``previous`` (both report dicts)."""
    before = previous.get("hosts") if isinstance(previous.get("hosts"), dict) else {}
    changes = empty_changes(previous.get("generated_at"))
    for name in sorted(report["hosts"]):
        entry = report["hosts"][name]
        old = before.get(name)
        status, old_status = entry["status"], _status(old)
        if status == "non_compliant" and old_status != "non_compliant":
            changes["new_non_compliant"].append(name)
        if old_status == "non_compliant" and status in ("compliant", "remediated"):
            changes["resolved"].append(name)
        if status == "unreachable" and old_status != "unreachable":
            changes["newly_unreachable"].append(name)
        if _reinstalled(entry) - _reinstalled(old):
            changes["reinstalled"].append(name)
        if status not in SCANNED:
            continue
        now = present_findings(entry)
        then = present_findings(old) if old_status in SCANNED else {}
        changes["new_findings"].extend(_finding_item(name, k, now[k]) for k in sorted(set(now) - set(then)))
        if old_status in SCANNED:
            changes["removed_findings"].extend(_finding_item(name, k, then[k]) for k in sorted(set(then) - set(now)))
    return changes


def trend_row(report):
    summary = report.get("summary") if isinstance(report.get("summary"), dict) else {}
    row = {"generated_at": report.get("generated_at")}
    for key in TREND_KEYS[1:]:
        value = summary.get(key, 0)
        row[key] = value if isinstance(value, int) and not isinstance(value, bool) else 0
    return row


def trend_rows(previous, report, limit=TREND_ROWS):
    """One row per run, oldest first, ending with ``report``'s; at most ``limit`` rows."""
    rows = []
    if isinstance(previous, dict):
        earlier = previous.get("trend")
        if isinstance(earlier, list) and earlier:
            rows = [trend_row({"generated_at": r.get("generated_at"), "summary": r}) for r in earlier
                    if isinstance(r, dict) and isinstance(r.get("generated_at"), str)
                    and TIMESTAMP.match(r["generated_at"])]
        elif isinstance(previous.get("generated_at"), str):
            rows = [trend_row(previous)]
    rows = [r for r in rows if r["generated_at"] < report["generated_at"]]
    rows.append(trend_row(report))
    return rows[-limit:]


def apply_history(report, previous):
    """Add ``trend`` (always) and ``changes`` (when there is an earlier report) to ``report``; return it."""
    if previous is not None:
        report["changes"] = compute_changes(previous, report)
    report["trend"] = trend_rows(previous, report)
    return report


def _read_report(path, max_bytes):
    """(report, None) or (None, warning) for one file; never raises."""
    try:
        size = os.stat(path).st_size
        if size > max_bytes:
            return None, "earlier report %s skipped: %d bytes, more than the %d read for history" % (
                path, size, max_bytes)
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            return None, "earlier report %s skipped: larger than %d bytes" % (path, max_bytes)
        report = json.loads(data.decode("utf-8"))
    except (OSError, ValueError) as exc:
        return None, "earlier report %s skipped: %s" % (path, exc)
    if not isinstance(report, dict) or not isinstance(report.get("hosts"), dict) \
            or not isinstance(report.get("generated_at"), str) or not TIMESTAMP.match(report["generated_at"]):
        return None, "earlier report %s skipped: not a report.json document (hosts, generated_at)" % path
    return report, None


def history_files(history_dir):
    """The kept copies in ``history_dir`` (``report-<stamp>.json``), newest first."""
    try:
        names = [n for n in os.listdir(history_dir) if HISTORY_NAME.match(n)]
    except OSError:
        return []
    return [os.path.join(history_dir, n) for n in sorted(names, reverse=True)]


def candidate_paths(report_dir=None, history_dir=None):
    """Files that may hold the latest earlier report: the report directory's report.json, the history
    directory's report.json and its kept copies (newest first)."""
    paths = []
    for directory in (report_dir, history_dir):
        if directory:
            paths.append(os.path.join(directory, "report.json"))
    if history_dir:
        paths.extend(history_files(history_dir))
    unique = []
    for path in paths:
        if os.path.isfile(path) and os.path.realpath(path) not in [os.path.realpath(p) for p in unique]:
            unique.append(path)
    return unique


def load_previous(paths, before, max_bytes=MAX_BYTES, max_reads=5):
    """``(report, warnings)``: the earlier report with the newest ``generated_at`` earlier than ``before``.

    ``paths`` as ``candidate_paths`` gives them; every plain report.json is read, then kept copies (newest
    first) until one is readable, at most ``max_reads`` files in all.
    """
    best, warnings, reads, kept_found = None, [], 0, False
    for path in paths:
        kept = HISTORY_NAME.match(os.path.basename(path)) is not None
        if kept and (kept_found or (best is not None and _stamp(best["generated_at"]) >= os.path.basename(path)[7:-5])):
            continue  # kept copies come newest first: none of the rest can be newer
        if reads >= max_reads:
            break
        reads += 1
        report, warning = _read_report(path, max_bytes)
        if warning:
            warnings.append(warning)
            continue
        if report["generated_at"] >= before:
            continue
        kept_found = kept_found or kept
        if best is None or report["generated_at"] > best["generated_at"]:
            best = report
    return best, warnings


def _stamp(generated_at):
    return generated_at.replace("-", "").replace(":", "")


def keep_copy(history_dir, report, write, keep=HISTORY_KEEP):
    """Keep ``report`` as ``history_dir/report-<generated_at>.json`` (``write(path)`` writes it) and remove
    the oldest kept copies beyond ``keep``. Returns (path, removed paths)."""
    os.makedirs(history_dir, mode=0o750, exist_ok=True)
    path = os.path.join(history_dir, "report-%s.json" % _stamp(report["generated_at"]))
    write(path)
    removed = []
    for old in history_files(history_dir)[max(keep, 1):]:
        try:
            os.unlink(old)
            removed.append(old)
        except OSError:
            pass
    return path, removed


def history_location(report_dir=None, history_dir=None):
    """Where the run's copy is kept: ``history_dir``, else ``<report_dir>/history``; None without either."""
    if history_dir:
        return history_dir
    return os.path.join(report_dir, "history") if report_dir else None


def attach_history(report, report_dir=None, history_dir=None):
    """Add ``changes`` (against the latest earlier report found) and ``trend`` to ``report``.

    Returns the warnings about earlier reports that could not be used; a report without a directory to
    look in gets a one-row trend and no ``changes``.
    """
    location = history_location(report_dir, history_dir)
    previous, warnings = None, []
    if location:
        previous, warnings = load_previous(candidate_paths(report_dir, location), report["generated_at"])
    apply_history(report, previous)
    return warnings


def keep_report(report, report_dir=None, history_dir=None, written=None, keep=HISTORY_KEEP):
    """Keep this run's report in the history directory; ``written`` is the report.json just written
    (copied as it is), else the report is serialised again. Returns (path or None, removed paths)."""
    location = history_location(report_dir, history_dir)
    if not location:
        return None, []

    def write(path):
        if written:
            def copy(handle):
                with open(written, "rb") as source:
                    shutil.copyfileobj(source, handle, 1024 * 1024)
            write_atomically(path, copy, "wb", None)
        else:
            write_atomically(path, dump_json(report))
    return keep_copy(location, report, write, keep)
