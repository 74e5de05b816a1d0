#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin plugins/action/report.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: report
short_description: Write the fleet compliance report on the controller
version_added: 0.1.0
description:
  - Collects each host's result (the variable O(result_var), set by the C(detect) role) and writes
    C(report.json) into O(dest) on the controller, atomically, plus the other O(formats) built from the
    same report data (C(report.csv), C(report.html), C(report.junit.xml)), each written to a temporary
    file and renamed.
  - A host without a result that was asked for in O(hosts) is reported as V(failed); unreachable
    hosts are V(unreachable); neither is ever counted as compliant.
  - Returns a short human summary table in RV(table).
  - Writing the report is not a change to any managed host, so the task always reports C(changed=false),
    in check mode too.
author: govsec.banned_software maintainers (@govsec)
extends_documentation_fragment:
  - govsec.banned_software.attributes.ACTION
  - govsec.banned_software.attributes.CONTROLLER
  - govsec.banned_software.attributes.READ_ONLY
options:
  dest:
    description: Directory on the controller for C(report.json); created if missing. Without it nothing is written.
    type: path
  hosts:
    description: Inventory hosts to report. Default is every inventory host that has O(result_var).
    type: list
    elements: str
  result_var:
    description: Host variable holding each host's result.
    type: str
    default: banned_software_host_report
  max_rows:
    description: Rows of the human summary table (problem hosts first).
    type: int
    default: 50
  formats:
    description:
      - Report files to write into O(dest). V(json) (C(report.json)) is always written.
      - V(csv) is C(report.csv), one row per host and finding (and per host without findings), UTF-8 with a
        byte order mark for spreadsheet programs; cells that would start a formula get a leading apostrophe.
        With it, C(policy-evidence.csv), the evidence per policy (a row per policy, then a row per exemption under it).
      - V(html) is C(report.html), one self-contained page (no external assets) with summary counts, charts,
        a sortable host table and the exemptions.
      - V(junit) is C(report.junit.xml), a test suite per host and a test case per host and enabled catalog
        entry; unreachable and failed hosts are errors.
    type: list
    elements: str
    choices: [json, csv, html, junit]
    default: [json, csv, html, junit]
  local_fact_default:
    description:
      - Whether a host without the variable C(banned_software_local_fact) wants the local fact; decides
        RV(local_fact_hosts). The remediate playbook passes V(true), the audit playbook V(false).
    type: bool
    default: false
  fail_on:
    description:
      - The pipeline gate for hosts that do not set the variable C(banned_software_fail_on) themselves (their
        inventory or facts); decides RV(gate_hosts). The audit playbook passes C(banned_software_fail_on).
      - V(never) lists no host. V(non_compliant) lists the scanned hosts with a finding that is not exempt.
        V(findings) lists the scanned hosts with any finding, exempt ones included.
      - Unreachable and failed hosts are never listed here; the playbooks fail them anyway.
      - One of V(never), V(non_compliant) or V(findings). Another value here, or in a host's own
        C(banned_software_fail_on), fails the task after the report files are written.
    type: str
    default: never
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
- name: Write the report for the hosts of the previous play
  govsec.banned_software.report:
    dest: /var/tmp/banned-software
  run_once: true

- name: Write only report.json and the JUnit file for a CI pipeline
  govsec.banned_software.report:
    dest: "{{ playbook_dir }}/reports"
    formats: [json, junit]
  run_once: true
"""

RETURN = r"""
report_path:
  description: Path of the written C(report.json).
  returned: when O(dest) is set
  type: str
  sample: /var/tmp/banned-software/report.json
report_paths:
  description: Path of each written report file, by format.
  returned: when O(dest) is set
  type: dict
  sample: {"json": "/var/tmp/banned-software/report.json", "csv": "/var/tmp/banned-software/report.csv",
           "html": "/var/tmp/banned-software/report.html", "junit": "/var/tmp/banned-software/report.junit.xml"}
summary:
  description: Counts of hosts by status, findings and exempt findings.
  returned: always
  type: dict
  sample: {"hosts": 3, "compliant": 1, "non_compliant": 1, "unreachable": 1, "failed": 0, "findings": 4, "exempt_findings": 0}
products:
  description: Per catalog entry, the hosts and findings counted.
  returned: always
  type: dict
  sample: {"wechat": {"product": "WeChat (Weixin)", "vendor": "Tencent", "hosts": 1, "findings": 2, "exempt": 0}}
table:
  description: Lines of the human summary table.
  returned: always
  type: list
  elements: str
  sample: ["HOST  STATUS  FINDINGS  EXEMPT  PRODUCTS / ERROR"]
hosts_by_status:
  description:
    - The reported hosts by status (sorted names). The playbooks' last play runs only on the hosts that
      need it (failed, unreachable, not clean) instead of a skipped task on every host.
  returned: always
  type: dict
  sample: {"compliant": ["web1", "web2"], "non_compliant": ["desk7"], "unreachable": ["lap3"]}
reinstalled_hosts:
  description: Hosts where software that a remediation had removed was found again (sorted names).
  returned: always
  type: list
  elements: str
  sample: ["desk7"]
local_fact_hosts:
  description:
    - Scanned hosts (compliant, non-compliant or remediated) whose C(banned_software_local_fact) is true,
      or that do not set it when O(local_fact_default) is true.
  returned: always
  type: list
  elements: str
  sample: ["desk7", "web1", "web2"]
gate_hosts:
  description: Scanned hosts that the pipeline gate (O(fail_on), C(banned_software_fail_on)) stops (sorted names).
  returned: always
  type: list
  elements: str
  sample: ["desk7"]
gate_failures:
  description: For each host of RV(gate_hosts), the failure message naming the host, the products and the findings.
  returned: always
  type: dict
  sample: {"desk7": "banned software on desk7 (banned_software_fail_on=non_compliant): WeChat (Weixin) (wechat); 2 finding(s)"}
catalog_version:
  description: Catalog version the hosts were scanned with.
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
policy_evidence_path:
  description: Path of the written C(policy-evidence.csv) (with the V(csv) format).
  returned: when O(dest) is set and O(formats) has V(csv)
  type: str
  sample: /var/tmp/banned-software/policy-evidence.csv
"""
