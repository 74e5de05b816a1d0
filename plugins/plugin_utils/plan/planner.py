# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: plan the removal of a host's findings (pure; no I/O) and judge the outcomes afterwards.

    findings, warnings, records = Matcher(entries, policies).match_records("linux", collected)
    plan = plan_removal("linux", findings, collected, entries_by_id, options, records)
    outcomes = judge_outcomes(findings, plan, step_results, remaining_keys)

``records`` are the host records the findings were made of, by finding key, as the matcher kept them: what
the planner acts on (pids, owners, uninstall strings...). The plan is data for the executor (docs/design.md,
"Remediation"): it runs the steps in order and decides nothing. Everything read from the host (names, paths, users)
is checked here before it can reach an argv, and again on the host for paths.
"""

from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import (
    COMMON_FIELDS, DEFAULT_TIMEOUT, KIND_FIELDS)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.protect import (
    USER_NAME_RE, normalise_path, path_protection,
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
    "step_timeout": DEFAULT_TIMEOUT,
    "run_id": "run",
    "uninstall_secrets": {},        # names of the vaulted uninstall secrets available (values never here)
}
NO_SYSTEMD = ["System has not been booted with systemd", "Failed to connect to bus",
              "Running in chroot, ignoring"]
PACKAGE_ABSENT = ["is not installed", "isn't installed"]
# Finding sources removed by moving the path to quarantine (when no package owns it).
QUARANTINE_SOURCES = ("appimage", "file", "desktop")


class PlanError(ValueError):
    """The options of a plan are invalid (a variable error, reported before any host is changed)."""


def _key(finding):
    return finding["key"]


def _users(collected):
    users = {}
    for user in (collected or {}).get("users") or []:
        if isinstance(user, dict) and isinstance(user.get("name"), str):
            users[user["name"]] = user
    return users


def _scope_user(scope):
    return scope[5:] if isinstance(scope, str) and scope.startswith("user:") else None


class PlannerBase:
    """Shared planning: selection, data policies, leftovers, quarantine, limits. Subclasses add the
    platform's removal steps in ``removal_phases`` and may override the path helpers."""

    platform = None
    # The fields the platform's executor knows per step kind (module_utils/_execute/schema.py); the
    # planner's own bookkeeping fields (packages, manager, entry) stay in the plan for the report only.
    executor_fields = KIND_FIELDS

    def __init__(self, platform, findings, collected, entries, options, records):
        self.platform = platform
        self.findings = findings
        self.collected = collected or {}
        self.entries = entries
        self.opts = dict(DEFAULTS)
        self.opts.update(dict((k, v) for k, v in (options or {}).items() if v is not None))
        self.records = dict(records or {})   # finding key -> the record the matcher made it of
        self.users = _users(self.collected)
        self.homes = sorted(set(u.get("home") for u in self.users.values() if isinstance(u.get("home"), str)))
        self.tools = self.collected.get("tools") or {}
        self.steps = []
        self.skipped = []       # {key, outcome, reason}
        self.unplanned = []     # {key, reason}: active findings no step can remove
        self.covered = {}       # finding key -> [step ids]
        self.data = []          # {entry, policy, path, scope}
        self.removals = 0
        self.scope_of = dict((_key(f), f.get("scope") or "machine") for f in findings)
        self.step_scope = {}    # step id -> the scope its removals are counted in (circuit breaker)
        self.step_removals = {}  # step id -> items it removes

    # -- helpers ---------------------------------------------------------------------------------
    def _add(self, step, keys, removals=0, scope=None):
        """Append a step covering ``keys``; ``scope`` (default: the findings' common scope, else
        ``machine``) is where its ``removals`` count for the circuit breaker."""
        step = dict(step)
        step["id"] = len(self.steps) + 1
        step["findings"] = sorted(set(keys))
        self.steps.append(step)
        for key in keys:
            self.covered.setdefault(key, []).append(step["id"])
        if scope is None:
            scopes = set(self.scope_of.get(k, "machine") for k in keys)
            scope = scopes.pop() if len(scopes) == 1 else "machine"
        self.step_scope[step["id"]] = scope
        self.step_removals[step["id"]] = removals
        self.removals += removals
        return step["id"]

    def _unplanned(self, finding, reason):
        self.unplanned.append({"key": _key(finding), "reason": reason})

    def _command(self, action, argv, keys, removals=0, **extra):
        step = {"kind": "command", "action": action, "argv": argv, "timeout": self.opts["step_timeout"],
                "ok_rc": [0]}
        step.update(extra)
        return self._add(step, keys, removals)

    def _data_policy(self, entry_id):
        policy = self.opts["data_policy"] or self.opts["data_policies"].get(entry_id)
        if policy is None:
            entry = self.entries.get(entry_id)
            policy = entry.data_policy if entry is not None else "keep"
        return policy

    def norm_path(self, path):
        return normalise_path(path)

    def path_protection(self, path):
        return path_protection(path, self.homes)

    @staticmethod
    def path_within(path, parent):
        """True when ``path`` is ``parent`` or lies inside it (normalised paths)."""
        return path == parent or path.startswith(parent.rstrip("/") + "/")

    @staticmethod
    def path_sort_key(path):
        return path

    def user_home(self, scope):
        """The normalised home of the user of a ``user:<name>`` scope, or None."""
        user = self.users.get(_scope_user(scope)) or {}
        home = user.get("home")
        return self.norm_path(home) if isinstance(home, str) else None

    def protected_reason(self, finding):
        """Why a finding must never be removed (None when it may be)."""
        return None

    def stop_phases(self, active):
        """Add the steps that stop the product (services, processes), before user data is archived."""
        raise NotImplementedError

    def removal_phases(self, active):
        """Add the platform's removal steps (between archiving and purging user data)."""
        raise NotImplementedError

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
            elif self._report_only(finding):
                self._unplanned(finding, self._report_only(finding))
            elif self.protected_reason(finding):
                self.skipped.append({"key": _key(finding), "outcome": "skipped_protected",
                                     "reason": self.protected_reason(finding)})
            else:
                active.append(finding)
        return active

    def _report_only(self, finding):
        """Why a finding is reported and never removed (None when it may be removed)."""
        entry = self.entries.get(finding["id"])
        reason = getattr(entry, "report_only", None)
        if reason:
            return "report only (catalog entry %s): %s" % (finding["id"], reason)
        if finding["source"] == "npm":
            return ("npm global packages are reported, not removed: run 'npm uninstall -g %s' as the owner of %s "
                    "(%s)" % (finding["name"], finding.get("path") or "the package", finding["scope"]))
        return None

    # -- steps -------------------------------------------------------------------------------------
    def _quarantine(self, targets, action):
        """One quarantine step per path (``targets``: path -> {keys, type, requires}), none inside another."""
        chosen = [s["path"] for s in self.steps if s["kind"] == "quarantine"]
        for path in sorted(targets, key=self.path_sort_key):
            parent = [p for p in chosen if self.path_within(path, p)]
            if parent:   # inside a path already moved: covered by that step
                sid = self._step_for_path(parent[0])
                for key in targets[path]["keys"]:
                    self.covered.setdefault(key, []).append(sid)
                continue
            chosen.append(path)
            kind = targets[path]["type"]
            step = {"kind": "quarantine", "action": action, "path": path,
                    "type": kind if kind in ("dir", "file", "link") else "file"}
            if targets[path].get("requires"):
                step["requires"] = sorted(targets[path]["requires"])
            self._add(step, targets[path]["keys"], removals=1, scope=targets[path].get("scope"))

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
                path = self.norm_path(rec.get("path"))
                scope = rec.get("scope", "machine")
                home = self.user_home(scope) if scope != "machine" else None
                if path is None or (scope != "machine" and (home is None or not self.path_within(path, home))):
                    continue   # a user's data is only ever inside their own home
                by_scope.setdefault(scope, []).append((path, rec))
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
                                   "paths": [p for p, dummy in items], "name": name}, [], scope=scope)
                    continue
                if scope_policy == "keep":
                    continue
                archive_id = None
                if scope_policy == "archive":
                    archive_id = [s["id"] for s in self.steps
                                  if s["kind"] == "archive" and s.get("entry") == entry_id and
                                  set(s["paths"]) >= set(p for p, dummy in items)]
                for path, rec in items:
                    reason = self.path_protection(path)
                    if reason:
                        continue
                    step = {"kind": "purge", "action": "purge_data", "path": path, "entry": entry_id,
                            "type": rec.get("type") if rec.get("type") in ("dir", "file", "link") else "file"}
                    if archive_id:
                        step["requires"] = archive_id
                    self._add(step, [], removals=1, scope=scope)

    def leftovers(self, active):
        if not self.opts["remove_leftovers"]:
            return
        exempt_entries = set(f["id"] for f in self.findings if f.get("exempt"))
        kept = set()
        for entry_id in sorted(exempt_entries & set(self.entries)):
            for rec in self._matching_records("leftover", self.entries[entry_id], "leftovers"):
                kept.add(self.norm_path(rec.get("path")))
        targets = {}
        for entry_id in sorted(self.entries):
            if entry_id in exempt_entries:
                continue
            for rec in self._matching_records("leftover", self.entries[entry_id], "leftovers"):
                path = self.norm_path(rec.get("path"))
                if path is None or self.path_protection(path):
                    continue
                if any(k and (self.path_within(k, path) or self.path_within(path, k)) for k in kept):
                    continue   # an exempt entry lists it too
                targets.setdefault(path, {"keys": [], "type": rec.get("type") or "dir",
                                          "scope": rec.get("scope") if isinstance(rec.get("scope"), str) else "machine"})
        self._quarantine(targets, "quarantine_leftover")

    # -- whole plan ----------------------------------------------------------------------------
    def build(self):
        active = self.select()
        self.stop_phases(active)
        self.user_data(active, archive_phase=True)
        self.removal_phases(active)
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
                "removals": self.removals, "max_removals": self.opts["max_removals"], "tripped": None,
                "tripped_scopes": [], "removals_by_scope": self._removals_by_scope()}
        self._circuit_breaker(plan, active)
        return plan

    def _removals_by_scope(self):
        counts = {}
        for sid, count in self.step_removals.items():
            if count:
                counts[self.step_scope[sid]] = counts.get(self.step_scope[sid], 0) + count
        return counts

    def _circuit_breaker(self, plan, active):
        """Hold back every step of a scope (machine, or one user's) that would remove more items than
        ``max_removals``; the other scopes go on. A step that needs a held step is held too."""
        limit = self.opts["max_removals"]
        counts = plan["removals_by_scope"]
        tripped = sorted(scope for scope, count in counts.items() if count > limit)
        if not tripped:
            return
        messages = dict((scope, "the plan would remove %d items in scope %s, more than the maximum of %d per scope; "
                                "nothing in that scope was removed (raise banned_software_max_removals after review)"
                                % (counts[scope], scope, limit)) for scope in tripped)
        plan["tripped_scopes"] = tripped
        plan["tripped"] = "; ".join(messages[scope] for scope in tripped)
        held = set(sid for sid, scope in self.step_scope.items() if scope in tripped)
        grown = True
        while grown:
            grown = False
            for step in self.steps:
                if step["id"] not in held and any(r in held for r in step.get("requires") or ()):
                    held.add(step["id"])
                    grown = True
        renumber = {}
        steps = []
        for step in self.steps:
            if step["id"] in held:
                continue
            renumber[step["id"]] = len(steps) + 1
            step = dict(step, id=len(steps) + 1)
            if step.get("requires"):
                step["requires"] = sorted(renumber[r] for r in step["requires"])
            steps.append(step)
        covered = {}
        for key, ids in plan["covered"].items():
            kept = sorted(set(renumber[i] for i in ids if i in renumber))
            if kept:
                covered[key] = kept
        limited = [_key(f) for f in active if _key(f) not in covered and
                   (self.scope_of.get(_key(f)) in tripped or _key(f) in plan["covered"])]
        plan["steps"] = steps
        plan["covered"] = covered
        plan["skipped"] = self.skipped + [
            {"key": key, "outcome": "skipped_limit",
             "reason": messages.get(self.scope_of.get(key)) or messages.get("machine") or plan["tripped"]}
            for key in limited]
        plan["unplanned"] = [u for u in plan["unplanned"] if u["key"] not in set(limited)]


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


def executor_steps(steps, platform="linux"):
    """The plan's steps as the platform's executor takes them: only the fields it knows."""
    fields = planner_for(platform).executor_fields
    return [dict((k, v) for k, v in step.items() if k in COMMON_FIELDS + fields[step["kind"]])
            for step in steps]


def planner_for(platform):
    """The planner class of a platform (imported here: the platform planners import this module)."""
    if platform == "linux":
        from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.linux import LinuxPlanner
        return LinuxPlanner
    if platform == "windows":
        from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.windows import WindowsPlanner
        return WindowsPlanner
    if platform == "macos":
        from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.macos import MacosPlanner
        return MacosPlanner
    raise PlanError("removal planning for %s is not available in this release" % platform)


def plan_removal(platform, findings, collected, entries_by_id, options, records):
    """Return the removal plan for one host (see the module docstring)."""
    validate_options(options)
    planner = planner_for(platform)(platform, findings, collected, entries_by_id, options, records)
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
