# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: drift, banned software found again after a remediation removed it (docs/usage.md, "Drift").

The collector returns the host's local fact as a drift state (``module_utils/_collect/local_fact.py``): POSIX
collectors and the Windows image reader parse it on the host (``local_fact``), ``win_collect``
returns the raw text (``local_fact_text``), parsed here once (the parsed record is kept in its
``local_fact_file`` for the record's writer). Host data is untrusted, so a parsed state is checked again here.

``mark_drift`` then marks every finding whose key the record lists as removed::

    finding["drift"] = "reinstalled"; finding["removed_at"] = "<when a remediation last removed it>"

Exempt findings are marked too (the reader sees the history) but only findings that are not exempt
count for the host: its ``reinstalled`` list (sorted keys, empty when none) is what reports and
alerts use. The host status does not change (a reinstalled finding keeps the host non_compliant).
"""

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.local_fact import (
    FACT_SCHEMA, drift_state, parse_fact_record)
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import WINDOWS_FACT

REINSTALLED = "reinstalled"


def collected_drift_state(collected):
    """``(state, warnings)`` from a collector result; ``state`` is None without a usable record."""
    if not isinstance(collected, dict):
        return None, []
    text = collected.get("local_fact_text")
    if text is not None:
        state, record, warnings = parse_fact_record(text, WINDOWS_FACT)
        found = collected.get("local_fact_file")
        if isinstance(found, dict) and "record" not in found:
            # The record goes with the file for its writer (plugin_utils/_host_fact.py): the text is parsed once.
            found["record"] = record
        return state, warnings
    state = collected.get("local_fact")
    if state is None:
        return None, []
    if not isinstance(state, dict):
        return None, ["collector returned local_fact as %s instead of a mapping; reinstalls are not reported "
                      "for this host" % type(state).__name__]
    origin = state.get("path") if isinstance(state.get("path"), str) else "local fact"
    return drift_state({"schema": FACT_SCHEMA, "removals": state.get("removals"),
                        "last_remediation": {"at": state.get("last_remediation_at")}}, origin)


def mark_drift(findings, state):
    """Mark ``findings`` (in place) against the drift ``state``; return the host's drift facts
    ``{"reinstalled": [keys], "last_remediation_at": text or None}``."""
    removed = dict((r["key"], r) for r in (state or {}).get("removals") or [])
    reinstalled = set()
    for finding in findings:
        removal = removed.get(finding.get("key"))
        if removal is None:
            continue
        finding["drift"] = REINSTALLED
        finding["removed_at"] = removal["removed_at"]
        if finding.get("exempt") is not True:
            reinstalled.add(finding["key"])
    return {"reinstalled": sorted(reinstalled), "last_remediation_at": (state or {}).get("last_remediation_at")}
