# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: read the local fact a host keeps (docs/awx.md, "Local fact") for the drift check.

The collectors read the record in the same call as the software records and return what the drift
check needs, the *drift state*::

    {"path": "/etc/ansible/facts.d/banned_software.fact",
     "removals": [{"key", "id", "source", "name", "scope", "path", "removed_at"}, ...],   # sorted by key
     "last_remediation_at": "2026-12-01T09:00:42Z"}                                     # or None

* POSIX hosts and images: ``POSIX_FACT`` under ``root`` (``RootFS``: links in the parent directories
  stay inside ``root``), read by ``read_local_fact``; a Windows image: ``WINDOWS_IMAGE_FACT`` (found
  case-insensitively by the caller). A running Windows host returns the raw text (``win_collect``)
  and the controller parses it with ``parse_fact_text``.
* The file is written by the report role, but it lives on a host or in an image that others
  control: a symbolic link or anything but a regular file is refused, at most ``MAX_FACT_BYTES`` are
  read, and a record that is not valid JSON or not a schema-1 record becomes a warning, never a
  failure. Malformed removal items are dropped with a warning.
* ``removals`` is the cumulative history the record keeps (``plugin_utils/report/local_fact.py``): per finding key the
  last time a remediation removed it. Records written before the history existed only have
  ``last_remediation.removed``; those items count as removals too.

Standard library only (this file runs on the hosts, inside the collector).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import os
import re

from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import POSIX_FACT
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import (
    NotRegularFile, quote, read_fd_bounded)

FACT_SCHEMA = 1
MAX_FACT_BYTES = 4 * 1024 * 1024
MAX_REMOVALS = 500
MAX_FIELD = 16384
REMOVAL_FIELDS = ("key", "id", "source", "name", "scope", "path")
TIMESTAMP_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
SKIPPED = "reinstalls are not reported for this host"


def is_timestamp(value):
    """True for a ``YYYY-MM-DDTHH:MM:SSZ`` text (the only form the record holds; it sorts by time)."""
    return isinstance(value, str) and TIMESTAMP_RE.match(value) is not None


def _removal(item, at_field):
    """One clean removal item, or None when ``item`` is malformed."""
    if not isinstance(item, dict):
        return None
    key = item.get("key")
    at = item.get(at_field)
    if not isinstance(key, str) or not key or len(key) > MAX_FIELD or not is_timestamp(at):
        return None
    out = {"key": key, "removed_at": at}
    for field in REMOVAL_FIELDS[1:]:
        value = item.get(field)
        if value is None:
            continue
        if not isinstance(value, str) or len(value) > MAX_FIELD:
            return None
        out[field] = value
    return out


def merge_removals(*lists):
    """Removal items merged by key (the newest ``removed_at`` wins), at most ``MAX_REMOVALS`` (the
    newest kept), sorted by key: the same items always give the same list."""
    by_key = {}
    for items in lists:
        for item in items:
            known = by_key.get(item["key"])
            if known is None or (item["removed_at"], sorted(item.items())) > (known["removed_at"], sorted(known.items())):
                by_key[item["key"]] = item
    kept = sorted(by_key.values(), key=lambda r: (r["removed_at"], r["key"]), reverse=True)[:MAX_REMOVALS]
    return sorted(kept, key=lambda r: r["key"])


def record_removals(record):
    """``(removals, malformed)`` of a schema-1 record: its ``removals`` and, for records written
    before that list existed, the items of ``last_remediation.removed``."""
    clean = []
    malformed = 0
    sources = [(record.get("removals"), "removed_at")]
    last = record.get("last_remediation")
    if isinstance(last, dict):
        sources.append((last.get("removed"), "at"))
    for items, at_field in sources:
        if items is None:
            continue
        if not isinstance(items, list):
            malformed += 1
            continue
        for item in items:
            removal = _removal(item, at_field)
            if removal is None:
                malformed += 1
            else:
                clean.append(removal)
    return merge_removals(clean), malformed


def drift_state(record, origin):
    """``(state, warnings)`` of a parsed record; ``state`` is None when the record is unusable."""
    if not isinstance(record, dict) or record.get("schema") != FACT_SCHEMA:
        return None, ["local fact %s: not a schema %d record (%s); %s"
                      % (quote(origin), FACT_SCHEMA, "schema %r" % (record.get("schema"),)
                         if isinstance(record, dict) else type(record).__name__, SKIPPED)]
    removals, malformed = record_removals(record)
    warnings = []
    if malformed:
        warnings.append("local fact %s: %d malformed removal record(s) ignored" % (quote(origin), malformed))
    last = record.get("last_remediation")
    at = last.get("at") if isinstance(last, dict) else None
    return {"path": origin, "removals": removals, "last_remediation_at": at if is_timestamp(at) else None}, warnings


