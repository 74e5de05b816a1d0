# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the Windows removal steps of a plan (see plugin_utils/plan/planner.py for the shared part and
docs/design.md, "Windows"). Pure Python: the PowerShell executor (win_execute) only carries the steps out.

Rules (also in docs/design.md, "Planning (Python)"):

* Trust: a recorded uninstaller runs (with SYSTEM rights) only when ``wincmd.is_trusted_path`` holds
  AND (on a live host) the collector's ACL facts show that no account but SYSTEM, Administrators and
  TrustedInstaller can change it or a folder above it up to its trusted root (``winacl.py``). MSI products
  always run ``%SystemRoot%\\System32\\msiexec.exe /x {GUID}`` built here, never the recorded command,
  and only for a product code that the catalog names or that Windows Installer's own registration in
  HKLM (``installer_products``, or a machine uninstall key named by the code) proves is a product of the
  finding's entry. Otherwise the finding is skipped with outcome ``needs_user_action``.
* User hives (``hive`` HKU or a ``user:`` scope) are the user's to write: the uninstaller must also be an
  uninstaller by name (``uninst*.exe``/``unins000.exe``) inside one of the entry's own Windows ``file``
  signature paths, and its arguments are the catalog's switches, never the hive's text (a
  ``QuietUninstallString`` is read for its program only). A user's hive holds back (``needs_user_action``)
  only files inside that user's profile, never a machine-wide install.
* Forged or unusable strings (interpreters and script hosts, UNC, ``..``, unterminated quotes, control
  characters, unknown variables, > 4096 characters) never become steps: ``needs_user_action``.
* Kaspersky: an MSI product proven Kaspersky's (its HKLM registration's publisher is
  ``(AO )?Kaspersky( Lab)?``, or the catalog names the code in a Kaspersky entry) gets
  ``KLLOGIN={{secret:kaspersky_login}} KLPASSWD={{secret:kaspersky_password}}`` when the option
  ``uninstall_secrets`` names both secrets (values never reach the planner).
