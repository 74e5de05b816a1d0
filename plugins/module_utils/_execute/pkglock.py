# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: who holds a package manager's lock (for the message of a step that gave up waiting for it).

The lock files are only ``stat``-ed, never opened: their device and inode are looked up in ``/proc/locks``
(at most ``LOCKS_LIMIT`` bytes read), and each holder's pid is named with its ``/proc/<pid>/comm``.
Where there is no ``/proc`` (macOS), nobody is named.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

LOCK_FILES = {
    "dpkg": ("/var/lib/dpkg/lock-frontend", "/var/lib/dpkg/lock", "/var/lib/apt/lists/lock",
             "/var/cache/apt/archives/lock"),
    "rpm": ("/var/lib/rpm/.rpm.lock", "/usr/lib/sysimage/rpm/.rpm.lock", "/var/lib/dnf/rpmdb_lock.pid"),
}
RPM_LOCK_RE = re.compile(r"can't create transaction lock on (/[^\s()]+) \(")
LOCKS_LIMIT = 1 << 20
MAX_HOLDERS = 5


def _comm(proc_dir, pid):
    try:
        with open(os.path.join(proc_dir, str(pid), "comm"), "rb") as handle:
            return handle.read(64).rstrip(b"\n").decode("utf-8", "replace")
    except OSError:
        return None


def lock_holders(manager, proc_dir="/proc", lock_files=None):
    """``[(path, pid, comm)]`` of the processes holding ``manager``'s lock files (at most MAX_HOLDERS)."""
    wanted, inodes = {}, {}
    for path in lock_files or LOCK_FILES.get(manager, ()):
        try:
            st = os.stat(path)
        except OSError:
            continue
        wanted[(os.major(st.st_dev), os.minor(st.st_dev), st.st_ino)] = path
        # On overlay file systems (containers) /proc/locks may name the device of the layer below.
        inodes[st.st_ino] = path
    if not wanted:
        return []
    try:
        with open(os.path.join(proc_dir, "locks"), "rb") as handle:
            data = handle.read(LOCKS_LIMIT)
    except OSError:
        return []
    holders = []
    for line in data.decode("ascii", "replace").splitlines():
        # "1: POSIX  ADVISORY  WRITE 1234 08:01:131090 0 EOF"; "-> " marks a waiter, not a holder.
        fields = line.split()
        if len(fields) < 6 or "->" in fields:
            continue
        try:
            pid = int(fields[4])
            major, minor, inode = fields[5].split(":")
            key = (int(major, 16), int(minor, 16), int(inode))
        except ValueError:
            continue
        path = wanted.get(key) or inodes.get(key[2])
        if path and all(h[1] != pid for h in holders):
            holders.append((path, pid, _comm(proc_dir, pid)))
            if len(holders) >= MAX_HOLDERS:
                break
    return holders


def named_lock_files(manager, text):
    """The lock file the package manager named in its own message (rpm: ``can't create transaction lock on
    PATH (...)``; its ``%_rpmlock_path`` may be elsewhere, e.g. ``/root/.rpmdb`` with Debian's rpm), as a
    tuple to look up besides the usual ones; only ever ``stat``-ed."""
    match = RPM_LOCK_RE.search(text) if manager == "rpm" else None
    return (match.group(1),) if match and len(match.group(1)) <= 4096 else ()


def describe_holders(manager, proc_dir="/proc", lock_files=None):
    """``held by pid 812 (unattended-upgr) on /var/lib/dpkg/lock-frontend`` or ``holder unknown``."""
    holders = lock_holders(manager, proc_dir, lock_files)
    if not holders:
        return "holder unknown"
    return "held by " + ", ".join("pid %d (%s) on %s" % (pid, comm or "?", path) for path, pid, comm in holders)
