# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the host's run lock: one remediation (executor run) at a time per host.

* ``flock`` on ``<state dir>/run.lock``: the kernel releases it when the holder's process ends, however it
  ends (``kill -9``, a reboot), so a lock is never left behind by a dead run.
* The holder writes its pid, its start time and its run id into the file (a few bytes, rewritten in place):
  a run that cannot take the lock within its bounded wait names them in its failure.
* The audit (the collector) never takes it; only the executor does, and only outside check mode.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import fcntl
import json
import os
import time

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.dirwalk import create_missing_dirs
from ansible_collections.govsec.banned_software.plugins.module_utils._run_files import LOCK_NAME, read_holder

POLL = 0.5                    # seconds between two attempts while the lock is held
_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class RunLockBusy(Exception):
    """Another run holds the lock past the wait; ``holder`` is what it wrote (pid, started, run_id) or {}."""

    def __init__(self, msg, holder):
        Exception.__init__(self, msg)
        self.holder = holder


def _sleep(seconds):
    """Indirection so that tests can replace waiting."""
    time.sleep(seconds)


def _utc(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def make_state_dir(path):
    """Create the state directory (0700) and its missing parents; refuse a link or a non-directory there."""
    create_missing_dirs(path, 0o700)
    if os.path.islink(path) or not os.path.isdir(path):
        raise OSError(errno.ENOTDIR, "not a directory (or a symbolic link)", path)
    return path


def describe_holder(holder):
    """``pid 4242, started 2026-11-29T12:00:00Z, run 20261129T120000Z`` (what is known of it)."""
    parts = ["pid %s" % holder.get("pid", "unknown")]
    if holder.get("started"):
        parts.append("started %s" % holder["started"])
    if holder.get("run_id"):
        parts.append("run %s" % holder["run_id"])
    return ", ".join(parts)


class RunLock(object):
    """The run lock, held from ``acquire`` until ``release`` (or the end of the process)."""

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.path = os.path.join(state_dir, LOCK_NAME)
        self.fd = None

    def acquire(self, timeout, run_id, clock=None):
        """Take the lock within ``timeout`` seconds, or raise RunLockBusy naming the holder.

        Returns the record written (``pid``, ``started``, ``run_id``).
        """
        clock = clock or time.time
        make_state_dir(self.state_dir)
        fd = os.open(self.path, _FLAGS, 0o600)
        try:
            waited = 0.0
            start = clock()
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except (IOError, OSError) as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                        raise
                # Both the real time and the time asked to sleep count, so that the wait stays bounded.
                if max(waited, clock() - start) >= timeout:
                    holder = read_holder(fd)
                    raise RunLockBusy(
                        "another remediation is running on this host (%s): the run lock %s was not free after "
                        "%s s (banned_software_lock_timeout); nothing was run"
                        % (describe_holder(holder), self.path, timeout), holder)
                _sleep(POLL)
                waited += POLL
            record = {"pid": os.getpid(), "started": _utc(clock()), "run_id": run_id}
            data = json.dumps(record, sort_keys=True).encode("ascii")
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self.fd = fd
        return record

    def release(self):
        """Empty the record and unlock (closing the descriptor unlocks it)."""
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None
