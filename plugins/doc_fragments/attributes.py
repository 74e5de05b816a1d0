# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment(object):

    # Standard attributes of a read-only module or action.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
"""

    # Read-only: nothing is ever changed, so check mode and diff mode are trivially exact.
    READ_ONLY = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Read-only; reports C(changed=false) in every mode.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
"""

    # Every action plugin of this collection.
    ACTION = r"""
options: {}
attributes:
  action:
    description: Runs on the controller as an action plugin.
    support: full
"""

    # With ACTION, the actions that contact no managed host (catalog, report, merge_reports, export_block_rules).
    CONTROLLER = r"""
options: {}
attributes:
  platform:
    description: Target OS/families that can be operated against.
    platforms: all
    support: full
"""

    # Options shared by the actions that read the catalog (with EXEMPTIONS, except export_block_rules).
    SELECTION = r"""
options:
  policies:
    description:
      - Policy ids whose banned entries are selected (see C(catalog/policies.yml) or the C(catalog) action).
      - V(all) selects every policy. An unknown id is an error, so a typo never disables enforcement.
    type: list
    elements: str
    default: [all]
  disabled_entries:
    description: Catalog entry ids to skip even when a selected policy names them. Unknown ids are errors.
    type: list
    elements: str
    default: []
  custom_entries:
    description: Additional catalog entries, same schema as C(catalog/entries/*.yml) (see docs/design.md).
    type: list
    elements: dict
    default: []
  custom_policies:
    description: Additional policies, same schema as C(catalog/policies.yml).
    type: list
    elements: dict
    default: []
  catalog_files:
    description: Additional catalog files on the controller (YAML with C(policies) and/or C(entries)).
    type: list
    elements: path
    default: []
notes:
  - An option that the task does not set is read from the variable named C(banned_software_) followed by the
    option's name when that variable is defined (the variables of this collection's roles, for example
    C(banned_software_policies) for O(policies)); an option set in the task always wins. This holds for the
    selection options above and, where the module has them, C(sources), C(users) and the remediation and
    blocking options and C(source_timeout) (not C(state), C(root), C(record_failures), nor the export's C(dest),
    C(applocker_mode) and C(appx_publishers)). An empty C(banned_software_sources),
    C(banned_software_users), C(banned_software_data_policy), C(banned_software_quarantine_dir) or
    C(banned_software_archive_dir) leaves the option unset.
"""

    # The per-host exemptions option (every selection action but export_block_rules: exemptions are per host).
    EXEMPTIONS = r"""
options:
  exemptions:
    description:
      - Exemptions for this host, each with C(entry), C(reason) and C(expires) (YYYY-MM-DD, honoured through that day, UTC).
      - Optional C(source) and C(name) narrow an exemption to one finding; C(approved_by) and C(ticket) are recorded.
    type: list
    elements: dict
    default: []
"""

    # The collector's per-source budget (the actions that scan a host or an image).
    SOURCE_TIMEOUT = r"""
options:
  source_timeout:
    description:
      - Seconds each source of the POSIX collector (dpkg, rpm, flatpak, desktop entries, processes, registry hives
        of an image, ...) may take (O(govsec.banned_software.collect#module:source_timeout)); V(0) means no limit.
        A source that runs out, or that is read only in part, is reported in C(incomplete) with a warning.
      - A host with no finding that is not exempt is then V(failed) (compliance unknown, C(error) names the
        sources), never V(compliant), when an enabled catalog entry has signatures for an incomplete source on its
        platform (docs/design.md, "Host status").
      - Not sent to the Windows collector (C(win_collect)).
    type: int
    default: 60
"""

    # Options of the reinstall blocks (remediate and block actions; docs/blocking.md).
    BLOCKING = r"""
options:
  prevent_reinstall_entries:
    description:
      - Per catalog entry id, V(true) or V(false) to block it or not, overriding the entry's C(prevent_reinstall)
        (default V(true)). An unknown entry id or a value that is not a boolean is an error before any host is
        contacted.
      - An entry with a live exemption on the host is never blocked there.
    type: dict
    default: {}
  applocker_enforcement:
    description:
      - Windows. Enforcement mode of the AppLocker rule collections this collection owns on the host
        (V(AuditOnly) logs what would be blocked; V(Enabled) blocks). Collections that hold the organisation's own
        rules keep their mode.
    type: str
    choices: [AuditOnly, Enabled]
    default: AuditOnly
  applocker_all_editions:
    description:
      - Windows. V(true) accepts every Windows edition for AppLocker rules. Since KB 5024351, Windows 10 2004
        and later and Windows 11 enforce AppLocker policies on every edition; set it only for fleets that have
        that update. With V(false) (default) only Enterprise, Education, IoT Enterprise and Server editions
        get rules and other editions are reported V(unavailable).
    type: bool
    default: false
"""
