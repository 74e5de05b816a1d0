# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: "keep it gone" (reinstall blocks, docs/blocking.md) - reinstall blocks built as data from the enabled
catalog entries.

Pure functions; nothing here touches a host. Roles and modules apply the results later.

Principle: a block is never broader than the ban. Only EXACT identifiers (``name:``/``path:``/
``publisher:`` equality, with no other qualifying condition) become blocks. A signature that identifies
by a regular expression, or whose exact name is only banned together with a qualifier (``kics`` with an
rpm ``vendor_regex``: a name block would also block Checkmarx KICS), is reported in ``not_blockable``
with the reason, never blocked.

* ``blocked_names(entries, platform)`` -> ``{"platform", "names": {kind: [sorted ids]},
  "by_entry": {entry id: {kind: [ids]}}, "not_blockable": [{entry, source, identifier, reason}]}``.
  Kinds: linux ``dpkg``, ``rpm``, ``flatpak``; windows ``appx`` (package family names), ``publisher``
  (``{"publisher", "product"}`` from registry signatures with exact ``publisher`` and ``display_name``),
  ``path`` (windows ``file`` paths); macos ``bundle_id``, ``team_id``. snap and AppImage signatures are
  always ``not_blockable`` (no native install block exists).
* ``apt_preferences(names, header)`` -> text of ``APT_PREFERENCES_PATH`` (paths: ``module_utils/_host_paths.py``)
  (one ``Pin-Priority: -1`` stanza per package, sorted, names checked with the dpkg name regex).
* ``dnf_excludes(names, header, keep=())`` -> text of ``DNF_DROPIN_PATH`` (``[main]`` / ``excludepkgs=``);
  ``keep`` are the administrator's own ``excludepkgs`` values, kept first (``dnf_exclude_value``).
* ``zypper_lock_argv(names)``, ``flatpak_mask_argv(app_ids, scope)`` -> argv lists.
* ``applocker_rules(entries, mode)`` -> AppLocker deny rules as dicts;
  ``applocker_policy_xml(rules, enforcement, allow_rest)`` -> ``<AppLockerPolicy>`` text;
  ``allow_rest_rule(collection)`` -> the fixed allow-rest rule (its id marks it as ours when merging).
* ``mdm_export(entries)`` -> bundle ids, team ids and Santa-style rules per entry (macOS).

