# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the Windows part of "keep it gone" (reinstall blocks, docs/blocking.md): AppLocker deny rules merged
into the host's LOCAL policy, and deprovisioned AppX packages. Pure Python; ``win_collect`` (``block_state: true``)
supplies raw facts, ``win_execute`` applies the steps.

    plan = plan_windows_blocks(entries, state, mode, options)   # {"steps", "items", "not_blockable", "diff"}

``state`` is the collector's ``block_state``: ``edition`` {edition_id, installation_type, product_name,
build}, ``applocker_cmdlets``, ``appidsvc`` {status, start_type} (None: no such service),
``applocker_local_xml`` / ``applocker_local_sha256``, ``applocker_effective_xml``, ``appx_provisioned``
[{display_name, package_name, version, publisher_id}], and ``<name>_error`` for what could not be read.
``options``: ``applocker_enforcement`` (AuditOnly | Enabled), ``applocker_mode`` (all | publisher | path),
``appx_publishers``, ``applocker_all_editions`` (bool). Items carry ``steps`` (indexes into ``steps``);
their state is the prediction (``would_apply``, ``would_remove``, ``unchanged``, ``unavailable``,
``not_supported``); the dispatcher turns ``would_*`` into the outcome once the steps ran.

Decisions (docs/windows.md, "Reinstall blocks"; which entries are blocked: docs/blocking.md):

* Availability (``mode: present``): the AppLocker cmdlets, an edition that enforces AppLocker (EditionID
  Enterprise*, Education*, IoTEnterprise*, Server*, or a Server installation; ``applocker_all_editions``
  accepts any edition, for Windows 10 2004+ / 11 with KB 5024351), and AppIDSvc running or starting
  automatically. When one is missing NOTHING is written (a policy that would not be enforced is not
  reported as a block): the item is ``unavailable`` and says what is missing. Unblock needs only the
  cmdlets, so rules written earlier can always be removed.
* Our rules are the rules whose ids ``rules.py`` computes for the entries, the fixed allow-rest
  ids, and any rule named ``govsec.banned_software: ...`` with a version-5 id (a rule of an entry that
  is no longer blocked: removed). Every other rule, collection, extension and attribute is kept as read.
* Per rule collection (Exe, Appx) that we touch: when neither the local nor the effective policy has a
  rule of its own there, the collection is ours: our deny rules, the allow-rest rule (AppLocker is an
  allow list) and ``applocker_enforcement``. Otherwise only the deny rules are added: the mode stays,
  except NotConfigured, which becomes AuditOnly (never Enabled: that would enforce the organisation's
  own rules, which it never enforced). Unblock removes our rules only; a collection left empty by that
  goes back to NotConfigured.
* The local policy is read with ``Get-AppLockerPolicy -Local -Xml`` and replaced by the merged XML only
  while its sha256 is still the one the scan saw (the executor re-reads and refuses otherwise).
* XML from the host: at most ``MAX_POLICY_CHARS``, no DTD, entity, comment or CDATA (anything ``<!``),
  root ``AppLockerPolicy`` without a namespace, no duplicate collection; otherwise ``unavailable``.
* AppX: a provisioned package is deprovisioned when its family name (from ``PackageName``) equals a
  blocked family name (case-insensitively; never a prefix or pattern). Deprovisioning is not undone by
  unblock (the package must be provisioned again from its source): unblock reports ``not_supported``.
