#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin plugins/action/image_scan.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: image_scan
short_description: Find banned software in a mounted system image and plan its removal
version_added: 0.1.0
description:
  - Scans an offline system (a golden image, a VM template or a disk mounted read-only) that is mounted at
    O(root) on the managed node, normally the controller itself through C(delegate_to=localhost).
  - Loads and validates the catalog on the controller, sends M(govsec.banned_software.collect) a query
    built from the entries enabled by O(policies) (one module call), matches the records and applies
    O(exemptions) exactly as M(govsec.banned_software.scan) does for a running host, so an image and a
    live host give the same findings.
  - Linux, macOS (a mounted macOS volume) and Windows images (an offline Windows system drive; reading its
    registry hives needs the Python library C(regipy) on the node) are supported.
  - Each finding carries RV(findings[].remediation), the steps the removal planner would run for it on the
    live system (command lines as argument lists, quarantine and purge paths), computed on the controller.
    Nothing is ever run or changed. When removal planning is not available for the image's system,
    RV(findings[].remediation) is V(null) and a warning says so; the scan itself still succeeds.
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
    platforms: [posix]
    support: full
    details: The node that has the image mounted must be a POSIX system (Linux); the image may hold Linux, macOS or Windows.
options:
  root:
    description:
      - Directory on the managed node where the image's root file system (for Windows, its system drive) is
        mounted. Every path is resolved inside it; links never lead out of it.
    type: path
    required: true
  os:
    description:
      - The system the image must hold. V(auto) accepts what the collector recognises (Windows when
        C(Windows/System32/config/SOFTWARE) exists, macOS by C(System/Library/CoreServices/SystemVersion.plist),
        else Linux).
      - Any other value is a check; an image that holds another system fails the task.
    type: str
    choices: [auto, linux, windows, macos]
    default: auto
  users:
    description: Limit per-user locations to these user names (profile folder names on Windows). Default is every user.
    type: list
    elements: str
  fail_on:
    description:
      - The pipeline gate (golden-image builds, CI jobs). V(never) never fails on findings. V(non_compliant) fails
        the task when the image holds a finding that is not exempt, V(findings) when it holds any finding, exempt
        ones included. The message names the image, the host and the products; the result still carries every
        finding.
      - When the task does not set it, the variable C(banned_software_fail_on) is used (docs/usage.md).
    type: str
    choices: [never, non_compliant, findings]
    default: never
notes:
  - Processes are never examined in an image (nothing runs in it); the collector says so in RV(warnings).
  - Removal of packages from a Linux image is planned only where the planner knows the package tool; the
    collector lists no tools for an image, so package findings are typically C(unplanned) with a
    RV(findings[].remediation_note), while files, desktop entries and AppImages get quarantine steps.
requirements:
  - regipy (Python library, on the node that reads a Windows image; the project pins regipy 6.5.0)
seealso:
  - module: govsec.banned_software.scan
  - module: govsec.banned_software.collect
"""

EXAMPLES = r"""
- name: Scan a Windows golden image mounted read-only at /mnt/win on the controller
  govsec.banned_software.image_scan:
    root: /mnt/win
    os: windows
    policies: [ca-tbs-2023-10-30]
  delegate_to: localhost
  register: image

- name: Fail the image pipeline when anything banned (and not exempt) is in it
  govsec.banned_software.image_scan:
    root: /mnt/win
    fail_on: non_compliant
  delegate_to: localhost

- name: Scan a Linux root file system unpacked under /srv/images/web
  govsec.banned_software.image_scan:
    root: /srv/images/web
  delegate_to: localhost
"""

RETURN = r"""
status:
  description:
    - V(compliant) when every finding is exempt (or there is none), else V(non_compliant).
    - V(failed) when there is no finding that is not exempt but a source that could hold a banned product was read
      only in part (RV(incomplete), RV(error)).
  returned: success
  type: str
  sample: non_compliant
error:
  description: Which sources were incomplete (C(scan incomplete, compliance unknown:) followed by each source and its reason).
  returned: when RV(status) is V(failed)
  type: str
  sample: "scan incomplete, compliance unknown: registry: the SOFTWARE hive could not be read"
incomplete:
  description: The sources read only in part, each with the first reason (an unreadable hive, a key cut at its cap,
    the source's time budget); an empty mapping when every source was read completely.
  returned: success
  type: dict
  sample: {}
os:
  description: The system found in the image (V(linux), V(macos) or V(windows)).
  returned: always
  type: str
  sample: windows
findings:
  description: One item per banned identifier found in the image, as M(govsec.banned_software.scan) returns them.
  returned: success
  type: list
  elements: dict
  contains:
    remediation:
      description:
        - The planned steps that act on this finding, in plan order (C(id), C(kind), C(action), and per kind
          C(argv), C(path), C(type), C(paths), ...; docs/design.md, "Plan").
        - An empty list when the finding is skipped or cannot be planned (see C(remediation_note)).
        - V(null) when removal planning is not available for the image's system.
      type: list
      elements: dict
    remediation_note:
      description: Why a finding has no step of its own (exempt, protected, circuit breaker, no removal method).
      type: str
  sample:
    - id: wechat
      product: WeChat (Weixin)
      vendor: Tencent
      source: registry
      name: WeChat
      scope: machine
      path: HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\WeChat
      exempt: false
      remediation: null
warnings:
  description: Collector and matcher warnings (incomplete sources, unreadable hives, processes not examined, planning).
  returned: success
  type: list
  elements: str
counts:
  description: C(findings), C(exempt), C(planned) (findings with at least one step) and C(examined) (items examined per source).
  returned: success
  type: dict
  sample: {"findings": 12, "exempt": 0, "planned": 0, "examined": {"registry": 11, "service": 2}}
plan:
  description: The whole removal plan (steps, skipped, unplanned, user data), or V(null) when planning is not available.
  returned: success
  type: dict
root:
  description: The scanned directory (resolved).
  returned: success
  type: str
  sample: /mnt/win
"""
