# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the files the executor keeps about its runs in the state directory, as both sides read them.

The executor writes them (``_execute/lock.py``: ``run.lock``, the holder's pid, start and run id;
``_execute/journal.py``: ``journal.json``, the plan and the steps done); the executor reads them under the
lock, the collector without it (``_collect/run_state.py``). Reads are bounded and never follow a link.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

LOCK_NAME = "run.lock"
JOURNAL_NAME = "journal.json"
HOLDER_LIMIT = 4096           # bytes read of the holder's record
READ_LIMIT = 4 << 20          # bytes read of a journal


def read_holder(fd):
    """The record the holder wrote (a dict), or {} when it is empty or unreadable."""
    try:
        data = os.pread(fd, HOLDER_LIMIT, 0)
        holder = json.loads(data.decode("utf-8")) if data.strip() else {}
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


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
        data = os.read(fd, READ_LIMIT + 1)
    finally:
        os.close(fd)
    if len(data) > READ_LIMIT:
        return {"unreadable": "larger than %d bytes" % READ_LIMIT}
    try:
        journal = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        return {"unreadable": "not JSON: %s" % exc}
    return journal if isinstance(journal, dict) else {"unreadable": "not a JSON object"}


def interrupted(journal):
    """What the report says of an unfinished journal (None when the last run finished or there is none).

    Called only while the run lock is held or seen free: a ``running`` journal then belongs to a run that is gone.
    """
    if not journal:
        return None
    if "unreadable" in journal:
        return {"run_id": None, "detail": "the previous run's journal cannot be read: %s" % journal["unreadable"]}
    if journal.get("state") != "running":
        return None
    planned = [s for s in journal.get("plan") or [] if isinstance(s, dict)]
    keys = dict((s.get("id"), s.get("findings")) for s in planned if isinstance(s.get("findings"), list))
    done = []
    for item in journal.get("done") or []:
        if isinstance(item, dict):
            item = dict(item)
            if keys.get(item.get("id")):
                item["findings"] = keys[item.get("id")]
            done.append(item)
    done_ids = set(s.get("id") for s in done)
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
