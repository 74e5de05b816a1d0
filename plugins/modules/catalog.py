#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin plugins/action/catalog.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: catalog
short_description: Validate and summarise the banned-software catalog on the controller
version_added: 0.1.0
description:
  - Reads the built-in catalog, O(catalog_files), O(custom_policies) and O(custom_entries), validates them
    together with O(policies), O(disabled_entries) and O(exemptions), and returns a summary.
  - Any error (unknown field, bad regular expression, missing source, duplicate id, unknown policy,
    malformed exemption) fails the task with a message naming the file, the entry and the field.
  - Runs on the controller only; contacts no host. Use it with C(run_once) before scanning.
author: govsec.banned_software maintainers (@govsec)
extends_documentation_fragment:
  - govsec.banned_software.attributes.READ_ONLY
  - govsec.banned_software.attributes.SELECTION
  - govsec.banned_software.attributes.EXEMPTIONS
attributes:
  platform:
    description: Target OS/families that can be operated against.
    platforms: all
    support: full
  action:
    description: Runs on the controller as an action plugin.
    support: full
"""

EXAMPLES = r"""
- name: Validate the catalog and the selection before touching any host
  govsec.banned_software.catalog:
    policies: "{{ banned_software_policies }}"
    custom_entries: "{{ banned_software_custom_entries }}"
  run_once: true
"""

RETURN = r"""
version:
  description: The catalog version.
  returned: success
  type: str
  sample: "2026.11.29"
policies:
  description:
    - All known policies by id. C(default) is V(false) for an optional policy set (selected only by name,
      C(all) leaves it out); C(application) is V(by_extension) when the collection applies the measure
      beyond its wording (C(extension) says how).
  returned: success
  type: dict
  sample: {"ca-tbs-2023-10-30": {"title": "...", "jurisdiction": "CA", "date": "2023-10-30", "url": "https://...",
                                 "default": true, "application": "by_extension",
                                 "extension": "The measure names government-issued mobile devices; ..."}}
entries:
  description: Every entry with its vendor, product, policies, platforms and whether it is enabled.
  returned: success
  type: list
  elements: dict
  sample: [{"id": "wechat", "vendor": "Tencent", "product": "WeChat (Weixin)", "enabled": true}]
enabled:
  description: Ids of the enabled entries.
  returned: success
  type: list
  elements: str
  sample: [kaspersky-endpoint-security-linux, wechat]
exemptions:
  description: The validated exemptions.
  returned: success
  type: list
  elements: dict
  sample: [{"entry": "wechat", "reason": "Liaison office", "expires": "2027-03-31"}]
"""
