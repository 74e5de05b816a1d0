# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the executor's step contract: step kinds, their fields, path types, statuses and default limits.

The POSIX executor (``run.py``) validates every step against these tables (``validate.py``); the planner on
the controller imports them to send each step with exactly these fields (docs/design.md, "Plan"). A step
carries the ``COMMON_FIELDS`` and the fields of its kind; the planner's ``LABEL_FIELDS`` stay in the plan
for the report and are never sent, and the executor accepts and ignores them (a plan from ``--diff``
or an older controller may still carry them). win_execute's steps are its own (``plan/windows.py``).

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

KINDS = ("command", "kill", "quarantine", "archive", "purge", "write_file", "remove_file")
STATUSES = ("changed", "ok", "absent", "failed", "skipped")
PATH_TYPES = ("dir", "file", "link")

# Every step: its id, kind, the planner's name for it, the finding keys it covers and the steps it needs.
COMMON_FIELDS = ("id", "kind", "action", "findings", "requires")
# The planner's bookkeeping for the report ("packages", "manager", "entry"): accepted, not used.
LABEL_FIELDS = ("packages", "manager", "entry")
KIND_FIELDS = {
    "command": ("argv", "timeout", "env", "run_as", "ok_rc", "tolerate", "absent", "lock"),
    "kill": ("pids", "exe", "comm", "grace"),
    # max_bytes, timeout: limits of an archive, and of a quarantine copy across file systems.
    "quarantine": ("path", "type", "max_bytes", "timeout"),
    "archive": ("paths", "name", "max_bytes", "timeout"),
    "purge": ("path", "type"),
    # Reinstall blocks (files.py).
    "write_file": ("path", "content", "mode", "expect_sha256"),
    "remove_file": ("path", "expect_sha256"),
}
RUN_AS_FIELDS = ("user", "uid", "gid", "home")

# Defaults of the limits a step may set (the roles' banned_software_step_timeout and _lock_timeout).
DEFAULT_TIMEOUT = 900
DEFAULT_LOCK_TIMEOUT = 300
DEFAULT_GRACE = 10
# Bytes an archive or a quarantine copy across file systems may read (``max_bytes``; limits.py enforces it).
DEFAULT_MAX_BYTES = 16 * 1024 ** 3
__all__ = ("KINDS", "STATUSES", "PATH_TYPES", "COMMON_FIELDS", "LABEL_FIELDS", "KIND_FIELDS", "RUN_AS_FIELDS",
           "DEFAULT_TIMEOUT", "DEFAULT_LOCK_TIMEOUT", "DEFAULT_GRACE", "DEFAULT_MAX_BYTES")
