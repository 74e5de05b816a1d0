# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Collect Windows records from an offline Windows image (a mounted system drive).

    result = collect_windows_image("/mnt/win", query_for_windows, users=None, sources=None)

returns the records of docs/design.md, "Windows" (``os: windows``), read from the files under
``root`` only, never from a running system:

* ``<root>/Windows/System32/config/SOFTWARE``: the uninstall entries of the 64-bit view
  (``Microsoft\\Windows\\CurrentVersion\\Uninstall``, ``view: "64"``) and of the 32-bit view
  (``WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall``, ``view: "32"``) as ``registry``
  records (``hive: HKLM``, scope ``machine``); the profiles
  (``Microsoft\\Windows NT\\CurrentVersion\\ProfileList\\<SID>\\ProfileImagePath``, user SIDs
  S-1-5-21-* and S-1-12-1-* only); the provisioned AppX packages
  (``Microsoft\\Windows\\CurrentVersion\\Appx\\AppxAllUserStore\\Applications``, ``provisioned: true``),
  the staged ones (``...\\AppxAllUserStore\\Staged``) and the per-user ones (``...\\AppxAllUserStore\\<SID>``);
  and ``SystemRoot``, ``ProgramFilesDir``, ``ProgramFilesDir (x86)``, ``ProgramW6432Dir`` and the
  ProfileList ``ProgramData`` value for the ``environment``;
* each selected user's ``NTUSER.DAT`` (under the profile directory, resolved inside root): the
  uninstall entries under ``Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall`` (and its
  ``WOW6432Node`` twin when present), ``hive: HKU``, with ``sid`` and scope ``user:<name>``;
