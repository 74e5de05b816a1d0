# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.merge_reports: merge slice reports on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.action import ActionBase

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.files import load_catalog
from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import CatalogError
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.evidence import add_policy_evidence
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.history import (
    attach_history, empty_changes, keep_report)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.merge import MergeError, merge_reports
from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.build import has_changes, summary_lines
from ansible_collections.govsec.banned_software.plugins.plugin_utils._atomic_write import write_json_atomically

ARGUMENT_SPEC = dict(
    src=dict(type="list", elements="path", required=True),
    dest=dict(type="path"),
    pattern=dict(type="str", default="report.json"),
    max_rows=dict(type="int", default=50),
    history_dir=dict(type="path"),
)


def find_reports(sources, pattern="report.json"):
    """The report files named by ``sources``: files as given, directories searched recursively for
    files named ``pattern``, in sorted order. A source that does not exist is an error."""
    found = []
    for source in sources:
        if os.path.isfile(source):
            found.append(source)
        elif os.path.isdir(source):
            matches = []
            for top, dirs, files in os.walk(source):
                dirs.sort()
                matches.extend(os.path.join(top, name) for name in files if name == pattern)
            if not matches:
                raise MergeError("no %s under %s" % (pattern, source))
            found.extend(sorted(matches))
        else:
            raise MergeError("%s: no such file or directory" % source)
    unique = []
    for path in found:
        real = os.path.realpath(path)
        if real not in [os.path.realpath(p) for p in unique]:
            unique.append(path)
    return unique


def load_reports(paths):
    reports = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                reports.append((path, json.load(handle)))
        except (OSError, IOError, ValueError) as exc:
            raise MergeError("cannot read %s: %s" % (path, to_native(exc)))
    return reports


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            paths = find_reports(args["src"], args["pattern"])
            merged = merge_reports(load_reports(paths))
        except MergeError as exc:
            raise AnsibleActionFail(to_native(exc))
        try:
            catalog = load_catalog()
        except CatalogError:
            catalog = None
        add_policy_evidence(merged, catalog)
        # As for one unsliced run: changes against the latest earlier merged report, a trend row per run.
        history_warnings = attach_history(merged, args["dest"], args["history_dir"])
        if args["dest"]:
            dest = args["dest"]
            path = os.path.join(dest, "report.json")
            if os.path.realpath(path) in [os.path.realpath(p) for p in paths]:
                raise AnsibleActionFail("dest %s would overwrite one of the reports being merged" % path)
            try:
                os.makedirs(dest, mode=0o750, exist_ok=True)
                write_json_atomically(path, merged)
            except (OSError, IOError) as exc:
                raise AnsibleActionFail("cannot write the merged report to %s: %s" % (dest, to_native(exc)))
            result["report_path"] = path
        if args["dest"] or args["history_dir"]:
            try:
                result["history_path"] = keep_report(merged, args["dest"], args["history_dir"],
                                                     written=result.get("report_path"))[0]
            except (OSError, IOError) as exc:
                history_warnings.append("cannot keep the report in the history directory: %s" % to_native(exc))
        if history_warnings:
            result["warnings"] = list(result.get("warnings") or []) + history_warnings
        statuses = dict((status, sorted(name for name, host in merged["hosts"].items() if host["status"] == status))
                        for status in ("non_compliant", "unreachable", "failed"))
        # A controller-side artifact: no managed host changes.
        result.update(changed=False, sources=paths, summary=merged["summary"], products=merged["products"],
                      duplicates=merged["merge"]["duplicates"], catalog_version=merged["catalog"]["version"],
                      non_compliant_hosts=statuses["non_compliant"], unreachable_hosts=statuses["unreachable"],
                      failed_hosts=statuses["failed"], table=summary_lines(merged, args["max_rows"]),
                      changes=merged.get("changes") or empty_changes(), trend=merged["trend"],
                      has_changes=has_changes(merged.get("changes")))
        return result