"""

import hashlib
import re
import xml.etree.ElementTree as ET

from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.rules import (
    APPLOCKER_MODES, ENFORCEMENT_MODES, allow_rest_rule, applocker_policy_xml, applocker_rules, blocked_names,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.windows import APPX_FULL_RE

MAX_POLICY_CHARS = 4 * 1024 * 1024
COLLECTIONS = ("Exe", "Appx")
RULE_TAGS = ("FilePathRule", "FilePublisherRule", "FileHashRule")
OUR_NAME_PREFIX = "govsec.banned_software: "
NOT_CONFIGURED = "NotConfigured"
ENFORCING_EDITION_RE = re.compile(r"(?i)^(Enterprise|Education|IoTEnterprise|Server)")
UUID5_RE = re.compile(r"(?i)^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\Z")
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
# The entries named in the Description rules.py writes ("Banned software (catalog entries a, b; ...").
DESCRIPTION_ENTRIES_RE = re.compile(r"^Banned software \(catalog entries ([^;()]+);")
APPLOCKER_TARGET = "local AppLocker policy"
APPX_TARGET = "provisioned"
ALLOW_REST_IDS = frozenset(allow_rest_rule(c)["id"] for c in COLLECTIONS)
NOT_REVERSIBLE = ("deprovisioning is not undone by unblock: provision the package again from its source "
                  "(Add-AppxProvisionedPackage) if it is wanted")


class PolicyXmlError(ValueError):
    """An AppLocker policy read from the host cannot be used; the message says why."""


# --- XML --------------------------------------------------------------------------------------------

def parse_policy(text, what):
    """The ``<AppLockerPolicy>`` root of ``text`` (a new empty one for empty text)."""
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise PolicyXmlError("%s is not text" % what)
    if len(text) > MAX_POLICY_CHARS:
        raise PolicyXmlError("%s has %d characters, more than %d" % (what, len(text), MAX_POLICY_CHARS))
    text = text.lstrip(u"\ufeff").strip()
    if not text:
        return ET.Element("AppLockerPolicy", {"Version": "1"})
    if "<!" in text:
        raise PolicyXmlError("%s holds a DTD, entity, comment or CDATA section (refused)" % what)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise PolicyXmlError("%s is not well-formed XML: %s" % (what, exc))
    if root.tag != "AppLockerPolicy":
        raise PolicyXmlError("%s: the root element is %r, not AppLockerPolicy" % (what, root.tag))
    types = [c.get("Type") for c in root.findall("RuleCollection")]
    if len(types) != len(set(types)):
        raise PolicyXmlError("%s lists a rule collection twice" % what)
    return root


def _collection(root, ctype):
    for element in root.findall("RuleCollection"):
        if element.get("Type") == ctype:
            return element
    return None


def _rules_of(collection):
    return [] if collection is None else [c for c in collection if c.tag in RULE_TAGS]


def _canon(element):
    """Comparable form of a rule element: tag, attributes (case-insensitive values), children."""
    return (element.tag, tuple(sorted((k, (v or "").casefold()) for k, v in element.attrib.items())),
            tuple(_canon(c) for c in element))


def _strip(element):
    for node in element.iter():
        node.text = node.text.strip() or None if node.text else None
        node.tail = None
    return element


def _label(element):
    """What a rule element matches, for the report."""
    if (element.get("Id") or "").casefold() in ALLOW_REST_IDS:
        return "allow everything not denied (%s)" % element.get("Id").casefold()
    path = element.find("Conditions/FilePathCondition")
    if path is not None:
        return path.get("Path")
    pub = element.find("Conditions/FilePublisherCondition")
    if pub is not None:
        return "%s / %s" % (pub.get("PublisherName"), pub.get("ProductName"))
    return element.get("Name") or element.get("Id")


def _rule_label(rule):
    """What a generated rule matches, for the report (the same text as ``_label`` of its element)."""
    cond = rule["conditions"]
    return cond["path"] if "path" in cond else "%s / %s" % (cond["publisher"], cond["product"])


def _generated(rules, ctype, enforcement, allow_rest):
    """Rule elements of ``rules`` in ``ctype`` (plus the allow-rest rule), built by rules.py."""
    mine = [r for r in rules if r["collection"] == ctype]
    root = ET.fromstring(applocker_policy_xml(mine, enforcement, allow_rest))
    return [_strip(e) for e in _rules_of(_collection(root, ctype))]


def _insert_collection(root, ctype, mode):
    """A new RuleCollection, placed so that the collections stay in Windows' (alphabetical) order."""
    element = ET.Element("RuleCollection", {"Type": ctype, "EnforcementMode": mode})
    children = list(root)
    index = len(children)
    for i, child in enumerate(children):
        if child.tag == "RuleCollection" and (child.get("Type") or "") > ctype:
            index = i
            break
    root.insert(index, element)
    return element


# --- merge --------------------------------------------------------------------------------------------

