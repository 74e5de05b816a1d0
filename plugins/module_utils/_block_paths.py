# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the files the Linux reinstall blocks live in (docs/blocking.md).

Written by the planner's rules (``_block_rules.py``) and read back by the collector
(``_block_state_linux.py``). Kept apart so that the collector's host payload does not carry the rules.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

APT_PREFERENCES_PATH = "/etc/apt/preferences.d/govsec-banned-software"
DNF_DROPIN_PATH = "/etc/dnf/libdnf5.conf.d/80-govsec-banned-software.conf"
DNF_CONF_PATH = "/etc/dnf/dnf.conf"
# What this collection added with commands (zypper locks, flatpak masks), so that unblock removes
# only those (playbooks/unblock.yml); written by the executor like the files above.
STATE_PATH = "/var/lib/govsec-banned-software/blocks.json"
