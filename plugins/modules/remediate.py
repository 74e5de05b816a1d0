#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin plugins/action/remediate.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: remediate
short_description: Remove banned software from a host, exactly, with check mode and verification
version_added: 0.1.0
description:
  - Scans the host (one collector call), plans the removal of every finding of an enabled catalog entry
    that is not exempt (pure Python on the controller), runs the whole plan on the host in one call of
    M(govsec.banned_software.execute), and scans again to verify. Each finding gets an C(outcome).
  - "Order: stop and disable services, stop processes, archive user data (policy C(archive)), remove
    packages (one C(dpkg) or C(rpm -e) transaction per host: both refuse to remove a package that
    something else still needs, so nothing that is not banned is removed as a dependant), uninstall
    flatpaks (per-user ones as their user) and snaps, move AppImages and unpackaged files to a
    quarantine directory, purge user data (policies C(archive) and C(purge)), and with
    O(remove_leftovers) quarantine vendor leftovers."
  - User data is kept by default (O(data_policy)); WeChat chat history may be a government record.
  - Protected packages (C libraries, init, package managers, kernels, sudo, ssh, Python...) are never removed.
    If the plan would remove more than O(max_removals) items in one scope (the machine, or one user's
    files), nothing of that scope is removed; the other scopes go on.
  - Never reboots. RV(reboot_required) tells whether the host asks for a reboot.
  - Keeps it gone (O(prevent_reinstall), default on). The same collector call reads the host's reinstall blocks
    and the same executor call applies them after the removal steps, on every host the task runs on (clean
    hosts too), except when the circuit breaker tripped for the machine scope. Linux, for the entries to block (see
    O(prevent_reinstall_entries)) - an APT preferences file pinning each banned package to -1, one
    marker-delimited C(excludepkgs=) block at the end of C([main]) of C(/etc/dnf/dnf.conf) that carries the
    administrator's own value (dnf 4) or a drop-in (dnf 5), C(zypper addlock) and C(flatpak mask) (system
    and per user) for what is not locked or masked yet. snap and AppImage have no native block and are
    listed in RV(blocks) C(not_blockable). Windows - AppLocker deny rules merged into the local policy and
    deprovisioned AppX packages. macOS - reported as needing MDM. The result is in RV(blocks); the
    C(govsec.banned_software.block) action (C(playbooks/unblock.yml)) removes them again.
  - Linux and macOS hosts run M(govsec.banned_software.execute), Windows hosts M(govsec.banned_software.win_execute)
    (docs/windows.md, docs/macos.md; docs/support.md says what is verified on which system).
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
    details: The diff lists what is installed and the steps that will remove it, and the text of every file a
      reinstall block writes or removes, before and after.
  platform:
    description: Target OS/families that can be operated against.
    platforms: [posix, windows]
    support: full
    details: Linux, macOS and Windows. Snap removal and per-user flatpaks are planned but not run in the tests
      (docs/support.md).
