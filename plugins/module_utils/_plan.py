# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: plan the removal of a host's findings (pure; no I/O) and judge the outcomes afterwards.

    plan = plan_removal("linux", findings, collected, entries_by_id, options)
    outcomes = judge_outcomes(findings, plan, step_results, remaining_keys)

The plan is data for the executor (docs/design.md, "Remediation"): it runs the steps in order and
decides nothing. Everything read from the host (names, paths, users) is checked here before it can
reach an argv, and again on the host for paths.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.govsec.banned_software.plugins.module_utils._protect import (
    DPKG_NAME_RE, FLATPAK_ID_RE, RPM_NAME_RE, SNAP_NAME_RE, UNIT_NAME_RE, USER_NAME_RE, is_protected_package,
    normalise_path, path_protection,
)

PLAN_VERSION = 1
DATA_POLICIES = ("keep", "archive", "purge")
DEFAULTS = {
    "data_policy": None,            # override for every entry (keep | archive | purge)
    "data_policies": {},            # per entry id
    "purge_packages": False,
    "remove_leftovers": False,
    "max_removals": 25,
    "protected_packages": [],
    "step_timeout": 900,
    "run_id": "run",
}
NO_SYSTEMD = ["System has not been booted with systemd", "Failed to connect to bus",
              "Running in chroot, ignoring"]
PACKAGE_ABSENT = ["is not installed", "isn't installed"]
# Finding sources removed by moving the path to quarantine (when no package owns it).
PATH_SOURCES = ("appimage", "file", "desktop")
# The fields the executor knows per step kind (docs/design.md, "Plan"); the planner's own
# bookkeeping fields (packages, manager, entry) stay in the plan for the report only.
EXECUTOR_FIELDS = {
    "command": ("argv", "timeout", "env", "run_as", "ok_rc", "tolerate", "absent", "lock"),
    "kill": ("pids", "exe", "comm", "grace"),
    "quarantine": ("path", "type"),
    "archive": ("paths", "name"),
    "purge": ("path", "type"),
}
COMMON_FIELDS = ("id", "kind", "action", "findings", "requires")


class PlanError(ValueError):
    """The options of a plan are invalid (a variable error, reported before any host is changed)."""


def _key(finding):
    return finding["key"]


def record_index(collected):
    """Map finding keys to the collector records they came from."""
    index = {}
    records = (collected or {}).get("records") or {}
    for source, items in records.items():
        if not isinstance(items, list):
            continue
        for rec in items:
            if not isinstance(rec, dict) or not isinstance(rec.get("name"), str):
                continue
            path = rec.get("path") if isinstance(rec.get("path"), str) else ""
            index["|".join([source, str(rec.get("scope")), rec["name"], path])] = rec
    return index


def _users(collected):
    users = {}
    for user in (collected or {}).get("users") or []:
        if isinstance(user, dict) and isinstance(user.get("name"), str):
            users[user["name"]] = user
    return users


def _scope_user(scope):
    return scope[5:] if isinstance(scope, str) and scope.startswith("user:") else None


