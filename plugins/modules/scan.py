#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin plugins/action/scan.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: scan
short_description: Find banned software on a host in one round trip
version_added: 0.1.0
description:
  - Loads and validates the catalog on the controller, selects the entries enabled by O(policies),
    sends the host's collector a query built from them (one module call per host), matches the
    returned records against the catalog signatures on the controller and applies O(exemptions).
  - Never changes the host. Sets C(ansible_facts.banned_software).
  - Linux and macOS hosts use M(govsec.banned_software.collect), Windows hosts (a C(winrm) or C(psrp) connection,
    or gathered facts that say Windows) M(govsec.banned_software.win_collect). See docs/support.md for what is
    verified on which system.
author: govsec.banned_software maintainers (@govsec)
extends_documentation_fragment:
  - govsec.banned_software.attributes.ACTION
  - govsec.banned_software.attributes.READ_ONLY
  - govsec.banned_software.attributes.SELECTION
  - govsec.banned_software.attributes.SOURCE_TIMEOUT
  - govsec.banned_software.attributes.EXEMPTIONS
attributes:
  platform:
    description: Target OS/families that can be operated against.
    platforms: [posix, windows]
    support: full
    details: Linux and macOS through M(govsec.banned_software.collect), Windows through M(govsec.banned_software.win_collect).
options:
  sources:
    description: Limit the collector to these sources (for example V(dpkg), V(rpm), V(flatpak)). Default is all.
    type: list
    elements: str
  users:
    description: Limit per-user sources to these local user names. Default is every local user.
    type: list
    elements: str
  root:
    description:
      - Scan the system mounted at this directory on the managed node instead of the running system
        (for example a golden image or VM template mounted on the controller, in a play on C(localhost)).
      - Live-only sources (processes) are skipped; paths in findings are paths inside the image.
    type: path
  record_failures:
    description:
      - When V(true), a host that cannot be reached or whose collector fails is not a failed task; the
        result has RV(status) V(unreachable) or V(failed) and RV(error), so the registered result is the
        host's result for the report with no second task per host (the detect role does this and fails
        such hosts at the end of the playbook).
      - When V(false), such hosts fail the task (or are unreachable) as usual.
      - Errors in the catalog or the variables always fail the task.
    type: bool
    default: false
  local_fact:
    description:
      - When V(true), the scan also works out the host's local fact (docs/awx.md, "Local fact") from the record it
        read in its collector call, and returns RV(local_fact) and, when the record changes, RV(local_fact_step),
        which M(govsec.banned_software.local_fact) writes in one executor call. The scan itself never writes.
      - Ignored with O(root) (an image keeps no local fact of this run).
      - The detect role sets it from C(banned_software_local_fact).
    type: bool
    default: false
seealso:
  - module: govsec.banned_software.collect
  - module: govsec.banned_software.report
"""

EXAMPLES = r"""
- name: Scan for software banned by the Canadian 2023-10-30 direction
  govsec.banned_software.scan:
    policies:
      - ca-tbs-2023-10-30
    exemptions:
      - entry: wechat
        reason: Liaison office, ticket SEC-1234
        expires: "2027-03-31"
  register: scan

- name: Scan a Linux image mounted on the controller
  govsec.banned_software.scan:
    root: /mnt/golden-image
  delegate_to: localhost

- name: Show what was found
  ansible.builtin.debug:
    var: ansible_facts.banned_software.findings
"""

RETURN = r"""
local_fact:
  description: With O(local_fact), whether the local fact changes (C(changed)) and its C(path) when it does.
  returned: with O(local_fact), on a scanned host
  type: dict
  sample: {"changed": true, "path": /etc/ansible/facts.d/banned_software.fact}
local_fact_step:
  description: The executor step that writes the local fact (for M(govsec.banned_software.local_fact)).
  returned: with O(local_fact), when the record changes
  type: dict
status:
  description:
    - V(compliant) when every finding is exempt (or there is none), else V(non_compliant).
    - With O(record_failures), V(unreachable) or V(failed) when the host could not be scanned.
    - V(failed) also when the host has no finding that is not exempt but a source that could hold a banned product
      was read only in part (RV(incomplete)); without O(record_failures) the task then fails with RV(error).
  returned: success
  type: str
  sample: non_compliant
error:
  description: Why the host could not be scanned, or which sources were incomplete (C(scan incomplete, compliance
    unknown:) followed by each source and its reason).
  returned: when RV(status) is V(unreachable) or V(failed)
  type: str
  sample: "collector govsec.banned_software.collect failed: python3: not found"
incomplete:
  description:
    - The sources the collector read only in part, each with the first reason (the collector's RV(govsec.banned_software.collect#module:incomplete)).
    - An empty mapping when every source was read completely.
  returned: success
  type: dict
  sample: {"process": "1 process(es) could not be examined: ...; 1 of them may be a banned program and could not be confirmed: wechat (pid 4242)"}
scan_warnings:
  description: The scan's warnings (C(ansible_facts.banned_software.warnings)); also shown as task warnings.
  returned: success
  type: list
  elements: str
  sample: []
findings:
  description: One item per banned identifier found on the host.
  returned: success
  type: list
  elements: dict
  sample:
    - id: wechat
      product: WeChat (Weixin)
      vendor: Tencent
      source: dpkg
      name: wechat
      version: 4.0.1.11
      scope: machine
      path: /var/lib/dpkg/status
      policies: [ca-tbs-2023-10-30]
      exempt: false
      key: dpkg|machine|wechat|/var/lib/dpkg/status
      matched_by: name=wechat
scanned_at:
  description: >-
    The other keys of C(ansible_facts.banned_software) (C(scanned_at), C(os), C(catalog_version), C(policies),
    C(entries_enabled), C(counts), C(available), C(root), ...) are also returned at the top level, so the
    registered result is the host's result.
  returned: success
  type: str
  sample: "2026-11-29T13:31:02Z"
ansible_facts:
  description: Facts set on the host.
  returned: success
  type: complex
  contains:
    banned_software:
      description: >-
        The scan result: C(status), C(findings), C(scanned_at), C(os), C(catalog_version), C(policies),
        C(entries_enabled), C(warnings), C(counts) (records examined per source), C(available) (sources present),
        C(incomplete) (sources read only in part), C(error) (when the status is V(failed)).
      type: dict
      returned: success
      sample:
        status: compliant
        findings: []
        os: linux
        catalog_version: "2026.11.29"
"""
