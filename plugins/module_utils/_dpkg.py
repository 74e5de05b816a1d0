# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""dpkg packages, read straight from ``<root>/var/lib/dpkg/status``.

No python3-apt and no dpkg-query: the tree may be an image and minimal hosts lack python3-apt.
A package is reported when the third word of its ``Status`` field (the package state) is one of
``installed``, ``half-installed``, ``unpacked``, ``half-configured``, ``triggers-awaited`` or
``triggers-pending`` (files are on disk); ``config-files`` and ``not-installed`` are skipped.
Multi-arch packages appear once per architecture. Pending updates in ``/var/lib/dpkg/updates`` are
not merged (dpkg merges them on its next run).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.govsec.banned_software.plugins.module_utils._rootfs import quote

STATUS = "/var/lib/dpkg/status"
MAX_STATUS_BYTES = 512 * 1024 * 1024
PRESENT_STATES = frozenset(("installed", "half-installed", "unpacked", "half-configured",
                            "triggers-awaited", "triggers-pending"))
ABSENT_STATES = frozenset(("config-files", "not-installed"))

_STANZA_SEP = re.compile(r"\n[ \t]*\n")
_FIELD = re.compile(r"^(Package|Status|Version|Architecture):[ \t]*([^\n]*?)[ \t]*$", re.M)


def parse_status(text, query, warnings, path=STATUS):
    """Return ``(records, examined)`` for the status file contents ``text`` (str).

    ``query`` is a ``SourceQuery`` (or anything with ``match(name)``); ``examined`` counts the
    packages in a present state, passing the query or not.
    """
    records = []
    examined = 0
    malformed = 0
    stanzas = _STANZA_SEP.split(text)
    for stanza in stanzas:
        if not stanza.strip():
            continue
        fields = {}
        for key, value in _FIELD.findall(stanza):
            fields.setdefault(key, value)
        name = fields.get("Package")
        status = fields.get("Status", "").split()
        if not name or len(status) != 3:
            malformed += 1
            continue
        state = status[2]
        if state in ABSENT_STATES:
            continue
        if state not in PRESENT_STATES:
            malformed += 1
            continue
        examined += 1
        if not query.match(name):
            continue
        rec = {"name": name, "scope": "machine", "path": path, "state": state}
        if fields.get("Version"):
            rec["version"] = fields["Version"]
        if fields.get("Architecture"):
            rec["arch"] = fields["Architecture"]
        records.append(rec)
    if malformed:
        warnings.append("%s: %d malformed or truncated stanza(s) ignored" % (quote(path), malformed))
    return records, examined


def list_dpkg(fs, query):
    """Return ``(available, records, examined)``; problems go to ``fs.warnings``."""
    if fs.lstat(STATUS) is None:
        return False, [], 0
    data, truncated = fs.read_bytes(STATUS, MAX_STATUS_BYTES, what="dpkg packages not examined")
    if data is None:
        return False, [], 0
    if truncated:
        fs.warnings.append("%s is larger than %d bytes: only the start was read"
                           % (STATUS, MAX_STATUS_BYTES))
    if data and not data.endswith(b"\n"):
        fs.warnings.append("%s does not end with a newline: its last stanza may be truncated" % STATUS)
    # Non-UTF-8 bytes become \xNN escapes; they can only be in values, never in field names.
    text = data.decode("utf-8", "backslashreplace")
    records, examined = parse_status(text, query, fs.warnings)
    return True, records, examined