* for every product code (``{GUID}``) a kept uninstall entry names (its key name or uninstall strings):
  Windows Installer's own registration of it in the SOFTWARE hive
  (``Microsoft\\Windows\\CurrentVersion\\Installer\\UserData\\<SID>\\Products\\<packed code>\\InstallProperties``,
  ``source: installer``) and the machine uninstall keys named by it (``source: uninstall``), as
  ``installer_products`` (``{code: [{source, sid|view, display_name, publisher, version,
  install_location}]}``). Only an administrator or the installer service writes these keys, so the
  planner trusts a product code only when they agree with the catalog (a user's hive may name any code);
* ``<root>/Windows/System32/config/SYSTEM``: the services of the current control set
  (``Select\\Current``): Win32 services only (``Type`` has bit 0x10 or 0x20), with ``display_name``,
  ``path`` (``ImagePath`` as registered) and ``start_mode``;
* ``npm``: globally installed npm packages in ``%ProgramFiles%\\nodejs\\node_modules`` and each user's
  ``%AppData%\\npm\\node_modules`` (``module_utils/_collect/npm.py``);
* profile folders under the ProfileList ``ProfilesDirectory`` (default ``C:\\Users``) that hold an
  ``NTUSER.DAT`` but are not named in ProfileList (the account was deleted, its folder left) are scanned as
  users too: ``sid`` null, ``orphaned: true``, their uninstall keys named ``C:\\Users\\<name>\\NTUSER.DAT\\...``,
  with a warning;
* directory names under ``Program Files/WindowsApps``: AppX package payloads (``Name_Version_Arch_
  ResourceId_PublisherId``; the family name is ``Name_PublisherId``);
* ``file``, ``data`` and ``leftover`` paths of the query in the catalog's ``%Variable%\\...`` form,
  checked with ``lstat`` after case-insensitive resolution, reported with ``real_path`` (the Windows
  path, e.g. ``C:\\Program Files (x86)\\Tencent\\WeChat``).

``local_fact``: the drift state of the local fact the report role keeps in
``C:\\ProgramData\\govsec-banned-software\\facts.d\\banned_software.json``
(``module_utils/_collect/local_fact.py``), or None.

Processes are not examined (nothing runs in an image). Every path is resolved with ``RootFS`` (chroot
semantics for links), and a profile path that leaves the system drive or has ``.``/``..`` components
is refused, so a hostile image cannot make this code read outside ``root``. A hive that cannot be
parsed (truncated, corrupt) becomes a warning and the sources it feeds are incomplete; it never
stops the scan.

Bounds: hives of at most ``MAX_HIVE_BYTES``; at most ``MAX_SUBKEYS`` subkeys and ``MAX_VALUES`` values
are read per key; each source runs on a time budget checked at every key (``module_utils/_collect/budget.py``;
regipy is not interrupted inside one call). ``incomplete`` (``{source: first reason}``, next to
``available``) names the sources read only in part: a hive they need that could not be read or parsed,
a key cut at its cap, the budget running out, a collector error. A hive that was not cleanly written
(transaction logs not applied) is a warning only: offline images of running systems often are.

Hives are parsed with regipy (PyPI). Transaction logs (``.LOG1``/``.LOG2``) are not applied: a hive
whose sequence numbers differ (not cleanly written) is read as it is, with a warning.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import itertools
import os
import re
import stat

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.sources import WINDOWS_IMAGE_SOURCES
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.budget import (
    DEFAULT_SOURCE_TIMEOUT, Budget, SourceTimeout)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import CompiledQuery, compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.local_fact import read_local_fact
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import WINDOWS_FACT, WINDOWS_IMAGE_FACT
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import (
    NotRegularFile, RootFS, quote, safe_text)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.npm import (
    WINDOWS_MACHINE_DIR, WINDOWS_USER_DIR, node_modules_records)

try:
    from regipy.registry import RegistryHive
    HAS_REGIPY = True
    REGIPY_IMPORT_ERROR = None
except Exception as exc:  # pylint: disable=broad-except
    RegistryHive = None
    HAS_REGIPY = False
    REGIPY_IMPORT_ERROR = "%s: %s" % (type(exc).__name__, exc)

COLLECTOR_VERSION = "1"
REGIPY_REQUIREMENT = "regipy==6.5.0"
SOURCES = WINDOWS_IMAGE_SOURCES
MAX_HIVE_BYTES = 1024 * 1024 * 1024
MAX_TEXT = 4096
MAX_SUBKEYS = 100000
MAX_VALUES = 4096

SOFTWARE_HIVE = "/Windows/System32/config/SOFTWARE"
SYSTEM_HIVE = "/Windows/System32/config/SYSTEM"
UNINSTALL = "Microsoft\\Windows\\CurrentVersion\\Uninstall"
UNINSTALL_VIEWS = (("64", UNINSTALL), ("32", "WOW6432Node\\" + UNINSTALL))
PROFILE_LIST = "Microsoft\\Windows NT\\CurrentVersion\\ProfileList"
APPX_STORE = "Microsoft\\Windows\\CurrentVersion\\Appx\\AppxAllUserStore"
USER_SID_RE = re.compile(r"^S-1-(5-21|12-1)(-\d{1,10}){1,14}\Z")
# Package full name Name_Version_Arch_ResourceId_PublisherId (ResourceId may be empty or "~" for a
# bundle); names are 3-50 characters of letters, digits, '.' and '-'; publisher ids are 13
# characters of Crockford base32.
APPX_FULL_NAME_RE = re.compile(
    r"^(?P<name>[A-Za-z0-9.\-]{3,50})_(?P<version>\d{1,5}(\.\d{1,5}){3})_(?P<arch>[A-Za-z0-9]{1,10})_"
    r"(?P<resource>[A-Za-z0-9.\-~]{0,30})_(?P<publisher>[0-9a-hjkmnp-tv-z]{13})\Z")
START_MODES = {0: "Boot", 1: "System", 2: "Auto", 3: "Manual", 4: "Disabled"}
UNINSTALL_TEXT = (("DisplayName", "display_name"), ("Publisher", "publisher"), ("DisplayVersion", "version"),
                  ("UninstallString", "uninstall_string"), ("QuietUninstallString", "quiet_uninstall_string"),
                  ("InstallLocation", "install_location"))
UNINSTALL_FLAGS = (("WindowsInstaller", "windows_installer"), ("SystemComponent", "system_component"))
DRIVE_RE = re.compile(r"^[A-Za-z]:\Z")
INSTALLER_USERDATA = "Microsoft\\Windows\\CurrentVersion\\Installer\\UserData"
PRODUCT_CODE_RE = re.compile(r"\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}")
INSTALLER_SID_RE = re.compile(r"^S-1-(5-18|5-21(-\d{1,10}){1,14}|12-1(-\d{1,10}){1,14})\Z")
MAX_PRODUCT_CODES = 1000
REGISTRATION_TEXT = (("DisplayName", "display_name"), ("Publisher", "publisher"), ("DisplayVersion", "version"),
                     ("InstallLocation", "install_location"))


def packed_product_code(code):
    """Windows Installer's packed form of ``{GUID}`` (the name of its keys under ``Installer``): the first
    three groups reversed, then each byte of the last two with its two hex digits swapped."""
    digits = code.strip("{}").replace("-", "").upper()
    return (digits[0:8][::-1] + digits[8:12][::-1] + digits[12:16][::-1]
            + "".join(digits[i + 1] + digits[i] for i in range(16, 32, 2)))


def product_codes(records):
    """The product codes (upper case, braced) that registry records name, in order, at most MAX_PRODUCT_CODES."""
    codes = []
    for rec in records:
        for field in ("name", "uninstall_string", "quiet_uninstall_string"):
            value = rec.get(field)
            for code in PRODUCT_CODE_RE.findall(value) if isinstance(value, str) else ():
                code = code.upper()
                if code not in codes and len(codes) < MAX_PRODUCT_CODES:
                    codes.append(code)
    return codes


# Folders under the profiles directory that are not accounts (an orphaned profile is any other folder
# holding an NTUSER.DAT that ProfileList does not name).
NOT_PROFILES = frozenset(n.casefold() for n in ("Default", "Default User", "Public", "All Users", "defaultuser0"))


class MissingLibrary(Exception):
    """regipy is not importable on the node that scans the image."""


def missing_library_message():
    return ("scanning an offline Windows image needs the Python library regipy on the node that reads the "
            "image (the one running the collect module, usually the controller through delegate_to: localhost): "
            "install it there for the Python that runs the module, e.g. 'python3 -m pip install %s' (import error: %s)"
            % (REGIPY_REQUIREMENT, REGIPY_IMPORT_ERROR))


# -- registry values ---------------------------------------------------------------------------------
def _text(value):
    """A registry value as text, or None (odd types tolerated: numbers become text, binary UTF-16 is decoded)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, bytes):
        if len(value) % 2:
            return None
        try:
            value = value.decode("utf-16-le").rstrip("\0")
        except UnicodeDecodeError:
            return None
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v), None)
    if not isinstance(value, str) or len(value) > MAX_TEXT:
        return None
    return value


def _flag(value):
    """A DWORD flag (1 = true); a REG_SZ "1"/"0" is tolerated. None when absent or unreadable."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return value.strip() == "1"
    return None


def _dword(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None


class Hive(object):
    """One registry hive file read with regipy; every method returns plain data and never raises
    for a missing key (``None``); parse errors propagate as exceptions for the caller to report.

    ``budget`` (the collector's ``Budget``) is checked at every subkey and value list and told when a key
    is cut at ``MAX_SUBKEYS`` or ``MAX_VALUES``; ``warnings`` gets a line for each cut key."""

    def __init__(self, hive, budget=None, warnings=None, label="hive"):
        self.hive = hive
        self.budget = budget if budget is not None else Budget()
        self.warnings = warnings if warnings is not None else []
        self.label = label
        header = hive.header
        self.dirty = header.primary_sequence_num != header.secondary_sequence_num

    def key(self, path):
        key = self.hive.root
        for part in path.split("\\"):
            if not part:
                continue
            if not key.subkey_count:
                return None
            key = key.get_subkey(part, raise_on_missing=False)
            if key is None:
                return None
        return key

    def _cut(self, key, limit, what):
        msg = ("registry hive %s: key %s has more than %d %s: only the first %d were read"
               % (quote(self.label), quote(getattr(key, "name", "?")), limit, what, limit))
        if msg not in self.warnings:
            self.warnings.append(msg)
        self.budget.partial(msg)

    def subkeys(self, key):
        out = []
        if key is None or not key.subkey_count:
            return out
        for sub in key.iter_subkeys():
            self.budget.check()
            if len(out) >= MAX_SUBKEYS:
                self._cut(key, MAX_SUBKEYS, "subkeys")
                break
            out.append(sub)
        return out

    def values(self, key):
        """``{name.casefold(): (name, value)}`` of a key (the first of equal names wins)."""
        out = {}
        if key is None or not key.values_count:
            return out
        self.budget.check()
        values = list(itertools.islice(key.iter_values(as_json=False, trim_values=False), MAX_VALUES + 1))
        if len(values) > MAX_VALUES:
            self._cut(key, MAX_VALUES, "values")
        for value in values[:MAX_VALUES]:
            name = value.name if isinstance(value.name, str) else ""
            out.setdefault(name.casefold(), (name, value.value))
        return out

    def value(self, path, name):
        return self.values(self.key(path)).get(name.casefold(), (None, None))[1]


def _hive_problem(fs, warnings, msg):
    """A hive the current source needs could not be used: a warning, and the source is incomplete."""
    warnings.append(msg)
    fs.budget.partial(msg)


def open_hive(fs, vpath, what, warnings):
    """Open the hive file at the (already case-resolved) virtual path, inside root; None on failure."""
    try:
        fd = fs.open_regular(vpath)
    except NotRegularFile:
        _hive_problem(fs, warnings, "registry hive %s is not a regular file (%s are incomplete)" % (quote(vpath), what))
        return None
    except OSError as exc:
        _hive_problem(fs, warnings, "cannot read the registry hive %s: %s (%s are incomplete)"
                      % (quote(vpath), safe_text(exc.strerror or str(exc)), what))
        return None
    try:
        st = os.fstat(fd)
        if st.st_size > MAX_HIVE_BYTES:
            _hive_problem(fs, warnings, "registry hive %s is larger than %d bytes, not read (%s are incomplete)"
                          % (quote(vpath), MAX_HIVE_BYTES, what))
            return None
        if st.st_size < 8192:
            _hive_problem(fs, warnings, "registry hive %s is truncated (%d bytes) (%s are incomplete)"
                          % (quote(vpath), st.st_size, what))
            return None
        # regipy opens a path: hand it this very file (already checked: regular, inside root, not a
        # link), not the name, which the image could swap in between.
        try:
            hive = Hive(RegistryHive("/dev/fd/%d" % fd), fs.budget, warnings, vpath)
        except Exception as exc:  # pylint: disable=broad-except
            _hive_problem(fs, warnings, "cannot parse the registry hive %s: %s: %s (%s are incomplete)"
                          % (quote(vpath), type(exc).__name__, safe_text(str(exc))[:200], what))
            return None
        size = hive.hive.header.hive_bins_data_size
        if 4096 + size > st.st_size:
            _hive_problem(fs, warnings, "registry hive %s is truncated: %d bytes of hive bins announced, %d present "
                          "(%s are incomplete)" % (quote(vpath), size, st.st_size - 4096, what))
            return None
        if hive.dirty:
            warnings.append("registry hive %s was not cleanly written (its transaction logs are not applied): "
                            "recent changes may be missing" % quote(vpath))
        return hive
    finally:
        os.close(fd)


# -- paths ---------------------------------------------------------------------------------------
def ci_path(fs, vpath):
    """The virtual path of ``vpath`` with each component matched case-insensitively, or None.

    Components keep the names found on disk; links are followed inside root (``RootFS``).
    """
    cur = ""
    for comp in [c for c in vpath.split("/") if c]:
        if comp in (".", ".."):
            return None
        parent = fs.try_resolve(cur or "/")
        if parent is None:
            return None
        base = parent.rstrip("/")
        try:
            os.lstat(fs.real(base + "/" + comp))
            name = comp
        except OSError:
            folded = comp.casefold()
            names = [n for n, dummy in fs.listdir(parent) if n.casefold() == folded]
            if not names:
                return None
            name = names[0]
        cur = cur + "/" + name
    return cur or "/"


def windows_to_virtual(path, drive):
    """``C:\\Users\\alice`` -> ``/Users/alice`` when on ``drive``; None for other drives, relative
    paths, ``.``/``..`` components or empty components."""
    if not isinstance(path, str) or len(path) < 3 or path[1:3] != ":\\":
        return None
    if path[:2].casefold() != drive.casefold():
        return None
    parts = path[3:].split("\\")
    if parts and parts[-1] == "":
        parts.pop()
    if any(p in ("", ".", "..") for p in parts) or any("/" in p or "\0" in p for p in parts):
        return None
    return "/" + "/".join(parts)


def _expand(value, env):
    """Expand %VAR% from ``env`` (case-insensitive names); unknown variables stay."""
    folded = dict((k.casefold(), v) for k, v in env.items())

    def repl(match):
        return folded.get(match.group(1).casefold(), match.group(0))
    return re.sub(r"%([^%\\]+)%", repl, value)


class Collector(object):

    def __init__(self, root, query, users=None, sources=None, source_timeout=DEFAULT_SOURCE_TIMEOUT):
        if not HAS_REGIPY:
            raise MissingLibrary(missing_library_message())
        self.fs = RootFS(root, budget=Budget(source_timeout))
        self.q = query if isinstance(query, CompiledQuery) else compile_query(query)
        self.only_users = None if users is None else set(u.casefold() for u in users if isinstance(u, str))
        self.warnings = list(self.q.warnings)
        self.wanted = [s for s in SOURCES if self._wants(s) and (sources is None or s in sources)]
        for s in sources or []:
            if s not in SOURCES:
                self.warnings.append("unknown source %s ignored (known: %s)" % (s, ", ".join(SOURCES)))
        self.available = {}
        self.counts = {}
        self.records = {}
        self.users = []
        self.drive = "C:"
        self.env = {}

    def _wants(self, source):
        return self.q.wants(source)

    def _match(self, source, name):
        return self.q.match(source, name)

    # -- environment ---------------------------------------------------------------------------------
    def environment(self, software):
        """Standard locations of the image, from the SOFTWARE hive when it names them on the system drive."""
        system_root = None
        if software is not None:
            system_root = _text(software.value("Microsoft\\Windows NT\\CurrentVersion", "SystemRoot"))
        if system_root and len(system_root) >= 3 and system_root[1:3] == ":\\" and windows_to_virtual(system_root, system_root[:2]):
            self.drive = system_root[:2].upper()
        else:
            system_root = "C:\\Windows"
        env = {"SystemDrive": self.drive, "SystemRoot": system_root, "windir": system_root}
        defaults = {"ProgramFiles": "%s\\Program Files" % self.drive,
                    "ProgramFiles(x86)": "%s\\Program Files (x86)" % self.drive,
                    "ProgramW6432": "%s\\Program Files" % self.drive,
                    "ProgramData": "%s\\ProgramData" % self.drive}
        found = {}
        if software is not None:
            current = software.values(software.key("Microsoft\\Windows\\CurrentVersion"))
            for var, value_name in (("ProgramFiles", "ProgramFilesDir"), ("ProgramFiles(x86)", "ProgramFilesDir (x86)"),
                                    ("ProgramW6432", "ProgramW6432Dir")):
                found[var] = _text(current.get(value_name.casefold(), (None, None))[1])
            found["ProgramData"] = _text(software.value(PROFILE_LIST, "ProgramData"))
        for var, default in defaults.items():
            value = found.get(var)
            if value:
                value = _expand(value, env)
            if not value or windows_to_virtual(value, self.drive) is None:
                value = default
            env[var] = value
        self.env = env
        return env

    # -- users ---------------------------------------------------------------------------------------
    def profiles(self, software):
        """Selected users from ProfileList: ``{name, sid, home, vhome, hive_loaded}``."""
        out = []
        seen = set()
        key = software.key(PROFILE_LIST) if software is not None else None
        for sub in software.subkeys(key) if software is not None else ():
            sid = sub.name
            if not USER_SID_RE.match(sid):
                continue
            raw = _text(software.values(sub).get("profileimagepath", (None, None))[1])
            if not raw:
                self.warnings.append("profile %s has no ProfileImagePath; its per-user sources are not examined" % quote(sid))
                continue
            home = _expand(raw, self.env)
            name = home.rstrip("\\").rsplit("\\", 1)[-1]
            if self.only_users is not None and name.casefold() not in self.only_users:
                continue
            vhome = windows_to_virtual(home, self.drive)
            if vhome is None or vhome == "/":
                self.warnings.append("profile %s of %s (%s) is not a directory on the system drive %s of the image; "
                                     "its per-user sources are not examined" % (quote(name), quote(sid), quote(home), self.drive))
                continue
            if name.casefold() in seen:
                continue
            seen.add(name.casefold())
            resolved = ci_path(self.fs, vhome)
            if resolved is None or not self.fs.isdir(resolved):
                self.warnings.append("profile directory %s of %s not found in the image; its per-user sources are "
                                     "not examined" % (quote(home), quote(name)))
                continue
            out.append({"name": name, "sid": sid, "home": home, "vhome": resolved, "hive_loaded": False})
        out.extend(self.orphaned_profiles(software, out, seen))
        return out

    def orphaned_profiles(self, software, listed, seen):
        """Profile folders with an ``NTUSER.DAT`` that ProfileList does not name (the account was deleted and
        its folder left): scanned as users without a SID, ``orphaned: true``, with a warning."""
        raw = _text(software.value(PROFILE_LIST, "ProfilesDirectory")) if software is not None else None
        base = _expand(raw, self.env) if raw else "%s\\Users" % self.drive
        vbase = windows_to_virtual(base, self.drive)
        vbase = ci_path(self.fs, vbase) if vbase else None
        if vbase is None:
            return []
        homes = set(u["vhome"].casefold() for u in listed)
        out = []
        for folder, kind in self.fs.listdir(vbase, what="profile folders"):
            if kind != "dir" or folder.casefold() in NOT_PROFILES or folder.startswith("."):
                continue
            vhome = vbase.rstrip("/") + "/" + folder
            if vhome.casefold() in homes or ci_path(self.fs, vhome + "/NTUSER.DAT") is None:
                continue
            name = safe_text(folder)
            if self.only_users is not None and name.casefold() not in self.only_users:
                continue
            if name.casefold() in seen:
                continue
            seen.add(name.casefold())
            home = base.rstrip("\\") + "\\" + name
            self.warnings.append("profile folder %s has an NTUSER.DAT but no ProfileList entry (the account was "
                                 "probably deleted): scanned as user %s without a SID" % (quote(home), quote(name)))
            out.append({"name": name, "sid": None, "home": home, "vhome": vhome, "hive_loaded": False,
                        "orphaned": True})
        return out

    def user_env(self, user):
        home = user["home"].rstrip("\\")
        return {"USERPROFILE": home, "LocalAppData": home + "\\AppData\\Local", "AppData": home + "\\AppData\\Roaming"}

    # -- registry ------------------------------------------------------------------------------------
    def uninstall_records(self, hive, base, hive_label, scope, sid=None, key_prefix=""):
        records, count = [], 0
        for view, path in UNINSTALL_VIEWS:
            full = base + path if not base else base + "\\" + path
            key = hive.key(full)
            for sub in hive.subkeys(key):
                count += 1
                name = sub.name
                if not self._match("registry", name):
                    continue
                values = hive.values(sub)
                rec = {"name": name, "scope": scope, "hive": hive_label, "view": view,
                       "path": "%s\\%s\\%s" % (key_prefix, full, name)}
                if sid:
                    rec["sid"] = sid
                for value_name, field in UNINSTALL_TEXT:
                    text = _text(values.get(value_name.casefold(), (None, None))[1])
                    if text is not None:
                        rec[field] = text
                for value_name, field in UNINSTALL_FLAGS:
                    rec[field] = bool(_flag(values.get(value_name.casefold(), (None, None))[1]))
                records.append(rec)
        return records, count

    def user_hives(self, selected):
        records, count = [], 0
        for user in selected:
            what = "per-user uninstall entries of %s" % user["name"]
            vpath = ci_path(self.fs, user["vhome"] + "/NTUSER.DAT")
            if vpath is None:
                self.warnings.append("%s\\NTUSER.DAT not found in the image (%s are not examined)" % (quote(user["home"]), what))
                continue
            hive = open_hive(self.fs, vpath, what, self.warnings)
            if hive is None:
                continue
            try:
                # An orphaned profile has no SID: its keys are named after the hive file.
                prefix = "HKU\\%s" % user["sid"] if user["sid"] else "%s\\NTUSER.DAT" % user["home"].rstrip("\\")
                recs, n = self.uninstall_records(hive, "Software", "HKU", "user:%s" % user["name"], sid=user["sid"],
                                                 key_prefix=prefix)
            except Exception as exc:  # pylint: disable=broad-except
                _hive_problem(self.fs, self.warnings, "cannot parse the registry hive %s: %s: %s (%s are incomplete)"
                              % (quote(vpath), type(exc).__name__, safe_text(str(exc))[:200], what))
                continue
            user["hive_loaded"] = True
            records.extend(recs)
            count += n
        return records, count

    def installer_products(self, software, records):
        """``{code: [registration]}`` from HKLM for the product codes the registry records name."""
        out = {}
        if software is None:
            return out
        userdata = [sub.name for sub in software.subkeys(software.key(INSTALLER_USERDATA))
                    if INSTALLER_SID_RE.match(sub.name)]
        for code in product_codes(records):
            found = []
            packed = packed_product_code(code)
            for sid in userdata:
                key = software.key("%s\\%s\\Products\\%s\\InstallProperties" % (INSTALLER_USERDATA, sid, packed))
                if key is not None:
                    found.append(self._registration({"source": "installer", "sid": sid}, software.values(key)))
            for view, path in UNINSTALL_VIEWS:
                key = software.key(path + "\\" + code)
                if key is not None:
                    found.append(self._registration({"source": "uninstall", "view": view}, software.values(key)))
            if found:
                out[code] = found
        return out

    @staticmethod
    def _registration(item, values):
        for value_name, field in REGISTRATION_TEXT:
            text = _text(values.get(value_name.casefold(), (None, None))[1])
            if text is not None:
                item[field] = text
        return item

    # -- appx ----------------------------------------------------------------------------------------
    def appx(self, software, selected):
        """One record per (family, scope): the main package of the highest version is ``package_full_name``."""
        found = {}      # (family, scope) -> {full names}
        provisioned = set()
        count = 0
        if software is not None:
            store = software.key(APPX_STORE)
            by_sid = dict((u["sid"].casefold(), u) for u in selected if u["sid"])
            for sub in software.subkeys(store):
                kind = sub.name
                if kind.casefold() in ("applications", "staged"):
                    scope = "machine"
                elif kind.casefold() in by_sid:
                    scope = "user:%s" % by_sid[kind.casefold()]["name"]
                else:
                    continue
                for pkg in software.subkeys(sub):
                    count += 1
                    found.setdefault(scope, set()).add(pkg.name)
                    if kind.casefold() == "applications":
                        provisioned.add(pkg.name.casefold())
        apps_dir = ci_path(self.fs, windows_to_virtual(self.env["ProgramFiles"], self.drive) + "/WindowsApps")
        on_disk = {}
        if apps_dir is not None:
            for name, kind in self.fs.listdir(apps_dir, what="AppX packages"):
                if kind != "dir":
                    continue
                count += 1
                found.setdefault("machine", set()).add(name)
                on_disk[name.casefold()] = name
        records = []
        for scope in sorted(found):
            families = {}
            for full in found[scope]:
                m = APPX_FULL_NAME_RE.match(full)
                if not m:
                    continue
                family = "%s_%s" % (m.group("name"), m.group("publisher"))
                if not self._match("appx", family):
                    continue
                families.setdefault(family, []).append((full, m))
            for family in sorted(families):
                items = families[family]

                def rank(item):
                    full, m = item
                    resource = m.group("resource")
                    kind = 2 if resource == "" else (1 if resource == "~" else 0)
                    return (kind, tuple(int(p) for p in m.group("version").split(".")), full)
                full, m = max(items, key=rank)
                rec = {"name": family, "package_full_name": full, "version": m.group("version"),
                       "architecture": m.group("arch"), "scope": scope,
                       "provisioned": scope == "machine" and any(f.casefold() in provisioned for f, dummy in items),
                       "package_full_names": sorted(f for f, dummy in items)}
                if full.casefold() in on_disk:
                    rec["install_location"] = "%s\\WindowsApps\\%s" % (self.env["ProgramFiles"], on_disk[full.casefold()])
                records.append(rec)
        return records, count

    # -- services ------------------------------------------------------------------------------------
    def services(self, system):
        current = _dword(system.value("Select", "Current"))
        if current is None or not 0 < current < 1000:
            self.warnings.append("SYSTEM hive: Select\\Current is missing; services are not examined")
            return False, [], 0
        control_set = "ControlSet%03d" % current
        key = system.key(control_set + "\\Services")
        if key is None:
            self.warnings.append("SYSTEM hive: %s\\Services is missing; services are not examined" % control_set)
            return False, [], 0
        records, count = [], 0
        for sub in system.subkeys(key):
            values = system.values(sub)
            stype = _dword(values.get("type", (None, None))[1])
            if stype is None or not stype & 0x30:
                continue   # drivers and keys that are not services
            count += 1
            if not self._match("service", sub.name):
                continue
            rec = {"name": sub.name, "scope": "machine", "service_type": stype,
                   "registry_path": "HKLM\\SYSTEM\\%s\\Services\\%s" % (control_set, sub.name)}
            display = _text(values.get("displayname", (None, None))[1])
            if display is not None:
                rec["display_name"] = display
            image = _text(values.get("imagepath", (None, None))[1])
            if image is not None:
                rec["path"] = image
            start = _dword(values.get("start", (None, None))[1])
            if start in START_MODES:
                rec["start_mode"] = START_MODES[start]
            records.append(rec)
        return True, records, count

    # -- npm global packages ---------------------------------------------------------------------------
    def npm(self, selected):
        """Packages in ``%ProgramFiles%\\nodejs\\node_modules`` and each user's ``%AppData%\\npm\\node_modules``."""
        targets = [(self.env["ProgramFiles"] + "\\" + WINDOWS_MACHINE_DIR, "machine")]
        targets += [(self.user_env(u)["AppData"] + "\\" + WINDOWS_USER_DIR, "user:%s" % u["name"]) for u in selected]
        records, count, found = [], 0, False
        for path, scope in targets:
            vdir = windows_to_virtual(path, self.drive)
            vdir = ci_path(self.fs, vdir) if vdir else None
            if vdir is None or not self.fs.isdir(vdir):
                continue
            found = True
            shown = self.drive + "".join("\\" + c for c in vdir.split("/") if c)
            count += node_modules_records(self.fs, self.q.sources["npm"], vdir, shown, scope, records, sep="\\")
        return found, records, count

    # -- files ---------------------------------------------------------------------------------------
    def path_records(self, patterns, selected):
        records, count = [], 0
        machine_vars = dict((k.casefold(), v) for k, v in self.env.items() if isinstance(v, str))
        for pattern in patterns:
            if not isinstance(pattern, str) or "/" in pattern or "\\" not in pattern:
                self.warnings.append("file: path %s ignored (not a Windows path)" % quote(pattern))
                continue
            head, rest = pattern.split("\\", 1)
            var = head[1:-1].casefold() if head.startswith("%") and head.endswith("%") and len(head) > 2 else None
            targets = []   # (scope, windows base)
            if var in ("localappdata", "appdata", "userprofile"):
                for user in selected:
                    targets.append(("user:%s" % user["name"], self.user_env(user)[
                        {"localappdata": "LocalAppData", "appdata": "AppData", "userprofile": "USERPROFILE"}[var]]))
            elif var is not None:
                if var not in machine_vars or var == "systemdrive":
                    self.warnings.append("file: path %s ignored (unknown variable %s)" % (quote(pattern), quote(head)))
                    continue
                targets.append(("machine", machine_vars[var]))
            elif DRIVE_RE.match(head):
                targets.append(("machine", head))
            else:
                self.warnings.append("file: path %s ignored (not absolute and no known variable)" % quote(pattern))
                continue
            parts = rest.split("\\")
            if any(p in ("", ".", "..") for p in parts):
                self.warnings.append("file: path %s ignored (empty, '.' or '..' component)" % quote(pattern))
                continue
            for scope, base in targets:
                count += 1
                records.extend(self._check_path(pattern, head, parts, scope, base))
        return records, count

    def _check_path(self, pattern, head, parts, scope, base):
        if len(base) == 2:
            vbase = "/" if base.casefold() == self.drive.casefold() else None
        else:
            vbase = windows_to_virtual(base, self.drive)
        if vbase is None:
            return []
        vdir = ci_path(self.fs, "/".join([vbase.rstrip("/")] + parts[:-1]) or "/")
        if vdir is None:
            return []
        rdir = self.fs.try_resolve(vdir)
        if rdir is None:
            return []
        last = parts[-1]
        glob = any(c in last for c in "*?[")
        if glob:
            rx = re.compile(fnmatch.translate(last), re.IGNORECASE)
            names = [n for n, dummy in self.fs.listdir(rdir) if rx.match(n)]
        else:
            try:
                os.lstat(self.fs.real(rdir.rstrip("/") + "/" + last))
                names = [last]
            except OSError:
                names = [n for n, dummy in self.fs.listdir(rdir) if n.casefold() == last.casefold()][:1]
        out = []
        prefix = "\\".join([head] + parts[:-1])
        # The Windows path as found on disk (names in their on-disk case).
        shown_dir = self.drive + "".join("\\" + c for c in vdir.split("/") if c)
        for name in sorted(names):
            st = self.fs.lstat(rdir.rstrip("/") + "/" + name)
            if st is None:
                continue
            # What was checked, in the catalog's form; a glob reports the name it matched.
            shown = prefix + "\\" + name if glob else pattern
            rec = {"name": shown, "path": shown, "real_path": shown_dir + "\\" + name, "scope": scope,
                   "type": "link" if stat.S_ISLNK(st.st_mode) else "dir" if stat.S_ISDIR(st.st_mode)
                   else "file" if stat.S_ISREG(st.st_mode) else "other"}
            if rec["type"] == "link":
                target = self.fs.readlink(rdir.rstrip("/") + "/" + name)
                if target is not None:
                    rec["target"] = safe_text(target)
            out.append(rec)
        return out

    # -- all -----------------------------------------------------------------------------------------
    def run(self):
        software_v = ci_path(self.fs, SOFTWARE_HIVE)
        software = None
        if software_v is None:
            self.warnings.append("%s not found under %s: machine-wide sources are not examined"
                                 % (SOFTWARE_HIVE.replace("/", "\\"), quote(self.fs.root)))
        else:
            software = open_hive(self.fs, software_v, "machine-wide uninstall entries, profiles and AppX packages",
                                 self.warnings)
        if software is None:
            for source in ("registry", "appx"):
                if source in self.wanted:
                    self.fs.budget.partial("the SOFTWARE hive could not be read", source)
        self.environment(software)
        selected = []
        try:
            selected = self.profiles(software)
        except Exception as exc:  # pylint: disable=broad-except
            msg = "ProfileList: collector error, users are incomplete: %s: %s" % (type(exc).__name__, exc)
            self.warnings.append(msg)
            for source in ("registry", "appx", "file"):
                if source in self.wanted:
                    self.fs.budget.partial(msg, source)
        for source in self.wanted:
            self.fs.budget.begin(source)
            try:
                ok, recs, n = self._source(source, software, selected)
            except SourceTimeout:
                self.warnings.append("%s: %s: records from this source are incomplete"
                                     % (source, self.fs.budget.incomplete.get(source)))
                ok, recs, n = False, [], 0
            except Exception as exc:  # pylint: disable=broad-except  # one source must never stop the others
                msg = ("%s: collector error, records from this source are incomplete: %s: %s"
                       % (source, type(exc).__name__, safe_text(str(exc))[:200]))
                self.warnings.append(msg)
                self.fs.budget.partial(msg)
                ok, recs, n = False, [], 0
            finally:
                self.fs.budget.end()
            self.available[source] = ok
            self.records[source] = recs
            self.counts[source] = n
        installer = {}
        if self.records.get("registry"):
            try:
                installer = self.installer_products(software, self.records["registry"])
            except Exception as exc:  # pylint: disable=broad-except
                self.warnings.append("Windows Installer registrations: collector error, MSI product codes cannot be "
                                     "proven: %s: %s" % (type(exc).__name__, safe_text(str(exc))[:200]))
        fact_v = ci_path(self.fs, WINDOWS_IMAGE_FACT)
        local_fact, fact_warnings = read_local_fact(self.fs, fact_v, WINDOWS_FACT) if fact_v else (None, [])
        self.warnings.extend(fact_warnings)
        self.warnings.extend(w for w in self.fs.warnings if w not in self.warnings)
        env = dict(self.env)
        env["users"] = dict((u["name"], self.user_env(u)) for u in selected)
        return {
            "os": "windows",
            "root": self.fs.root,
            "collector_version": COLLECTOR_VERSION,
            "available": self.available,
            "incomplete": dict(self.fs.budget.incomplete),
            "counts": self.counts,
            "users": [dict({"name": u["name"], "sid": u["sid"], "home": u["home"], "hive_loaded": u["hive_loaded"]},
                           **({"orphaned": True} if u.get("orphaned") else {})) for u in selected],
            "records": self.records,
            "environment": env,
            "installer_products": installer,
            "tools": {},
            "reboot_required": False,
            "local_fact": local_fact,
            "warnings": self.warnings,
        }

    def _source(self, source, software, selected):
        if source == "registry":
            recs, n = [], 0
            if software is not None:
                recs, n = self.uninstall_records(software, "", "HKLM", "machine", key_prefix="HKLM\\SOFTWARE")
            urecs, un = self.user_hives(selected)
            return software is not None, recs + urecs, n + un
        if source == "appx":
            recs, n = self.appx(software, selected)
            return software is not None, recs, n
        if source == "service":
            system_v = ci_path(self.fs, SYSTEM_HIVE)
            system = None
            if system_v is None:
                self.warnings.append("%s not found: services are not examined" % SYSTEM_HIVE.replace("/", "\\"))
            else:
                system = open_hive(self.fs, system_v, "services", self.warnings)
            if system is None:
                return False, [], 0
            return self.services(system)
        if source == "npm":
            return self.npm(selected)
        if source == "process":
            self.warnings.append("process: not examined, %s is an offline Windows image (nothing runs in it)"
                                 % quote(self.fs.root))
            return False, [], 0
        recs, n = self.path_records(self.q.paths_for(source), selected)
        return True, recs, n


def collect_windows_image(root, query, users=None, sources=None, source_timeout=DEFAULT_SOURCE_TIMEOUT):
    """Collect the records ``query`` (the ``windows`` part of the collector query) asks for from the
    Windows image mounted at ``root``; see the module docstring. Raises MissingLibrary without regipy."""
    return Collector(root, query, users=users, sources=sources, source_timeout=source_timeout).run()
