# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: one scan of one host from an action plugin: query -> collector call -> match -> exemptions
-> drift (findings a remediation removed before, from the host's local fact read in the same call)
-> the last remediation's journal (``_host_run_state.py``: died half-way, or running now) -> status.

Shared by the scan action (once) and the remediate action (before and after removal).

Status (docs/design.md, "Host status"): ``non_compliant`` with a finding that is not exempt; otherwise
``compliant`` only when no source an enabled entry has signatures for (on the host's platform) was
read in part. A host whose collector reports such a source in ``incomplete`` (budget exceeded, listing
cut, unreadable, unexaminable processes) is ``failed``, with ``error`` naming the sources and reasons:
its compliance is unknown, and ``failed`` is what every report, summary and playbook already treats as
"not a pass". Its findings (exempt ones) and ``incomplete`` stay in the result.
"""

import collections
import datetime

from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.drift import (
    collected_drift_state, mark_drift)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.exemptions import apply_exemptions
from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import Matcher, host_status
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.query import build_query
from ansible_collections.govsec.banned_software.plugins.plugin_utils._host_run_state import collected_run_state
from ansible_collections.govsec.banned_software.plugins.plugin_utils._interpreter import explain_failure

WINDOWS_CONNECTIONS = frozenset(["winrm", "psrp", "ansible.builtin.winrm", "ansible.builtin.psrp",
                                 "ansible.windows.psrp"])
POSIX_COLLECTOR = "govsec.banned_software.collect"
WINDOWS_COLLECTOR = "govsec.banned_software.win_collect"
PASSED_THROUGH = ("rc", "stdout", "stderr", "module_stderr", "module_stdout", "exception")
# Options of the actions that go to the POSIX collector as they are (the Windows collector takes sources,
# users and root only).
COLLECTOR_OPTIONS = ("sources", "users", "root")
POSIX_ONLY_OPTIONS = ("source_timeout",)
MAX_REASON = 1024
# The host result is the task result (the roles register it as banned_software_host_report): the facts'
# keys at the top level, except those Ansible reserves ("warnings" is "scan_warnings" there).
RESERVED = frozenset(["warnings", "changed", "failed", "msg", "skipped", "ansible_facts"])


# One scan of one host: ``facts`` (``ansible_facts.banned_software``, the host result), ``collected`` (the
# collector's raw result: users, tools, environment... for planning) and ``records`` (finding key -> the
# record the matcher made the finding of: what the planner acts on).
HostScan = collections.namedtuple("HostScan", ("facts", "collected", "records"))


class ScanFailed(Exception):
    """The collector failed or answered nonsense; ``details`` go into the task result."""

    def __init__(self, msg, details=None):
        Exception.__init__(self, msg)
        self.details = details or {}


def host_platform_family(task_vars):
    """``windows`` or ``posix``, from facts when gathered, else from the connection."""
    facts = task_vars.get("ansible_facts") or {}
    if facts.get("os_family") == "Windows" or facts.get("system") == "Win32NT":
        return "windows"
    if facts.get("system") in ("Linux", "Darwin"):
        return "posix"
    connection = str(task_vars.get("ansible_connection") or "")
    shell = str(task_vars.get("ansible_shell_type") or "")
    if connection in WINDOWS_CONNECTIONS or shell in ("powershell", "cmd"):
        return "windows"
    return "posix"


def now_utc():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def scan_host(execute_module, task_vars, args, catalog, entries, exemptions, family=None, block_state=False):
    """Scan one host. ``execute_module`` is the action's ``_execute_module``.

    ``family`` (``posix``/``windows``) overrides the guess from ``task_vars`` (image scans always run
    the POSIX collector on the node that has the image mounted). A POSIX scan with ``root`` set may
    find a Windows image there, so its query also carries the ``windows`` part.

    Returns a ``HostScan``. Raises ScanFailed.
    """
    family = family or host_platform_family(task_vars)
    if family == "windows":
        platforms = ["windows"]
    elif args.get("root") not in (None, "/"):
        platforms = ["linux", "macos", "windows"]
    else:
        platforms = ["linux", "macos"]
    query = build_query(entries, platforms)
    if family == "windows":
        module, module_args = WINDOWS_COLLECTOR, {"query": query.get("windows", {})}
    else:
        module, module_args = POSIX_COLLECTOR, {"query": query}
    for key in COLLECTOR_OPTIONS + (POSIX_ONLY_OPTIONS if family != "windows" else ()):
        if args.get(key) is not None:
            module_args[key] = args[key]
    if block_state:
        # The host's reinstall blocks, read in the same call (remediate and block actions only).
        module_args["block_state"] = True

    started = now_utc()
    collected = execute_module(module_name=module, module_args=module_args, task_vars=task_vars)
    if collected.get("failed"):
        # A managed-host Python too old to start the module: say so (one raw command, on failure only).
        # ``execute_module`` is the action's bound ``_execute_module``; a plain function (tests) has no action.
        too_old = explain_failure(getattr(execute_module, "__self__", None), task_vars, collected) \
            if family == "posix" else None
        raise ScanFailed(too_old or "collector %s failed: %s" % (module, collected.get("msg", "no message")),
                         dict((k, collected[k]) for k in PASSED_THROUGH if k in collected))
    os_name = collected.get("os")
    if os_name not in platforms:
        raise ScanFailed("collector %s reported os %r, expected one of %s" % (module, os_name, ", ".join(platforms)))

    findings, warnings, records = Matcher(entries, args["policies"]).match_records(os_name, collected)
    # Modules return their own warnings as collector_warnings ("warnings" is reserved by Ansible).
    warnings = [w for w in (collected.get("collector_warnings") or []) if isinstance(w, str)] + warnings
    warnings += apply_exemptions(findings, exemptions)
    drift_state, drift_warnings = collected_drift_state(collected)
    warnings += drift_warnings
    drift = mark_drift(findings, drift_state)
    incomplete, incomplete_warnings = collected_incomplete(collected)
    warnings += incomplete_warnings
    interrupted_run, run_warnings = collected_run_state(collected)
    warnings += run_warnings
    status, error = final_status(host_status(findings), entries, os_name, incomplete)
    facts = {
        "status": status,
        "scanned_at": started,
        "os": os_name,
        "catalog_version": catalog.version,
        "policies": list(args["policies"]),
        "entries_enabled": sorted(e.id for e in entries),
        "findings": findings,
        "warnings": warnings,
        "counts": collected.get("counts") or {},
        "available": collected.get("available") or {},
        "incomplete": incomplete,
        "root": collected.get("root", "/"),
        "reinstalled": drift["reinstalled"],
        "last_remediation_at": drift["last_remediation_at"],
    }
    if interrupted_run:
        facts["interrupted_run"] = interrupted_run
    if error:
        facts["error"] = error
    return HostScan(facts, collected, records)


def host_result(result, facts):
    """Make the task ``result`` the host result: ``facts`` (``ansible_facts.banned_software``) at its top level
    (``warnings`` as ``scan_warnings``) and as ``ansible_facts.banned_software``. Returns ``result``."""
    result.update((k, v) for k, v in facts.items() if k not in RESERVED)
    result.update(scan_warnings=facts["warnings"], ansible_facts={"banned_software": facts})
    return result


def collected_incomplete(collected):
    """``(incomplete, warnings)``: the collector's ``incomplete`` mapping (source -> reason), cleaned.

    Host data: only text keys and values are kept (reasons cut at ``MAX_REASON``); anything else is a
    warning. A collector that reports nothing there read every source completely.
    """
    raw = collected.get("incomplete")
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, ["collector returned %s instead of a mapping for 'incomplete'; ignored" % type(raw).__name__]
    out = {}
    bad = 0
    for source, reason in raw.items():
        if isinstance(source, str) and source and isinstance(reason, str):
            out[source[:MAX_REASON]] = reason[:MAX_REASON]
        else:
            bad += 1
    warnings = ["collector returned %d malformed item(s) in 'incomplete'; ignored" % bad] if bad else []
    return out, warnings


def identifying_sources(entries, platform):
    """The sources at least one of ``entries`` has signatures for on ``platform``."""
    return set(source for entry in entries for source in (entry.signatures.get(platform) or {}))


def incomplete_error(entries, platform, incomplete):
    """The host's error when a source that could hold a banned product was read in part, else None."""
    hit = sorted(s for s in incomplete if s in identifying_sources(entries, platform))
    if not hit:
        return None
    return ("scan incomplete, compliance unknown: %s (docs/usage.md, \"Incomplete scans\")"
            % "; ".join("%s: %s" % (s, incomplete[s]) for s in hit))


def final_status(status, entries, platform, incomplete):
    """``(status, error)``: ``compliant`` (or ``remediated``) becomes ``failed`` while a source an enabled
    entry has signatures for is incomplete; ``non_compliant`` stays (a finding is a finding)."""
    if status not in ("compliant", "remediated"):
        return status, None
    error = incomplete_error(entries, platform, incomplete)
    if error:
        return "failed", error
    return status, None