class _Planner(object):

    def __init__(self, platform, findings, collected, entries, options):
        self.platform = platform
        self.findings = findings
        self.collected = collected or {}
        self.entries = entries
        self.opts = dict(DEFAULTS)
        self.opts.update(dict((k, v) for k, v in (options or {}).items() if v is not None))
        self.records = record_index(self.collected)
        self.users = _users(self.collected)
        self.homes = sorted(set(u.get("home") for u in self.users.values() if isinstance(u.get("home"), str)))
        self.tools = self.collected.get("tools") or {}
        self.steps = []
        self.skipped = []       # {key, outcome, reason}
        self.unplanned = []     # {key, reason}: active findings no step can remove
        self.covered = {}       # finding key -> [step ids]
        self.data = []          # {entry, policy, path, scope}
        self.removals = 0

    # -- helpers ---------------------------------------------------------------------------------
    def _add(self, step, keys, removals=0):
        step = dict(step)
        step["id"] = len(self.steps) + 1
        step["findings"] = sorted(set(keys))
        self.steps.append(step)
        for key in keys:
            self.covered.setdefault(key, []).append(step["id"])
        self.removals += removals
        return step["id"]

    def _tool(self, name):
        path = self.tools.get(name)
        return path if isinstance(path, str) and path.startswith("/") else None

    def _unplanned(self, finding, reason):
        self.unplanned.append({"key": _key(finding), "reason": reason})

    def _command(self, action, argv, keys, removals=0, **extra):
        step = {"kind": "command", "action": action, "argv": argv, "timeout": self.opts["step_timeout"],
                "ok_rc": [0]}
        step.update(extra)
        return self._add(step, keys, removals)

    def _run_as(self, scope):
        name = _scope_user(scope)
        user = self.users.get(name)
        if not name or not USER_NAME_RE.match(name) or not user:
            return None
        uid, gid, home = user.get("uid"), user.get("gid"), user.get("home")
        if (not isinstance(uid, int) or not isinstance(gid, int) or isinstance(uid, bool) or isinstance(gid, bool)
                or uid == 0 or gid < 0 or normalise_path(home) is None):
            return None
        return {"user": name, "uid": uid, "gid": gid, "home": home}

    def _data_policy(self, entry_id):
        policy = self.opts["data_policy"] or self.opts["data_policies"].get(entry_id)
        if policy is None:
            entry = self.entries.get(entry_id)
            policy = entry.data_policy if entry is not None else "keep"
        return policy

    # -- selection ---------------------------------------------------------------------------------
    def select(self):
        active = []
        exempt_keys = set(_key(f) for f in self.findings if f.get("exempt"))
        # Sorted, so that the plan does not depend on the order the findings came in.
        for finding in sorted(self.findings, key=lambda f: (f["source"], f["scope"], f["name"], f.get("path") or "",
                                                            f["id"])):
            if finding.get("exempt") or _key(finding) in exempt_keys:
                reason = (finding.get("exemption") or {}).get("reason", "exempt")
                if not finding.get("exempt"):
                    reason = "the same item is exempt under another entry"
                self.skipped.append({"key": _key(finding), "outcome": "skipped_exempt", "reason": reason})
            elif finding["source"] in ("dpkg", "rpm") and is_protected_package(
                    finding["name"], self.opts["protected_packages"]):
                self.skipped.append({"key": _key(finding), "outcome": "skipped_protected",
                                     "reason": "package %s is protected and is never removed" % finding["name"]})
            else:
                active.append(finding)
        return active

    def _removable(self, active):
        """(manager, name) of the packages the package step will remove."""
        out = set()
        for source, tool, name_re in (("dpkg", "dpkg", DPKG_NAME_RE), ("rpm", "rpm", RPM_NAME_RE)):
            if self._tool(tool) is None:
                continue
            for finding in active:
                if finding["source"] == source and name_re.match(finding["name"]):
                    out.add((source, finding["name"]))
        return out

    def _owners(self, rec):
        """(manager, name) of every package owning a record's path (empty when none does)."""
        owner = rec.get("owner")
        if not isinstance(owner, str):
            return []
        names = rec.get("owners") if isinstance(rec.get("owners"), list) else [owner]
        return [(rec.get("owner_source"), n) for n in names if isinstance(n, str)]

    # -- steps -------------------------------------------------------------------------------------
    def services(self, active):
        systemctl = self._tool("systemctl")
        removable = self._removable(active)
        for finding in active:
            if finding["source"] != "service":
                continue
            rec = self.records.get(_key(finding), {})
            unit = finding["name"]
            if rec.get("type") == "sysv" or not UNIT_NAME_RE.match(unit):
                continue   # SysV scripts are stopped by their package's removal scripts
            owners = self._owners(rec)
            if owners and not all(o in removable for o in owners):
                continue   # a package that stays owns the unit: left alone (unplanned below)
            if systemctl is None:
                continue
            keys = [_key(finding)]
            self._command("stop_service", [systemctl, "stop", "--", unit], keys, tolerate=NO_SYSTEMD + ["not loaded"])
            self._command("disable_service", [systemctl, "disable", "--", unit], keys,
                          tolerate=NO_SYSTEMD + ["does not exist", "not loaded"])

    def processes(self, active):
        for finding in active:
            if finding["source"] != "process":
                continue
            rec = self.records.get(_key(finding), {})
            pids = [p for p in rec.get("pids") or [rec.get("pid")] if isinstance(p, int) and p > 1]
            if not pids:
                self._unplanned(finding, "no process id to stop")
                continue
            step = {"kind": "kill", "action": "stop_process", "pids": sorted(set(pids)), "grace": 10}
            if isinstance(rec.get("exe"), str):
                step["exe"] = rec["exe"]
            if isinstance(rec.get("comm"), str):
                step["comm"] = rec["comm"]
            self._add(step, [_key(finding)])

    def packages(self, active):
        for source, tool, name_re, lock in (("dpkg", "dpkg", DPKG_NAME_RE, "dpkg"), ("rpm", "rpm", RPM_NAME_RE, "rpm")):
            chosen = {}
            for finding in active:
                if finding["source"] != source:
                    continue
                if not name_re.match(finding["name"]):
                    self._unplanned(finding, "package name %r is not a valid %s name; not passed to a command"
                                    % (finding["name"], source))
                    continue
                chosen.setdefault(finding["name"], []).append(_key(finding))
            if not chosen:
                continue
            binary = self._tool(tool)
            if binary is None:
                for keys in chosen.values():
                    for key in keys:
                        self.unplanned.append({"key": key, "reason": "%s is not installed on the host" % tool})
                continue
            names = sorted(chosen)
            keys = [k for n in names for k in chosen[n]]
            if source == "dpkg":
                action = "purge_packages" if self.opts["purge_packages"] else "remove_packages"
                argv = [binary, "--purge" if self.opts["purge_packages"] else "--remove", "--"] + names
                env = {"DEBIAN_FRONTEND": "noninteractive"}
            else:
                action = "remove_packages"
                argv = [binary, "-e", "--"] + names
                env = {}
            # "absent" describes the whole step: with several packages, one already gone must not
            # hide that the others were removed (dpkg) or that nothing was (rpm refuses the lot).
            self._command(action, argv, keys, removals=len(names), lock=lock, env=env,
                          absent=PACKAGE_ABSENT if len(names) == 1 else [], packages=names, manager=source)

    def flatpaks(self, active):
        flatpak = self._tool("flatpak")
        for finding in active:
            if finding["source"] != "flatpak":
                continue
            app = finding["name"]
            if not FLATPAK_ID_RE.match(app):
                self._unplanned(finding, "flatpak id %r is not valid; not passed to a command" % app)
                continue
            if flatpak is None:
                self._unplanned(finding, "flatpak is not installed on the host")
                continue
            extra = {}
            if finding["scope"] == "machine":
                argv = [flatpak, "uninstall", "--system", "-y", "--noninteractive", "--", app]
            else:
                run_as = self._run_as(finding["scope"])
                if run_as is None:
                    self._unplanned(finding, "cannot run as %s (unknown or invalid user)" % finding["scope"])
                    continue
                argv = [flatpak, "uninstall", "--user", "-y", "--noninteractive", "--", app]
                extra["run_as"] = run_as
            self._command("uninstall_flatpak", argv, [_key(finding)], removals=1,
                          absent=["not installed", "No installed refs found"], **extra)

    def snaps(self, active):
        snap = self._tool("snap")
        for finding in active:
            if finding["source"] != "snap":
                continue
            name = finding["name"]
            if not SNAP_NAME_RE.match(name):
                self._unplanned(finding, "snap name %r is not valid; not passed to a command" % name)
                continue
            if snap is None:
                self._unplanned(finding, "snap is not installed on the host")
                continue
            argv = [snap, "remove"]
            if self._data_policy(finding["id"]) == "purge":
                argv.append("--purge")
            self._command("remove_snap", argv + ["--", name], [_key(finding)], removals=1,
                          absent=["is not installed"])

    def paths(self, active):
        """Quarantine files, AppImages, desktop entries and unit files that no package removal covers."""
        removed_packages = set()
        for step in self.steps:
            for name in step.get("packages") or ():
                removed_packages.add((step["manager"], name))
        targets = {}
        for finding in active:
            source = finding["source"]
            rec = self.records.get(_key(finding), {})
            if source not in PATH_SOURCES and source != "service":
                continue
            owners = self._owners(rec)
            if owners and all(o in removed_packages for o in owners):
                pkg_steps = [s["id"] for s in self.steps
                             if any(s.get("manager") == m and n in (s.get("packages") or ()) for m, n in owners)]
                for sid in pkg_steps:
                    self.covered.setdefault(_key(finding), []).append(sid)
                continue
            if owners:
                staying = [n for m, n in owners if (m, n) not in removed_packages]
                self._unplanned(finding, "owned by package %s, which is not being removed" % ", ".join(staying))
                continue
            if source == "service" and rec.get("type") == "sysv":
                self._unplanned(finding, "SysV init script not owned by a package being removed")
                continue
            path = normalise_path(finding.get("path"))
            if path is None:
                self._unplanned(finding, "no usable path")
                continue
            reason = path_protection(path, self.homes)
            if reason:
                self.skipped.append({"key": _key(finding), "outcome": "skipped_protected",
                                     "reason": "%s is %s" % (path, reason)})
                continue
            targets.setdefault(path, {"keys": [], "type": rec.get("type") or "file"})["keys"].append(_key(finding))
        self._quarantine(targets, "quarantine")

    def _quarantine(self, targets, action):
        chosen = [s["path"] for s in self.steps if s["kind"] == "quarantine"]
        for path in sorted(targets):
            parent = [p for p in chosen if path == p or path.startswith(p + "/")]
            if parent:   # inside a path already moved: covered by that step
                sid = self._step_for_path(parent[0])
                for key in targets[path]["keys"]:
                    self.covered.setdefault(key, []).append(sid)
                continue
            chosen.append(path)
            kind = targets[path]["type"]
            self._add({"kind": "quarantine", "action": action, "path": path,
                       "type": kind if kind in ("dir", "file", "link") else "file"},
                      targets[path]["keys"], removals=1)

    def _step_for_path(self, path):
        for step in self.steps:
            if step.get("path") == path:
                return step["id"]
        return None

    def _matching_records(self, source, entry, kind):
        sigs = entry.remediation_paths(self.platform, kind) if entry is not None else []
        homes = dict((n, u.get("home")) for n, u in self.users.items())
        out = []
        for rec in ((self.collected.get("records") or {}).get(source) or []):
            if isinstance(rec, dict) and any(sig.matches(rec, homes) for sig in sigs):
                out.append(rec)
        return out

    def user_data(self, active, archive_phase):
        """Archive (before removal) or purge (after) user data of the entries found on this host."""
        entry_ids = sorted(set(f["id"] for f in active))
        exempt_entries = set(f["id"] for f in self.findings if f.get("exempt"))
        for entry_id in entry_ids:
            policy = self._data_policy(entry_id)
            if policy not in DATA_POLICIES:
                raise PlanError("data policy %r for %s is not one of %s" % (policy, entry_id, ", ".join(DATA_POLICIES)))
            if entry_id in exempt_entries:
                policy = "keep"   # part of the product is exempt: its data may still be in use
            records = self._matching_records("data", self.entries.get(entry_id), "data")
            by_scope = {}
            for rec in records:
                path = normalise_path(rec.get("path"))
                if path is None:
                    continue
                by_scope.setdefault(rec.get("scope", "machine"), []).append((path, rec))
            for scope in sorted(by_scope):
                items = sorted(by_scope[scope], key=lambda item: item[0])
                user = _scope_user(scope)
                scope_policy = policy
                if scope != "machine" and not (user and USER_NAME_RE.match(user) and not user.endswith("$")):
                    scope_policy = "keep"   # no valid user name to name its archive after: kept
                if archive_phase:
                    for path, rec in items:
                        self.data.append({"entry": entry_id, "policy": scope_policy, "path": path, "scope": scope})
                    if scope_policy == "archive":
                        name = "%s-%s-%s" % (entry_id, user or "machine", self.opts["run_id"])
                        self._add({"kind": "archive", "action": "archive_data", "entry": entry_id,
                                   "paths": [p for p, dummy in items], "name": name}, [])
                    continue
                if scope_policy == "keep":
                    continue
                archive_id = None
                if scope_policy == "archive":
                    archive_id = [s["id"] for s in self.steps
                                  if s["kind"] == "archive" and s.get("entry") == entry_id and
                                  set(s["paths"]) >= set(p for p, dummy in items)]
                for path, rec in items:
                    reason = path_protection(path, self.homes)
                    if reason:
                        continue
                    step = {"kind": "purge", "action": "purge_data", "path": path, "entry": entry_id,
                            "type": rec.get("type") if rec.get("type") in ("dir", "file", "link") else "file"}
                    if archive_id:
                        step["requires"] = archive_id
                    self._add(step, [], removals=1)

    def leftovers(self, active):
        if not self.opts["remove_leftovers"]:
            return
        exempt_entries = set(f["id"] for f in self.findings if f.get("exempt"))
        kept = set()
        for entry_id in sorted(exempt_entries & set(self.entries)):
            for rec in self._matching_records("leftover", self.entries[entry_id], "leftovers"):
                kept.add(normalise_path(rec.get("path")))
        targets = {}
        for entry_id in sorted(self.entries):
            if entry_id in exempt_entries:
                continue
            for rec in self._matching_records("leftover", self.entries[entry_id], "leftovers"):
                path = normalise_path(rec.get("path"))
                if path is None or path_protection(path, self.homes):
                    continue
                if any(k and (k == path or k.startswith(path + "/") or path.startswith(k + "/")) for k in kept):
                    continue   # an exempt entry lists it too
                targets.setdefault(path, {"keys": [], "type": rec.get("type") or "dir"})
        self._quarantine(targets, "quarantine_leftover")

    # -- whole plan ----------------------------------------------------------------------------
    def build(self):
        active = self.select()
        self.services(active)
        self.processes(active)
        self.user_data(active, archive_phase=True)
        self.packages(active)
        self.flatpaks(active)
        self.snaps(active)
        self.paths(active)
        self.user_data(active, archive_phase=False)
        self.leftovers(active)
        for finding in active:
            key = _key(finding)
            if key not in self.covered and not any(u["key"] == key for u in self.unplanned):
                if finding["source"] == "service":
                    continue   # stopped above when possible; its unit goes with its package
                self._unplanned(finding, "no removal method for source %s" % finding["source"])
        plan = {"version": PLAN_VERSION, "os": self.platform, "run_id": self.opts["run_id"],
                "steps": self.steps, "skipped": self.skipped, "unplanned": self.unplanned,
                "covered": dict((k, sorted(set(v))) for k, v in self.covered.items()), "data": self.data,
                "removals": self.removals, "max_removals": self.opts["max_removals"], "tripped": None}
        if self.removals > self.opts["max_removals"]:
            plan["tripped"] = ("the plan would remove %d items, more than the maximum of %d per host; "
                               "nothing was removed (raise banned_software_max_removals after review)"
                               % (self.removals, self.opts["max_removals"]))
            plan["steps"] = []
            plan["covered"] = {}
            plan["skipped"] = self.skipped + [{"key": _key(f), "outcome": "skipped_limit", "reason": plan["tripped"]}
                                              for f in active]
            plan["unplanned"] = []
        return plan


