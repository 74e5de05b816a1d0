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

Only step ids, kinds, actions and statuses are recorded, and the run's quarantine directory (where the next
run looks for the partial copies of a killed run): no command line, no secret.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import time

JOURNAL_NAME = "journal.json"
READ_LIMIT = 1 << 20          # bytes read of a journal


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


def read_journal(state_dir):
    """The last journal (a dict), None when there is none; ``{"unreadable": reason}`` when it cannot be read."""
    path = os.path.join(state_dir, JOURNAL_NAME)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == 2:
            return None
        return {"unreadable": exc.strerror}
    try:
        data = os.read(fd, READ_LIMIT)
    finally:
        os.close(fd)
    try:
        journal = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        return {"unreadable": "not JSON: %s" % exc}
    return journal if isinstance(journal, dict) else {"unreadable": "not a JSON object"}


def interrupted(journal):
    """What the report says of an unfinished journal (None when the last run finished or there is none).

    Called only while the run lock is held: a ``running`` journal then belongs to a run that is gone.
    """
    if not journal:
        return None
    if "unreadable" in journal:
        return {"run_id": None, "detail": "the previous run's journal cannot be read: %s" % journal["unreadable"]}
    if journal.get("state") != "running":
        return None
    done = [s for s in journal.get("done") or [] if isinstance(s, dict)]
    done_ids = set(s.get("id") for s in done)
    planned = [s for s in journal.get("plan") or [] if isinstance(s, dict)]
    current = journal.get("current")
    return {
        "run_id": journal.get("run_id"), "pid": journal.get("pid"), "started": journal.get("started"),
        "updated": journal.get("updated"), "steps_done": done,
        "step_interrupted": current if current not in done_ids else None,
        "steps_not_run": [s.get("id") for s in planned if s.get("id") not in done_ids and s.get("id") != current],
        "detail": "the previous run (%s, pid %s, started %s) ended before it finished: %d of %d steps done%s"
                  % (journal.get("run_id"), journal.get("pid"), journal.get("started"), len(done), len(planned),
                     ", interrupted in step %s" % current if current is not None and current not in done_ids else ""),
    }


class Journal(object):
    """The journal of the current run; each method rewrites the whole record atomically."""

    def __init__(self, state_dir, run_id, steps, clock=None, quarantine_dir=None):
        self.state_dir = state_dir
        self.clock = clock or time.time
        self.record = {
            "run_id": run_id, "pid": os.getpid(), "started": _utc(self.clock()), "updated": None,
            "state": "running", "current": None, "quarantine_dir": quarantine_dir,
            "plan": [{"id": s["id"], "kind": s["kind"], "action": s.get("action")} for s in steps],
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
        self.record["done"].append({"id": result["id"], "status": result["status"]})
        self.record["current"] = None
        self._try_write()

    def finish(self):
        self.record["state"] = "finished"
        self._try_write()