def merge_policy(local, effective, rules, mode, enforcement):
    """Merge our ``rules`` into the parsed ``local`` policy (changed in place).

    ``effective``: the parsed effective policy (present mode) or None. Returns a list with one
    summary per collection touched: {collection, changed, added, removed, kept, allow_rest,
    old_mode, new_mode, note}.
    """
    known = set(r["id"].casefold() for r in rules) | ALLOW_REST_IDS

    def ours(element):
        rid = (element.get("Id") or "").casefold()
        return rid in known or ((element.get("Name") or "").startswith(OUR_NAME_PREFIX) and bool(UUID5_RE.match(rid)))

    summaries = []
    for ctype in COLLECTIONS:
        wanted = [r for r in rules if r["collection"] == ctype] if mode == "present" else []
        coll = _collection(local, ctype)
        present = _rules_of(coll)
        mine = [e for e in present if ours(e)]
        foreign = [e for e in present if not ours(e)]
        if not wanted and not mine:
            continue
        foreign_eff = [e for e in _rules_of(_collection(effective, ctype)) if not ours(e)] \
            if effective is not None else []
        old_mode = coll.get("EnforcementMode", NOT_CONFIGURED) if coll is not None else NOT_CONFIGURED
        new_mode, note, allow = old_mode, None, False
        if wanted:
            allow = not foreign and not foreign_eff
            if allow:
                new_mode = enforcement
            elif old_mode == NOT_CONFIGURED:
                new_mode = "AuditOnly"
                note = ("the collection holds rules of the organisation and was NotConfigured: AuditOnly, "
                        "never Enabled, so that those rules are not enforced by this collection")
        elif not foreign and old_mode != NOT_CONFIGURED:
            new_mode = NOT_CONFIGURED
        desired = _generated(rules, ctype, enforcement, allow) if wanted else []
        old_set = sorted(_canon(e) for e in mine)
        new_set = sorted(_canon(e) for e in desired)
        changed = old_set != new_set or new_mode != old_mode or (coll is None and bool(desired))
        old_ids = set(e.get("Id", "").casefold() for e in mine)
        new_ids = set(e.get("Id", "").casefold() for e in desired)
        summaries.append({"collection": ctype, "changed": changed,
                          "added": sorted(_label(e) for e in desired if e.get("Id").casefold() not in old_ids),
                          "removed": sorted(_label(e) for e in mine if e.get("Id", "").casefold() not in new_ids),
                          "removed_entries": sorted(set(
                              name.strip() for e in mine if e.get("Id", "").casefold() not in new_ids
                              for match in [DESCRIPTION_ENTRIES_RE.match(e.get("Description") or "")] if match
                              for name in match.group(1).split(","))),
                          "kept": len(foreign), "allow_rest": allow, "old_mode": old_mode,
                          "new_mode": new_mode, "note": note})
        if not changed:
            continue
        if coll is None:
            coll = _insert_collection(local, ctype, new_mode)
        for element in mine:
            coll.remove(element)
        coll.set("EnforcementMode", new_mode)
        children = list(coll)
        index = max([i + 1 for i, c in enumerate(children) if c.tag in RULE_TAGS] or [0])
        for offset, element in enumerate(desired):
            coll.insert(index + offset, element)
    return summaries


def _describe(summary):
    parts = []
    if summary["added"]:
        parts.append("%d rules to add" % len(summary["added"]))
    if summary["removed"]:
        parts.append("%d rules to remove" % len(summary["removed"]))
    if not parts:
        parts.append("rules in place")
    if summary["allow_rest"]:
        parts.append("allow-everything rule for the rest (no other rules in the collection)")
    elif summary["kept"]:
        parts.append("%d rules of the organisation kept" % summary["kept"])
    if summary["new_mode"] != summary["old_mode"]:
        parts.append("enforcement %s (was %s)" % (summary["new_mode"], summary["old_mode"]))
    else:
        parts.append("enforcement %s" % summary["new_mode"])
    if summary["note"]:
        parts.append(summary["note"])
    return "%s: %s" % (summary["collection"], "; ".join(parts))


# --- availability --------------------------------------------------------------------------------------

