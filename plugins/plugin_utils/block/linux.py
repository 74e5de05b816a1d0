# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the Linux part of "keep it gone" (reinstall blocks, docs/blocking.md): APT pins, dnf excludes, zypper
locks, flatpak masks.

    part = plan_linux_blocks(entries, state, mode, options)   # {"steps", "items", "diff"}

Pure; ``plugin_utils/block/planner.py`` dispatches here, gives the steps their ids and judges the items afterwards.
``state`` is the collector's ``block_state`` (``module_utils/_collect/block_state_linux.py``); ``options["header"]`` is
``{"catalog_version", "policies"}`` for the comment at the top of the files we own.

Per mechanism (docs/blocking.md):

* ``apt_preferences`` (when apt is present): the whole file ``APT_PREFERENCES_PATH`` is ours, one
  ``Pin-Priority: -1`` stanza per banned dpkg name; no banned name, no file.
* ``dnf_excludepkgs``: dnf 4 (``dnf`` is dnf 4): our marker-delimited block in ``DNF_CONF_PATH``
  (``plugin_utils/block/dnf_conf.py``), carrying the administrator's own ``excludepkgs`` value; dnf 5 installed: the
  drop-in ``DNF_DROPIN_PATH`` with the same value; yum without dnf: ``not_supported``.
* ``zypper_lock`` (when zypper is present): ``zypper addlock`` for each banned rpm name that has no
  package lock yet (an administrator's lock of that name is left alone and never recorded as ours).
* ``flatpak_mask``: ``flatpak mask`` in the system installation and in each user's installation (as
  that user), flatpak >= 1.6 (else ``not_supported``); ids already masked are left alone.
* What we added with commands is recorded in ``STATE_PATH`` BEFORE the commands run (the command steps
  require that write), and the record is cut down AFTER removals succeeded; unblock (``absent``)
  removes exactly the recorded locks and masks that are still there, then the record itself.

Files are written with ``write_file`` only while they still have the content the scan saw
(``expect_sha256``; None = must not exist); a file the scan could not read safely (a symbolic link,
too large, not UTF-8, broken markers) makes its item ``failed`` and gets no step.
"""

import hashlib
import json
import re

from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import (
    APT_PREFERENCES_PATH, DNF_CONF_PATH, DNF_DROPIN_PATH, STATE_PATH,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.rules import (
    EXCLUDE_TOKEN_RE, apt_preferences, blocked_names, dnf_exclude_value, dnf_excludes,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.dnf_conf import BEGIN as DNF_BEGIN
from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.dnf_conf import END as DNF_END
from ansible_collections.govsec.banned_software.plugins.plugin_utils.block.dnf_conf import (
    DnfConfError, main_excludes, split_block, with_block,
)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.protect import (
    USER_NAME_RE, normalise_path)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.protect import FLATPAK_ID_RE, RPM_NAME_RE

STATE_SCHEMA = 1
FILE_MODE = "0644"
STATE_MODE = "0600"
FLATPAK_MASK_MIN = (1, 6)
FLATPAK_NOT_MASKED = ["No current masked pattern matching"]
_VERSION = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")
_APT_PACKAGE = re.compile(r"^Package:[ \t]*(\S+)[ \t]*$", re.M)
_EXCLUDE_LINE = re.compile(r"^[ \t]*excludepkgs[ \t]*=(.*)$", re.M)


def _apt_pinned(content):
    """The package names our APT preferences file pins (for the report of a removal)."""
    return sorted(set(_APT_PACKAGE.findall(content))) if isinstance(content, str) else []


def _block_excludes(text, keep):
    """The names our dnf.conf block excludes beyond the administrator's own (for the report of a removal)."""
    if not isinstance(text, str):
        return []
    names, inside = set(), False
    for line in text.splitlines():
        if line.strip().startswith(DNF_BEGIN):
            inside = True
        elif line.strip() == DNF_END:
            inside = False
        elif inside:
            for value in _EXCLUDE_LINE.findall(line):
                names.update(v for v in re.split(r"[\s,]+", value) if v)
    return sorted(names - set(keep))


