#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin plugins/action/export_block_rules.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: export_block_rules
short_description: Export the reinstall-block rules of the catalog for MDM, Santa and Group Policy administrators
version_added: 0.1.0
description:
  - Runs on the controller only and contacts no host. From the selected catalog entries that are blocked
    (O(prevent_reinstall), O(prevent_reinstall_entries) and the entries' C(prevent_reinstall) field, as in a
    remediation) it writes two files into O(dest).
  - "C(macos-block-rules.json): the exact bundle ids and team ids per entry, all of them merged, Santa
    rules (C(identifier), C(policy), C(rule_type), C(custom_msg): the keys of Santa's C(StaticRules)), and
    what cannot be exported (identifiers that are regular expressions). macOS has no local install block
    without MDM, so this is what an MDM or Santa administrator deploys."
  - "C(windows-applocker-deny.xml): an C(<AppLockerPolicy>) with the AppLocker deny rules (Exe path and
    publisher rules, Appx publisher rules for the families given in O(appx_publishers)), for Group Policy
    or Intune administrators. The rule ids are the ones the remediation writes into local policies."
  - Exemptions are per host and are not applied here; scope the MDM or GPO assignment instead.
  - A file is rewritten only when its content changes (the export has no time stamp), atomically
    (temporary file and rename in O(dest)); a symbolic link in place of a file or of O(dest) is refused.
author: govsec.banned_software maintainers (@govsec)
extends_documentation_fragment:
  - govsec.banned_software.attributes.ACTION
  - govsec.banned_software.attributes.CONTROLLER
  - govsec.banned_software.attributes
  - govsec.banned_software.attributes.SELECTION
attributes:
  check_mode:
    support: full
    details: Reports which files would change and writes nothing.
  diff_mode:
    support: full
    details: Shows the old and new content of each file that changes.
options:
  dest:
    description: Directory on the controller for the two files; created (mode 0755) if missing.
    type: path
    required: true
  prevent_reinstall:
    description: The variable C(banned_software_prevent_reinstall); V(false) exports no entry.
    type: bool
    default: true
  prevent_reinstall_entries:
    description:
      - "The variable C(banned_software_prevent_reinstall_entries), C({entry id: true|false}), which overrides
        the entry's C(prevent_reinstall) field. Unknown entry ids are errors."
    type: dict
    default: {}
  applocker_enforcement:
    description: The C(EnforcementMode) of the rule collections that have rules.
    type: str
    choices: [AuditOnly, Enabled]
    default: AuditOnly
  applocker_allow_rest:
    description:
      - Add "allow everything" rules for Everyone to each collection with deny rules. AppLocker is an allow
        list, so a collection with deny rules only blocks (or, in AuditOnly, logs) every program.
      - Leave V(false) to merge the deny rules into a GPO that has allow rules of its own; set V(true) only
        for a GPO that holds nothing but these rules. An allow-everything rule in a GPO that also holds an
        organisation's allow list would open that list.
    type: bool
    default: false
  applocker_mode:
    description: V(all), V(publisher) (publisher rules only) or V(path) (path rules only).
    type: str
    choices: [all, publisher, path]
    default: all
  appx_publishers:
    description:
      - Package family name to the publisher's certificate subject (C(CN=..., O=...)), for Appx publisher
        rules. A subject must hash to the family name's publisher id. Families without one are listed in
        RV(windows_not_blockable).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Export the rules of every policy for the MDM and GPO teams
  govsec.banned_software.export_block_rules:
    dest: /srv/exports/banned-software
  run_once: true
  delegate_to: localhost

- name: Only the Canadian policy, enforced, for a GPO that holds nothing else
  govsec.banned_software.export_block_rules:
    dest: /srv/exports/ca
    policies: [ca-tbs-2023-10-30]
    applocker_enforcement: Enabled
    applocker_allow_rest: true
"""

RETURN = r"""
files:
  description: The files written (or, in check mode, that would be), whether each changed, and its sha256.
  returned: success
  type: list
  elements: dict
  sample: [{"path": "/srv/exports/banned-software/macos-block-rules.json", "changed": true,
            "sha256": "0c1f..."}]
entries:
  description: The catalog entry ids exported.
  returned: success
  type: list
  elements: str
  sample: [deepseek, kaspersky-macos, wechat, wecom]
skipped_entries:
  description:
    - Selected entries not exported, with the reason (C(prevent_reinstall) false).
    - Not named C(skipped), because Ansible takes a non-empty C(skipped) in a result for a skipped task.
  returned: success
  type: list
  elements: dict
  sample: [{"entry": "wecom", "reason": "prevent_reinstall is false (banned_software_prevent_reinstall_entries)"}]
applocker_rules:
  description: Number of AppLocker deny rules in C(windows-applocker-deny.xml).
  returned: success
  type: int
  sample: 6
windows_not_blockable:
  description: Windows identifiers of the exported entries that have no AppLocker rule, with the reason.
  returned: success
  type: list
  elements: dict
  sample: [{"entry": "tiktok", "source": "appx", "identifier": "BytedancePte.Ltd.TikTok_6yccndn6064se",
            "reason": "publisher subject unknown (give it in appx_publishers); deprovision only"}]
"""
