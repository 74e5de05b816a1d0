# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the macOS removal steps of a plan (see plugin_utils/plan/planner.py for the shared part, docs/macos.md).

The POSIX executor (``govsec.banned_software.execute``) carries the steps out; every decision is here.

Rules:

* Stop: ``osascript -e 'quit app id "<bundle id>"'`` for each bundle finding with a recorded process
  running from inside the bundle (run as that process's user when known); ``launchctl bootout
  system/<label>`` for daemons, ``launchctl bootout gui/<uid>/<label>`` for agents (a machine-wide
  LaunchAgent: once per known user); the executor's ``kill`` step for process findings.
* Identifiers from the host (bundle ids, labels, receipt ids, cask tokens, user names) must match
  strict patterns before they reach an argv; a bundle id is only ever put into the AppleScript
  string after ``BUNDLE_ID_RE`` (letters, digits, ``-`` and ``.``) has matched. Anything else is
  unplanned, never quoted.
* Vendor uninstaller: ``VENDOR_UNINSTALLERS`` (by entry id) names the script; it runs only when the
  collector reported that exact path (a ``file``, ``leftover`` or ``data`` record of type file).
  Every other removal step of that entry then ``requires`` it (nothing is moved under a product
  whose own uninstaller failed).
* Homebrew casks: ``<prefix>/bin/brew uninstall --cask <token>`` run as the owner of the Caskroom
  (Homebrew refuses root); unplanned when the owner or the prefix is unknown.
* Quarantine: app bundles (``*.app``), ``file`` findings and launchd plists (only from the
  LaunchDaemons/LaunchAgents directories), after the uninstallers and casks.
* ``pkgutil --forget <id>`` for each receipt, last.
* System extensions are never removed here: outcome ``needs_mdm`` (deactivation needs the
  containing app's own uninstall or an MDM system-extension policy change; a reboot may be needed),
  and the plan's ``needs_mdm`` list and ``reboot_may_be_required`` say so.
"""

import re

from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import (
    QUARANTINE_SOURCES, PlannerBase, _key, _scope_user,
)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.protect import (
    USER_NAME_RE, normalise_path, path_protection,
)

NEEDS_MDM = "needs_mdm"
# CFBundleIdentifier: letters, digits, hyphen and period only (Apple), at least two components.
BUNDLE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,62}(\.[A-Za-z0-9-]{1,63}){1,15}\Z")
LABEL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}\Z")
RECEIPT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}\Z")
CASK_TOKEN_RE = re.compile(r"^[a-z0-9][a-z0-9@._+-]{0,127}\Z")
# System tools at their fixed, SIP-protected locations (never looked up in PATH).
OSASCRIPT = "/usr/bin/osascript"
LAUNCHCTL = "/bin/launchctl"
PKGUTIL = "/usr/sbin/pkgutil"
HOMEBREW_PREFIXES = ("/opt/homebrew", "/usr/local")
# Vendor uninstallers by catalog entry id (research: mrowell's public Kaspersky removal script). They
# run only when the collector reported the exact path. The Network Agent goes after the product.
VENDOR_UNINSTALLERS = (
    ("kaspersky-macos", "/Library/Application Support/Kaspersky Lab/KAV/Binaries/UninstallScript"),
    ("kaspersky-network-agent", "/Library/Application Support/Kaspersky Lab/klnagent/Binaries/UninstallScript"),
)
QUIT_TOLERATE = ["(-600)", "isn't running", "isn\u2019t running", "not running"]
BOOTOUT_TOLERATE = ["No such process", "Could not find specified service", "Could not find domain"]
RECEIPT_ABSENT = ["No receipt for"]
CASK_ABSENT = ["is not installed"]
BREW_ENV = {"HOMEBREW_NO_AUTO_UPDATE": "1", "HOMEBREW_NO_ANALYTICS": "1", "HOMEBREW_NO_ENV_HINTS": "1",
            "NONINTERACTIVE": "1"}
LAUNCHD_DIRS = ("/Library/LaunchDaemons", "/Library/LaunchAgents")
# macOS directories shared by many products: never removed, nor anything containing them (on top of
# module_utils/_execute/protect.py, which the executor checks again on the host).
MACOS_PROTECTED = frozenset([
    "/Library/Application Support", "/Library/LaunchDaemons", "/Library/LaunchAgents", "/Library/Caches",
    "/Library/Preferences", "/Library/Extensions", "/Library/SystemExtensions", "/Library/Frameworks",
    "/Library/PrivilegedHelperTools", "/Library/Receipts", "/Library/Logs", "/Library/Security",
    "/Library/Apple", "/Library/Developer", "/Library/Managed Preferences", "/Applications/Utilities",
    "/opt/homebrew", "/opt/homebrew/Caskroom", "/usr/local/Caskroom", "/private/var", "/private/var/db",
    "/private/var/db/receipts", "/private/etc", "/private/tmp", "/var/db", "/var/db/receipts",
])
MACOS_PROTECTED_HOME_CHILDREN = frozenset([
    "Library/LaunchAgents", "Library/Caches", "Library/Application Scripts", "Library/Cookies",
    "Library/Saved Application State", "Library/Logs", "Library/Mail", "Library/Keychains", "Library/Mobile Documents",
    "Library/CloudStorage", "Pictures", "Movies", "Music", "Public",
])


def _valid_uid(value):
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class MacosPlanner(PlannerBase):
    """Removal steps for macOS: quit apps, boot out launchd jobs, kill processes, vendor uninstallers,
    Homebrew casks, quarantined bundles/files/plists, forgotten receipts; system extensions need MDM."""

    platform = "macos"

    def __init__(self, platform, findings, collected, entries, options, records):
        super().__init__(platform, findings, collected, entries, options, records)
        self.uninstall_steps = {}    # entry id -> uninstaller step id
        self.needs_mdm = []

    # -- helpers ---------------------------------------------------------------------------------
    def path_protection(self, path):
        reason = path_protection(path, self.homes)
        if reason:
            return reason
        clean = normalise_path(path)
        if clean.startswith("/System/") or clean in MACOS_PROTECTED:
            return "a protected macOS system path"
        for protected in MACOS_PROTECTED:
            if protected.startswith(clean + "/"):
                return "contains a protected macOS system path"
        for home in self.homes:
            home_clean = normalise_path(home)
            if home_clean and clean.startswith(home_clean + "/"):
                rest = clean[len(home_clean) + 1:]
                if rest in MACOS_PROTECTED_HOME_CHILDREN:
                    return "a shared directory in a home"
                for child in MACOS_PROTECTED_HOME_CHILDREN:
                    if child.startswith(rest + "/"):
                        return "contains a shared directory in a home"
        return None

    def protected_reason(self, finding):
        if finding["source"] in ("bundle", "launchd", "pkg-receipt", "sysext") and finding["name"].startswith("com.apple."):
            return "%s is Apple's own and is never removed" % finding["name"]
        return None

    def _user_by_uid(self, uid):
        if not _valid_uid(uid):
            return None
        for name in sorted(self.users):
            if self.users[name].get("uid") == uid:
                return name
        return None

    def _run_as(self, name):
        """The executor's ``run_as`` for a user of the host, or None when the user is not usable."""
        user = self.users.get(name) if isinstance(name, str) else None
        if not user or not USER_NAME_RE.match(name) or name.endswith("$"):
            return None
        uid, gid, home = user.get("uid"), user.get("gid"), user.get("home")
        if not _valid_uid(uid) or not isinstance(gid, int) or isinstance(gid, bool) or gid < 0:
            return None
        if normalise_path(home) is None:
            return None
        return {"user": name, "uid": uid, "gid": gid, "home": normalise_path(home)}

    def _records(self, source):
        items = (self.collected.get("records") or {}).get(source) or []
        return [r for r in items if isinstance(r, dict)]

    def _requires(self, entry_id):
        sid = self.uninstall_steps.get(entry_id)
        return {"requires": [sid]} if sid else {}

    # -- phases ----------------------------------------------------------------------------------
    def stop_phases(self, active):
        self.quit_apps(active)
        self.bootout(active)
        self.processes(active)

    def removal_phases(self, active):
        self.uninstallers(active)
        self.casks(active)
        self.paths(active)
        self.receipts(active)
        self.system_extensions(active)

    def quit_apps(self, active):
        processes = self._records("process")
        for finding in active:
            if finding["source"] != "bundle":
                continue
            bundle = self.norm_path(finding.get("path"))
            if bundle is None:
                continue
            running = [p for p in processes if isinstance(p.get("exe"), str)
                       and (normalise_path(p["exe"]) or "").startswith(bundle + "/")]
            if not running:
                continue
            if not BUNDLE_ID_RE.match(finding["name"]):
                self._unplanned(finding, "bundle id %r is not a valid bundle identifier; not passed to osascript"
                                % finding["name"])
                continue
            owners = sorted(set(self._user_by_uid(p.get("uid")) for p in running) - set([None]))
            script = 'quit app id "%s"' % finding["name"]
            runs = [self._run_as(o) for o in owners] or [None]
            for run_as in runs:
                extra = {"run_as": run_as} if run_as else {}
                self._command("quit_app", [OSASCRIPT, "-e", script], [_key(finding)], timeout=60,
                              tolerate=list(QUIT_TOLERATE), entry=finding["id"], **extra)

    def bootout(self, active):
        for finding in active:
            if finding["source"] != "launchd":
                continue
            rec = self.records.get(_key(finding), {})
            label = finding["name"]
            if not LABEL_RE.match(label):
                self._unplanned(finding, "launchd label %r is not valid; not passed to launchctl" % label)
                continue
            domain = rec.get("domain")
            if domain == "system":
                targets = ["system/" + label]
            elif domain == "gui":
                user = _scope_user(finding["scope"])
                names = [user] if user else sorted(self.users)
                uids = sorted(set(self.users[n]["uid"] for n in names
                                  if n in self.users and _valid_uid(self.users[n].get("uid"))))
                if not uids:
                    if user:
                        self._unplanned(finding, "no uid known for %s; agent %s not booted out" % (user, label))
                    continue
                targets = ["gui/%d/%s" % (uid, label) for uid in uids]
            else:
                self._unplanned(finding, "unknown launchd domain %r for %s" % (domain, label))
                continue
            for target in targets:
                self._command("bootout", [LAUNCHCTL, "bootout", target], [_key(finding)], timeout=120,
                              tolerate=list(BOOTOUT_TOLERATE), entry=finding["id"])

    def processes(self, active):
        for finding in active:
            if finding["source"] != "process":
                continue
            rec = self.records.get(_key(finding), {})
            pids = [p for p in rec.get("pids") or [rec.get("pid")]
                    if isinstance(p, int) and not isinstance(p, bool) and p > 1]
            exe = normalise_path(rec.get("exe"))
            if not pids or exe is None:
                self._unplanned(finding, "no process id with a verifiable executable path to stop")
                continue
            self._add({"kind": "kill", "action": "stop_process", "pids": sorted(set(pids)), "exe": exe, "grace": 10},
                      [_key(finding)])

    def uninstallers(self, active):
        entry_ids = set(f["id"] for f in active)
        for entry_id, script in VENDOR_UNINSTALLERS:
            if entry_id not in entry_ids:
                continue
            recorded = [r for s in ("file", "leftover", "data") for r in self._records(s)
                        if r.get("path") == script and r.get("scope") == "machine" and r.get("type") in (None, "file")]
            if not recorded:
                continue   # not on this host: the product's files are quarantined without it
            keys = [_key(f) for f in active if f["id"] == entry_id and f["source"] != "sysext"]
            self.uninstall_steps[entry_id] = self._command("vendor_uninstall", [script], keys, entry=entry_id)

    def _cask_owner(self, rec):
        owner = rec.get("owner")
        if isinstance(owner, str):
            return owner
        return self._user_by_uid(rec.get("uid"))

    def casks(self, active):
        for finding in active:
            if finding["source"] != "cask":
                continue
            rec = self.records.get(_key(finding), {})
            token = finding["name"]
            if not CASK_TOKEN_RE.match(token):
                self._unplanned(finding, "cask token %r is not valid; not passed to brew" % token)
                continue
            path = self.norm_path(rec.get("path"))
            prefix = [p for p in HOMEBREW_PREFIXES if path == "%s/Caskroom/%s" % (p, token)]
            if not prefix:
                self._unplanned(finding, "Caskroom %r is not under a known Homebrew prefix (%s); brew not run"
                                % (rec.get("path"), ", ".join(HOMEBREW_PREFIXES)))
                continue
            run_as = self._run_as(self._cask_owner(rec))
            if run_as is None:
                self._unplanned(finding, "the owner of %s is unknown or not a usable user, and Homebrew refuses "
                                "to run as root; uninstall the cask as its owner" % path)
                continue
            keys = [_key(finding)]
            # The same entry's app bundles go with the cask (brew removes the .app it installed).
            keys += [_key(f) for f in active if f["source"] == "bundle" and f["id"] == finding["id"]]
            self._command("uninstall_cask", [prefix[0] + "/bin/brew", "uninstall", "--cask", token], keys,
                          removals=1, run_as=run_as, env=dict(BREW_ENV), absent=list(CASK_ABSENT),
                          entry=finding["id"], **self._requires(finding["id"]))

    def _launchd_plist(self, path):
        """True when ``path`` is a plist directly in a LaunchDaemons/LaunchAgents directory."""
        if path is None or not path.endswith(".plist"):
            return False
        parent = path.rsplit("/", 1)[0]
        homes = [normalise_path(h) for h in self.homes]
        return parent in LAUNCHD_DIRS or any(h and parent == h + "/Library/LaunchAgents" for h in homes)

    def paths(self, active):
        targets = {}
        for finding in active:
            source = finding["source"]
            if source not in ("bundle", "launchd") + QUARANTINE_SOURCES:
                continue
            rec = self.records.get(_key(finding), {})
            path = self.norm_path(finding.get("path"))
            if source == "bundle":
                if path is None or not path.endswith(".app"):
                    self._unplanned(finding, "bundle path %r is not an app bundle (*.app)" % (finding.get("path"),))
                    continue
                kind = "dir"
            elif source == "launchd":
                if not self._launchd_plist(path):
                    self._unplanned(finding, "launchd plist %r is not in a LaunchDaemons or LaunchAgents directory; "
                                    "not moved" % (finding.get("path"),))
                    continue
                kind = "file"
            else:
                if path is None:
                    self._unplanned(finding, "no usable path")
                    continue
                kind = rec.get("type") or "file"
            reason = self.path_protection(path)
            if reason:
                self.skipped.append({"key": _key(finding), "outcome": "skipped_protected",
                                     "reason": "%s is %s" % (path, reason)})
                continue
            target = targets.setdefault(path, {"keys": [], "type": kind, "requires": []})
            target["keys"].append(_key(finding))
            sid = self.uninstall_steps.get(finding["id"])
            if sid and sid not in target["requires"]:
                target["requires"].append(sid)
        self._quarantine(targets, "quarantine")

    def receipts(self, active):
        for finding in active:
            if finding["source"] != "pkg-receipt":
                continue
            package = finding["name"]
            if not RECEIPT_ID_RE.match(package):
                self._unplanned(finding, "package id %r is not valid; not passed to pkgutil" % package)
                continue
            self._command("forget_receipt", [PKGUTIL, "--forget", package], [_key(finding)], removals=1, timeout=120,
                          absent=list(RECEIPT_ABSENT), entry=finding["id"], **self._requires(finding["id"]))

    def system_extensions(self, active):
        for finding in active:
            if finding["source"] != "sysext":
                continue
            rec = self.records.get(_key(finding), {})
            team = rec.get("team_id") if isinstance(rec.get("team_id"), str) else None
            self.skipped.append({"key": _key(finding), "outcome": NEEDS_MDM, "reason": (
                "system extension %s%s is not removed by this collection: deactivation needs the containing "
                "app's own uninstall or an MDM system-extension policy change (removing the allowing "
                "com.apple.system-extension-policy payload deactivates it on macOS 11.3+); deleting the app "
                "leaves it running, systemextensionsctl uninstall needs SIP off; a reboot may be needed"
                % (finding["name"], " (team %s)" % team if team else ""))})
            self.needs_mdm.append({"entry": finding["id"], "name": finding["name"], "team_id": team,
                                   "state": rec.get("state") if isinstance(rec.get("state"), str) else None})

    def build(self):
        plan = super(MacosPlanner, self).build()
        decided = dict((s["key"], s["outcome"]) for s in self.skipped)
        plan["unplanned"] = [u for u in plan["unplanned"] if u["key"] not in decided]
        if plan["tripped"]:
            # The circuit breaker holds back what would have run; a system extension still needs MDM.
            plan["skipped"] = [s for s in plan["skipped"]
                               if not (s["outcome"] == "skipped_limit" and decided.get(s["key"]) in
                                       (NEEDS_MDM, "skipped_protected", "skipped_exempt"))]
        plan["needs_mdm"] = sorted(self.needs_mdm, key=lambda n: (n["entry"], n["name"]))
        plan["reboot_may_be_required"] = bool(self.needs_mdm)
        return plan
