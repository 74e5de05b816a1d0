# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: validation and selection of the banned-software catalog.

Input is plain data already parsed from YAML (the controller reads the files, see
plugins/plugin_utils/catalog/files.py); every error names the file, the entry and the field.

    catalog = Catalog.from_documents([(filename, parsed_document), ...], custom_entries=[...])
    enabled = catalog.select(policies=["all"], disabled=[])

Policies are *default* (selected by ``all``) unless they say ``default: false``: an optional policy set
is only enforced when the user names it. A policy (or one entry's link to it) that the collection
applies beyond the measure's own wording says ``application: by_extension`` with an ``extension`` text;
findings then list it under ``applied_by_extension`` instead of ``required_by``.
"""

import datetime
import re

from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.signature import (
    PLATFORMS, Signature, SignatureError, expand_sources,
)

SCHEMA_VERSION = 1
# \Z, not $: '$' also matches before a trailing newline ("wechat\n" is not an id).
ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,99}\Z")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*\Z")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
VERSION_RE = re.compile(r"^[0-9]{4}\.[0-9]{2}\.[0-9]{2}(\.[0-9]+)?\Z")
JURISDICTION_RE = re.compile(r"^[A-Z]{2}(-[A-Z0-9]{1,3})?\Z")
DATA_POLICIES = ("keep", "archive", "purge")
APPLICATIONS = ("required", "by_extension")

DOC_KEYS = {"version", "schema", "policies", "entries", "description"}
POLICY_KEYS = {"id", "title", "jurisdiction", "instrument", "date", "url", "scope", "notes", "default",
               "application", "extension", "deadline"}
POLICY_LINK_KEYS = {"id", "application", "extension"}
POLICY_REQUIRED = ("id", "title", "jurisdiction", "instrument", "date", "url")
ENTRY_KEYS = {"id", "vendor", "product", "policies", "references", "description", "data_policy",
              "signatures", "aliases", "notes", "remediation", "prevent_reinstall", "report_only"}
REMEDIATION_KEYS = {"data", "leftovers"}
ENTRY_REQUIRED = ("id", "vendor", "product", "policies", "references", "signatures")
REFERENCE_KEYS = {"url", "note"}


class CatalogError(ValueError):
    """A catalog or variable error. The message names file, entry and field."""

    def __init__(self, origin, message, entry=None, field=None):
        where = [origin]
        if entry is not None:
            where.append("entry %r" % (entry,))
        if field is not None:
            where.append("field %r" % (field,))
        super(CatalogError, self).__init__("%s: %s" % (", ".join(where), message))
        self.origin = origin
        self.entry = entry
        self.field = field


def _text(origin, entry, field, value, required=True):
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(origin, "must be a non-empty string, got %r" % (value,), entry, field)
    return value


def _date(origin, entry, field, value):
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value.isoformat()
    if not isinstance(value, str) or not DATE_RE.match(value):
        raise CatalogError(origin, "must be a date YYYY-MM-DD, got %r" % (value,), entry, field)
    try:
        datetime.date(*[int(x) for x in value.split("-")])
    except ValueError:
        raise CatalogError(origin, "is not a valid date: %r" % (value,), entry, field)
    return value


def _url(origin, entry, field, value):
    _text(origin, entry, field, value)
    if not URL_RE.match(value):
        raise CatalogError(origin, "must be an http(s) URL, got %r" % (value,), entry, field)
    return value


def _unknown_keys(origin, entry, data, allowed, what):
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise CatalogError(origin, "unknown field(s) %s in %s (allowed: %s)"
                           % (", ".join(unknown), what, ", ".join(sorted(allowed))), entry, unknown[0])


def _identifier(origin, entry, field, value):
    if not isinstance(value, str) or not ID_RE.match(value):
        raise CatalogError(origin, "must match %s, got %r" % (ID_RE.pattern, value), entry, field)
    return value


def validate_policy(origin, data):
    """Return a normalised policy dict or raise CatalogError."""
    if not isinstance(data, dict):
        raise CatalogError(origin, "a policy must be a mapping, got %s" % type(data).__name__)
    pid = data.get("id")
    label = pid if isinstance(pid, str) else None
    _unknown_keys(origin, label, data, POLICY_KEYS, "policy")
    for key in POLICY_REQUIRED:
        if key not in data:
            raise CatalogError(origin, "is required", label, key)
    policy = {"id": _identifier(origin, label, "id", pid)}
    for key in ("title", "instrument"):
        policy[key] = _text(origin, pid, key, data[key])
    jurisdiction = _text(origin, pid, "jurisdiction", data["jurisdiction"])
    if not (JURISDICTION_RE.match(jurisdiction) or jurisdiction == "EU"):
        raise CatalogError(origin, "must be an ISO 3166 code (CA, US, AU, US-TX) or EU, got %r" % jurisdiction,
                           pid, "jurisdiction")
    policy["jurisdiction"] = jurisdiction
    policy["date"] = _date(origin, pid, "date", data["date"])
    policy["url"] = _url(origin, pid, "url", data["url"])
    if data.get("deadline") is not None:
        # the date by which the measure requires the removal (shown in the report's policy evidence)
        policy["deadline"] = _date(origin, pid, "deadline", data["deadline"])
    for key in ("scope", "notes"):
        if data.get(key) is not None:
            policy[key] = _text(origin, pid, key, data[key])
    default = data.get("default", True)
    if not isinstance(default, bool):
        raise CatalogError(origin, "must be true or false, got %r" % (default,), pid, "default")
    policy["default"] = default
    policy.update(_application(origin, pid, data, ""))
    return policy


def _application(origin, eid, data, prefix):
    """``{"application": ..., ["extension": text]}`` of a policy or of one entry-policy link."""
    application = data.get("application", "required")
    if application not in APPLICATIONS:
        raise CatalogError(origin, "must be one of %s, got %r" % (", ".join(APPLICATIONS), application), eid,
                           prefix + "application")
    out = {"application": application}
    extension = data.get("extension")
    if application == "by_extension":
        out["extension"] = _text(origin, eid, prefix + "extension", extension)
    elif extension is not None:
        raise CatalogError(origin, "is only allowed with application: by_extension", eid, prefix + "extension")
    return out


def _policy_links(origin, eid, value):
    """``[(policy id, link overrides)]`` from an entry's ``policies`` (ids or {id, application, extension})."""
    if not isinstance(value, list) or not value:
        raise CatalogError(origin, "must be a non-empty list of policy ids", eid, "policies")
    links = []
    for i, item in enumerate(value):
        field = "policies[%d]" % i
        if isinstance(item, dict):
            _unknown_keys(origin, eid, item, POLICY_LINK_KEYS, field)
            pid = _identifier(origin, eid, field + ".id", item.get("id"))
            override = _application(origin, eid, item, field + ".") if "application" in item or "extension" in item \
                else None
            links.append((pid, override))
        else:
            links.append((_identifier(origin, eid, field, item), None))
    ids = [pid for pid, dummy in links]
    if len(set(ids)) != len(ids):
        raise CatalogError(origin, "lists a policy twice", eid, "policies")
    return links


def _references(origin, eid, value):
    if not isinstance(value, list) or not value:
        raise CatalogError(origin, "must be a non-empty list of {url, note} (the source of the identifiers)",
                           eid, "references")
    out = []
    for i, ref in enumerate(value):
        field = "references[%d]" % i
        if not isinstance(ref, dict):
            raise CatalogError(origin, "must be a mapping {url, note}", eid, field)
        _unknown_keys(origin, eid, ref, REFERENCE_KEYS, field)
        item = {"url": _url(origin, eid, field + ".url", ref.get("url"))}
        if ref.get("note") is not None:
            item["note"] = _text(origin, eid, field + ".note", ref.get("note"))
        out.append(item)
    return out


def _signatures(origin, eid, value):
    """Validate ``signatures`` and return {platform: {source: [Signature]}} (aliases expanded)."""
    if not isinstance(value, dict) or not value:
        raise CatalogError(origin, "must map platforms (%s) to sources" % ", ".join(PLATFORMS), eid, "signatures")
    compiled = {}
    count = 0
    for platform in sorted(value, key=str):
        field = "signatures.%s" % platform
        if platform not in PLATFORMS:
            raise CatalogError(origin, "unknown platform (expected one of %s)" % ", ".join(PLATFORMS), eid, field)
        sources = value[platform]
        if not isinstance(sources, dict) or not sources:
            raise CatalogError(origin, "must map sources to lists of signatures", eid, field)
        for source in sorted(sources, key=str):
            sfield = "%s.%s" % (field, source)
            items = sources[source]
            if not isinstance(items, list) or not items:
                raise CatalogError(origin, "must be a non-empty list of signatures", eid, sfield)
            for i, spec in enumerate(items):
                try:
                    sig = Signature(platform, source, spec)
                except SignatureError as exc:
                    suffix = ".%s" % exc.field if exc.field else ""
                    raise CatalogError(origin, str(exc), eid, "%s[%d]%s" % (sfield, i, suffix))
                for real in expand_sources(platform, source):
                    compiled.setdefault(platform, {}).setdefault(real, []).append(sig)
                count += 1
    if not count:
        raise CatalogError(origin, "has no signature", eid, "signatures")
    return compiled


def _remediation(origin, eid, value):
    """Validate ``remediation`` -> {platform: {"data"|"leftovers": [Signature(file)]}}."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CatalogError(origin, "must map platforms (%s) to data/leftovers" % ", ".join(PLATFORMS),
                           eid, "remediation")
    out = {}
    for platform in value:
        field = "remediation.%s" % (platform,)
        if platform not in PLATFORMS:
            raise CatalogError(origin, "unknown platform (expected one of %s)" % ", ".join(PLATFORMS), eid, field)
        kinds = value[platform]
        if not isinstance(kinds, dict) or not kinds:
            raise CatalogError(origin, "must map data and/or leftovers to lists of paths", eid, field)
        _unknown_keys(origin, eid, kinds, REMEDIATION_KEYS, field)
        for kind in sorted(kinds):
            paths = kinds[kind]
            kfield = "%s.%s" % (field, kind)
            if not isinstance(paths, list) or not paths:
                raise CatalogError(origin, "must be a non-empty list of paths", eid, kfield)
            for i, path in enumerate(paths):
                try:
                    sig = Signature(platform, "file", {"path": path})
                except SignatureError as exc:
                    raise CatalogError(origin, str(exc), eid, "%s[%d]" % (kfield, i))
                out.setdefault(platform, {}).setdefault(kind, []).append(sig)
    return out


class Entry:
    """A validated catalog entry."""

    __slots__ = ("id", "vendor", "product", "policies", "references", "description", "data_policy",
                 "signatures", "remediation", "origin", "raw", "prevent_reinstall", "report_only", "links",
                 "extensions", "optional_policies")

    def __init__(self, origin, data):
        if not isinstance(data, dict):
            raise CatalogError(origin, "an entry must be a mapping, got %s" % type(data).__name__)
        eid = data.get("id")
        label = eid if isinstance(eid, str) else None
        _unknown_keys(origin, label, data, ENTRY_KEYS, "entry")
        for key in ENTRY_REQUIRED:
            if key not in data:
                raise CatalogError(origin, "is required", label, key)
        self.origin = origin
        self.id = _identifier(origin, label, "id", eid)
        self.vendor = _text(origin, eid, "vendor", data["vendor"])
        self.product = _text(origin, eid, "product", data["product"])
        self.links = _policy_links(origin, eid, data["policies"])
        self.policies = [pid for pid, dummy in self.links]
        # Resolved against the policies by Catalog.from_documents: {policy id: extension text} of the
        # policies applied beyond their wording, and the ids of optional (default: false) policies.
        self.extensions = {}
        self.optional_policies = frozenset()
        self.references = _references(origin, eid, data["references"])
        self.description = _text(origin, eid, "description", data.get("description"), required=False)
        _text(origin, eid, "notes", data.get("notes"), required=False)
        self.data_policy = data.get("data_policy", "keep")
        if self.data_policy not in DATA_POLICIES:
            raise CatalogError(origin, "must be one of %s, got %r" % (", ".join(DATA_POLICIES), self.data_policy),
                               eid, "data_policy")
        for key in ("aliases",):
            if key in data and (not isinstance(data[key], list)
                                or not all(isinstance(x, str) and x for x in data[key])):
                raise CatalogError(origin, "must be a list of strings", eid, key)
        self.signatures = _signatures(origin, eid, data["signatures"])
        self.remediation = _remediation(origin, eid, data.get("remediation"))
        # Reinstall block after remediation (docs/blocking.md); default true.
        self.prevent_reinstall = data.get("prevent_reinstall", True)
        if not isinstance(self.prevent_reinstall, bool):
            raise CatalogError(origin, "must be true or false, got %r" % (self.prevent_reinstall,), eid,
                               "prevent_reinstall")
        # A report-only entry is found and reported, never removed: its text says why (docs/catalog.md).
        self.report_only = data.get("report_only")
        if self.report_only is not None:
            self.report_only = _text(origin, eid, "report_only", self.report_only)
        self.raw = data

    def resolve_policies(self, policies):
        """Fill ``extensions`` and ``optional_policies`` from the catalog's ``{id: policy}``."""
        extensions = {}
        for pid, override in self.links:
            policy = policies[pid]
            how = override or {"application": policy["application"], "extension": policy.get("extension")}
            if how["application"] == "by_extension":
                extensions[pid] = how["extension"]
        self.extensions = extensions
        self.optional_policies = frozenset(pid for pid in self.policies if not policies[pid]["default"])

    def policy_basis(self, pids):
        """``(required_by, applied_by_extension)``: the ids of ``pids`` split by how they apply here."""
        return ([p for p in pids if p not in self.extensions], [p for p in pids if p in self.extensions])

    def remediation_paths(self, platform, kind):
        """Compiled ``file``-style signatures of the entry's ``data`` or ``leftovers`` paths."""
        return self.remediation.get(platform, {}).get(kind, [])

    def platforms(self):
        return sorted(self.signatures)

    def summary(self):
        out = {"id": self.id, "vendor": self.vendor, "product": self.product, "policies": list(self.policies),
               "platforms": self.platforms(), "data_policy": self.data_policy, "origin": self.origin}
        if self.extensions:
            out["applied_by_extension"] = sorted(self.extensions)
        if self.report_only:
            out["report_only"] = self.report_only
        return out


class Catalog:
    """All policies and entries, validated as a whole (unique ids, known policies)."""

    def __init__(self, version, policies, entries):
        self.version = version
        self.policies = policies          # {id: policy}
        self.entries = entries            # [Entry], in file order

    @classmethod
    def from_documents(cls, documents, custom_policies=None, custom_entries=None,
                       custom_origin="variables"):
        """Build a catalog from ``[(origin, document)]`` plus inline variables.

        ``custom_policies`` / ``custom_entries`` come from the variables
        ``banned_software_custom_policies`` / ``banned_software_custom_entries``.
        """
        version = None
        policies = {}
        entries = []
        seen_entries = {}

        def add_policy(origin, data):
            policy = validate_policy(origin, data)
            if policy["id"] in policies:
                raise CatalogError(origin, "duplicate policy id (first defined in %s)"
                                   % policies[policy["id"]]["origin"], policy["id"], "id")
            policy["origin"] = origin
            policies[policy["id"]] = policy

        def add_entry(origin, data):
            entry = Entry(origin, data)
            if entry.id in seen_entries:
                raise CatalogError(origin, "duplicate entry id (first defined in %s)" % seen_entries[entry.id],
                                   entry.id, "id")
            seen_entries[entry.id] = origin
            entries.append(entry)

        for origin, doc in documents:
            if doc is None:
                continue
            if not isinstance(doc, dict):
                raise CatalogError(origin, "a catalog file must be a mapping with 'policies' and/or 'entries'")
            _unknown_keys(origin, None, doc, DOC_KEYS, "catalog file")
            schema = doc.get("schema", SCHEMA_VERSION)
            if isinstance(schema, bool) or not isinstance(schema, int) or schema != SCHEMA_VERSION:
                raise CatalogError(origin, "unsupported schema %r (this collection reads schema %d)"
                                   % (doc["schema"], SCHEMA_VERSION), None, "schema")
            if "version" in doc:
                if version is not None:
                    raise CatalogError(origin, "the catalog version is set twice (already %r)" % version,
                                       None, "version")
                version = doc["version"]
                if not isinstance(version, str) or not VERSION_RE.match(version):
                    raise CatalogError(origin, "must be a quoted string YYYY.MM.DD[.N], got %r" % (version,),
                                       None, "version")
            for key, add in (("policies", add_policy), ("entries", add_entry)):
                items = doc.get(key)
                if items is None:
                    continue
                if not isinstance(items, list):
                    raise CatalogError(origin, "must be a list", None, key)
                for item in items:
                    add(origin, item)

        for key, items, add in (("banned_software_custom_policies", custom_policies, add_policy),
                                ("banned_software_custom_entries", custom_entries, add_entry)):
            if items is None:
                continue
            origin = "%s (%s)" % (custom_origin, key)
            if not isinstance(items, list):
                raise CatalogError(origin, "must be a list, got %s" % type(items).__name__)
            for item in items:
                add(origin, item)

        for entry in entries:
            for i, pid in enumerate(entry.policies):
                if pid not in policies:
                    raise CatalogError(entry.origin, "unknown policy %r (known: %s)"
                                       % (pid, ", ".join(sorted(policies)) or "none"),
                                       entry.id, "policies[%d]" % i)
            entry.resolve_policies(policies)
        if version is None:
            version = "unversioned"
        return cls(version, policies, entries)

    def select(self, policies=None, disabled=None, origin="variables"):
        """Return the enabled entries.

        ``policies``: policy ids to enforce; ``all`` = every default policy (optional policies, those with
        ``default: false``, are enforced only when named, e.g. ``[all, us-tx-dir-other-prohibited]``);
        ``disabled``: entry ids to skip. Unknown ids are errors, so a typo never silently disables
        enforcement.
        """
        if policies is None:
            policies = ["all"]
        if isinstance(policies, str):
            policies = [policies]
        if not isinstance(policies, list) or not policies:
            raise CatalogError(origin, "must be a non-empty list of policy ids or 'all'", None,
                               "banned_software_policies")
        for i, pid in enumerate(policies):
            if not isinstance(pid, str) or (pid != "all" and pid not in self.policies):
                raise CatalogError(origin, "unknown policy %r (known: all, %s)" % (pid, ", ".join(sorted(self.policies))),
                                   None, "banned_software_policies[%d]" % i)
        disabled = disabled or []
        if not isinstance(disabled, list):
            raise CatalogError(origin, "must be a list of entry ids", None, "banned_software_disabled_entries")
        known = set(e.id for e in self.entries)
        for i, eid in enumerate(disabled):
            if not isinstance(eid, str) or eid not in known:
                raise CatalogError(origin, "unknown entry %r" % (eid,), None,
                                   "banned_software_disabled_entries[%d]" % i)
        wanted = self.selected_policy_ids(policies)
        off = set(disabled)
        return [e for e in self.entries if e.id not in off and wanted.intersection(e.policies)]

    def selected_policy_ids(self, policies):
        """The set of policy ids a selection (``all`` and/or ids) stands for."""
        if isinstance(policies, str):
            policies = [policies]
        wanted = set(p for p in policies or [] if p != "all")
        if "all" in (policies or []):
            wanted.update(pid for pid, policy in self.policies.items() if policy.get("default", True))
        return wanted
