# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the local fact as one executor step (docs/awx.md, "Local fact").

The collector read the record in the scan's call (``local_fact_file``: the sha256 of its bytes and the parsed
record); the record the host should keep is computed here (``report/local_fact.py``). When the two differ,
``fact_step`` returns a ``write_file`` step for the platform's executor, hash-checked against what the scan
read (``expect_sha256``): an edit or a planted file since the scan makes the step fail and nothing is
written. No extra round trip: the remediate action sends it with the removal's steps, the ``local_fact``
action (audit, opt-in) in one executor call.

A file the collector refused (a link, not a regular file, too large) is never replaced: ``fact_step`` returns
no step and a warning. On Windows, ``win_execute`` writes it in the collection's private state directory
(``C:\\ProgramData\\govsec-banned-software``, SYSTEM and Administrators only) through handles.
"""

import copy
import hashlib
import json
import re

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.local_fact import (
    FACT_SCHEMA, parse_fact_record)
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import FACT_PATHS
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_execute import execute_plan
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import judge_outcomes
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.local_fact import fact_record

SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
ACTION = "local_fact"
# The host results that have a local fact (a failed or unreachable host's state is unknown).
SCANNED = ("compliant", "non_compliant", "remediated")
# The platforms whose executor keeps the local fact (every platform the collection remediates).
EXECUTOR_PLATFORMS = ("linux", "macos", "windows")


class FactPlan:
    """What the local fact of one host becomes: ``record`` (the record it should keep), ``step`` (the
    ``write_file`` step, None when the file already says that or may not be replaced) and ``warning``."""

    def __init__(self, record, step, warning=None):
        self.record = record
        self.step = step
        self.warning = warning

    @property
    def changed(self):
        return self.step is not None


def previous_fact(collected):
    """``(record, sha256, refused)`` of the local fact as the scan read it: ``sha256`` None means no file;
    ``refused`` is why it may not be replaced (None: it may)."""
    found = collected.get("local_fact_file") if isinstance(collected, dict) else None
    if found is None:
        return None, None, None
    if not isinstance(found, dict):
        return None, None, "the collector returned local_fact_file as %s" % type(found).__name__
    if found.get("refused") is not None:
        return None, None, str(found["refused"])[:500]
    sha = found.get("sha256")
    if not (isinstance(sha, str) and SHA256_RE.match(sha)):
        return None, None, "the collector returned no sha256 of the file"
    record = found.get("record")
    if "record" not in found and "local_fact_text" in collected:
        # win_collect returns the text; the scan's drift check parsed it already (match/drift.py) unless this
        # result did not come through a scan.
        dummy, record, dummy_warnings = parse_fact_record(collected.get("local_fact_text"), "local fact")
    return (record if isinstance(record, dict) and record.get("schema") == FACT_SCHEMA else None), sha, None


def fact_text(record):
    """The file's content: sorted, indented JSON, as Ansible's ``to_nice_json``, and a final newline."""
    return json.dumps(record, indent=4, sort_keys=True, separators=(",", ": ")) + "\n"


def fact_step(platform, host_report, collected, step_id, requires=()):
    """The ``FactPlan`` of a host whose result is ``host_report`` (status compliant, non_compliant or
    remediated) and whose scan returned ``collected``."""
    if (platform not in EXECUTOR_PLATFORMS or not isinstance(host_report, dict)
            or host_report.get("status") not in SCANNED):
        return FactPlan(None, None)
    previous, sha, refused = previous_fact(collected)
    record = fact_record(host_report, previous)
    path = FACT_PATHS[platform]
    if refused:
        return FactPlan(record, None, "local fact %s not updated: %s" % (path, refused))
    if previous is not None and json.loads(json.dumps(record)) == previous:
        return FactPlan(record, None)
    step = {"id": step_id, "kind": "write_file", "action": ACTION, "findings": [], "requires": list(requires),
            "path": path, "content": fact_text(record), "expect_sha256": sha}
    if platform != "windows":
        step["mode"] = "0644"
    return FactPlan(record, step)


def predicted_report(facts, plan, remediation, collected):
    """The host result a remediation that goes as planned leaves: every planned step changes the host,
    the findings it covers are removed, the rest stay. Its record is what the executor call that removes
    writes; ``corrected`` repairs it when the run went otherwise."""
    findings = copy.deepcopy(facts["findings"])
    covered = plan.get("covered") or {}
    stays = set(item["key"] for item in (plan.get("unplanned") or []) + (plan.get("skipped") or []))
    remaining = set(f["key"] for f in findings if f["key"] not in covered or f["key"] in stays)
    judge_outcomes(findings, plan, [{"id": s["id"], "status": "changed"} for s in plan["steps"]], remaining)
    return {"status": "remediated", "catalog_version": facts.get("catalog_version"),
            "scanned_at": facts.get("scanned_at"), "findings": findings,
            "interrupted_run": facts.get("interrupted_run"),
            "remediation": {"run_id": remediation["run_id"], "steps": list(plan["steps"]),
                            "executed_at": remediation["executed_at"],
                            "reboot_required": bool(collected.get("reboot_required"))}}


def corrected(platform, host_report, collected, sent, sent_result, step_id):
    """The step that makes the local fact right after a run whose executor call carried ``sent`` (the
    predicted record's step; ``sent_result`` its result): None when the file already says the truth.

    A host whose run ended ``failed`` (its state is unknown) keeps the record it had before the run: the
    predicted one is replaced by it, or removed when there was none."""
    previous, sha, dummy = previous_fact(collected)
    written = isinstance(sent_result, dict) and sent_result.get("status") in ("changed", "ok")
    if not written:
        if host_report.get("status") not in SCANNED:
            return None
        return fact_step(platform, host_report, collected, step_id).step
    on_disk = hashlib.sha256(sent["content"].encode("utf-8")).hexdigest()
    if host_report.get("status") in SCANNED:
        target = fact_record(host_report, previous)
    elif previous is not None:
        target = previous
    else:
        return {"id": step_id, "kind": "remove_file", "action": ACTION, "findings": [], "requires": [],
                "path": FACT_PATHS[platform], "expect_sha256": on_disk}
    if fact_text(target) == sent["content"]:
        return None
    step = dict(sent, id=step_id, requires=[], content=fact_text(target), expect_sha256=on_disk)
    return step


def write_fact(execute_module, task_vars, platform, step, run_id, args):
    """Run the local fact's ``step`` alone, in one executor call: ``(status, error)``; ``error`` is None when
    the step wrote the record, found it already there, or found it gone (remove_file)."""
    # journal=False: a run whose executor was killed corrects its fact here; the next run reports the kill.
    step_results, error = execute_plan(execute_module, task_vars, platform, [step], run_id, {}, args, journal=False)
    outcome = step_results[0] if step_results and isinstance(step_results[0], dict) else {}
    status = outcome.get("status")
    if status in ("changed", "ok", "absent"):
        return status, None
    return status, error or outcome.get("msg") or "the executor did not run the step"
