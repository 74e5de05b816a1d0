# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the wall-clock budget of each collector source, and the sources read only in part.

A collector examines its sources one after the other. ``Budget.begin(source)`` starts the source's
clock (a source examined in several steps, like ``service``, keeps its first deadline); ``check()``,
called by ``RootFS`` on every path it resolves, every directory entry and every file it reads, and by
the listers between items, raises ``SourceTimeout`` once the deadline has passed. The per-source
guard of the collector catches it: the source is then reported incomplete and the next source
starts. Nothing can interrupt a system call or a C function already running, so parsers of host
data must be linear in their (size-capped) input: the budget bounds the number of steps, not the
length of one.

``partial(reason)`` records that the current source could be read only in part (budget exceeded, a
listing cut at its cap, a file or directory that exists but could not be read, a process whose
executable could not be examined). ``incomplete`` (``{source: first reason}``) goes into the
collector's result next to ``available``; the controller never reports a host compliant when a
source an enabled catalog entry has signatures for is incomplete (docs/design.md, "Host status").

Commands (``rpm``) run under coreutils ``timeout`` with the time the source has left, when the host
has it (``timed_command``).

Standard library only (this file runs on the hosts, inside the collector).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

DEFAULT_SOURCE_TIMEOUT = 60
TIMEOUT_RC = 124          # coreutils timeout: the command ran out of time
KILLED_RC = 137           # ... and had to be killed (128 + SIGKILL)
KILL_AFTER = 5


class SourceTimeout(BaseException):
    """The current source ran out of its budget.

    A ``BaseException``, like ``KeyboardInterrupt``: an ``except Exception`` in a lister or parser must
    not swallow it; only the collector's per-source guard catches it.
    """


class Budget(object):
    """Deadlines per source (``timeout`` seconds each; None or 0: no limit) and the incomplete sources."""

    def __init__(self, timeout=None, clock=None):
        self.timeout = timeout if isinstance(timeout, (int, float)) and timeout > 0 else None
        self.clock = clock or time.monotonic
        self.current = None
        self.deadline = None
        self.deadlines = {}
        self.incomplete = {}

    def begin(self, source):
        """Examine ``source`` now (its clock starts the first time it begins)."""
        self.current = source
        self.deadline = None
        if self.timeout is not None:
            self.deadline = self.deadlines.setdefault(source, self.clock() + self.timeout)

    def end(self):
        self.current = None
        self.deadline = None

    def expired(self):
        return self.deadline is not None and self.clock() > self.deadline

    def check(self):
        """Raise ``SourceTimeout`` (after marking the source incomplete) when its deadline has passed."""
        if self.expired():
            source = self.current
            self.partial("stopped after its time budget of %s s" % _seconds(self.timeout), source)
            raise SourceTimeout(source)

    def remaining(self):
        """Seconds the current source has left, or None without a deadline."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - self.clock())

    def partial(self, reason, source=None):
        """Record that ``source`` (default: the current one) was read only in part; the first reason stays."""
        source = source or self.current
        if source and source not in self.incomplete:
            self.incomplete[source] = reason


def _seconds(value):
    return ("%d" % value) if float(value).is_integer() else ("%g" % value)


def timed_command(run_command, budget, timeout_bin):
    """A ``run_command`` that gives each command the time the current source has left.

    With a deadline and a ``timeout_bin`` (coreutils or busybox ``timeout``), the argv becomes
    ``[timeout_bin, "-k", "5", "<seconds>", argv...]``; a command that runs out of time raises
    ``SourceTimeout`` (the source is incomplete). Without either, commands run as given.
    """
    def run(argv, **kwargs):
        left = budget.remaining()
        if left is None or not timeout_bin:
            return run_command(argv, **kwargs)
        budget.check()
        seconds = max(1, int(left + 0.999))
        rc, out, err = run_command([timeout_bin, "-k", str(KILL_AFTER), str(seconds)] + list(argv), **kwargs)
        if rc in (TIMEOUT_RC, KILLED_RC) and budget.expired():
            budget.check()
        return rc, out, err
    return run