def applocker_missing(state, mode, all_editions=False):
    """(what is missing, warnings) for AppLocker on this host; missing empty = rules can be written."""
    missing, warnings = [], []
    if state.get("error"):
        return [state["error"]], warnings
    if not state.get("applocker_cmdlets"):
        missing.append("the AppLocker cmdlets (Get-/Set-AppLockerPolicy) are not available")
    if mode != "present":
        return missing, warnings
    edition = state.get("edition") if isinstance(state.get("edition"), dict) else None
    if edition is None:
        missing.append("the Windows edition is unknown (%s)" % (state.get("edition_error") or "not collected"))
    elif not all_editions and not (ENFORCING_EDITION_RE.match(str(edition.get("edition_id") or ""))
                                   or str(edition.get("installation_type") or "").startswith("Server")):
        missing.append("edition %s (%s) does not enforce AppLocker rules: Enterprise, Education or Server needed "
                       "(applocker_all_editions: true for Windows 10 2004+ / 11 with KB 5024351)"
                       % (edition.get("edition_id") or "?", edition.get("product_name") or "?"))
    service = state.get("appidsvc")
    if state.get("appidsvc_error"):
        missing.append("the Application Identity service (AppIDSvc) cannot be read: %s" % state["appidsvc_error"])
    elif not isinstance(service, dict):
        missing.append("the Application Identity service (AppIDSvc) does not exist")
    else:
        running = service.get("status") == "Running"
        automatic = service.get("start_type") == "Automatic"
        if not running and not automatic:
            missing.append("the Application Identity service (AppIDSvc) is %s with start type %s: AppLocker rules "
                           "are not applied (sc.exe config AppIDSvc start= auto, then start it)"
                           % (service.get("status"), service.get("start_type")))
        elif not automatic:
            warnings.append("AppIDSvc runs but starts %s: after a reboot the rules apply only once it is started"
                            % service.get("start_type"))
    return missing, warnings


def _policy_sha256(state):
    digest = state.get("applocker_local_sha256")
    if isinstance(digest, str) and SHA256_RE.match(digest.lower()):
        return digest.lower()
    text = state.get("applocker_local_xml") or ""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- planning -----------------------------------------------------------------------------------------

def _options(options):
    options = options or {}
    enforcement = options.get("applocker_enforcement") or "AuditOnly"
    if enforcement not in ENFORCEMENT_MODES:
        raise ValueError("banned_software_applocker_enforcement must be one of %s, got %r"
                         % (", ".join(ENFORCEMENT_MODES), enforcement))
    rule_mode = options.get("applocker_mode") or "all"
    if rule_mode not in APPLOCKER_MODES:
        raise ValueError("banned_software_applocker_mode must be one of %s, got %r"
                         % (", ".join(APPLOCKER_MODES), rule_mode))
    all_editions = options.get("applocker_all_editions", False)
    if not isinstance(all_editions, bool):
        raise ValueError("banned_software_applocker_all_editions must be true or false, got %r" % (all_editions,))
    return enforcement, rule_mode, options.get("appx_publishers") or {}, all_editions


def _applocker(entries, state, mode, options, steps):
    enforcement, rule_mode, publishers, all_editions = _options(options)
    generated = applocker_rules(entries, rule_mode, publishers)
    rules = generated["rules"]
    item = {"mechanism": "applocker", "target": APPLOCKER_TARGET,
            "names": sorted(set(_rule_label(r) for r in rules)),
            "entries": sorted(set(e for r in rules for e in r["entries"])), "steps": []}
    missing, warnings = applocker_missing(state, mode, all_editions)
    if missing:
        if not rules:
            return None, generated["not_blockable"], []
        item.update(state="unavailable", detail="not written: " + "; ".join(missing))
        return item, generated["not_blockable"], []
    try:
        local = parse_policy(state.get("applocker_local_xml"), "the local AppLocker policy")
        if state.get("applocker_local_error"):
            raise PolicyXmlError("the local AppLocker policy cannot be read: %s" % state["applocker_local_error"])
        effective = None
        if mode == "present":
            if state.get("applocker_effective_error"):
                raise PolicyXmlError("the effective AppLocker policy cannot be read: %s"
                                     % state["applocker_effective_error"])
            effective = parse_policy(state.get("applocker_effective_xml"), "the effective AppLocker policy")
    except PolicyXmlError as exc:
        item.update(state="unavailable", detail="not written: %s" % exc)
        return item, generated["not_blockable"], []
    summaries = merge_policy(local, effective, rules, mode, enforcement)
    if not summaries:
        item.update(state="unchanged", detail="no rule of govsec.banned_software in the local policy")
        return (item if rules else None), generated["not_blockable"], []
    changed = any(s["changed"] for s in summaries)
    if mode == "absent":
        item["names"] = sorted(set(label for s in summaries for label in s["removed"]))
        item["entries"] = sorted(set(e for s in summaries for e in s["removed_entries"]))
    detail = "; ".join([_describe(s) for s in summaries] + warnings)
    diff = []
    if changed:
        merged = ET.tostring(local, encoding="unicode")
        steps.append({"kind": "applocker_policy", "action": "set_applocker_policy",
                      "xml": merged, "expect_sha256": _policy_sha256(state)})
        item["steps"] = [len(steps) - 1]
        item["state"] = "would_apply" if mode == "present" else "would_remove"
        diff.append({"before_header": "%s (Get-AppLockerPolicy -Local)" % APPLOCKER_TARGET,
                     "after_header": "%s (merged)" % APPLOCKER_TARGET,
                     "before": _readable(state.get("applocker_local_xml")), "after": _readable(merged)})
    else:
        item["state"] = "unchanged"
    item["detail"] = detail
    return item, generated["not_blockable"], diff