def _sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _record_text(record):
    return json.dumps(record, indent=2, sort_keys=True) + "\n"


def _empty_record():
    return {"schema": STATE_SCHEMA, "zypper_locks": [], "flatpak_masks": {}}


def parse_record(text):
    """The state file's record ``{"schema", "zypper_locks", "flatpak_masks"}``; ValueError when malformed."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("schema") != STATE_SCHEMA:
        raise ValueError("not a schema %d record" % STATE_SCHEMA)
    locks = data.get("zypper_locks", [])
    masks = data.get("flatpak_masks", {})
    if not (isinstance(locks, list) and all(isinstance(n, str) and RPM_NAME_RE.match(n) for n in locks)):
        raise ValueError("zypper_locks must be a list of rpm names")
    if not (isinstance(masks, dict) and all(
            isinstance(k, str) and isinstance(v, list) and all(isinstance(i, str) and FLATPAK_ID_RE.match(i) for i in v)
            for k, v in masks.items())):
        raise ValueError("flatpak_masks must map installation scopes to lists of flatpak ids")
    return {"schema": STATE_SCHEMA, "zypper_locks": sorted(set(locks)),
            "flatpak_masks": dict((k, sorted(set(v))) for k, v in masks.items())}


def flatpak_version(text):
    """``(major, minor, micro)`` of ``Flatpak 1.14.10`` style text, or None."""
    match = _VERSION.search(text or "")
    if not match:
        return None
    return tuple(int(g or 0) for g in match.groups())


def _run_as(user):
    """A valid ``run_as`` from the state's user of an installation, or None."""
    if not isinstance(user, dict):
        return None
    name, uid, gid, home = user.get("user"), user.get("uid"), user.get("gid"), user.get("home")
    if not (isinstance(name, str) and USER_NAME_RE.match(name) and not name.endswith("$")):
        return None
    if any(isinstance(v, bool) or not isinstance(v, int) for v in (uid, gid)) or uid <= 0 or gid < 0:
        return None
    if normalise_path(home) is None:
        return None
    return {"user": name, "uid": uid, "gid": gid, "home": normalise_path(home)}


