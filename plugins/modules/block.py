#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin plugins/action/block.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: block
short_description: Apply or remove the reinstall blocks of banned software on a host
version_added: 0.1.0
description:
  - Reads the host's software and its reinstall blocks in one collector call, plans the blocks in Python on the
    controller and applies the plan in at most one executor call. Removes nothing but blocks.
  - O(state=present) applies the blocks of the entries to block on this host, exactly as
    M(govsec.banned_software.remediate) does after a removal (it can block clean hosts before anything is
    installed). O(state=absent) removes every block this collection wrote - its APT preferences file, its
    C(excludepkgs) block in C(/etc/dnf/dnf.conf), its dnf 5 drop-in, the zypper locks and flatpak masks recorded
    in C(/var/lib/govsec-banned-software/blocks.json), then that record, and on Windows its AppLocker rules.
    A lock, mask, rule or setting of the administrator is never removed.
  - Files are written only while they still have the content the scan saw, so an edit made in between is
    never lost (the item fails instead).
  - See C(docs/blocking.md) for what each mechanism does and does not stop.
author: govsec.banned_software maintainers (@govsec)
extends_documentation_fragment:
  - govsec.banned_software.attributes.ACTION
  - govsec.banned_software.attributes.SELECTION
  - govsec.banned_software.attributes.SOURCE_TIMEOUT
  - govsec.banned_software.attributes.EXEMPTIONS
  - govsec.banned_software.attributes.BLOCKING
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Scans and plans, changes nothing, and reports C(changed) exactly when a real run would act.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The text of every file written or removed, before and after (and the record of locks and masks).
  platform:
    description: Target OS/families that can be operated against.
    platforms: [posix, windows]
    support: full
    details: Linux (APT, dnf, zypper, flatpak), Windows (AppLocker, AppX); macOS reports C(needs_mdm).
options:
  state:
    description: V(present) applies the blocks; V(absent) removes every block this collection wrote.
    type: str
    choices: [present, absent]
    default: present
  users:
    description: Limit per-user locations (flatpak user installations) to these local users. Default is every user.
    type: list
    elements: str
  step_timeout:
    description: Seconds after which a step's command is killed and reported as failed.
    type: int
    default: 900
  lock_timeout:
    description: Seconds to wait, retrying, while another process holds a package manager's lock.
    type: int
    default: 300
notes:
  - The task fails when an item ends C(failed); every item is still in RV(blocks).
seealso:
  - module: govsec.banned_software.remediate
  - module: govsec.banned_software.collect
"""

EXAMPLES = r"""
- name: Block the banned software on hosts that do not have it (yet)
  govsec.banned_software.block:
    state: present
  become: true

- name: Remove every reinstall block this collection wrote
  govsec.banned_software.block:
    state: absent
  become: true

- name: Keep blocking everything but DeepSeek
  govsec.banned_software.block:
    prevent_reinstall_entries:
      deepseek: false
  become: true
"""

RETURN = r"""
status:
  description: The host's status from the scan (V(compliant) or V(non_compliant)); blocking removes nothing.
  returned: success
  type: str
  sample: compliant
findings:
  description: The findings of the scan (as M(govsec.banned_software.scan) returns them).
  returned: success
  type: list
  elements: dict
  sample: []
blocks:
  description:
    - C(prevent_reinstall) (true), C(mode) (O(state)), C(items) (C(mechanism), C(target), C(names), C(entries),
      C(state) applied, unchanged, would_apply, removed, would_remove, failed, unavailable, not_supported or
      needs_mdm; C(detail); C(steps)), C(not_blockable), C(skipped), C(steps) (the executor steps planned) and
      C(results) (what the executor reported for them).
  returned: success
  type: dict
  sample: {"prevent_reinstall": true, "mode": "absent",
           "items": [{"mechanism": "zypper_lock", "target": "system", "names": ["wechat"], "entries": ["wechat"],
                      "state": "removed", "detail": "remove our lock(s): wechat", "steps": [1, 2]}],
           "not_blockable": [], "skipped": [], "steps": [], "results": []}
scanned_at:
  description: >-
    The other keys of C(ansible_facts.banned_software) (C(scanned_at), C(os), C(catalog_version), C(policies),
    C(entries_enabled), C(counts), C(available), C(incomplete), C(root), ..., its C(warnings) as C(scan_warnings))
    are also returned at the top level, as M(govsec.banned_software.scan) returns them: the registered result is
    the host's result (the remediate role's C(block) entry point registers it as C(banned_software_host_report)).
  returned: success
  type: str
  sample: "2026-11-29T13:31:02Z"
ansible_facts:
  description: C(banned_software) as set by M(govsec.banned_software.scan), plus C(blocks).
  returned: success
  type: dict
  sample: {"banned_software": {"status": "compliant", "blocks": {"mode": "absent"}}}
"""
