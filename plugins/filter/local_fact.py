# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: local_fact
short_description: The local fact (facts.d) a host keeps about its last banned-software status
version_added: 0.1.0
author: govsec.banned_software maintainers (@govsec)
description:
  - Builds the record that the C(report) role writes to C(/etc/ansible/facts.d/banned_software.fact)
    (and its Windows equivalent), from a host's C(banned_software_host_report) and the record
    written by an earlier run.
  - The record changes only when the host's state changes, so writing it is idempotent. C(status_since)
    is kept from the previous record while the state is the same; C(last_remediation) is replaced only
    by a remediation that ran steps on the host.
  - C(removals) is a cumulative history for the drift check, per finding key the last time a remediation
    removed it (C(removed_at)), kept across later runs (a key found again stays until a remediation
    removes it again), at most 500 keys (the most recently removed kept). C(reinstalled) lists the keys of
    the findings present now that a remediation removed before. Both are absent while empty.
  - See docs/awx.md for the fields.
positional: previous
options:
  _input:
    description: The host's result (C(banned_software_host_report)) with status C(compliant),
      C(non_compliant) or C(remediated).
    type: dict
    required: true
  previous:
    description: The previous record, as the text of the fact file or as a dictionary. Empty, missing
      or unreadable text means no previous record.
    type: raw
    default: ""
"""

EXAMPLES = r"""
- name: Write the local fact
  ansible.builtin.copy:
    content: "{{ banned_software_host_report | govsec.banned_software.local_fact(previous_text) | to_nice_json }}\n"
    dest: /etc/ansible/facts.d/banned_software.fact
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The record (schema, status, status_since, catalog_version, findings, exempt_findings,
    products, policies, last_remediation, removals, reinstalled).
  type: dict
"""

import json

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

from ansible_collections.govsec.banned_software.plugins.plugin_utils.report.local_fact import fact_record


def local_fact(host_report, previous=""):
    """Return the local fact record for ``host_report`` given the ``previous`` record or its text."""
    if isinstance(previous, string_types):
        try:
            previous = json.loads(previous) if previous.strip() else {}
        except ValueError:
            previous = {}
    try:
        return fact_record(host_report, previous if isinstance(previous, dict) else {})
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


class FilterModule(object):
    """govsec.banned_software filters."""

    def filters(self):
        return {"local_fact": local_fact}
