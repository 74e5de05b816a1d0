# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.report: write the fleet report on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
from collections.abc import Mapping

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import CatalogError
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import (
    build_report, has_changes, summary_lines)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.csv_format import ENCODING as CSV_ENCODING
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.csv_format import write_csv
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.evidence import (
    EVIDENCE_FILE, write_evidence_csv)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.evidence import add_policy_evidence
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.history import (
    attach_history, empty_changes, keep_report)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.html_format import write_html
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.junit_format import write_junit
from ansible_collections.govsec.banned_software.plugins.plugin_utils._atomic_write import dump_json, write_atomically
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog
from ansible_collections.govsec.banned_software.plugins.plugin_utils._gate import (
    GateError, check_fail_on, gate_message, tripping_findings,
)

ARGUMENT_SPEC = dict(
    dest=dict(type="path"),
    hosts=dict(type="list", elements="str"),
    result_var=dict(type="str", default="banned_software_host_report"),
    max_rows=dict(type="int", default=50),
    formats=dict(type="list", elements="str", default=["json", "csv", "html", "junit"],
                 choices=["json", "csv", "html", "junit"]),
    local_fact_default=dict(type="bool", default=False),
    # Checked after the report is written (_gate), so a wrong value never costs the report.
    fail_on=dict(type="str", default="never"),
    history_dir=dict(type="path"),
)
SCANNED = ("compliant", "non_compliant", "remediated")


def raw_host_vars(hostvars, host):
    """A host's variables as stored, not templated; None for a host the inventory does not know.

    A registered scan result is data returned by the host and never a template; templating each host's
    result on access copies it value by value, which was most of the report task's time
    (docs/performance.md). ``hostvars`` may also be a plain mapping of mappings.
    """
    raw_get = getattr(hostvars, "raw_get", None)
    if raw_get is None:
        found = hostvars.get(host) if isinstance(hostvars, Mapping) else None
        return found if isinstance(found, Mapping) else None
    if host not in hostvars:
        return None
    found = raw_get(host)
    return found if isinstance(found, Mapping) else None


# format -> (file name, writer(report, handle), mode, encoding); json is always written.
FORMATS = {
    "json": ("report.json", lambda report, handle: dump_json(report)(handle), "w", "utf-8"),
    "csv": ("report.csv", write_csv, "w", CSV_ENCODING),
    "html": ("report.html", write_html, "w", "utf-8"),
    "junit": ("report.junit.xml", write_junit, "wb", None),
}
FORMAT_ORDER = ("json", "csv", "html", "junit")


