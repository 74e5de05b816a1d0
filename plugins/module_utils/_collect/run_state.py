# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: what the collector says of the executor's last run (its journal and run lock, docs/usage.md,
"When things go wrong").

Read only, on a live host, in the collector's one call: ``<state dir>/journal.json`` (bounded, no link
followed, ``_run_files.py``) and, when it says ``running``, whether its run lock is held now:

* held: a remediation is running on the host at this moment (``running``: what the holder wrote of
  itself); this scan may see the host half-way through it;
* free: the run that wrote the journal is gone (``interrupted_run``, the record the executor reports
  too): the host may be half-removed until a remediation finishes the job.

The lock is only tested (a shared ``flock``, never waited for, released at once): the audit never blocks a
remediation and never waits for one. Nothing is created: no state directory, no lock file. A journal this
user may not read (an audit without become) says nothing.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import os

from ansible_collections.govsec.banned_software.plugins.module_utils._run_files import (
    LOCK_NAME, interrupted, read_holder, read_journal)

UNREADABLE = (errno.EACCES, errno.EPERM)


def _lock_holder(state_dir):
    """``(held, holder)``: whether a run holds the lock now, and what it wrote of itself."""
    try:
        fd = os.open(os.path.join(state_dir, LOCK_NAME), os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return False, {}
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except (IOError, OSError) as exc:
            if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                return True, read_holder(fd)
            raise
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False, {}
    finally:
        os.close(fd)


def read_run_state(state_dir):
    """``(state, warnings)``: ``state`` is None (nothing to say), ``{"running": holder}`` or
    ``{"interrupted_run": record}``; ``warnings`` say why the journal or the lock could not be read."""
    try:
        return _run_state(state_dir), []
    except OSError as exc:
        return None, ["the last remediation's journal in %s could not be read: %s"
                      % (state_dir, exc.strerror or exc)]


def _run_state(state_dir):
    journal = read_journal(state_dir)
    if not journal:
        return None
    if "unreadable" in journal:
        if any(os.strerror(code) == journal["unreadable"] for code in UNREADABLE):
            return None
    elif journal.get("state") != "running":
        return None
    held, holder = _lock_holder(state_dir)
    if held:
        return {"running": holder}
    # The run may have finished between the two reads: the journal is read again with the lock free.
    record = interrupted(read_journal(state_dir))
    return {"interrupted_run": record} if record else None