"""

import fnmatch
import ntpath
import re

from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.planner import (
    PlanError, PlannerBase, _key, _scope_user,
)
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.winacl import acl_index, writable_reason
from ansible_collections.govsec.banned_software.plugins.plugin_utils.plan.wincmd import (
    ABSENT_RC, INNO_NAME_RE, INNO_SILENT, MSI_SILENT, NSIS_NAME_RE, NSIS_SILENT, OK_RC, REBOOT_RC,
    RETRY_RC, classify, expand_variables, has_dot_components, is_trusted_path, join_arguments,
    normalise_windows_path, path_within,
)

NEEDS_USER = "needs_user_action"
KASPERSKY_PUBLISHER_RE = re.compile(r"(?i)(AO )?Kaspersky( Lab)?\Z")
KASPERSKY_SECRETS = ("kaspersky_login", "kaspersky_password")
KASPERSKY_PROPERTIES = ("KLLOGIN={{secret:kaspersky_login}}", "KLPASSWD={{secret:kaspersky_password}}")
# Uninstalled after the other uninstallers of the host (the catalog entry says: remove the management
# agent after the protection product it manages).
UNINSTALL_LAST = ("kaspersky-network-agent",)
SERVICE_NAME_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+@#$-]{0,255}\Z")
APPX_FAMILY_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9.-]{1,49})_(?P<publisher>[a-z0-9]{13})\Z")
APPX_FULL_RE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9.-]{1,49})_\d+(\.\d+){3}_(x86|x64|arm|arm64|neutral)_"
                          r"[A-Za-z0-9.~-]{0,30}_(?P<publisher>[a-z0-9]{13})\Z")
# The executor's fields per Windows step kind (docs/design.md, "Executor steps (win_execute)").
WINDOWS_EXECUTOR_FIELDS = {
    "command": ("exe", "arguments", "timeout", "ok_rc", "absent_rc", "retry_rc", "reboot_rc", "secrets",
                "wait_children"),
    "kill": ("pids", "exe"),
    "service_stop": ("name",),
    "service_disable": ("name",),
    "appx_remove": ("package_full_name", "all_users"),
    "appx_deprovision": ("name",),
    "applocker_policy": ("xml", "expect_sha256"),
    "quarantine": ("path", "type"),
    "archive": ("paths", "name"),
    "purge": ("path", "type"),
    # The local fact only (plugin_utils/_host_fact.py).
    "write_file": ("path", "content", "expect_sha256"),
    "remove_file": ("path", "expect_sha256"),
}
# Directories directly under a profile (or deeper) that hold more than one product's data.
PROTECTED_PROFILE_CHILDREN = frozenset(p.casefold() for p in (
    "AppData", "AppData\\Local", "AppData\\Roaming", "AppData\\LocalLow", "AppData\\Local\\Programs",
    "AppData\\Local\\Packages", "AppData\\Local\\Temp", "AppData\\Local\\Microsoft", "AppData\\Roaming\\Microsoft",
    "AppData\\Local\\Programs\\Common", "Documents", "Desktop", "Downloads", "Pictures", "Music", "Videos",
    "Favorites", "OneDrive", "Contacts", "Links", "Saved Games", "Searches", "NTUSER.DAT",
))
# Paths (below the system drive) never removed, whatever an entry says; anything directly under a
# drive, and every top-level directory whose name starts with "Windows", are protected as well.
PROTECTED_BELOW_DRIVE = tuple(p.casefold() for p in (
    "Program Files", "Program Files (x86)", "ProgramData", "Users", "Program Files\\Common Files",
    "Program Files (x86)\\Common Files", "Program Files\\WindowsApps", "Program Files\\Windows Defender",
    "Program Files\\Microsoft", "Program Files (x86)\\Microsoft", "ProgramData\\Microsoft",
    "ProgramData\\Packages", "Users\\Public", "Users\\Default", "Users\\Default User", "Users\\All Users",
    "Documents and Settings",
))
ENV_PROTECTED = ("ProgramFiles", "ProgramFiles(x86)", "ProgramW6432", "ProgramData", "SystemRoot", "windir",
                 "CommonProgramFiles", "CommonProgramFiles(x86)", "ALLUSERSPROFILE", "PUBLIC")


def _env_get(env, name):
    for key, value in (env or {}).items():
        if isinstance(key, str) and key.casefold() == name.casefold() and isinstance(value, str):
            return value
    return None


def windows_path_protection(path, homes=(), env=None):
    """Return the reason a Windows ``path`` must not be removed, or None when it may be.

    Protected: a drive root and everything directly under a drive (``C:\\Users``, ``C:\\ProgramData``...),
    every ``X:\\Windows*`` directory and all below it, ``%SystemRoot%`` and all below it, the Program Files
    and ProgramData roots and their shared children (``Common Files``, ``WindowsApps``, ``Microsoft``),
    every profile (``X:\\Users\\<name>`` and ``homes``) and its shared children (``AppData\\Local``,
    ``Documents``...), and anything containing one of these.
    """
    if not isinstance(path, str) or has_dot_components(path):
        return "not a clean absolute Windows path"
    clean = normalise_windows_path(path)
    if clean is None:
        return "not a clean absolute Windows path"
    parts = [p for p in clean.split("\\") if p]
    if len(parts) < 3:
        return "a drive root or a top-level path"
    clean_cf = clean.casefold()
    drive = parts[0].casefold()
    if parts[1].casefold().startswith("windows"):
        return "a Windows system directory"
    system_root = normalise_windows_path(_env_get(env, "SystemRoot") or _env_get(env, "windir") or "")
    if system_root and path_within(clean, system_root):
        return "a Windows system directory"
    protected = set()
    for drv in set([drive, "c:"]):
        for rel in PROTECTED_BELOW_DRIVE:
            protected.add(drv + "\\" + rel)
    for name in ENV_PROTECTED:
        value = normalise_windows_path(_env_get(env, name) or "")
        if value:
            protected.add(value.casefold())
            protected.add(value.casefold() + "\\common files")
            protected.add(value.casefold() + "\\microsoft")
    if clean_cf in protected:
        return "a protected system path"
    profiles = []
    for home in homes or ():
        home_clean = normalise_windows_path(home) if isinstance(home, str) else None
        if home_clean is not None:
            profiles.append(home_clean.casefold())
    if parts[1].casefold() in ("users", "documents and settings"):
        # every directory directly under Users is treated as a profile, listed or not
        profiles.append("\\".join(parts[:3]).casefold())
    for profile in profiles:
        if clean_cf == profile:
            return "a user profile directory"
        if clean_cf.startswith(profile + "\\"):
            if clean_cf[len(profile) + 1:] in PROTECTED_PROFILE_CHILDREN:
                return "a shared directory in a user profile"
        elif profile.startswith(clean_cf + "\\"):
            return "contains a user profile directory"
    for other in protected:
        if other.startswith(clean_cf + "\\"):
            return "contains a protected system path"
    return None


def command_status(step, rc, retries_left=0):
    """How an exit code of a ``command`` step is read (what win_execute does with ``*_rc``).

    Returns ``{"status": changed|absent|failed|None, "reboot": bool, "retry": bool}``; ``status`` None
    with ``retry`` True means: wait and run the step again (``retry_rc``, bounded by ``retries_left``).
    """
    out = {"status": "failed", "reboot": False, "retry": False}
    if isinstance(rc, bool) or not isinstance(rc, int):
        return out
    if rc in step.get("retry_rc", []) and retries_left > 0:
        out.update(status=None, retry=True)
    elif rc in step.get("ok_rc", [0]):
        out["status"] = "changed"
        out["reboot"] = rc in step.get("reboot_rc", [])
    elif rc in step.get("absent_rc", []):
        out["status"] = "absent"
    return out


class WindowsPlanner(PlannerBase):
    """Removal steps for Windows: services, processes, uninstallers, AppX, quarantined paths."""

    platform = "windows"
    executor_fields = WINDOWS_EXECUTOR_FIELDS
    path_within = staticmethod(path_within)

    @staticmethod
    def path_sort_key(path):
        return path.casefold()

    def __init__(self, platform, findings, collected, entries, options, records):
        super().__init__(platform, findings, collected, entries, options, records)
        secrets = self.opts.get("uninstall_secrets") or {}
        if not isinstance(secrets, dict):
            raise PlanError("banned_software_uninstall_secrets must map secret names to values")
        self.secrets = set(str(k) for k, v in secrets.items() if v)
        given = [s for s in KASPERSKY_SECRETS if s in self.secrets]
        if len(given) == 1:
            raise PlanError("banned_software_uninstall_secrets names %s without %s; give both or neither"
                            % (given[0], [s for s in KASPERSKY_SECRETS if s not in given][0]))
        environment = self.collected.get("environment")
        self.environment = environment if isinstance(environment, dict) else {}
        self.held = []     # (scope, directory, key) of uninstallers left to the user
        self.installed = {}  # uninstall step id -> directories it removes (install location, uninstaller's)
        # Who can write to the programs the entries name: collected on live hosts; an offline image
        # (a mounted volume, root is a POSIX path) has no ACL facts and is judged by location only.
        acls = self.collected.get("program_acls")
        root = self.collected.get("root")
        self.acls = acl_index(acls) if isinstance(acls, list) else None
        self.image = isinstance(root, str) and root.startswith("/")

    # -- helpers ---------------------------------------------------------------------------------
    def norm_path(self, path):
        if has_dot_components(path):
            return None
        return normalise_windows_path(path)

    def path_protection(self, path):
        return windows_path_protection(path, self.homes, self.environment)

    def env_for(self, scope):
        """The variables of a scope: the machine's, plus a user's LocalAppData, AppData, USERPROFILE."""
        env = dict((k, v) for k, v in self.environment.items() if isinstance(k, str) and isinstance(v, str))
        name = _scope_user(scope)
        if name is None:
            return env
        user = self.users.get(name) or {}
        per_user = self.environment.get("users")
        if isinstance(per_user, dict):
            per_user = per_user.get(name)
        elif isinstance(per_user, list):
            per_user = ([u for u in per_user if isinstance(u, dict) and u.get("name") == name] or [None])[0]
        for source in (user, per_user if isinstance(per_user, dict) else {}):
            for var in ("LocalAppData", "AppData", "USERPROFILE"):
                if isinstance(source.get(var), str):
                    env[var] = source[var]
        if isinstance(user.get("home"), str) and "USERPROFILE" not in env:
            env["USERPROFILE"] = user["home"]
        return env

    def _needs_user(self, finding, reason):
        self.skipped.append({"key": _key(finding), "outcome": NEEDS_USER, "reason": reason})

    def _msiexec(self):
        root = _env_get(self.environment, "SystemRoot")
        exe = normalise_windows_path(root + "\\System32\\msiexec.exe") if root else None
        return exe if exe and is_trusted_path(exe, self.environment) else None

    def _registrations(self, code):
        """What HKLM says about the product ``code``: Windows Installer's registration and machine keys."""
        out = []
        products = self.collected.get("installer_products")
        for item in (products.get(code) if isinstance(products, dict) else None) or []:
            if isinstance(item, dict):
                out.append(item)
        for rec in (self.collected.get("records") or {}).get("registry") or []:
            if (isinstance(rec, dict) and rec.get("hive") == "HKLM" and isinstance(rec.get("name"), str)
                    and rec["name"].upper() == code):
                out.append(rec)
        return out

    def _product_proof(self, finding, code):
        """``(proven, kaspersky)``: is ``code`` a product of the finding's entry (the catalog names it, or an
        HKLM registration of it passes the entry's registry signatures), and is it Kaspersky's?"""
        entry = self.entries.get(finding["id"])
        sigs = entry.signatures.get("windows", {}).get("registry", []) if entry is not None else []
        if any(isinstance(sig.raw.get("name"), str) and sig.raw["name"].upper() == code for sig in sigs):
            return True, entry.vendor.strip().casefold() == "kaspersky"
        for reg in self._registrations(code):
            probe = {"name": code, "scope": "machine"}
            for field in ("display_name", "publisher"):
                if isinstance(reg.get(field), str):
                    probe[field] = reg[field]
            if any(sig.matches(probe) for sig in sigs):
                return True, bool(KASPERSKY_PUBLISHER_RE.match(probe.get("publisher", "").strip()))
        return False, False

    def _writable(self, exe):
        """Why SYSTEM must not run ``exe`` because someone else can change it (None: only admins can)."""
        if self.acls is None:
            if self.image:
                return None     # an offline image: no ACL facts, the location rules alone apply
            return "the collector did not report who can write to %s" % exe
        return writable_reason(exe, self.environment, self.acls)

    def _expected_by_catalog(self, finding, exe, env):
        """User-hive rule: an uninstaller by name, inside one of the entry's own ``file`` paths."""
        name = ntpath.basename(exe)
        if not (NSIS_NAME_RE.match(name) or INNO_NAME_RE.match(name)):
            return False
        entry = self.entries.get(finding["id"])
        sigs = entry.signatures.get("windows", {}).get("file", []) if entry is not None else []
        for sig in sigs:
            expanded, unknown = expand_variables(sig.raw["path"], env)
            if unknown:
                continue
            head, last = ntpath.split(expanded)
            head = normalise_windows_path(head)
            if head is None or not path_within(exe, head) or exe.casefold() == head.casefold():
                continue
            below = exe[len(head):].lstrip("\\").split("\\")
            if len(below) >= 2 and fnmatch.fnmatch(below[0].casefold(), last.casefold()):
                return True
        return False

    # -- phases ----------------------------------------------------------------------------------
    def stop_phases(self, active):
        self.services(active)
        self.processes(active)

    def removal_phases(self, active):
        self.uninstallers(active)
        self.appx(active)
        self.paths(active)

    def services(self, active):
        for finding in active:
            if finding["source"] != "service":
                continue
            name = finding["name"]
            if not SERVICE_NAME_RE.match(name):
                self._unplanned(finding, "service name %r is not valid; not passed to the executor" % name)
                continue
            keys = [_key(finding)]
            self._add({"kind": "service_stop", "action": "stop_service", "name": name}, keys)
            self._add({"kind": "service_disable", "action": "disable_service", "name": name}, keys)

    def processes(self, active):
        for finding in active:
            if finding["source"] != "process":
                continue
            entry = self.entries.get(finding["id"])
            sigs = entry.signatures.get("windows", {}).get("process", []) if entry is not None else []
            by_exe = {}
            for rec in (self.collected.get("records") or {}).get("process") or []:
                if not isinstance(rec, dict) or rec.get("name") != finding["name"] or rec.get("scope") != finding["scope"]:
                    continue
                if (rec.get("path") if isinstance(rec.get("path"), str) else None) != finding.get("path"):
                    continue
                if not any(sig.matches(rec) for sig in sigs):
                    continue   # same image name, another program: never stopped
                exe = self.norm_path(rec.get("exe"))
                pids = rec.get("pids") if isinstance(rec.get("pids"), list) else [rec.get("pid")]
                pids = [p for p in pids if isinstance(p, int) and not isinstance(p, bool) and p > 4]
                if exe is None or not pids:
                    continue
                by_exe.setdefault(exe, set()).update(pids)
            if not by_exe:
                self._unplanned(finding, "no process id with a verifiable executable path to stop")
                continue
            for exe in sorted(by_exe):
                self._add({"kind": "kill", "action": "stop_process", "pids": sorted(by_exe[exe]), "exe": exe},
                          [_key(finding)])

    def _uninstall_command(self, finding, rec):
        """(exe, args, wait_children, secrets) for a registry finding, or (None, reason, outcome)."""
        scope = finding["scope"]
        env = self.env_for(scope)
        info = classify(rec, env)
        kind = info["kind"]
        user_hive = rec.get("hive") == "HKU" or scope.startswith("user:")
        if kind == "refused":
            return None, "uninstall string refused (%s); nothing was run" % info["reason"], NEEDS_USER
        if kind == "msi":
            return self._msi_command(finding, info["product_code"])
        exe = info["exe"]
        if exe and not is_trusted_path(exe, env):
            return None, ("uninstaller %s is not in a trusted location (Program Files, %%SystemRoot%%\\Installer); "
                          "running it with SYSTEM rights would run a program a user can replace: uninstall it as "
                          "that user, or check the file and remove it by hand" % exe), NEEDS_USER
        if kind == "unknown":
            return None, info["reason"] or "no silent uninstall method known: needs a catalog hint", None
        if user_hive:
            kind = self._user_hive_kind(kind, exe)
            if kind is None or not self._expected_by_catalog(finding, exe, env):
                return None, ("uninstaller %s comes from a user's registry hive and is not an uninstaller inside a "
                              "path the catalog entry %s lists: uninstall it as that user, or check it by hand"
                              % (exe, finding["id"])), NEEDS_USER
        writable = self._writable(exe)
        if writable:
            return None, ("%s: running it with SYSTEM rights could run a program a user put there; have an "
                          "administrator fix the folder's permissions, or uninstall it by hand" % writable), NEEDS_USER
        if kind == "nsis":
            args = list(NSIS_SILENT) + ["_?=" + ntpath.dirname(exe)]
            return (exe, args, False, []), None, None
        if kind == "inno":
            return (exe, list(INNO_SILENT), True, []), None, None
        return (exe, info["args"], True, []), None, None

    @staticmethod
    def _user_hive_kind(kind, exe):
        """A user's hive chooses at most which known uninstaller runs, never its arguments: a quiet string
        counts for its program only, which must be an NSIS or Inno Setup uninstaller by name."""
        if kind in ("nsis", "inno"):
            return kind
        name = ntpath.basename(exe)
        if INNO_NAME_RE.match(name):
            return "inno"
        if NSIS_NAME_RE.match(name):
            return "nsis"
        return None

    def _msi_command(self, finding, code):
        proven, kaspersky = self._product_proof(finding, code)
        if not proven:
            return None, ("product code %s is not proven to be %s: neither the catalog nor Windows Installer's "
                          "registration in HKLM names it as such, so msiexec is not run with SYSTEM rights on it "
                          "(an uninstall entry a user can write could name any installed product); check it by hand"
                          % (code, finding["id"])), NEEDS_USER
        exe = self._msiexec()
        if exe is None:
            return None, "no usable SystemRoot in the collector's environment to find msiexec.exe", None
        args = ["/x", code] + MSI_SILENT
        secrets = []
        if kaspersky and all(s in self.secrets for s in KASPERSKY_SECRETS):
            args += list(KASPERSKY_PROPERTIES)
            secrets = list(KASPERSKY_SECRETS)
        return (exe, args, False, secrets), None, None

    def uninstallers(self, active):
        registry = [f for f in active if f["source"] == "registry"]
        registry.sort(key=lambda f: (f["id"] in UNINSTALL_LAST, f["scope"], f["name"], f.get("path") or "", f["id"]))
        chosen = []     # [(exe, arguments), {...}]
        by_command = {}
        for finding in registry:
            rec = self.records.get(_key(finding))
            if not isinstance(rec, dict):
                self._unplanned(finding, "no collector record for this finding")
                continue
            command, reason, outcome = self._uninstall_command(finding, rec)
            if command is None:
                if outcome == NEEDS_USER:
                    self._needs_user(finding, reason)
                    self._hold(finding, rec)
                else:
                    self._unplanned(finding, reason)
                continue
            exe, args, wait_children, secrets = command
            try:
                arguments = join_arguments(args)
            except ValueError as exc:
                self._needs_user(finding, "cannot build a safe command line: %s" % exc)
                continue
            ident = (exe.casefold(), arguments)
            dirs = [d for d in (self.norm_path(rec.get("install_location")),
                                None if exe.casefold().endswith("\\msiexec.exe") else ntpath.dirname(exe)) if d]
            if ident in by_command:
                by_command[ident]["keys"].append(_key(finding))
                by_command[ident]["dirs"].extend(dirs)
                continue
            by_command[ident] = {"exe": exe, "args": args, "arguments": arguments, "wait": wait_children,
                                 "secrets": secrets, "keys": [_key(finding)], "entry": finding["id"], "dirs": dirs}
            chosen.append(ident)
        for ident in chosen:
            item = by_command[ident]
            step = {"kind": "command", "action": "uninstall", "exe": item["exe"], "arguments": item["arguments"],
                    "argv": [item["exe"]] + item["args"], "timeout": self.opts["step_timeout"],
                    "ok_rc": list(OK_RC), "absent_rc": list(ABSENT_RC), "retry_rc": list(RETRY_RC),
                    "reboot_rc": list(REBOOT_RC), "secrets": item["secrets"], "wait_children": item["wait"],
                    "entry": item["entry"]}
            self.installed[self._add(step, item["keys"], removals=1)] = item["dirs"]

    def _hold(self, finding, rec):
        """Remember where an uninstaller left to the user lies: its files must stay for the user to run it.
        A user's hive can hold back only files in that user's own profile, never a machine-wide install."""
        info = classify(rec, self.env_for(finding["scope"]))
        exe = normalise_windows_path(info.get("exe")) if info.get("exe") else None
        if exe is None or has_dot_components(info.get("exe")):
            return
        directory = ntpath.dirname(exe)
        if rec.get("hive") == "HKU" or finding["scope"].startswith("user:"):
            home = self.user_home(finding["scope"])
            if home is None or not path_within(directory, home):
                return
        self.held.append((finding["scope"], directory, _key(finding)))

    def appx(self, active):
        full_names = {}       # package full name -> keys
        provisioned = {}      # package full name -> keys
        for finding in active:
            if finding["source"] != "appx":
                continue
            rec = self.records.get(_key(finding)) or {}
            family = APPX_FAMILY_RE.match(finding["name"])
            full = rec.get("package_full_name")
            full_match = APPX_FULL_RE.match(full) if isinstance(full, str) else None
            if (family is None or full_match is None or full_match.group("name") != family.group("name")
                    or full_match.group("publisher") != family.group("publisher")):
                self._unplanned(finding, "package family or full name %r is not valid or does not belong to %s; "
                                "not passed to the executor" % (full, finding["name"]))
                continue
            full_names.setdefault(full, []).append(_key(finding))
            if rec.get("provisioned") is True:
                provisioned.setdefault(full, []).append(_key(finding))
        for full in sorted(full_names):
            self._add({"kind": "appx_remove", "action": "remove_appx", "package_full_name": full, "all_users": True},
                      full_names[full], removals=1)
        for full in sorted(provisioned):
            self._add({"kind": "appx_deprovision", "action": "deprovision_appx", "name": full}, provisioned[full],
                      removals=1)

    def _real_path(self, rec, scope):
        """The record's expanded path, checked against its ``%Variable%`` form; None when inconsistent."""
        real = rec.get("real_path")
        if not isinstance(real, str) or has_dot_components(real):
            return None
        clean = normalise_windows_path(real)
        form = rec.get("path")
        if clean is None or not isinstance(form, str):
            return None
        expanded, unknown = expand_variables(form, self.env_for(scope))
        if unknown or has_dot_components(expanded):
            return None
        expected = normalise_windows_path(expanded)
        if expected is None or expected.casefold() != clean.casefold():
            return None
        return clean

    def _matching_records(self, source, entry, kind):
        """Data/leftover records with ``path`` replaced by the checked, expanded real path."""
        out = []
        for rec in super(WindowsPlanner, self)._matching_records(source, entry, kind):
            real = self._real_path(rec, rec.get("scope"))
            if real is not None:
                rec = dict(rec)
                rec["path"] = real
                out.append(rec)
        return out

    def paths(self, active):
        targets = {}
        for finding in active:
            if finding["source"] != "file":
                continue
            rec = self.records.get(_key(finding)) or {}
            path = self._real_path(rec, finding["scope"])
            if path is None:
                self._unplanned(finding, "no usable real path (missing, unclean or not the expansion of %r)"
                                % (finding.get("path"),))
                continue
            reason = self.path_protection(path)
            if reason:
                self.skipped.append({"key": _key(finding), "outcome": "skipped_protected",
                                     "reason": "%s is %s" % (path, reason)})
                continue
            held = [k for scope, directory, k in self.held if path_within(directory, path)]
            if held:
                self._needs_user(finding, "%s holds the uninstaller of %s, which is left to the user"
                                 % (path, held[0]))
                continue
            target = targets.setdefault(path, {"keys": [], "type": rec.get("type") or "dir", "requires": []})
            target["keys"].append(_key(finding))
            # Files of a product whose uninstaller is planned move only once it has succeeded.
            for sid, dirs in sorted(self.installed.items()):
                if any(path_within(d, path) or path_within(path, d) for d in dirs) and sid not in target["requires"]:
                    target["requires"].append(sid)
        self._quarantine(targets, "quarantine")

    def build(self):
        plan = super(WindowsPlanner, self).build()
        decided = dict((s["key"], s["outcome"]) for s in self.skipped)
        # A finding left to the user (or protected) is not "unplanned" as well.
        plan["unplanned"] = [u for u in plan["unplanned"] if u["key"] not in decided]
        if plan["tripped"]:
            # The circuit breaker holds back what would have run; what needs the user still does.
            plan["skipped"] = [s for s in plan["skipped"]
                               if not (s["outcome"] == "skipped_limit" and decided.get(s["key"]) in
                                       (NEEDS_USER, "skipped_protected", "skipped_exempt"))]
        return plan