def parse_fact_text(text, origin):
    """``(state, warnings)`` of the record's text (str or bytes); ``(None, [])`` for no text."""
    state, dummy, warnings = parse_fact_record(text, origin)
    return state, warnings


def parse_fact_record(text, origin):
    """``(state, record, warnings)`` of the record's text: the drift state as ``parse_fact_text`` and the
    parsed schema-1 record itself (None when unusable)."""
    if text is None:
        return None, None, []
    if isinstance(text, bytes):
        if len(text) > MAX_FACT_BYTES:
            return None, None, ["local fact %s: larger than %d bytes, not read; %s" % (quote(origin), MAX_FACT_BYTES, SKIPPED)]
        text = text.decode("utf-8", "replace")
    if not isinstance(text, str):
        return None, None, ["local fact %s: %s instead of text; %s" % (quote(origin), type(text).__name__, SKIPPED)]
    if len(text) > MAX_FACT_BYTES:
        return None, None, ["local fact %s: larger than %d bytes, not read; %s" % (quote(origin), MAX_FACT_BYTES, SKIPPED)]
    try:
        record = json.loads(text.lstrip(u"\ufeff"))
    except RecursionError:
        # Nesting deeper than Python's recursion limit: no record of ours looks like that.
        return None, None, ["local fact %s: nested too deeply, not read; %s" % (quote(origin), SKIPPED)]
    except ValueError as exc:
        return None, None, ["local fact %s: not valid JSON (%s); %s" % (quote(origin), quote(str(exc))[:200], SKIPPED)]
    state, warnings = drift_state(record, origin)
    return state, record if state is not None else None, warnings


def _read_regular_file(fs, vpath):
    """``(data, problem)``: the bytes of the regular file ``vpath`` under ``fs``; ``(None, None)`` when
    it does not exist. The last component is never followed (a link is refused); anything but a regular
    file is refused without being opened (``RootFS.open_regular``)."""
    try:
        fd = fs.open_regular(vpath, follow_last=False)
    except NotRegularFile as exc:
        return None, "is a symbolic link, not read" if exc.kind == "symbolic link" else "is not a regular file, not read"
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None, None
        return None, "cannot read it: %s" % (exc.strerror or exc)
    try:
        if os.fstat(fd).st_size > MAX_FACT_BYTES:
            return None, "larger than %d bytes, not read" % MAX_FACT_BYTES
        data = read_fd_bounded(fd, MAX_FACT_BYTES)
    except OSError as exc:
        return None, "cannot read it: %s" % (exc.strerror or exc)
    finally:
        os.close(fd)
    if len(data) > MAX_FACT_BYTES:
        return None, "larger than %d bytes, not read" % MAX_FACT_BYTES
    return data, None


def read_local_fact(fs, vpath=POSIX_FACT, origin=None):
    """``(state, warnings)`` of the local fact at ``vpath`` under the ``RootFS`` ``fs``.

    ``state`` is None when there is no usable record (no file: no warning). Never raises.
    """
    state, dummy, warnings = read_local_fact_file(fs, vpath, origin)
    return state, warnings


def read_local_fact_file(fs, vpath=POSIX_FACT, origin=None):
    """``(state, file, warnings)``: the drift state (as ``read_local_fact``) and what the executor needs to
    replace the record (``fact_file``): ``None`` when there is no file, ``{"sha256", "record"}`` when it was
    read (``record``: the parsed schema-1 record, or None), ``{"refused": reason}`` when it exists but was
    not read (a link, not a regular file, too large, unreadable). Never raises."""
    origin = origin or vpath
    try:
        data, problem = _read_regular_file(fs, vpath)
    except Exception as exc:  # pylint: disable=broad-except  # the drift check must never stop a scan
        problem = "collector error: %s: %s" % (type(exc).__name__, exc)
        return None, {"refused": problem}, ["local fact %s: %s; %s" % (quote(origin), problem, SKIPPED)]
    if problem:
        return None, {"refused": problem}, ["local fact %s: %s; %s" % (quote(origin), problem, SKIPPED)]
    if data is None:
        return None, None, []
    state, record, warnings = parse_fact_record(data, origin)
    return state, fact_file(data, record), warnings


def fact_file(data, record):
    """``{"sha256", "record"}`` of the record file's bytes ``data``."""
    return {"sha256": hashlib.sha256(data).hexdigest(), "record": record}