options:
  local_fact:
    description:
      - Keep the host's last status as a local fact (docs/awx.md, "Local fact"). The record is written by the
        executor call that removes (a hash-checked C(write_file) step after the removal's steps), so the
        remediation stays three module calls per host (scan, execute, verify). When the run does not go as
        planned (a step failed, the verification scan disagrees), one more call corrects the record.
        A host with nothing to remove gets one executor call, only when its record changes.
      - Under check mode the task reports V(changed) when the record would change; nothing is written.
      - The remediate role sets it from C(banned_software_local_fact) (default V(true) there).
    type: bool
    default: true
  prevent_reinstall:
    description:
      - Apply the reinstall blocks of the entries to block (docs/blocking.md) in the same run. V(false) plans no
        block and leaves existing blocks as they are (remove them with C(playbooks/unblock.yml)).
    type: bool
    default: true
  users:
    description: Limit per-user sources to these local users. Default is every local user.
    type: list
    elements: str
  data_policy:
    description:
      - User data policy for every entry, overriding the catalog's C(data_policy) (default V(keep)).
      - V(archive) writes a tar.gz with a sha256 file into O(archive_dir) and then deletes the data; V(purge) deletes it.
    type: str
    choices: [keep, archive, purge]
  data_policies:
    description: "User data policy per catalog entry id, for example C({wechat: archive})."
    type: dict
    default: {}
  purge_packages:
    description: Purge Debian packages (C(dpkg --purge), removing their configuration files) instead of removing them.
    type: bool
    default: false
  remove_leftovers:
    description: Also quarantine the vendor leftovers the catalog lists (for example C(/var/opt/kaspersky/kesl)).
    type: bool
    default: false
  max_removals:
    description:
      - Circuit breaker, counted per scope (the machine, and each user). If the plan would remove more items
        (packages, flatpaks, snaps, paths, purged data) in one scope, nothing of that scope is removed and its
        findings are C(skipped_limit); the other scopes go on. A trip of the machine scope fails the host.
    type: int
    default: 25
  protected_packages:
    description: Package names or shell patterns never to remove, in addition to the built-in list.
    type: list
    elements: str
    default: []
  quarantine_dir:
    description:
      - Directory on the host where removed files and directories are moved, one sub-directory per run, with a manifest.
      - Default C(/var/lib/govsec-banned-software/quarantine) on Linux, C(C:\\ProgramData\\govsec-banned-software\\quarantine) on Windows.
    type: str
  archive_dir:
    description:
      - Directory on the host for user-data archives.
      - Default C(/var/lib/govsec-banned-software/archive) on Linux, C(C:\\ProgramData\\govsec-banned-software\\archive) on Windows.
    type: str
  uninstall_secrets:
    description:
      - Vendor uninstall credentials by name, for example C(kaspersky_login) and C(kaspersky_password) for a password-protected
        Kaspersky product. Keep them in ansible-vault. They are passed only to the Windows executor, which never logs them.
    type: dict
    default: {}
  lock_timeout:
    description: Seconds to wait, retrying, while another process holds the package manager's lock.
    type: int
    default: 300
  step_timeout:
    description: Seconds after which a step's command is killed and reported as failed.
    type: int
    default: 900
seealso:
  - module: govsec.banned_software.scan
  - module: govsec.banned_software.execute
"""

EXAMPLES = r"""
- name: Remove software banned by the Australian Kaspersky direction, archiving user data
  govsec.banned_software.remediate:
    policies:
      - au-pspf-002-2025-kaspersky
    data_policy: archive
    remove_leftovers: true
  become: true
  register: removal

- name: Show the outcome of each finding
  ansible.builtin.debug:
    msg: "{{ removal.findings | map(attribute='outcome') | list }}"
"""

RETURN = r"""
local_fact:
  description: With O(local_fact), whether the local fact was (under check mode, would be) written (C(changed)),
    its C(path), and C(error) when it could not be.
  returned: with O(local_fact), on a scanned host
  type: dict
  sample: {"changed": true, "path": /etc/ansible/facts.d/banned_software.fact}
status:
  description:
    - V(compliant) (nothing found), V(remediated) (everything banned is gone) or V(non_compliant).
    - V(failed) instead of V(compliant) or V(remediated) when the scan that decides it (the verification scan after a
      real run) read a source that could hold a banned product only in part (RV(incomplete), RV(error)).
  returned: success
  type: str
  sample: remediated
error:
  description: Which sources were incomplete (C(scan incomplete, compliance unknown:) followed by each source and its reason).
  returned: when RV(status) is V(failed) because of RV(incomplete)
  type: str
  sample: "scan incomplete, compliance unknown: process: stopped after its time budget of 60 s"
incomplete:
  description: The sources the deciding scan read only in part, with the first reason (also in C(ansible_facts.banned_software)).
  returned: success
  type: dict
  sample: {}
findings:
  description: The findings of the first scan, each with C(outcome) (removed, already_absent, failed, skipped_exempt,
    skipped_protected, skipped_limit; would_remove in check mode) and C(outcome_detail) when there is one.
  returned: success
  type: list
  elements: dict
  sample: [{"id": "wechat", "source": "dpkg", "name": "wechat", "outcome": "removed"}]
remediation:
  description: The run, its plan, the executor's step results (command, rc, output) and outcome counts.
  returned: success
  type: dict
  sample: {"run_id": "20261129T120000Z", "outcomes": {"removed": 3}, "reboot_required": false, "steps": []}
reboot_required:
  description: Whether the host asks for a reboot after the removal (it is never rebooted by this module).
  returned: success
  type: bool
  sample: false
blocks:
  description:
    - The reinstall blocks of the host. C(prevent_reinstall), C(mode) (V(present)), C(items) (C(mechanism)
      apt_preferences, dnf_excludepkgs, zypper_lock, flatpak_mask, applocker, appx_deprovision or mdm; C(target), a
      path or a scope such as V(system) or V(user:alice); C(names); C(entries); C(state) applied, unchanged,
      would_apply, removed, would_remove, failed, unavailable, not_supported or needs_mdm; C(detail); C(steps), the
      ids of its executor steps).
    - C(not_blockable) (C(entry), C(source), C(identifier), C(reason)), C(skipped) (entries not blocked on this
      host and why), C(steps) (the executor steps planned) and C(results) (what the executor reported for them),
      C(detail) when no block was planned.
  returned: success
  type: dict
  sample: {"prevent_reinstall": true, "mode": "present",
           "items": [{"mechanism": "apt_preferences", "target": "/etc/apt/preferences.d/govsec-banned-software",
                      "names": ["kesl", "wechat"], "entries": ["kaspersky-endpoint-security-linux", "wechat"],
                      "state": "applied", "detail": "Pin-Priority -1 for 2 package(s)", "steps": [4]}],
           "not_blockable": [{"entry": "wechat", "source": "appimage", "identifier": "(?i)...AppImage",
                              "reason": "AppImages are plain files with no install step to block"}],
           "skipped": [], "steps": [], "results": []}
scanned_at:
  description: >-
    The other keys of C(ansible_facts.banned_software) (C(scanned_at), C(os), C(catalog_version), C(policies),
    C(entries_enabled), C(counts), C(available), C(root), ..., its C(warnings) as C(scan_warnings)) are also
    returned at the top level, as M(govsec.banned_software.scan) returns them: the registered result is the host's
    result (the remediate role registers it as C(banned_software_host_report)).
  returned: success
  type: str
  sample: "2026-11-29T13:31:02Z"
ansible_facts:
  description: C(banned_software) as set by M(govsec.banned_software.scan), plus C(remediation) and C(blocks).
  returned: success
  type: dict
  sample: {"banned_software": {"status": "remediated"}}
"""
