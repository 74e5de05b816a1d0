# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: per-host exemptions with a reason and an expiry date.

An exemption is honoured through its ``expires`` day (UTC) and ignored afterwards; an expired
exemption is reported on the finding (``exemption_expired``) so nobody mistakes it for a live one.
"""

import datetime

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.schema import (
    CatalogError, _date, _text, _unknown_keys,
)

EXEMPTION_KEYS = {"entry", "reason", "expires", "approved_by", "source", "name", "ticket"}
VARIABLE = "banned_software_exemptions"


def validate_exemptions(exemptions, known_entries, origin="variables"):
    """Return normalised exemptions or raise CatalogError naming the field."""
    if exemptions is None:
        return []
    if not isinstance(exemptions, list):
        raise CatalogError(origin, "must be a list of {entry, reason, expires}", None, VARIABLE)
    out = []
    for i, item in enumerate(exemptions):
        field = "%s[%d]" % (VARIABLE, i)
        if not isinstance(item, dict):
            raise CatalogError(origin, "must be a mapping {entry, reason, expires}", None, field)
        entry = item.get("entry")
        _unknown_keys(origin, entry if isinstance(entry, str) else None, item, EXEMPTION_KEYS, field)
        for key in ("entry", "reason", "expires"):
            if key not in item or item[key] in (None, ""):
                raise CatalogError(origin, "is required (an exemption needs entry, reason and expires)",
                                   None, "%s.%s" % (field, key))
        _text(origin, None, field + ".entry", entry)
        if entry not in known_entries:
            raise CatalogError(origin, "unknown catalog entry %r" % (entry,), None, field + ".entry")
        norm = {
            "entry": entry,
            "reason": _text(origin, entry, field + ".reason", item["reason"]),
            "expires": _date(origin, entry, field + ".expires", item["expires"]),
        }
        for key in ("approved_by", "source", "name", "ticket"):
            value = item.get(key)
            if value is None:
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                value = str(value)  # approved_by: 1234, ticket: 1234
            norm[key] = _text(origin, entry, "%s.%s" % (field, key), value)
        out.append(norm)
    return out


def _applies(exemption, finding):
    if exemption["entry"] != finding["id"]:
        return False
    if "source" in exemption and exemption["source"] != finding["source"]:
        return False
    if "name" in exemption and exemption["name"] != finding["name"]:
        return False
    return True


def apply_exemptions(findings, exemptions, today=None):
    """Mark findings exempt in place; return warnings about expired exemptions."""
    today = (today or datetime.datetime.now(datetime.timezone.utc).date()).isoformat()
    warnings = []
    for finding in findings:
        live = None
        expired = None
        for exemption in exemptions:
            if not _applies(exemption, finding):
                continue
            if exemption["expires"] >= today:
                if live is None or exemption["expires"] > live["expires"]:
                    live = exemption
            elif expired is None or exemption["expires"] > expired["expires"]:
                expired = exemption
        if live is not None:
            finding["exempt"] = True
            finding["exemption"] = dict((k, v) for k, v in live.items() if k != "entry")
        elif expired is not None:
            finding["exempt"] = False
            finding["exemption_expired"] = dict((k, v) for k, v in expired.items() if k != "entry")
            warnings.append("exemption for %s (%s %s) expired on %s and is not honoured"
                            % (finding["id"], finding["source"], finding["name"], expired["expires"]))
    return warnings
