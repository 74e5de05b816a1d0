# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the Linux removal steps of a plan (see plugin_utils/plan/planner.py for the shared part and
docs/design.md)."""

from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import (
    NO_SYSTEMD, PACKAGE_ABSENT, QUARANTINE_SOURCES, PlannerBase, _key, _scope_user,
)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.protect import (
    USER_NAME_RE, normalise_path)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.protect import (
    DPKG_NAME_RE, FLATPAK_ID_RE, RPM_NAME_RE, SNAP_NAME_RE, UNIT_NAME_RE, is_protected_package,
)


class LinuxPlanner(PlannerBase):
    """Removal steps for Linux: services, processes, dpkg/rpm, flatpak, snap, quarantined paths."""

    platform = "linux"

    def protected_reason(self, finding):
        if finding["source"] in ("dpkg", "rpm") and is_protected_package(finding["name"],
                                                                         self.opts["protected_packages"]):
            return "package %s is protected and is never removed" % finding["name"]
        return None

    def stop_phases(self, active):
        self.services(active)
        self.processes(active)

    def removal_phases(self, active):
        self.packages(active)
        self.flatpaks(active)
        self.snaps(active)
        self.paths(active)

    def _tool(self, name):
        path = self.tools.get(name)
        return path if isinstance(path, str) and path.startswith("/") else None

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
            if source not in QUARANTINE_SOURCES and source != "service":
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
            path = self.norm_path(finding.get("path"))
            if path is None:
                self._unplanned(finding, "no usable path")
                continue
            items = [(path, rec.get("type") or "file")]
            target = self.norm_path(rec.get("target")) if source == "appimage" and rec.get("type") == "link" else None
            if target is not None and target != path:
                items.append((target, "file"))   # the AppImage a link leads to (inside the same home) goes too
            refusal = self._path_refusal(finding, [p for p, dummy in items])
            if refusal:
                outcome, reason = refusal
                if outcome is None:
                    self._unplanned(finding, reason)
                else:
                    self.skipped.append({"key": _key(finding), "outcome": outcome, "reason": reason})
                continue
            for item, kind in items:
                targets.setdefault(item, {"keys": [], "type": kind})["keys"].append(_key(finding))
        self._quarantine(targets, "quarantine")

    def _path_refusal(self, finding, paths):
        """``(outcome, reason)`` when a finding's paths must not be moved (outcome None: unplanned)."""
        home = self.user_home(finding["scope"])
        for path in paths:
            if finding["scope"] != "machine" and (home is None or not self.path_within(path, home)):
                return None, ("%s lies outside the home of %s: a user's item is never moved outside their own "
                              "files; remove it by hand" % (path, _scope_user(finding["scope"]) or finding["scope"]))
            reason = self.path_protection(path)
            if reason:
                return "skipped_protected", "%s is %s" % (path, reason)
        return None
