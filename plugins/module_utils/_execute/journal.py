# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the executor's journal: what the current (or the last) run planned and which steps it finished.

``<state dir>/journal.json`` is rewritten atomically (a temporary file in the same directory, ``fsync``,
``rename``, ``fsync`` of the directory) before the first step, after each step and at the end, always
under the run lock (``lock.py``). So the file is always one whole record:

* ``state: running`` found by a run that holds the lock means the run that wrote it died (killed, the host
  rebooted, the connection lost and the process killed with it): the new run reports it
  (``interrupted_run``: its run id, pid, start, the steps it finished and the ones it had not) and then
  carries out its own plan, which the controller built from a fresh scan, so it rolls forward;
* ``state: finished`` is the last complete run, kept for the record.

Only step ids, kinds, actions, the finding keys each step covers (at most ``MAX_STEP_KEYS`` per step and
``MAX_KEYS`` in all, so that the record stays far below ``READ_LIMIT``) and statuses with the time each
step finished are recorded, and the run's quarantine directory (where the next run looks for the partial
copies of a killed run): no command line, no secret. The keys let the next run keep the local fact's
removal history whole: what a dead run removed is recorded as removed then (``plugin_utils/report/
local_fact.py``), by key, so never twice.

The collector reads the same file without the lock (``_collect/run_state.py``): it tells an audit that the
last remediation died, or that one is running now.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

from ansible_collections.govsec.banned_software.plugins.module_utils._run_files import JOURNAL_NAME

MAX_STEP_KEYS = 64            # finding keys recorded per step
MAX_KEYS = 2000               # finding keys recorded per journal
MAX_KEY = 1024                # characters of a recorded key (a longer one is not recorded)


def _utc(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def write_atomic(directory, name, data):
    """Write ``data`` (bytes) to ``directory/name`` atomically: temp file, fsync, rename, fsync the directory."""
    temp = os.path.join(directory, ".%s.%d.tmp" % (name, os.getpid()))
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.rename(temp, os.path.join(directory, name))
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    dfd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def _plan_record(steps):
    """The plan as the journal keeps it: id, kind, action and the finding keys (bounded) of each step."""
    plan = []
    left = MAX_KEYS
    for step in steps:
        entry = {"id": step["id"], "kind": step["kind"], "action": step.get("action")}
        if step.get("lock"):
            entry["lock"] = step["lock"]
        keys = [k for k in step.get("findings") or () if isinstance(k, str) and len(k) <= MAX_KEY]
        kept = keys[:min(MAX_STEP_KEYS, left)]
        left -= len(kept)
        if kept:
            entry["findings"] = kept
        if len(kept) < len(step.get("findings") or ()):
            entry["findings_truncated"] = True
        plan.append(entry)
    return plan


class Journal(object):
    """The journal of the current run; each method rewrites the whole record atomically."""

    def __init__(self, state_dir, run_id, steps, clock=None, quarantine_dir=None):
        self.state_dir = state_dir
        self.clock = clock or time.time
        self.record = {
            "run_id": run_id, "pid": os.getpid(), "started": _utc(self.clock()), "updated": None,
            "state": "running", "current": None, "quarantine_dir": quarantine_dir,
            "plan": _plan_record(steps),
            "done": [],
        }
        # Writes that failed once the run had begun (a full /var): the run goes on, the result says so.
        self.errors = []

    def _write(self):
        self.record["updated"] = _utc(self.clock())
        write_atomic(self.state_dir, JOURNAL_NAME, json.dumps(self.record, sort_keys=True).encode("utf-8"))

    def _try_write(self):
        try:
            self._write()
        except OSError as exc:
            if len(self.errors) < 5:
                self.errors.append("the journal %s was not updated: %s"
                                   % (os.path.join(self.state_dir, JOURNAL_NAME), exc.strerror or exc))

    def begin(self):
        """The plan, before any step acts. Raises OSError: a run that cannot journal does not start."""
        self._write()

    def step_started(self, step):
        self.record["current"] = step["id"]
        self._try_write()

    def step_finished(self, result):
        self.record["done"].append({"id": result["id"], "status": result["status"], "at": _utc(self.clock())})
        self.record["current"] = None
        self._try_write()

    def finish(self):
        self.record["state"] = "finished"
        self._try_write()