def validate_options(options):
    """Check remediation options; raise PlanError naming the variable."""
    opts = dict(DEFAULTS)
    opts.update(dict((k, v) for k, v in (options or {}).items() if v is not None))
    if opts["data_policy"] is not None and opts["data_policy"] not in DATA_POLICIES:
        raise PlanError("banned_software_data_policy must be one of %s, got %r"
                        % (", ".join(DATA_POLICIES), opts["data_policy"]))
    if not isinstance(opts["data_policies"], dict):
        raise PlanError("banned_software_data_policies must map entry ids to keep, archive or purge")
    for entry_id, policy in opts["data_policies"].items():
        if policy not in DATA_POLICIES:
            raise PlanError("banned_software_data_policies[%s] must be one of %s, got %r"
                            % (entry_id, ", ".join(DATA_POLICIES), policy))
    if isinstance(opts["max_removals"], bool) or not isinstance(opts["max_removals"], int) or opts["max_removals"] < 0:
        raise PlanError("banned_software_max_removals must be a whole number >= 0, got %r" % (opts["max_removals"],))
    if isinstance(opts["step_timeout"], bool) or not isinstance(opts["step_timeout"], int) or opts["step_timeout"] <= 0:
        raise PlanError("banned_software_step_timeout must be a whole number of seconds > 0, got %r"
                        % (opts["step_timeout"],))
    protected = opts["protected_packages"]
    if not isinstance(protected, list) or not all(isinstance(p, str) and p for p in protected):
        raise PlanError("banned_software_protected_packages must be a list of package names or patterns")
    return opts


