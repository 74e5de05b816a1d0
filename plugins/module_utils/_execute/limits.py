# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the size and time limits of the executor's bulk copies (archive, quarantine across file systems).

The data root copies there belongs to users, who can make it as large (a ``truncate -s 10T`` file), as
numerous or as slow to read as they like. A ``Limits`` object is asked before and while bytes are read:

* ``max_bytes``: the bytes read from the data (an archive counts each file's size, a copy the data it
  actually reads, holes excluded); more fails the step;
* ``timeout``: seconds from the start; checked between entries and between chunks;
* free space: the file system written to keeps at least ``FREE_RESERVE_PERCENT`` of its size available
  (``df``'s "Avail"), checked at the start and every ``SPACE_CHECK_EVERY`` bytes. Before anything is
  written, the data's size must fit above that reserve too (``check_space(need)``): what a copy or an
  archive needs is measured first (``measure``: ``dirwalk.tree_usage``, allocated bytes plus
  ``ENTRY_ALLOWANCE`` per entry), bounded to ``SIZE_WALK_MAX_ENTRIES`` entries and ``SIZE_WALK_TIME_SHARE``
  of the step's time. A walk stopped at its bound gives a lower bound: the check up front uses it, and the
  checks while writing still stop the step before the reserve is reached.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.dirwalk import tree_usage

FREE_RESERVE_PERCENT = 5
SPACE_CHECK_EVERY = 64 * 1024 ** 2
# The size walk before a copy or an archive: entries and share of the step's timeout it may take, and the
# bytes counted per entry on top of its allocated blocks (a directory entry, a tar header, metadata).
SIZE_WALK_MAX_ENTRIES = 500000
SIZE_WALK_TIME_SHARE = 0.25
ENTRY_ALLOWANCE = 512


class LimitExceeded(Exception):
    """A limit was reached; the caller removes what it wrote and leaves the data as it was."""


def _monotonic():
    """Indirection so that tests can move time on."""
    return time.monotonic()


class Limits(object):
    """Size, time and free-space limits of one step (see the module's docstring)."""

    def __init__(self, max_bytes, timeout, space_of=None, need=0):
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.deadline = _monotonic() + timeout
        self.taken = 0
        self.space_of = space_of
        self._unchecked = 0
        self.check_space(need)

    def tick(self):
        """Raise LimitExceeded once the time limit is over."""
        if _monotonic() > self.deadline:
            raise LimitExceeded("stopped after the time limit of %s s (timeout)" % self.timeout)

    def fits(self, nbytes, what=""):
        """Raise LimitExceeded when ``nbytes`` more would go over ``max_bytes`` (``what`` names them)."""
        if self.taken + nbytes > self.max_bytes:
            raise LimitExceeded("%smore than the size limit of %d bytes (max_bytes)"
                                % ("%s (%d bytes) makes it " % (what, nbytes) if what else "", self.max_bytes))

    def claim(self, nbytes, what=""):
        """Count ``nbytes`` more against ``max_bytes`` (before reading them)."""
        self.fits(nbytes, what)
        self.taken += nbytes

    def progress(self, nbytes):
        """``nbytes`` were read (and written): check the time and, now and then, the free space."""
        self._unchecked += nbytes
        if self._unchecked >= SPACE_CHECK_EVERY:
            self._unchecked = 0
            self.check_space()
        self.tick()

    def take(self, nbytes):
        """``claim`` and ``progress``: ``nbytes`` read now."""
        self.claim(nbytes)
        self.progress(nbytes)

    def measure(self, tops):
        """``(need, complete)``: the bytes the trees ``tops`` (``(parent_fd, name, lstat)`` each) need where they are written.

        ``need`` = allocated bytes + ``ENTRY_ALLOWANCE`` per entry, counted by ``dirwalk.tree_usage`` within
        ``SIZE_WALK_MAX_ENTRIES`` entries and ``SIZE_WALK_TIME_SHARE`` of the step's time (never past its
        deadline); ``complete`` False: the walk stopped at that bound and ``need`` is a lower bound.
        """
        end = min(self.deadline, _monotonic() + self.timeout * SIZE_WALK_TIME_SHARE)
        usage = tree_usage(tops, SIZE_WALK_MAX_ENTRIES, lambda: _monotonic() > end)
        return usage.allocated + usage.entries * ENTRY_ALLOWANCE, usage.complete

    def check_space(self, need=0, complete=True):
        """Raise LimitExceeded when the file system written to is below its reserve, or would be after ``need`` bytes.

        ``complete`` False: ``need`` is a lower bound (a size walk stopped at its bound); the message says so.
        """
        if self.space_of is None:
            return
        vfs = os.statvfs(self.space_of)
        # With a need, its check comes first: it covers the reserve and its message says what is needed.
        if not need and vfs.f_blocks and vfs.f_bavail * 100 < vfs.f_blocks * FREE_RESERVE_PERCENT:
            raise LimitExceeded("stopped: less than %d%% of the file system of %s is free (%d of %d MiB)"
                                % (FREE_RESERVE_PERCENT, self.space_of,
                                   vfs.f_bavail * vfs.f_frsize // (1024 * 1024),
                                   vfs.f_blocks * vfs.f_frsize // (1024 * 1024)))
        if need and vfs.f_blocks and (vfs.f_bavail * vfs.f_frsize - need) * 100 < (
                vfs.f_blocks * vfs.f_frsize * FREE_RESERVE_PERCENT):
            raise LimitExceeded("not enough space on the file system of %s: %s%d MiB needed and %d%% of it kept free, "
                                "%d of %d MiB free; nothing was written"
                                % (self.space_of, "" if complete else "at least ", -(-need // (1024 * 1024)),
                                   FREE_RESERVE_PERCENT,
                                   vfs.f_bavail * vfs.f_frsize // (1024 * 1024),
                                   vfs.f_blocks * vfs.f_frsize // (1024 * 1024)))