def _readable(text):
    """An indented copy of a policy, for --diff (one element per line)."""
    root = _strip(parse_policy(text, "policy"))
    if hasattr(ET, "indent"):
        ET.indent(root)
    return ET.tostring(root, encoding="unicode") + "\n"


def provisioned_family(package):
    """The package family name of a provisioned package record, or None when it is not consistent."""
    if not isinstance(package, dict) or not isinstance(package.get("package_name"), str):
        return None
    match = APPX_FULL_RE.match(package["package_name"])
    if match is None:
        return None
    publisher_id = package.get("publisher_id")
    if publisher_id and str(publisher_id).lower() != match.group("publisher"):
        return None
    return "%s_%s" % (match.group("name"), match.group("publisher"))


def _appx(entries, state, mode, steps):
    families = {}
    for eid, kinds in blocked_names(entries, "windows")["by_entry"].items():
        for family in kinds.get("appx", []):
            families.setdefault(family, set()).add(eid)
    provisioned = state.get("appx_provisioned")
    error = state.get("appx_provisioned_error")
    if not error and not isinstance(provisioned, list):
        error = "not collected"
    if mode != "present":
        # Nothing to undo and nothing recorded: one item says so (the entries are unknown to an unblock).
        return [{"mechanism": "appx_deprovision", "target": APPX_TARGET,
                 "names": sorted(families, key=lambda f: (f.casefold(), f)),
                 "entries": sorted(set(e for f in families for e in families[f])), "steps": [],
                 "state": "not_supported", "detail": NOT_REVERSIBLE}]
    items = []
    for family in sorted(families, key=lambda f: (f.casefold(), f)):
        # One item per family, the family as target: the verification judges each on its own.
        item = {"mechanism": "appx_deprovision", "target": "%s:%s" % (APPX_TARGET, family), "names": [family],
                "entries": sorted(families[family]), "steps": []}
        items.append(item)
        if error:
            item.update(state="unavailable", detail="provisioned packages cannot be read: %s" % error)
            continue
        packages = sorted(set(p["package_name"] for p in provisioned
                              if (provisioned_family(p) or "").casefold() == family.casefold()))
        for name in packages:
            steps.append({"kind": "appx_deprovision", "action": "deprovision_appx", "name": name})
            item["steps"].append(len(steps) - 1)
        if packages:
            item.update(state="would_apply", detail="provisioned as %s; deprovisioned so that new profiles do not "
                                                    "get it (%s)" % (", ".join(packages), NOT_REVERSIBLE))
        else:
            item.update(state="unchanged", detail="not provisioned")
    return items


def plan_windows_blocks(entries, state, mode, options):
    """Steps and report items of the Windows reinstall blocks (see the module docstring)."""
    if mode not in ("present", "absent"):
        raise ValueError("block mode must be present or absent, got %r" % (mode,))
    state = state if isinstance(state, dict) else {}
    if not state:
        reason = "the collector returned no block state (win_collect without block_state)"
        state = {"error": reason, "appx_provisioned_error": reason}
    steps = []
    items = []
    applocker, refused, diff = _applocker(entries, state, mode, options, steps)
    if applocker is not None:
        items.append(applocker)
    items.extend(_appx(entries, state, mode, steps))
    return {"steps": steps, "items": items, "not_blockable": refused, "diff": diff}