class _LinuxBlocks:

    def __init__(self, entries, state, mode, options):
        self.state = state or {}
        self.mode = mode
        self.header = options.get("header") or {"catalog_version": "unversioned", "policies": []}
        found = blocked_names(entries, "linux") if mode == "present" else {"names": {}, "by_entry": {}}
        self.names = found["names"]
        self.by_entry = found["by_entry"]
        self.files = self.state.get("files") if isinstance(self.state.get("files"), dict) else {}
        self.steps = []
        self.items = []
        self.diff = []

    # -- helpers -------------------------------------------------------------------------------
    def wanted(self, kind):
        return list(self.names.get(kind) or [])

    def entries_for(self, kind, names=None):
        names = set(self.wanted(kind) if names is None else names)
        return sorted(e for e, kinds in self.by_entry.items() if names.intersection(kinds.get(kind) or []))

    def item(self, mechanism, target, kind, names=None, state="unchanged", detail=""):
        names = sorted(self.wanted(kind) if names is None else names)
        item = {"mechanism": mechanism, "target": target, "names": names,
                "entries": self.entries_for(kind, names), "state": state, "detail": detail, "steps": []}
        self.items.append(item)
        return item

    def add_step(self, step, items):
        self.steps.append(step)
        for item in items:
            item["steps"].append(len(self.steps) - 1)
        return len(self.steps) - 1

    def file_info(self, path):
        info = self.files.get(path)
        return info if isinstance(info, dict) else {"exists": False}

    def file_change(self, item, path, desired, mode=FILE_MODE, action=None):
        """Plan ``path`` to have ``desired`` (None: not exist); set the item's state from it."""
        info = self.file_info(path)
        if info.get("error"):
            item.update(state="failed", detail="%s: %s; nothing was changed" % (path, info["error"]))
            return None
        exists = bool(info.get("exists"))
        current = info.get("content") if exists else None
        if exists and not isinstance(current, str):
            item.update(state="failed", detail="%s: content unknown; nothing was changed" % path)
            return None
        if desired == current:
            return None
        if desired is None:
            step = {"kind": "remove_file", "action": action or "remove_block_file", "path": path,
                    "expect_sha256": info.get("sha256")}
            verb = "would_remove"
        else:
            step = {"kind": "write_file", "action": action or "write_block_file", "path": path, "content": desired,
                    "mode": mode, "expect_sha256": info.get("sha256") if exists else None}
            verb = "would_apply"
        if item is not None:
            item["state"] = verb
        self.diff.append({"before_header": path if exists else "%s (absent)" % path,
                          "after_header": path if desired is not None else "%s (removed)" % path,
                          "before": current or "", "after": desired or ""})
        return self.add_step(step, [item] if item is not None else [])

    # -- apt -------------------------------------------------------------------------------------
    def apt(self):
        info = self.file_info(APT_PREFERENCES_PATH)
        present = bool((self.state.get("apt") or {}).get("present"))
        want = self.wanted("dpkg") if present else []
        if self.mode == "present" and not present:
            return
        if not want and not info.get("exists") and not info.get("error"):
            return
        desired = apt_preferences(want, self.header) if want else None
        # A removal names what it unpins (the Package: lines of our file), so the report says it.
        item = self.item("apt_preferences", APT_PREFERENCES_PATH, "dpkg",
                         want or _apt_pinned(info.get("content") if info.get("exists") else None))
        self.file_change(item, APT_PREFERENCES_PATH, desired, action="apt_preferences")
        if item["state"] == "unchanged":
            item["detail"] = "Pin-Priority -1 for %d package(s) in place" % len(want)
        elif item["state"] == "would_apply":
            item["detail"] = "Pin-Priority -1 for %d package(s)" % len(want)
        elif item["state"] == "would_remove":
            item["detail"] = ("unblock: the file of this collection is removed" if self.mode == "absent"
                              else "no banned dpkg name to pin: the file of this collection is removed")

    # -- dnf -------------------------------------------------------------------------------------
    def _admin_excludes(self, text):
        has_main, keep = main_excludes(text)
        bad = [v for v in keep if not EXCLUDE_TOKEN_RE.match(v)]
        if bad:
            raise DnfConfError("the administrator's excludepkgs value %r cannot be carried over" % bad[0])
        return has_main, keep

    def dnf(self):
        dnf = self.state.get("dnf") or {}
        family = dnf.get("family")
        want = self.wanted("rpm")
        conf = self.file_info(DNF_CONF_PATH)
        if family == "yum" and self.mode == "present" and want:
            self.item("dnf_excludepkgs", "/etc/yum.conf", "rpm", want, "not_supported",
                      "yum without dnf: excludes are not managed on this host (yum.conf is not edited)")
        keep, stripped, failure, had = [], None, None, False
        if conf.get("error"):
            failure = "%s: %s; nothing was changed" % (DNF_CONF_PATH, conf["error"])
        elif conf.get("exists") and not isinstance(conf.get("content"), str):
            failure = "%s: content unknown; nothing was changed" % DNF_CONF_PATH
        else:
            try:
                stripped, had = split_block(conf.get("content") if conf.get("exists") else "")
                dummy, keep = self._admin_excludes(stripped)
            except DnfConfError as exc:
                failure = "%s: %s; nothing was changed" % (DNF_CONF_PATH, exc)
        if family == "dnf4" or had:
            self._dnf4(conf, want if family == "dnf4" else [], stripped, keep, failure)
        self._dnf5(want if dnf.get("dnf5") else [], keep, failure)

    def _dnf4(self, conf, want, stripped, keep, failure):
        want = want if self.mode == "present" else []
        if failure:
            if want or self.mode == "absent":
                self.item("dnf_excludepkgs", DNF_CONF_PATH, "rpm", want, "failed", failure)
            return
        text = conf.get("content") if conf.get("exists") else None
        if want:
            desired = with_block(stripped, dnf_exclude_value(want, keep))
        elif text is None or stripped == text:
            return    # nothing wanted and no block of ours
        else:
            desired = stripped if stripped.strip() else None   # None: the file held nothing but our block
        item = self.item("dnf_excludepkgs", DNF_CONF_PATH, "rpm",
                         want or _block_excludes(text, keep))
        self.file_change(item, DNF_CONF_PATH, desired, action="dnf_conf_excludepkgs")
        kept = "; the administrator's own excludepkgs kept first: %s" % ",".join(keep) if keep else ""
        if not want and item["state"] == "would_apply":
            item["state"] = "would_remove"
        if item["state"] == "unchanged":
            item["detail"] = "excludepkgs block in place for %d package(s)%s" % (len(want), kept)
        elif item["state"] == "would_apply":
            item["detail"] = "excludepkgs block at the end of [main] for %d package(s)%s" % (len(want), kept)
        elif item["state"] == "would_remove":
            item["detail"] = "our excludepkgs block is removed; the rest of the file stays as it is"

    def _dnf5(self, want, keep, failure):
        info = self.file_info(DNF_DROPIN_PATH)
        if self.mode == "absent":
            want = []
        if not want and not info.get("exists") and not info.get("error"):
            return
        if want and failure:
            self.item("dnf_excludepkgs", DNF_DROPIN_PATH, "rpm", want, "failed",
                      "%s (its excludepkgs value is needed for the dnf 5 drop-in)" % failure)
            return
        desired = dnf_excludes(want, self.header, keep) if want else None
        item = self.item("dnf_excludepkgs", DNF_DROPIN_PATH, "rpm", want)
        self.file_change(item, DNF_DROPIN_PATH, desired, action="dnf5_dropin")
        if item["state"] in ("unchanged", "would_apply"):
            item["detail"] = "dnf 5 drop-in excludepkgs for %d package(s) (not verified on a dnf 5 host)" % len(want)
        elif item["state"] == "would_remove":
            item["detail"] = "the dnf 5 drop-in of this collection is removed"

    # -- commands recorded in the state file -----------------------------------------------------
    def record(self):
        """The current record, or (None, reason) when the state file cannot be trusted."""
        info = self.file_info(STATE_PATH)
        if info.get("error"):
            return None, "%s: %s" % (STATE_PATH, info["error"])
        if not info.get("exists"):
            return _empty_record(), None
        try:
            return parse_record(info.get("content") or ""), None
        except ValueError as exc:
            return None, "%s is not a record of this collection (%s); fix or remove it by hand" % (STATE_PATH, exc)

    def commands(self):
        record, problem = self.record()
        adds, removes = [], []          # (argv, extra, items)
        pre = _empty_record() if record is None else json.loads(json.dumps(record))
        post = json.loads(json.dumps(pre))
        self._zypper(record, problem, pre, post, adds, removes)
        self._flatpak(record, problem, pre, post, adds, removes)
        if record is None:
            return
        info = self.file_info(STATE_PATH)
        current_sha = info.get("sha256") if info.get("exists") else None
        pre_index = None
        if adds and pre != record:
            items = [i for dummy, dummy2, its in adds for i in its]
            pre_index = self._state_write(pre, current_sha, items, [])
            current_sha = _sha(_record_text(pre))
        add_indexes = []
        for argv, extra, items in adds:
            step = dict(extra, kind="command", argv=argv, timeout=300, ok_rc=[0])
            if pre_index is not None:
                step["requires"] = [pre_index]
            add_indexes.append(self.add_step(step, items))
        remove_indexes = [self.add_step(dict(extra, kind="command", argv=argv, timeout=300, ok_rc=[0]), items)
                          for argv, extra, items in removes]
        if post != pre:
            items = [i for dummy, dummy2, its in removes for i in its]
            self._state_write(post, current_sha, items, remove_indexes)

    def _state_write(self, record, expect, items, requires):
        empty = not record["zypper_locks"] and not any(record["flatpak_masks"].values())
        before = self.file_info(STATE_PATH).get("content") if self.file_info(STATE_PATH).get("exists") else None
        if empty:
            step = {"kind": "remove_file", "action": "block_state_file", "path": STATE_PATH, "expect_sha256": expect}
        else:
            step = {"kind": "write_file", "action": "block_state_file", "path": STATE_PATH,
                    "content": _record_text(record), "mode": STATE_MODE, "expect_sha256": expect}
        if requires:
            step["requires"] = list(requires)
        self.diff.append({"before_header": STATE_PATH if before is not None else "%s (absent)" % STATE_PATH,
                          "after_header": "%s (removed)" % STATE_PATH if empty else STATE_PATH,
                          "before": before or "", "after": "" if empty else _record_text(record)})
        return self.add_step(step, items)

    def _zypper(self, record, problem, pre, post, adds, removes):
        zypper = self.state.get("zypper") or {}
        want = set(self.wanted("rpm")) if self.mode == "present" else set()
        ours = set(record["zypper_locks"]) if record else set()
        if not zypper.get("present"):
            if ours and self.mode == "absent":
                self.item("zypper_lock", "system", "rpm", sorted(ours), "failed",
                          "zypper is not found on the host: the locks recorded in %s cannot be removed" % STATE_PATH)
            return
        if not want and not ours:
            return
        locks = zypper.get("locks")
        path = zypper.get("path")
        failure = problem
        if failure is None and (zypper.get("error") or not isinstance(locks, list)):
            failure = "cannot read the zypper locks: %s" % (zypper.get("error") or "unknown")
        if failure is None and not (isinstance(path, str) and path.startswith("/")):
            failure = "zypper path unknown"
        if failure:
            self.item("zypper_lock", "system", "rpm", sorted(want or ours), "failed", failure + "; nothing was changed")
            return
        present = set(locks)
        add = sorted(want - present)
        drop = sorted((ours - want) & present)
        admin = sorted((want & present) - ours)
        pre["zypper_locks"] = sorted(ours | set(add))
        post["zypper_locks"] = sorted((ours & want) | set(add))
        if not want and not drop:
            return    # our recorded locks are gone already: only the record is updated
        item = self.item("zypper_lock", "system", "rpm", sorted(want) if want else drop)
        notes = []
        if add:
            adds.append(([path, "--non-interactive", "addlock", "--"] + add, {"action": "zypper_addlock"}, [item]))
            item["state"] = "would_apply"
            notes.append("add lock(s): %s" % ", ".join(add))
        if drop:
            removes.append(([path, "--non-interactive", "removelock", "--"] + drop, {"action": "zypper_removelock"},
                            [item]))
            item["state"] = item["state"] if add else "would_remove"
            notes.append("remove our lock(s): %s" % ", ".join(drop))
        if admin:
            notes.append("locked by the administrator already (left alone): %s" % ", ".join(admin))
        if not add and not drop:
            notes.insert(0, "locks in place")
        item["detail"] = "; ".join(notes)

    def _flatpak(self, record, problem, pre, post, adds, removes):
        flatpak = self.state.get("flatpak") or {}
        want = set(self.wanted("flatpak")) if self.mode == "present" else set()
        recorded = dict(record["flatpak_masks"]) if record else {}
        installations = [i for i in flatpak.get("installations") or [] if isinstance(i, dict)
                         and isinstance(i.get("scope"), str)]
        seen = set(i["scope"] for i in installations)
        for scope in sorted(set(recorded) - seen):
            # The installation is gone (user deleted): nothing of ours is left there.
            pre["flatpak_masks"].pop(scope, None)
            post["flatpak_masks"].pop(scope, None)
        if not flatpak.get("present"):
            if self.mode == "absent" and any(recorded.get(s) for s in seen):
                self.item("flatpak_mask", "system", "flatpak", sorted(set().union(*recorded.values())), "failed",
                          "flatpak is not found on the host: the masks recorded in %s cannot be removed" % STATE_PATH)
            return
        version = flatpak_version(flatpak.get("version"))
        path = flatpak.get("path")
        for inst in sorted(installations, key=lambda i: (i["scope"] != "system", i["scope"])):
            scope = inst["scope"]
            ours = set(recorded.get(scope) or [])
            if not want and not ours:
                continue
            target = "system" if scope == "system" else scope
            names = sorted(want) if want else sorted(ours)
            failure = problem
            run_as = None
            if failure is None and (inst.get("error") or not isinstance(inst.get("masked"), list)):
                failure = "cannot read the masks of %s: %s" % (inst.get("path"), inst.get("error") or "unknown")
            if failure is None and scope != "system":
                run_as = _run_as(inst.get("user"))
                if run_as is None:
                    failure = "cannot run flatpak as %s (unknown or invalid user)" % scope
            if failure is None and not (isinstance(path, str) and path.startswith("/")):
                failure = "flatpak path unknown"
            if failure:
                self.item("flatpak_mask", target, "flatpak", names, "failed", failure + "; nothing was changed")
                continue
            if version is None or version < FLATPAK_MASK_MIN:
                shown = flatpak.get("version") or "of unknown version"
                self.item("flatpak_mask", target, "flatpak", names, "not_supported",
                          "flatpak %s has no 'flatpak mask' (needs 1.6 or later)" % shown)
                continue
            masked = set(inst["masked"])
            add = sorted(want - masked)
            drop = sorted((ours - want) & masked)
            admin = sorted((want & masked) - ours)
            pre["flatpak_masks"][scope] = sorted(ours | set(add))
            post["flatpak_masks"][scope] = sorted((ours & want) | set(add))
            for rec in (pre, post):
                if not rec["flatpak_masks"][scope]:
                    rec["flatpak_masks"].pop(scope)
            flag = "--system" if scope == "system" else "--user"
            extra = {"run_as": run_as} if run_as else {}
            if not want and not drop:
                continue    # our recorded masks are gone already: only the record is updated
            item = self.item("flatpak_mask", target, "flatpak", sorted(want) if want else drop)
            notes = []
            if add:
                adds.append(([path, "mask", flag, "--"] + add, dict(extra, action="flatpak_mask"), [item]))
                item["state"] = "would_apply"
                notes.append("mask: %s" % ", ".join(add))
            if drop:
                removes.append(([path, "mask", "--remove", flag, "--"] + drop,
                                dict(extra, action="flatpak_unmask", absent=FLATPAK_NOT_MASKED), [item]))
                item["state"] = item["state"] if add else "would_remove"
                notes.append("remove our mask(s): %s" % ", ".join(drop))
            if admin:
                notes.append("masked by the administrator already (left alone): %s" % ", ".join(admin))
            if not add and not drop:
                notes.insert(0, "masks in place")
            if want:
                notes.append("a mask stops automatic installs and updates; a manual 'flatpak install' is still "
                             "possible (flatpak-mask(1))")
            item["detail"] = "; ".join(notes)

    def build(self):
        self.apt()
        self.dnf()
        self.commands()
        return {"steps": self.steps, "items": self.items, "diff": self.diff}


def plan_linux_blocks(entries, state, mode, options):
    """Steps and items of the Linux blocks (see the module docstring)."""
    return _LinuxBlocks(entries, state, mode, options or {}).build()