def write_reports(dest, report, formats):
    """Write ``report`` into ``dest`` in each of ``formats`` (json always); return {format: path}."""
    wanted = set(formats or []) | {"json"}
    paths = {}
    for fmt in FORMAT_ORDER:
        if fmt not in wanted:
            continue
        name, writer, mode, encoding = FORMATS[fmt]
        path = os.path.join(dest, name)
        write_atomically(path, lambda handle, writer=writer: writer(report, handle), mode, encoding)
        paths[fmt] = path
        if fmt == "csv" and "policy_evidence" in report:
            # The evidence per policy has a CSV of its own, written with report.csv.
            write_atomically(os.path.join(dest, EVIDENCE_FILE),
                             lambda handle: write_evidence_csv(report, handle), mode, encoding)
    return paths


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    def _collect(self, task_vars, hosts, result_var):
        """``(results, local_fact, fail_on)``: each host's result variable, its ``banned_software_local_fact`` and
        its ``banned_software_fail_on`` (where the host's own variables set them)."""
        hostvars = task_vars.get("hostvars") or {}
        if hosts is None:
            hosts = list((task_vars.get("groups") or {}).get("all") or [])
            explicit = False
        else:
            explicit = True
        results, local_fact, fail_on = {}, {}, {}
        for host in hosts:
            host_vars = raw_host_vars(hostvars, host)
            if host_vars is None:
                if explicit:
                    results[host] = None
                continue
            if result_var in host_vars:
                results[host] = host_vars[result_var]
            elif explicit:
                results[host] = None
            if "banned_software_local_fact" in host_vars:
                local_fact[host] = host_vars["banned_software_local_fact"]
            if "banned_software_fail_on" in host_vars:
                fail_on[host] = host_vars["banned_software_fail_on"]
        return results, local_fact, fail_on

    def _local_fact_hosts(self, task_vars, report, results, local_fact, default):
        """Scanned hosts whose ``banned_software_local_fact`` (or ``default``) asks for the local fact and whose
        scan found that the record changes (``local_fact_step`` in its result).

        The playbooks run their last play on these hosts and on the failed ones only, so a large fleet
        does not pay a skipped task per host (docs/performance.md).
        """
        wanted = []
        for name in sorted(report["hosts"]):
            if report["hosts"][name]["status"] not in SCANNED:
                continue
            if not (isinstance(results.get(name), dict) and results[name].get("local_fact_step")):
                continue
            value = local_fact.get(name, default)
            if isinstance(value, str) and ("{{" in value or "{%" in value):
                # Templated in the host's own variables, like any hostvars lookup.
                value = task_vars["hostvars"][name]["banned_software_local_fact"]
            if boolean(value, strict=False):
                wanted.append(name)
        return wanted

    def _gate(self, task_vars, report, fail_on, default):
        """``(failures, errors)``: {host: message} for the scanned hosts that the pipeline gate
        (``banned_software_fail_on``: the host's own variable, else ``default``) stops, and the hosts whose
        value is not a valid choice (one message each)."""
        failures, errors = {}, []
        try:
            default = check_fail_on(default, "banned_software_fail_on (fail_on)")
        except GateError as exc:
            errors.append(str(exc))
            default = "never"
        for name in sorted(report["hosts"]):
            host = report["hosts"][name]
            if host["status"] not in SCANNED:
                continue  # unreachable and failed hosts fail the play whatever the gate says
            value = fail_on.get(name, default)
            if isinstance(value, str) and ("{{" in value or "{%" in value):
                value = task_vars["hostvars"][name]["banned_software_fail_on"]
            try:
                value = check_fail_on(value, "banned_software_fail_on of host %s" % name)
            except GateError as exc:
                errors.append(str(exc))
                continue
            tripping = tripping_findings(host.get("findings"), value)
            if tripping:
                failures[name] = gate_message(name, value, tripping)
        return failures, errors

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)

        results, local_fact, fail_on = self._collect(task_vars, args["hosts"], args["result_var"])
        versions = sorted(set(r.get("catalog_version") for r in results.values()
                              if isinstance(r, dict) and r.get("catalog_version")))
        try:
            catalog = load_catalog()
        except CatalogError as exc:
            catalog = exc
        if not versions:
            versions = [catalog.version] if not isinstance(catalog, CatalogError) else ["unknown (%s)" % catalog]
        report = build_report(results, ", ".join(versions))
        add_policy_evidence(report, None if isinstance(catalog, CatalogError) else catalog)
        # Earlier reports are read bounded; one that cannot be used is a warning, never a failure.
        history_warnings = attach_history(report, args["dest"], args["history_dir"])
        lines = summary_lines(report, args["max_rows"])
        by_status = {}
        for name, host in report["hosts"].items():
            by_status.setdefault(host["status"], []).append(name)
        for names in by_status.values():
            names.sort()
        result["hosts_by_status"] = by_status
        result["reinstalled_hosts"] = sorted(name for name, host in report["hosts"].items() if host.get("reinstalled"))
        result["local_fact_hosts"] = self._local_fact_hosts(task_vars, report, results, local_fact, args["local_fact_default"])
        gate_failures, gate_errors = self._gate(task_vars, report, fail_on, args["fail_on"])
        result["gate_failures"] = gate_failures
        result["gate_hosts"] = sorted(gate_failures)
        if gate_failures:
            lines = lines + ["GATE (banned_software_fail_on): %d host(s) fail: %s"
                             % (len(gate_failures), ", ".join(sorted(gate_failures)))]

        if args["dest"]:
            dest = args["dest"]
            try:
                os.makedirs(dest, mode=0o750, exist_ok=True)
                paths = write_reports(dest, report, args["formats"])
            except (OSError, IOError) as exc:
                raise AnsibleError("cannot write the report to %s: %s" % (dest, to_native(exc)))
            result["report_path"] = paths["json"]
            result["report_paths"] = paths
            if "csv" in paths:
                result["policy_evidence_path"] = os.path.join(dest, EVIDENCE_FILE)
        if args["dest"] or args["history_dir"]:
            try:
                kept, dummy = keep_report(report, args["dest"], args["history_dir"],
                                          written=result.get("report_path"))
                result["history_path"] = kept
            except (OSError, IOError) as exc:
                history_warnings.append("cannot keep the report in the history directory: %s" % to_native(exc))
        if history_warnings:
            result["warnings"] = list(result.get("warnings") or []) + history_warnings
        # The report is a controller-side artifact, not a change to any managed host.
        result.update(changed=False, summary=report["summary"], products=report["products"],
                      table=lines, catalog_version=report["catalog"]["version"],
                      changes=report.get("changes") or empty_changes(), trend=report["trend"],
                      has_changes=has_changes(report.get("changes")))
        if gate_errors:
            # After the report is written: the evidence is kept, the run still fails.
            result.update(failed=True, msg="; ".join(gate_errors))
        return result
