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
  # BEGIN policies (generated from catalog/policies.yml by tools/catalog_doc.py; do not edit)
  - >-
    The built-in policies (catalog 2026.12.03), for O(policies) and C(banned_software_policies). V(all) selects every
    one; docs/catalog.md lists the products each policy bans.
  - >-
    V(ca-tbs-2023-10-30) - Canada TBS ban on WeChat and the Kaspersky suite of applications on government mobile
    devices (CA, 2023-10-30).
  - >-
    V(ca-tbs-2023-02-28-tiktok) - Canada TBS removal and blocking of TikTok on government-issued mobile devices (CA,
    2023-02-28).
  - >-
    V(ca-tbs-2025-02-06-deepseek) - Canada TBS restriction of the DeepSeek chatbot on government devices (CA,
    2025-02-06).
  - >-
    V(us-dhs-bod-17-01) - US DHS Binding Operational Directive 17-01, removal of Kaspersky-branded products (US,
    2017-09-13).
  - >-
    V(us-ndaa-fy2018-1634) - US NDAA FY2018 section 1634, prohibition on Kaspersky Lab hardware, software and services
    (US, 2018-10-01).
  - >-
    V(us-no-tiktok-act-omb-m-23-13) - US No TikTok on Government Devices Act and OMB memorandum M-23-13 (US,
    2022-12-29).
  - >-
    V(us-bis-icts-kaspersky-2024-06-20) - US Commerce BIS ICTS Final Determination on Kaspersky Lab (ICTS-2021-002)
    (US, 2024-06-20).
  - >-
    V(us-tx-2025-01-31-deepseek) - Texas ban on DeepSeek and other applications on state-issued devices (US-TX,
    2025-01-31).
  - >-
    V(us-tx-dir-prohibited-technologies) - Texas covered applications and prohibited technologies (Gov. Code ch. 620
    and the Governor's directives) (US-TX, 2022-12-07).
  - >-
    V(us-tx-dir-prohibited-technologies-other) - Texas prohibited technologies, other listed software (optional set)
    (US-TX, 2025-01-31).
  - >-
    V(us-ny-2025-02-10-deepseek) - New York ban on DeepSeek on state devices and networks (US-NY, 2025-02-10).
  - >-
    V(us-va-2025-02-11-deepseek) - Virginia Executive Order 46, ban on DeepSeek on state devices and networks (US-VA,
    2025-02-11).
  - >-
    V(us-ia-2025-02-19-deepseek) - Iowa ban on DeepSeek on state devices and networks (US-IA, 2025-02-19).
  - >-
    V(au-pspf-001-2023-tiktok) - Australia PSPF Direction 001-2023 on the TikTok application (AU, 2023-04-04).
  - >-
    V(au-pspf-001-2025-deepseek) - Australia PSPF Direction 001-2025 on DeepSeek products, applications and web
    services (AU, 2025-02-04).
  - >-
    V(au-pspf-002-2025-kaspersky) - Australia PSPF Direction 002-2025 on Kaspersky Lab products and web services (AU,
    2025-02-21).
  - >-
    V(eu-ec-2023-02-23-tiktok) - European Commission suspension of TikTok on corporate devices (EU, 2023-02-23).
  - >-
    V(gb-2023-03-16-tiktok) - United Kingdom ban on TikTok on government devices (GB, 2023-03-16).
  - >-
    V(nz-parliament-2023-03-31-tiktok) - New Zealand Parliamentary Service ban on TikTok on devices with access to the
    parliamentary network (NZ, 2023-03-31).
  - >-
    V(tw-moda-2025-01-31-deepseek) - Taiwan ban on DeepSeek in government agencies and critical infrastructure (TW,
    2025-01-31).
  # END policies
author: govsec.banned_software maintainers (@govsec)
extends_documentation_fragment:
  - govsec.banned_software.attributes.ACTION
  - govsec.banned_software.attributes.CONTROLLER
  - govsec.banned_software.attributes.READ_ONLY
  - govsec.banned_software.attributes.SELECTION
  - govsec.banned_software.attributes.EXEMPTIONS
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