Decision - dnf: dnf 4 reads ``[main]`` only from /etc/dnf/dnf.conf (no drop-in directory); dnf 5 reads
drop-ins from /etc/dnf/libdnf5.conf.d/*.conf. ``excludepkgs`` per repository (/etc/yum.repos.d/*.repo) was
rejected: it rewrites the user's repository files and misses repositories added later. So the exclude
list is ONE file owned by this collection, ``DNF_DROPIN_PATH``, for dnf 5 (removing it is the unblock).
dnf 4 has no drop-in, and duplicate ``excludepkgs=`` keys in [main] are not merged (the last one wins, so
a second line would drop the administrator's own excludes): ``plugin_utils/block/dnf_conf.py`` keeps ONE
marker-delimited block at the end of [main] of ``DNF_CONF_PATH`` whose value is the administrator's own value
followed by the banned names, recomputed on every run; unblock deletes the block. The user's other settings are
never rewritten. zypper locks
(``zypper addlock``/``removelock``) and ``flatpak mask``/``mask --remove`` are reversible by command.

Decision - AppLocker: AppLocker is an allow list; a rule collection that is enforced (or audited) with
only deny rules blocks (or logs) EVERY program. ``applocker_policy_xml`` therefore takes ``allow_rest``:
True adds "allow everything" rules for Everyone (deny wins over allow, so the effect is exactly the deny
list) and is only right when the host has no AppLocker rules of its own in that collection; False emits
the deny rules alone, to be MERGED (Set-AppLockerPolicy -Merge) into an existing policy. The caller
decides from the host. Paths use AppLocker path variables; ``%LocalAppData%``/``%AppData%`` (not AppLocker
variables) become ``%OSDRIVE%\\Users\\*\\AppData\\Local|Roaming``; ``%ProgramFiles%`` becomes
``%OSDRIVE%\\Program Files`` (AppLocker's ``%PROGRAMFILES%`` also covers Program Files (x86), broader
than the catalog path). A catalog file path names a directory; the rule denies ``<dir>\\*``.
Publisher rules need the signer's subject: a catalog ``publisher`` that starts with ``O=``/``CN=`` is used
as is, otherwise as ``O=<publisher>``; AppLocker compares the whole subject, so a rule built from a short
name may fail to match (narrower, never broader) until the subject is confirmed on a host. Publisher rules
are only built with an exact ``display_name`` as product name: a publisher-wide rule would block every
product of the signer. AppX rules need the package publisher's subject, which a package family name does
not contain (its suffix is a hash of it): ``appx_publishers`` maps family names to subjects, and the
subject is accepted only if its hash equals the family name's publisher id.
GUIDs are uuid5 under ``RULE_NAMESPACE`` of the rule's collection, type, action, SID and conditions, so a
re-run produces the same ids (idempotent merge) and a changed condition produces a new rule.

Decision - macOS Santa: a SIGNINGID rule is ``<team id>:<signing id>`` (Santa rejects a bare bundle id),
so it is only emitted where one signature gives an exact bundle id and an exact team id. A TEAMID rule
would block every program of the team, and a catalog signature always bans something narrower (a name is
required), so TEAMID rules are never generated; the team ids are exported for the admin to decide.
"""

import hashlib
import json
import re
import uuid

from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.protect import (
    DPKG_NAME_RE, FLATPAK_ID_RE, RPM_NAME_RE)

# An administrator's own excludepkgs value: one token of a comma/space separated list (globs allowed).
EXCLUDE_TOKEN_RE = re.compile(r"^[^\s,=\x00-\x1f\x7f]{1,255}\Z")
RULE_NAMESPACE = uuid.UUID("6f0d2c1e-6b4f-5b1a-9c3e-0a8d5e7b2c41")
EVERYONE_SID = "S-1-1-0"
ENFORCEMENT_MODES = ("AuditOnly", "Enabled")
APPLOCKER_MODES = ("all", "publisher", "path")
FLATPAK_SCOPES = ("system", "user")
TEAM_ID_RE = re.compile(r"^[A-Z0-9]{10}\Z")
BUNDLE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,254}\Z")
APPX_FAMILY_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9.-]{1,49})_([0-9a-hjkmnp-tv-z]{13})\Z")
_CONTROL_RE = re.compile(u"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"

# Windows catalog path variables -> AppLocker path prefixes (never broader than the catalog path).
_APPLOCKER_PREFIX = (
    ("%programfiles(x86)%", "%OSDRIVE%\\Program Files (x86)"),
    ("%programfiles%", "%OSDRIVE%\\Program Files"),
    ("%programw6432%", "%OSDRIVE%\\Program Files"),
    ("%programdata%", "%OSDRIVE%\\ProgramData"),
    ("%localappdata%", "%OSDRIVE%\\Users\\*\\AppData\\Local"),
    ("%appdata%", "%OSDRIVE%\\Users\\*\\AppData\\Roaming"),
    ("%systemroot%", "%WINDIR%"),
)

_BLOCK_SOURCES = {
    "linux": {"dpkg": "dpkg", "rpm": "rpm", "flatpak": "flatpak"},
    "windows": {"appx": "appx"},
    "macos": {"bundle": "bundle_id"},
}
_NO_NATIVE_BLOCK = {("linux", "snap"): "snap has no native install block (snapd cannot refuse a snap name)",
                    ("linux", "appimage"): "AppImages are plain files with no install step to block"}
_KINDS = {"linux": ("dpkg", "rpm", "flatpak"), "windows": ("appx", "publisher", "path"),
          "macos": ("bundle_id", "team_id")}


def _conditions(sig):
    """Return ({field: exact value}, [regex fields]) of a signature, ignoring notes."""
    exact = dict((k, v) for k, v in sig.raw.items() if not k.endswith("_regex")
                 and k not in ("note", "min_version", "max_version"))
    regexes = sorted(k for k in sig.raw if k.endswith("_regex"))
    return exact, regexes


def _not_blockable(entry, source, identifier, reason):
    return {"entry": entry.id, "source": source, "identifier": identifier, "reason": reason}


def _check_text(value, what):
    if not isinstance(value, str) or not value or _CONTROL_RE.search(value) or len(value) > 4096:
        raise ValueError("%s must be a non-empty single-line string, got %r" % (what, value))
    return value


def _add(found, by_entry, eid, kind, value):
    found.setdefault(kind, [])
    if value not in found[kind]:
        found[kind].append(value)
    lst = by_entry.setdefault(eid, {}).setdefault(kind, [])
    if value not in lst:
        lst.append(value)


def _sort_key(value):
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def blocked_names(entries, platform):
    """Exact, blockable identifiers of ``entries`` for ``platform`` (see module docstring)."""
    if platform not in _KINDS:
        raise ValueError("unknown platform %r (expected one of %s)" % (platform, ", ".join(sorted(_KINDS))))
    found = {}
    by_entry = {}
    refused = []
    for entry in entries:
        if getattr(entry, "report_only", None):
            continue   # found and reported, never removed: nothing to keep from coming back
        for source, sigs in sorted(entry.signatures.get(platform, {}).items()):
            for sig in sigs:
                exact, regexes = _conditions(sig)
                if (platform, source) in _NO_NATIVE_BLOCK:
                    refused.append(_not_blockable(entry, source, exact.get("name") or sig.raw.get("name_regex"),
                                                  _NO_NATIVE_BLOCK[(platform, source)]))
                    continue
                if platform == "windows" and source == "file":
                    _add(found, by_entry, entry.id, "path", exact["path"])
                    continue
                if platform == "windows" and source == "registry":
                    _registry(entry, exact, regexes, found, by_entry, refused)
                    continue
                if platform == "macos" and source in ("bundle", "sysext"):
                    _macos(entry, source, sig, found, by_entry, refused)
                    continue
                kind = _BLOCK_SOURCES[platform].get(source)
                if kind is None:
                    continue  # not an install identifier (service, process, file, desktop, ...)
                if "name" not in exact:
                    refused.append(_not_blockable(entry, source, sig.raw.get("name_regex"),
                                                  "identified by a regular expression; a block must be exact"))
                elif regexes or len(exact) > 1:
                    quals = sorted([k for k in exact if k != "name"] + regexes)
                    refused.append(_not_blockable(entry, source, exact["name"],
                                                  "banned only when qualified by %s; a name block would be broader"
                                                  % ", ".join(quals)))
                else:
                    _add(found, by_entry, entry.id, kind, exact["name"])
    names = dict((kind, sorted(found.get(kind, []), key=_sort_key)) for kind in _KINDS[platform])
    for eid in by_entry:
        for kind in by_entry[eid]:
            by_entry[eid][kind] = sorted(by_entry[eid][kind], key=_sort_key)
    return {"platform": platform, "names": names, "by_entry": by_entry,
            "not_blockable": sorted(refused, key=_sort_key)}


def _registry(entry, exact, regexes, found, by_entry, refused):
    identifier = exact.get("publisher") or exact.get("name")
    if "publisher" not in exact:
        reason = ("publisher is a regular expression; a signer rule must be exact" if "publisher_regex" in regexes
                  else "an uninstall key name is neither a signer nor a path")
        refused.append(_not_blockable(entry, "registry", identifier, reason))
    elif "display_name" not in exact:
        refused.append(_not_blockable(entry, "registry", identifier,
                                      "no exact display_name: a publisher-wide rule would block every product "
                                      "of the signer"))
    else:
        _add(found, by_entry, entry.id, "publisher",
             {"publisher": exact["publisher"], "product": exact["display_name"]})


def _macos(entry, source, sig, found, by_entry, refused):
    exact, dummy = _conditions(sig)
    if "team_id" in exact:
        _add(found, by_entry, entry.id, "team_id", exact["team_id"])
    if "name" not in exact:
        refused.append(_not_blockable(entry, source, sig.raw.get("name_regex"),
                                      "identified by a regular expression; a block must be exact"))
    elif source == "bundle":
        _add(found, by_entry, entry.id, "bundle_id", exact["name"])


# --- Linux -------------------------------------------------------------------------------------------

def _header_lines(header):
    """``header``: {"catalog_version": str, "policies": [ids]} -> comment lines."""
    if not isinstance(header, dict) or set(header) != {"catalog_version", "policies"}:
        raise ValueError("header must be {catalog_version, policies}, got %r" % (header,))
    version = _check_text(header["catalog_version"], "catalog_version")
    policies = header["policies"]
    if not isinstance(policies, list):
        raise ValueError("header policies must be a list, got %r" % (policies,))
    policies = sorted(set(_check_text(p, "policy id") for p in policies))
    return ["# Managed by govsec.banned_software: reinstall block of banned software.",
            "# Catalog version: %s" % version,
            "# Policies: %s" % (", ".join(policies) or "none"),
            "# Remove with playbooks/unblock.yml; manual edits are overwritten."]


def _valid_names(names, regex, what):
    if isinstance(names, str) or not isinstance(names, (list, tuple, set, frozenset)):
        raise ValueError("%s names must be a list, got %r" % (what, names))
    out = set()
    for name in names:
        if not isinstance(name, str) or not regex.match(name):
            raise ValueError("invalid %s name %r (must match %s)" % (what, name, regex.pattern))
        out.add(name)
    return sorted(out)


def apt_preferences(names, header):
    """Text of APT_PREFERENCES_PATH: every name pinned to priority -1 (never installed)."""
    lines = _header_lines(header)
    for name in _valid_names(names, DPKG_NAME_RE, "dpkg"):
        lines.extend(["", "Package: %s" % name, "Pin: version *", "Pin-Priority: -1"])
    return "\n".join(lines) + "\n"


def dnf_exclude_value(names, keep=()):
    """``excludepkgs`` value: the administrator's own values ``keep`` (in their order), then the banned
    ``names`` (sorted) that ``keep`` does not already list; comma-separated."""
    if isinstance(keep, str) or not isinstance(keep, (list, tuple)):
        raise ValueError("kept excludepkgs values must be a list, got %r" % (keep,))
    out = []
    for value in keep:
        if not isinstance(value, str) or not EXCLUDE_TOKEN_RE.match(value):
            raise ValueError("invalid excludepkgs value %r (must match %s)" % (value, EXCLUDE_TOKEN_RE.pattern))
        if value not in out:
            out.append(value)
    out.extend(n for n in _valid_names(names, RPM_NAME_RE, "rpm") if n not in out)
    return ",".join(out)


def dnf_excludes(names, header, keep=()):
    """Text of DNF_DROPIN_PATH: ``[main]`` with ``excludepkgs`` (see the dnf decision above)."""
    lines = _header_lines(header)
    lines.extend(["[main]", "excludepkgs=%s" % dnf_exclude_value(names, keep)])
    return "\n".join(lines) + "\n"


def zypper_lock_argv(names):
    """One ``zypper addlock`` argv per package name (sorted)."""
    return [["zypper", "--non-interactive", "addlock", "--", name]
            for name in _valid_names(names, RPM_NAME_RE, "rpm")]


def flatpak_mask_argv(app_ids, scope):
    """One ``flatpak mask`` argv per application id; ``scope`` is ``system`` or ``user``."""
    if scope not in FLATPAK_SCOPES:
        raise ValueError("flatpak scope must be one of %s, got %r" % (", ".join(FLATPAK_SCOPES), scope))
    return [["flatpak", "mask", "--%s" % scope, "--", app_id]
            for app_id in _valid_names(app_ids, FLATPAK_ID_RE, "flatpak")]


# --- Windows -----------------------------------------------------------------------------------------

def appx_publisher_id(publisher):
    """The 13-character publisher id of a package family name, from the publisher's subject."""
    digest = hashlib.sha256(publisher.encode("utf-16-le")).digest()[:8]
    bits = int.from_bytes(digest, "big") << 1  # 64 bits + one zero bit = 65 bits = 13 base32 digits
    return "".join(_CROCKFORD[(bits >> (5 * (12 - i))) & 31] for i in range(13))


def applocker_path(path):
    """Catalog Windows ``file`` path -> AppLocker path condition (directory contents), or None."""
    if "?" in path or "[" in path:
        return None
    low = path.lower()
    for var, prefix in _APPLOCKER_PREFIX:
        if low.startswith(var + "\\"):
            return prefix + path[len(var):] + "\\*"
    return path + "\\*"


def _publisher_subject(publisher):
    if publisher.upper().startswith(("O=", "CN=")):
        return publisher
    return "O=%s" % publisher


def _rule_id(rule):
    key = json.dumps([rule["collection"], rule["type"], rule["action"], rule["user_or_group_sid"],
                      rule["conditions"]], sort_keys=True, ensure_ascii=False)
    return str(uuid.uuid5(RULE_NAMESPACE, key))


def _merge_rule(rules, entry, collection, rtype, conditions, what):
    rule = {"collection": collection, "type": rtype, "action": "Deny", "user_or_group_sid": EVERYONE_SID,
            "conditions": conditions}
    rid = _rule_id(rule)
    if rid not in rules:
        rule["id"] = rid
        rule["entries"] = []
        rule["policies"] = []
        rule["what"] = what
        rules[rid] = rule
    rule = rules[rid]
    if entry.id not in rule["entries"]:
        rule["entries"].append(entry.id)
    for pid in entry.policies:
        if pid not in rule["policies"]:
            rule["policies"].append(pid)


def applocker_rules(entries, mode="all", appx_publishers=None):
    """AppLocker deny rules (dicts) for the enabled ``entries``.

    ``mode``: ``all``, ``publisher`` (FilePublisherRule only) or ``path`` (FilePathRule only).
    ``appx_publishers``: {package family name: publisher subject}, checked against the family name.
    Returns {"rules": [rule], "not_blockable": [...]}; each rule has id, name, description, collection
    (Exe|Appx), type, action Deny, user_or_group_sid S-1-1-0, conditions, entries, policies.
    """
    if mode not in APPLOCKER_MODES:
        raise ValueError("mode must be one of %s, got %r" % (", ".join(APPLOCKER_MODES), mode))
    appx_publishers = appx_publishers or {}
    if not isinstance(appx_publishers, dict):
        raise ValueError("appx_publishers must map package family names to publisher subjects")
    rules = {}
    refused = []
    for entry in entries:
        found = blocked_names([entry], "windows")
        refused.extend(found["not_blockable"])
        names = found["names"]
        if mode in ("all", "path"):
            for path in names["path"]:
                condition = applocker_path(path)
                if condition is None:
                    refused.append(_not_blockable(entry, "file", path, "'?' or '[' globs have no AppLocker form"))
                    continue
                _merge_rule(rules, entry, "Exe", "FilePathRule", {"path": condition}, path)
        if mode in ("all", "publisher"):
            for pub in names["publisher"]:
                _merge_rule(rules, entry, "Exe", "FilePublisherRule",
                            {"publisher": _check_text(_publisher_subject(pub["publisher"]), "publisher"),
                             "product": _check_text(pub["product"], "product"), "binary": "*",
                             "low": "*", "high": "*"}, pub["product"])
            for family in names["appx"]:
                match = APPX_FAMILY_RE.match(family)
                subject = appx_publishers.get(family)
                if match is None:
                    refused.append(_not_blockable(entry, "appx", family, "not a package family name"))
                elif subject is None:
                    refused.append(_not_blockable(entry, "appx", family,
                                                  "publisher subject unknown (give it in appx_publishers); "
                                                  "deprovision only"))
                elif appx_publisher_id(_check_text(subject, "appx publisher")) != match.group(2):
                    raise ValueError("appx publisher %r does not hash to the publisher id of %s"
                                     % (subject, family))
                else:
                    _merge_rule(rules, entry, "Appx", "FilePublisherRule",
                                {"publisher": subject, "product": match.group(1), "binary": "*",
                                 "low": "*", "high": "*"}, family)
    out = []
    for rule in rules.values():
        product = ", ".join(sorted(set(e.product for e in entries if e.id in rule["entries"])))
        rule["name"] = "govsec.banned_software: deny %s (%s)" % (product, rule.pop("what"))
        rule["description"] = ("Banned software (catalog entries %s; policies %s). Remove with "
                               "playbooks/unblock.yml." % (", ".join(sorted(rule["entries"])),
                                                           ", ".join(sorted(rule["policies"]))))
        rule["entries"] = sorted(rule["entries"])
        rule["policies"] = sorted(rule["policies"])
        out.append(rule)
    out.sort(key=lambda r: (r["collection"], r["type"], _sort_key(r["conditions"])))
    uniq = []
    for item in sorted(refused, key=_sort_key):
        if item not in uniq:
            uniq.append(item)
    return {"rules": out, "not_blockable": uniq}


def _attr(value):
    _check_text(value, "AppLocker attribute")
    return (value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def _allow_rest(collection):
    if collection == "Exe":
        rule = {"collection": "Exe", "type": "FilePathRule", "action": "Allow", "user_or_group_sid": EVERYONE_SID,
                "conditions": {"path": "*"}}
        name = "govsec.banned_software: allow everything not denied (executables)"
    else:
        rule = {"collection": "Appx", "type": "FilePublisherRule", "action": "Allow",
                "user_or_group_sid": EVERYONE_SID,
                "conditions": {"publisher": "*", "product": "*", "binary": "*", "low": "*", "high": "*"}}
        name = "govsec.banned_software: allow every signed packaged app not denied"
    rule["id"] = _rule_id(rule)
    rule["name"] = name
    rule["description"] = "Deny rules of govsec.banned_software take precedence; only added without a local policy."
    return rule


def allow_rest_rule(collection):
    """The fixed "allow everything not denied" rule of ``collection`` (Exe or Appx), as a rule dict."""
    if collection not in ("Exe", "Appx"):
        raise ValueError("collection must be Exe or Appx, got %r" % (collection,))
    return _allow_rest(collection)


def _rule_xml(rule):
    head = '    <%s Id="%s" Name="%s" Description="%s" UserOrGroupSid="%s" Action="%s">' % (
        rule["type"], _attr(rule["id"]), _attr(rule["name"]), _attr(rule["description"]),
        _attr(rule["user_or_group_sid"]), _attr(rule["action"]))
    cond = rule["conditions"]
    if rule["type"] == "FilePathRule":
        body = ['        <FilePathCondition Path="%s" />' % _attr(cond["path"])]
    elif rule["type"] == "FilePublisherRule":
        body = ['        <FilePublisherCondition PublisherName="%s" ProductName="%s" BinaryName="%s">'
                % (_attr(cond["publisher"]), _attr(cond["product"]), _attr(cond["binary"])),
                '          <BinaryVersionRange LowSection="%s" HighSection="%s" />'
                % (_attr(cond["low"]), _attr(cond["high"])),
                "        </FilePublisherCondition>"]
    else:
        raise ValueError("unknown AppLocker rule type %r" % (rule["type"],))
    return [head, "      <Conditions>"] + body + ["      </Conditions>", "    </%s>" % rule["type"]]


def applocker_policy_xml(rules, enforcement, allow_rest):
    """``<AppLockerPolicy>`` text with the Exe and Appx rule collections (see the AppLocker decision)."""
    if enforcement not in ENFORCEMENT_MODES:
        raise ValueError("enforcement must be one of %s, got %r" % (", ".join(ENFORCEMENT_MODES), enforcement))
    if not isinstance(allow_rest, bool):
        raise ValueError("allow_rest must be true or false, got %r" % (allow_rest,))
    lines = ['<AppLockerPolicy Version="1">']
    for collection in ("Exe", "Appx"):
        mine = [r for r in rules if r["collection"] == collection]
        for rule in mine:
            if rule["id"] != _rule_id(rule):
                raise ValueError("rule %r: id does not match its content" % (rule["name"],))
        mine = sorted(mine, key=lambda r: r["id"])
        if allow_rest and mine:
            mine.append(_allow_rest(collection))
        # An empty collection stays NotConfigured: merged into a host policy it changes nothing there.
        mode = enforcement if mine else "NotConfigured"
        lines.append('  <RuleCollection Type="%s" EnforcementMode="%s">' % (collection, mode))
        for rule in mine:
            lines.extend(_rule_xml(rule))
        lines.append("  </RuleCollection>")
    lines.append("</AppLockerPolicy>")
    return "\n".join(lines) + "\n"


# --- macOS -------------------------------------------------------------------------------------------

def mdm_export(entries):
    """Per entry: exact bundle ids, team ids, Santa rules, and what is not exportable (regexes)."""
    out = {}
    for entry in entries:
        found = blocked_names([entry], "macos")
        bundle_ids = found["names"]["bundle_id"]
        team_ids = found["names"]["team_id"]
        rules = []
        for sig in entry.signatures.get("macos", {}).get("bundle", []):
            exact, regexes = _conditions(sig)
            if "name" in exact and "team_id" in exact and not regexes and set(exact) == {"name", "team_id"}:
                if TEAM_ID_RE.match(exact["team_id"]) and BUNDLE_ID_RE.match(exact["name"]):
                    rule = {"identifier": "%s:%s" % (exact["team_id"], exact["name"]),
                            "rule_type": "SIGNINGID", "policy": "BLOCKLIST"}
                    if rule not in rules:
                        rules.append(rule)
        if not (bundle_ids or team_ids or found["not_blockable"]):
            continue
        out[entry.id] = {"product": entry.product, "vendor": entry.vendor, "policies": sorted(entry.policies),
                         "bundle_ids": bundle_ids, "team_ids": team_ids,
                         "santa_rules": sorted(rules, key=_sort_key),
                         "not_exportable": found["not_blockable"]}
    return out