def executor_steps(steps):
    """The plan's steps as the executor takes them: only the fields it knows (see EXECUTOR_FIELDS)."""
    return [dict((k, v) for k, v in step.items() if k in COMMON_FIELDS + EXECUTOR_FIELDS[step["kind"]])
            for step in steps]


def plan_removal(platform, findings, collected, entries_by_id, options):
    """Return the removal plan for one host (see the module docstring)."""
    validate_options(options)
    if platform != "linux":
        raise PlanError("removal planning for %s is not available in this release" % platform)
    planner = _Planner(platform, findings, collected, entries_by_id, options)
    return planner.build()


def judge_outcomes(findings, plan, step_results, remaining_keys):
    """Set ``outcome`` (and ``outcome_detail``) on each finding; return counts per outcome.

    ``remaining_keys``: finding keys still present in the verification scan (None when no
    verification ran, e.g. in check mode: outcomes are then predictions, ``would_remove``).
    """
    results = dict((r.get("id"), r) for r in step_results or [] if isinstance(r, dict))
    skipped = dict((s["key"], s) for s in plan.get("skipped") or [])
    unplanned = dict((u["key"], u) for u in plan.get("unplanned") or [])
    covered = plan.get("covered") or {}
    counts = {}
    for finding in findings:
        key = finding["key"]
        detail = None
        if key in skipped:
            outcome, detail = skipped[key]["outcome"], skipped[key]["reason"]
        elif remaining_keys is None:
            outcome = "would_remove" if key in covered and key not in unplanned else "failed"
            if key in unplanned:
                detail = unplanned[key]["reason"]
        elif key in remaining_keys:
            outcome = "failed"
            errors = ["step %s %s: %s" % (r["id"], r.get("action", r.get("kind")), r.get("msg") or r.get("stderr") or "")
                      for r in (results.get(i) for i in covered.get(key, [])) if r and r.get("status") == "failed"]
            detail = "; ".join(errors) or (unplanned[key]["reason"] if key in unplanned else "still present after the run")
        else:
            statuses = [results.get(i, {}).get("status") for i in covered.get(key, [])]
            # already absent: some step found it gone and none changed anything for it
            outcome = "already_absent" if "absent" in statuses and "changed" not in statuses else "removed"
        finding["outcome"] = outcome
        if detail:
            finding["outcome_detail"] = detail
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
