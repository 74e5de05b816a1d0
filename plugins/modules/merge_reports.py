#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin plugins/action/merge_reports.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: merge_reports
short_description: Merge the report.json files of several runs (AWX job slices) into one report
version_added: 0.1.0
description:
  - Reads C(report.json) files on the controller (files, or directories searched recursively for
    files named O(pattern)) and writes one C(report.json) into O(dest) with the union of their hosts.
  - A host present in more than one report keeps the entry of the report with the newest
    C(generated_at); the others are listed in the merged report's C(merge.duplicates) and in RV(duplicates).
  - The summary and the per-product counts are recomputed, so the merged report has the totals one
    unsliced run would have written. Different catalog versions are joined in C(catalog.version) and
    listed in C(catalog.versions).
  - Writing the merged report is not a change to any managed host, so the task reports C(changed=false).
author: govsec.banned_software maintainers (@govsec)
extends_documentation_fragment:
  - govsec.banned_software.attributes.ACTION
  - govsec.banned_software.attributes.CONTROLLER
  - govsec.banned_software.attributes.READ_ONLY
options:
  src:
    description: Report files and directories holding them (controller paths).
    type: list
    elements: path
    required: true
  dest:
    description:
      - Directory on the controller for the merged C(report.json); created if missing. Without it nothing is written.
      - It must not be the directory of one of the reports being merged.
    type: path
  pattern:
    description: File name looked for in the directories of O(src).
    type: str
    default: report.json
  max_rows:
    description: Rows of the human summary table (problem hosts first).
    type: int
    default: 50
  history_dir:
    description:
      - Directory on the controller that keeps earlier runs' reports, for RV(changes) and RV(trend). Default
        is C(history) under O(dest); without either, no earlier report is read and none is kept.
      - The latest earlier report is found among O(dest)'s C(report.json) (before it is replaced), this
        directory's C(report.json) and its kept copies C(report-<generated_at>.json). Each run keeps its own
        copy there; the oldest beyond 30 copies are removed.
      - Earlier reports are read bounded (256 MiB each, at most 5 files); one that cannot be read or is not
        a report is a warning, never a failure.
    type: path
"""

EXAMPLES = r"""
- name: Merge the reports the slices of an AWX job wrote under /mnt/reports/1234
  govsec.banned_software.merge_reports:
    src: [/mnt/reports/1234]
    dest: /mnt/reports/1234/merged
  run_once: true
"""

RETURN = r"""
report_path:
  description: Path of the written C(report.json).
  returned: when O(dest) is set
  type: str
  sample: /mnt/reports/1234/merged/report.json
sources:
  description: The report files merged, in the order read.
  returned: always
  type: list
  elements: str
  sample: ["/mnt/reports/1234/slice-1/report.json", "/mnt/reports/1234/slice-2/report.json"]
summary:
  description: Counts of hosts by status, findings and exempt findings, recomputed over all hosts.
  returned: always
  type: dict
  sample: {"hosts": 4, "compliant": 3, "non_compliant": 0, "unreachable": 1, "failed": 0, "findings": 0, "exempt_findings": 0}
products:
  description: Per catalog entry, the hosts and findings counted.
  returned: always
  type: dict
  sample: {}
duplicates:
  description: Hosts found in more than one report, with the report kept and the report dropped.
  returned: always
  type: list
  elements: dict
  sample: [{"host": "web01", "kept": "b/report.json", "kept_generated_at": "2026-11-29T12:05:00Z",
            "dropped": "a/report.json", "dropped_generated_at": "2026-11-29T12:00:00Z"}]
non_compliant_hosts:
  description: Hosts with status C(non_compliant) in the merged report.
  returned: always
  type: list
  elements: str
  sample: ["web01"]
unreachable_hosts:
  description: Hosts with status C(unreachable).
  returned: always
  type: list
  elements: str
  sample: []
failed_hosts:
  description: Hosts with status C(failed).
  returned: always
  type: list
  elements: str
  sample: []
table:
  description: Lines of the human summary table.
  returned: always
  type: list
  elements: str
  sample: ["HOST  STATUS  FINDINGS  EXEMPT  PRODUCTS / ERROR"]
catalog_version:
  description: Catalog version(s) of the merged reports.
  returned: always
  type: str
  sample: "2026.11.29"
changes:
  description:
    - What changed since the latest earlier report (the C(changes) section of C(report.json)), for workflows
      that alert only on change. Empty lists (and C(previous_generated_at) null) without an earlier report.
  returned: always
  type: dict
  sample: {"previous_generated_at": "2026-11-28T02:00:00Z", "new_non_compliant": ["desk7"], "resolved": ["web2"],
           "reinstalled": ["desk7"], "newly_unreachable": ["lap3"],
           "new_findings": [{"host": "desk7", "key": "dpkg|machine|wechat|/var/lib/dpkg/status", "id": "wechat",
                             "product": "WeChat (Weixin)", "source": "dpkg", "name": "wechat", "exempt": false}],
           "removed_findings": []}
trend:
  description: One row of summary counts per run, oldest first, this run last (the C(trend) of C(report.json)).
  returned: always
  type: list
  elements: dict
  sample: [{"generated_at": "2026-11-29T02:00:00Z", "hosts": 3, "compliant": 1, "non_compliant": 1, "remediated": 0,
            "unreachable": 1, "failed": 0, "findings": 2, "reinstalled_hosts": 1}]
history_path:
  description: The copy of this run's report kept in the history directory (O(history_dir)).
  returned: when O(dest) or O(history_dir) is set
  type: str
  sample: /var/tmp/banned-software/history/report-20261129T020000Z.json
has_changes:
  description: Whether RV(changes) names any host or finding (false without an earlier report).
  returned: always
  type: bool
  sample: true
"""
