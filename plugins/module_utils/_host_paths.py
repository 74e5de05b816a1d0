# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: where this collection keeps files on a managed host: one place for every side.

* ``STATE_DIRS``: the collection's own directory per platform; the quarantine and the user-data archives
  are below it by default (``QUARANTINE_DIRS``, ``ARCHIVE_DIRS``: the executors' defaults, which the
  remediate and block actions send; docs/design.md, "Plan"; docs/macos.md, "Quarantine").
* The local fact (docs/awx.md, "Local fact"): ``POSIX_FACT``, Ansible's own facts.d on Linux and macOS;
  ``WINDOWS_FACT`` below the Windows state directory (``WINDOWS_IMAGE_FACT``: the same file in a mounted
  Windows image).
* The Linux reinstall blocks (docs/blocking.md): written by the planner's rules
  (``plugin_utils/block/rules.py``) through the executor, read back by the collector
  (``_collect/block_state_linux.py``).

The PowerShell modules and the documentation name the same places: tests/unit/test_contracts.py holds
them to these values.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

STATE_DIRS = {
    "linux": "/var/lib/govsec-banned-software",
    # /private/var/db (what /var/db links to): root-only, outside /Applications and the users' folders,
    # no symbolic link in the path.
    "macos": "/private/var/db/govsec-banned-software",
    "windows": "C:\\ProgramData\\govsec-banned-software",
}


def _below(platform, name):
    return STATE_DIRS[platform] + ("\\" if platform == "windows" else "/") + name


# /var/lib/govsec-banned-software/quarantine, C:\ProgramData\govsec-banned-software\quarantine, ...
QUARANTINE_DIRS = dict((platform, _below(platform, "quarantine")) for platform in STATE_DIRS)
ARCHIVE_DIRS = dict((platform, _below(platform, "archive")) for platform in STATE_DIRS)

POSIX_FACT = "/etc/ansible/facts.d/banned_software.fact"
# What the executor writes on macOS: /etc is a symbolic link there (to private/etc), and file steps never
# follow one.
MACOS_FACT = "/private" + POSIX_FACT
WINDOWS_FACT = _below("windows", "facts.d\\banned_software.json")
# The same file in a mounted Windows image: /ProgramData/govsec-banned-software/facts.d/banned_software.json
WINDOWS_IMAGE_FACT = "/" + WINDOWS_FACT.split("\\", 1)[1].replace("\\", "/")
# The record each platform's executor writes (a write_file step, plugin_utils/_host_fact.py).
FACT_PATHS = {"linux": POSIX_FACT, "macos": MACOS_FACT, "windows": WINDOWS_FACT}

APT_PREFERENCES_PATH = "/etc/apt/preferences.d/govsec-banned-software"
DNF_DROPIN_PATH = "/etc/dnf/libdnf5.conf.d/80-govsec-banned-software.conf"
DNF_CONF_PATH = "/etc/dnf/dnf.conf"
# What this collection added with commands (zypper locks, flatpak masks), so that unblock removes
# only those (playbooks/unblock.yml); written by the executor like the files above.
STATE_PATH = _below("linux", "blocks.json")
