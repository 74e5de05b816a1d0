# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: match collector records against enabled catalog entries and produce findings.

Records come from hosts and are untrusted: anything malformed is skipped with a warning, never
matched by accident and never allowed to crash the run.
"""

import re

# \Z, not $: '$' also matches before a trailing newline ("machine\n" is not a scope).
SCOPE_RE = re.compile(r"^(machine|user:[^\x00-\x1f\x7f]{1,256})\Z")
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
MAX_TEXT = 4096
# Record fields copied into a finding's ``details`` when present (scalar values only).
DETAIL_FIELDS = ("arch", "vendor", "state", "branch", "enabled", "type", "exe", "pid", "user", "comm",
                 "display_name", "publisher", "install_location", "team_id", "exec")
FINDING_FIELDS = ("id", "product", "vendor", "source", "name", "version", "scope", "path", "policies", "exempt")


def finding_key(source, scope, name, path):
    """The key of a finding, unique per host: ``source|scope|name|path`` (``path`` "" when the record has none).

    The planner's records, the plan's steps, the outcomes, the local fact's removals and the drift check all
    refer to findings by it.
    """
    return "|".join([source, scope, name, path if isinstance(path, str) else ""])


def _clean(value):
    """A short printable string for a host-supplied value (or None)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if not isinstance(value, str):
        return None
    return value[:MAX_TEXT]


class Matcher:
    """Index of the enabled entries' signatures by (platform, source)."""

    def __init__(self, entries, selected_policies=None):
        self.index = {}
        if isinstance(selected_policies, str):
            selected_policies = [selected_policies]
        # "all" stands for the default policies; optional ones (default: false) only when named.
        self.all = not selected_policies or "all" in selected_policies
        self.explicit = set(p for p in selected_policies or [] if p != "all")
        for entry in entries:
            for platform, sources in entry.signatures.items():
                for source, sigs in sources.items():
                    bucket = self.index.setdefault((platform, source), [])
                    for sig in sigs:
                        bucket.append((entry, sig))

    def policies_for(self, entry):
        optional = getattr(entry, "optional_policies", frozenset())
        return [p for p in entry.policies if p in self.explicit or (self.all and p not in optional)]

    def match(self, platform, collected):
        """Return ``(findings, warnings)`` for one host's collector result ``collected``."""
        findings, warnings, dummy = self.match_records(platform, collected)
        return findings, warnings

    def match_records(self, platform, collected):
        """``(findings, warnings, matched)``: ``match``, and ``{finding key: record}``, the host record each
        finding was made of (for findings of several entries that share a key, the record of the first): what
        the planner acts on."""
        warnings = []
        findings = []
        matched = {}
        seen = set()
        if not isinstance(collected, dict):
            return [], ["collector returned %s instead of a mapping; nothing could be matched"
                        % type(collected).__name__], {}
        records = collected.get("records")
        if not isinstance(records, dict):
            return [], ["collector returned no 'records' mapping; nothing could be matched"], {}
        homes = {}
        users = collected.get("users")
        for user in users if isinstance(users, list) else []:
            if isinstance(user, dict) and isinstance(user.get("name"), str) and isinstance(user.get("home"), str):
                homes[user["name"]] = user["home"]
        for source in sorted(k for k in records if isinstance(k, str)):
            items = records[source]
            candidates = self.index.get((platform, source))
            if not isinstance(items, list):
                warnings.append("collector source %r returned %s instead of a list; skipped"
                                % (source, type(items).__name__))
                continue
            if not candidates:
                continue
            bad = 0
            for record in items:
                if not _well_formed(record):
                    bad += 1
                    continue
                for entry, sig in candidates:
                    if not sig.matches(record, homes):
                        continue
                    finding = self._finding(entry, source, record, sig)
                    if (entry.id, finding["key"]) in seen:
                        continue
                    seen.add((entry.id, finding["key"]))
                    findings.append(finding)
                    matched.setdefault(finding["key"], record)
            if bad:
                warnings.append("skipped %d malformed %s record(s) from the host" % (bad, source))
        findings.sort(key=lambda f: (f["id"], f["source"], f["scope"], f["name"], f["path"] or ""))
        return findings, warnings, matched

    def _finding(self, entry, source, record, sig):
        name = record["name"]
        path = _clean(record.get("path"))
        scope = record["scope"]
        version = _clean(record.get("version"))
        finding = {
            "id": entry.id,
            "product": entry.product,
            "vendor": entry.vendor,
            "source": source,
            "name": name[:MAX_TEXT],
            "version": version if isinstance(version, str) else None,
            "scope": scope,
            "path": path if isinstance(path, str) else None,
            "policies": self.policies_for(entry),
            "exempt": False,
            # name and path are at most MAX_TEXT long (_well_formed): the key is never truncated, so it
            # stays unique per host.
            "key": finding_key(source, scope, name, path),
            "matched_by": sig.describe(),
        }
        # How each policy applies: required by its wording, or applied by the collection beyond it.
        required, extended = entry.policy_basis(finding["policies"]) if hasattr(entry, "policy_basis") \
            else (list(finding["policies"]), [])
        finding["required_by"] = required
        finding["applied_by_extension"] = extended
        if getattr(entry, "report_only", None):
            finding["report_only"] = True
        details = {}
        for field in DETAIL_FIELDS:
            value = _clean(record.get(field))
            if value is not None:
                details[field] = value
        if details:
            finding["details"] = details
        return finding


def _well_formed(record):
    if not isinstance(record, dict):
        return False
    name = record.get("name")
    scope = record.get("scope")
    if not isinstance(name, str) or not name or len(name) > MAX_TEXT or CONTROL_RE.search(name):
        return False
    if not isinstance(scope, str) or not SCOPE_RE.match(scope):
        return False
    for field in ("path", "version"):
        value = record.get(field)
        if value is not None and not isinstance(value, str):
            return False
    path = record.get("path")
    if path is not None and (len(path) > MAX_TEXT or CONTROL_RE.search(path)):
        return False
    return True


def host_status(findings):
    """``compliant`` when every finding is exempt, else ``non_compliant``."""
    return "non_compliant" if any(not f.get("exempt") for f in findings) else "compliant"
