#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Documentation only: the work is done by the action plugin plugins/action/local_fact.py.

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: local_fact
short_description: Keep a scanned host's last status as a local fact, in one executor call
version_added: 0.2.0
description:
  - Writes the local fact (C(/etc/ansible/facts.d/banned_software.fact) on Linux,
    C(/private/etc/ansible/facts.d/banned_software.fact) on macOS,
    C(C:\ProgramData\govsec-banned-software\facts.d\banned_software.json) on Windows) that
    M(govsec.banned_software.scan) planned when O(govsec.banned_software.scan#module:local_fact) was V(true)
    (the C(banned_software_local_fact) variable). It sends the record and the sha256 of the file the scan read,
    nothing else.
  - One call of the host's executor (M(govsec.banned_software.execute) or M(govsec.banned_software.win_execute)),
    and none when the scan found the record up to date. The write is atomic and hash-checked; a file changed,
    created or replaced by a link since the scan is not touched and the task fails.
  - The audit playbook runs it on the hosts that asked for the local fact. The remediate action keeps the
    local fact itself, in the executor call that removes.
author: govsec.banned_software maintainers (@govsec)
extends_documentation_fragment:
  - govsec.banned_software.attributes.ACTION
attributes:
  check_mode:
    support: full
    description: Reports V(changed) when the record would be written; nothing is written.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: none
  platform:
    description: Target OS/families that can be operated against.
    platforms: [posix, windows]
    support: full
options:
  result_var:
    description: The host variable that holds the scan's registered result.
    type: str
    default: banned_software_host_report
  lock_timeout:
    description: Seconds the executor waits for its locks.
    type: int
    default: 300
"""

EXAMPLES = r"""
- name: Scan, asking for the local fact
  govsec.banned_software.scan:
    local_fact: true
  register: banned_software_host_report

- name: Keep the host's last status as a local fact
  govsec.banned_software.local_fact: {}
"""

RETURN = r"""
path:
  description: The local fact's path on the host, when a record was (or, under check mode, would be) written.
  returned: when the record changes
  type: str
  sample: /etc/ansible/facts.d/banned_software.fact
"""
