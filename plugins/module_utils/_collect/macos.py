# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The macOS collector: one call gathers the records the query asks for (docs/design.md, Records).

``collect_macos(root, query, run_command, users=None, sources=None, source_timeout=60)`` scans a running Mac
(``root == "/"``) or a macOS system volume mounted at ``root`` and returns::

    {"os": "macos", "root": "/", "collector_version": "1", "os_version": "14.5",
     "available": {"applications": bool, "receipts": bool, "launchd": bool, "homebrew": bool,
                   "sysext_db": bool, "ps": bool},   # only for the sources examined
     "incomplete": {"bundle": "..."},                 # sources read only in part (as on Linux)
     "counts": {"bundle": 143, ...},                  # items examined per source, matching or not
     "users": [{"name", "uid", "gid", "home"}],       # uid/gid absent when unknown
     "records": {"bundle": [...], ...},               # only records passing the query
     "tools": {"launchctl": "/bin/launchctl", ...},   # live scans only, else {}
     "reboot_required": False,                        # macOS has no standard "reboot needed" flag
     "warnings": [...]}

Every file is read through ``RootFS`` (chroot semantics for symbolic links, size caps, bounded
listings), so a hostile image cannot make this code read outside ``root``. Property lists are
parsed with ``plistlib`` (XML and binary), at most ``MAX_PLIST_BYTES`` each (``MAX_DSLOCAL_BYTES``
for user records); XML with entity declarations, UTF-16 XML, integers of more than
``MAX_INTEGER_DIGITS`` digits (Python's int() of a long decimal text is quadratic before 3.11),
oversized and malformed plists are warnings, an oversized one also makes its source incomplete
(it may hide an identifier). Lists read from a plist are cut at ``MAX_PLIST_ITEMS`` items (the source is
then incomplete). Each source runs on a time budget, as on Linux (``module_utils/_collect/budget.py``); ``ps`` and
``codesign`` are not interrupted (macOS has no ``timeout`` in a system directory), the budget is
checked between them.

Users: the directories ``/Users/*`` (not ``Shared``, ``Guest``, ``Deleted Users`` or hidden names)
plus ``root`` (home ``/var/root``, uid 0, gid 0). Name, uid and gid come from the local directory
node (``/private/var/db/dslocal/nodes/Default/users/*.plist``, arrays ``name``, ``uid``, ``gid``,
``home``) for the record whose ``home`` is that directory; when the node cannot be read and the scan
is live, from ``pwd``; otherwise the name is the directory name and uid/gid are omitted.

Sources (``scope`` is ``machine`` or ``user:<name>``):

* ``bundle``: ``*.app`` in ``/Applications`` and every user's ``~/Applications``, and in their
  sub-folders one level down (``/Applications/Utilities``, ``/Applications/Kaspersky Lab``); links are
  followed inside root, sub-folders that are links are not entered; ``/System/Applications`` is not
  examined (Apple's own). ``name`` = ``CFBundleIdentifier`` of ``Contents/Info.plist`` (iOS apps on
  Apple silicon: ``WrappedBundle/Info.plist``, ``wrapped: true``), ``version`` =
  ``CFBundleShortVersionString`` (else ``CFBundleVersion``), ``display_name`` (``CFBundleDisplayName``
  else ``CFBundleName``), ``path``. Live scans only, and only for bundles that passed the pre-filter:
  ``team_id`` from ``codesign -dv --verbose=2 <app>`` (``TeamIdentifier=``); codesign is not run on a
  bundle whose Info.plist, main executable or resource seal is not a regular file (``codesign_blocker``).
* ``pkg-receipt``: ``/var/db/receipts/*.plist`` (``name`` = ``PackageIdentifier``, else the file name
  without ``.plist``; ``version`` = ``PackageVersion``; ``install_prefix`` = ``InstallPrefixPath``),
  ``*.bom`` there without a ``.plist`` twin (``name`` from the file name), and the legacy
  ``/Library/Receipts``: ``*.plist`` likewise and ``*.pkg`` bundles (``Contents/Info.plist``
  ``CFBundleIdentifier``, else the name without ``.pkg``).
* ``launchd``: ``*.plist`` in ``/Library/LaunchDaemons`` (``domain: system``), ``/Library/LaunchAgents``
  and each user's ``~/Library/LaunchAgents`` (``domain: gui``): ``name`` = ``Label`` (else the file
  name without ``.plist``, with ``label_missing: true``), ``program`` (``Program`` or
  ``ProgramArguments[0]``), ``disabled`` when the plist says so, ``path``.
* ``cask``: Homebrew casks ``/opt/homebrew/Caskroom/<token>`` and ``/usr/local/Caskroom/<token>``:
  ``name`` = token, ``version`` = the version directory (the highest when several), ``versions``,
  ``prefix`` (the Homebrew prefix), ``uid`` (owner of the token directory: brew runs as that user).
* ``sysext``: the ``extensions`` of ``/Library/SystemExtensions/db.plist`` (``name`` = ``identifier``,
  ``team_id`` = ``teamID``, ``state``, ``origin_path`` = ``originPath``, ``version``, ``path`` = the
  staged ``.systemextension`` bundle, else the db.plist); without a db.plist, the bundles
  ``/Library/SystemExtensions/<uuid>/*.systemextension`` (``Contents/Info.plist``). Also the legacy
  kernel extensions ``/Library/Extensions/*.kext`` (``kind: kext``; Kaspersky's ``com.kaspersky.kext.*``
  and ``com.kaspersky.nke*``). ``team_id`` of bundles without db data: ``codesign``, live only.
* ``process`` (live only): ``ps -axo pid=,uid=,comm=`` (on macOS ``comm`` is the executable path):
  ``name`` = base name, ``exe`` = ``path`` = the path when absolute, ``comm``, ``uid``, ``user``,
  ``pid``/``pids`` (same name, exe and uid grouped). Nothing runs in an image: a warning says so.
* ``file``, ``data``, ``leftover``: exactly as on Linux (``linux_files.list_files``, OS-neutral).
* ``npm``: globally installed npm packages, as on Linux (``module_utils/_collect/npm.py``:
  ``/opt/homebrew/lib/node_modules``,
  ``/usr/local/lib/node_modules``, per-user prefixes and nvm).

``tools`` (live): absolute paths of launchctl, pkgutil, osascript, systemextensionsctl, profiles,
codesign and brew found in ``TOOL_DIRS`` (first wins, except brew: ``/opt/homebrew/bin`` first).

``local_fact``: the drift state of ``/etc/ansible/facts.d/banned_software.fact`` under ``root``, as on
Linux (``module_utils/_collect/local_fact.py``).

A Data volume mounted on its own (``Macintosh HD - Data``: ``private/var`` but no ``var`` link, which lives
on the System volume) scans the same as the whole volume: receipts, root's home and the local fact are read
under ``/private`` and reported with their usual paths (``/var/db/receipts/...``); the result then has
``volume: data``. ``os_version`` is absent there (``SystemVersion.plist`` is on the System volume).

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import codecs
import os
import plistlib
import re
import stat

from urllib.parse import unquote

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.budget import (
    DEFAULT_SOURCE_TIMEOUT, Budget)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.loop import (
    guarded, list_path_source, not_examined_offline, source_query, timed_runner, wanted_sources,
)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.sources import (
    MACOS_SOURCES, PATH_QUERY_SOURCES)
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import (
    RootFS, file_kind, find_executables, quote, safe_text, vjoin,
)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import CompiledQuery, compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.local_fact import read_local_fact_file
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.run_state import read_run_state
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import POSIX_FACT, STATE_DIRS
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.npm import list_npm

try:
    import pwd
except ImportError:  # pragma: no cover
    pwd = None

COLLECTOR_VERSION = "1"
SOURCES = MACOS_SOURCES
MAX_PLIST_BYTES = 4 * 1024 * 1024
MAX_DSLOCAL_BYTES = 8 * 1024 * 1024
MAX_TEXT = 4096
MAX_INTEGER_DIGITS = 64
MAX_PLIST_ITEMS = 10000
ENV = {"LC_ALL": "C", "LANG": "C", "LANGUAGE": "C"}

SYSTEM_VERSION = "/System/Library/CoreServices/SystemVersion.plist"
DSLOCAL_USERS = "/private/var/db/dslocal/nodes/Default/users"
USERS_DIR = "/Users"
ROOT_HOME = "/var/root"
SKIP_USER_DIRS = frozenset(["Shared", "Guest", "Deleted Users"])
APPLICATIONS = "/Applications"
RECEIPTS = "/var/db/receipts"
LEGACY_RECEIPTS = "/Library/Receipts"
LAUNCH_DIRS = (("/Library/LaunchDaemons", "system"), ("/Library/LaunchAgents", "gui"))
USER_LAUNCH_AGENTS = "Library/LaunchAgents"
CASKROOMS = (("/opt/homebrew/Caskroom", "/opt/homebrew"), ("/usr/local/Caskroom", "/usr/local"))
SYSEXT_DIR = "/Library/SystemExtensions"
SYSEXT_DB = "/Library/SystemExtensions/db.plist"
KEXT_DIR = "/Library/Extensions"
PS_ARGV = ["/bin/ps", "-axo", "pid=,uid=,comm="]
CODESIGN = "/usr/bin/codesign"
TOOLS = ("launchctl", "pkgutil", "osascript", "systemextensionsctl", "profiles", "codesign", "brew")
TOOL_DIRS = ("/usr/bin", "/bin", "/usr/sbin", "/sbin", "/usr/local/bin", "/opt/homebrew/bin")
BREW_DIRS = ("/opt/homebrew/bin", "/usr/local/bin")
_TEAM_RE = re.compile(r"^TeamIdentifier=([A-Z0-9]{10})$", re.MULTILINE)
_NUM_RE = re.compile(r"(\d+)")
# Linear: the digits are counted up to a fixed bound, never backtracked over.
_BIG_INTEGER = re.compile(br"<integer>[ \t\r\n]*[-+]?[0-9]{%d}" % (MAX_INTEGER_DIGITS + 1))


def _text(value):
    """A plist string value as record text (None for anything else)."""
    if not isinstance(value, str):
        return None
    return value[:MAX_TEXT]


def _first(value):
    """First element of a dslocal attribute array (or the value itself)."""
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _int(value):
    value = _first(value)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.match(r"^-?\d{1,10}\Z", value.strip()):
        return int(value.strip())
    return None


def _stem(name, suffix):
    return name[:-len(suffix)] if name.lower().endswith(suffix) else name


def read_plist(fs, vpath, shown=None, what=None, max_bytes=MAX_PLIST_BYTES):
    """Parse the plist ``vpath`` (XML or binary) or return None; problems become warnings.

    A missing file is silent. A path that exists but is no readable regular file inside root (a
    link leading out of the image, a FIFO) and an oversized or malformed plist are warnings.
    """
    shown = quote(shown or vpath)
    suffix = (" (%s)" % what) if what else ""
    before = len(fs.warnings)
    data, truncated = fs.read_bytes(vpath, max_bytes, what=what)
    if data is None:
        if len(fs.warnings) == before:
            st = fs.lstat(vpath)
            if st is not None:
                fs.warnings.append("%s is not a readable regular file inside root: not read%s" % (shown, suffix))
        return None
    if truncated:
        msg = "%s is larger than %d bytes: not read%s" % (shown, max_bytes, suffix)
        fs.warnings.append(msg)
        fs.budget.partial(msg)
        return None
    if not data.startswith(b"bplist"):
        if data.startswith((codecs.BOM_UTF16_BE, codecs.BOM_UTF16_LE)):
            # UTF-16 XML: plistlib reads it, but the checks below are for UTF-8 (Apple writes UTF-8).
            fs.warnings.append("%s is not a UTF-8 property list: not read%s" % (shown, suffix))
            return None
        if b"<!ENTITY" in data:
            fs.warnings.append("%s declares XML entities: not read%s" % (shown, suffix))
            return None
        if _BIG_INTEGER.search(data):
            fs.warnings.append("%s has an integer of more than %d digits: not read%s"
                               % (shown, MAX_INTEGER_DIGITS, suffix))
            return None
    try:
        return plistlib.loads(data)
    except Exception as exc:  # pylint: disable=broad-except  # any parser error: the file is malformed
        fs.warnings.append("%s is not a valid property list (%s)%s" % (shown, type(exc).__name__, suffix))
        return None


# -- users -------------------------------------------------------------------------------------
def read_dslocal(fs):
    """``{home: {"name", "uid", "gid"}}`` from the local directory node, or None when unreadable."""
    if not fs.isdir(DSLOCAL_USERS):
        return None
    before = len(fs.warnings)
    listing = fs.listdir(DSLOCAL_USERS, what="local user ids unknown")
    if not listing and len(fs.warnings) > before:
        return None
    out = {}
    for name, kind in listing:
        # _daemon accounts have homes like /var/empty; only people (and root) have homes we scan.
        if not name.endswith(".plist") or name.startswith(("_", ".")) or kind == "dir":
            continue
        data = read_plist(fs, vjoin(DSLOCAL_USERS, name), what="local user record", max_bytes=MAX_DSLOCAL_BYTES)
        if not isinstance(data, dict):
            continue
        uname = _first(data.get("name"))
        home = _first(data.get("home"))
        if not isinstance(uname, str) or not isinstance(home, str) or not home.startswith("/"):
            continue
        home = home.rstrip("/") or "/"
        out.setdefault(home, {"name": uname, "uid": _int(data.get("uid")), "gid": _int(data.get("gid"))})
    return out


def _pwd_by_home():
    out = {}
    if pwd is None:
        return out
    try:
        entries = pwd.getpwall()
    except Exception:  # pylint: disable=broad-except
        return out
    for e in entries:
        if e.pw_dir and e.pw_dir.startswith("/") and not e.pw_name.startswith("_"):
            out.setdefault(e.pw_dir.rstrip("/") or "/", {"name": e.pw_name, "uid": e.pw_uid, "gid": e.pw_gid})
    return out


def data_volume_prefix(fs):
    """``/private`` when ``fs`` is a macOS Data volume mounted on its own, else "".

    The ``var -> private/var`` and ``etc -> private/etc`` links live on the System volume: a Data volume
    alone (``Macintosh HD - Data``) has ``private/var/db/receipts`` but no ``var``. It must scan the same
    as the whole volume, so the collector reads under ``/private`` there and reports the usual paths.
    """
    if fs.lstat("/var") is None and fs.isdir("/private/var"):
        return "/private"
    return ""


def list_users(fs, only=None, private=""):
    """Users to scan: ``[{"name", ["uid", "gid"], "home", "vhome", "rhome"}]`` (see module docstring)."""
    known = read_dslocal(fs)
    if known is None and fs.live:
        known = _pwd_by_home()
    known = known or {}
    if private and ROOT_HOME in known:
        known[private + ROOT_HOME] = known[ROOT_HOME]
    candidates = [(private + ROOT_HOME, "root")]
    for name, kind in fs.listdir(USERS_DIR, what="per-user sources are incomplete"):
        if name.startswith(".") or name in SKIP_USER_DIRS or kind not in ("dir", "link"):
            continue
        candidates.append((vjoin(USERS_DIR, name), name))
    wanted = set(only) if only else None
    users = []
    seen = set()
    for home, dirname in candidates:
        entry = known.get(home) or {}
        name = safe_text(entry.get("name") or dirname)
        if wanted is not None and name not in wanted:
            continue
        vhome = fs.try_resolve(home, what="per-user sources for %s are incomplete" % quote(name))
        if vhome is None or not fs.isdir(vhome):
            continue
        if vhome == "/":
            fs.warnings.append("home of %s (%s) resolves to the root directory: not scanned as a home"
                               % (quote(name), quote(home)))
            continue
        if vhome in seen:
            continue
        seen.add(vhome)
        if not os.access(fs.real(vhome), os.R_OK | os.X_OK):
            fs.warnings.append("cannot read %s: permission denied (per-user sources for %s are incomplete)"
                               % (quote(home), quote(name)))
        shown_home = home[len(private):] if private and home.startswith(private + "/") else home
        user = {"name": name, "home": safe_text(shown_home), "vhome": vhome, "rhome": shown_home}
        if name == "root" and shown_home == ROOT_HOME:
            entry = {"uid": 0, "gid": 0}
        for key in ("uid", "gid"):
            if isinstance(entry.get(key), int):
                user[key] = entry[key]
        users.append(user)
    if wanted:
        found = set(u["name"] for u in users)
        for name in sorted(wanted - found):
            fs.warnings.append("user %s was requested but has no scannable home under root" % quote(name))
    return users


# -- code signatures -----------------------------------------------------------------------------
def team_id(fs, vpath, run_command):
    """TeamIdentifier of the signed bundle ``vpath`` (``codesign -dv``), or None. Live scans only."""
    argv = [CODESIGN, "-dv", "--verbose=2", fs.real(vpath)]
    try:
        rc, out, err = run_command(argv, environ_update=dict(ENV), expand_user_and_vars=False)
    except Exception as exc:  # pylint: disable=broad-except
        fs.warnings.append("codesign could not run for %s: %s" % (quote(vpath), exc))
        return None
    text = "%s\n%s" % (out or "", err or "")
    found = _TEAM_RE.search(text)
    if rc != 0 and not found:
        first = (err or out or "").strip().splitlines()
        fs.warnings.append("codesign failed for %s (rc %s): %s (team_id unknown)"
                           % (quote(vpath), rc, quote(first[0][:200]) if first else "no output"))
    return found.group(1) if found else None


def codesign_blocker(fs, vapp, info):
    """Why ``codesign`` must not read the bundle ``vapp``, or None.

    codesign opens the bundle's Info.plist, main executable and resource seal by name: when one of them is a
    FIFO, device or socket (a user's bundle), it would block or run a driver, and nothing interrupts it on macOS.
    """
    exe = info.get("CFBundleExecutable") if isinstance(info, dict) else None
    parts = ["Contents/Info.plist", "Contents/_CodeSignature/CodeResources"]
    if isinstance(exe, str) and exe and "/" not in exe and exe not in (".", ".."):
        parts.append("Contents/MacOS/" + exe)
    for rel in parts:
        st = fs.stat(vjoin(vapp, rel))
        if st is not None and not stat.S_ISREG(st.st_mode):
            return "%s is not a regular file (%s)" % (rel, file_kind(st.st_mode))
    return None


# -- bundles -----------------------------------------------------------------------------------
def _info_plist(fs, vapp, shown_app):
    """``(info, wrapped)``: the bundle's Info.plist (macOS layout, or an iOS app's wrapped bundle)."""
    contents = vjoin(vapp, "Contents/Info.plist")
    if fs.lstat(contents) is not None or fs.lstat(vjoin(vapp, "WrappedBundle")) is None:
        return read_plist(fs, contents, vjoin(shown_app, "Contents/Info.plist"), "bundle skipped"), False
    return read_plist(fs, vjoin(vapp, "WrappedBundle/Info.plist"), vjoin(shown_app, "WrappedBundle/Info.plist"),
                      "bundle skipped"), True


def bundle_record(fs, vapp, shown_app, scope, query, counter, run_command, live, kind_name="bundle"):
    """Record of the bundle directory ``vapp`` when its identifier passes ``query``, else None."""
    st = fs.stat(vapp)
    if st is None or not stat.S_ISDIR(st.st_mode):
        return None
    counter[0] += 1
    info, wrapped = _info_plist(fs, vapp, shown_app)
    if info is None:
        if not fs.exists(vjoin(vapp, "Contents/Info.plist")) and not fs.exists(vjoin(vapp, "WrappedBundle")):
            fs.warnings.append("%s has no Contents/Info.plist: %s skipped" % (quote(shown_app), kind_name))
        return None
    if not isinstance(info, dict):
        fs.warnings.append("%s: Info.plist is not a dictionary: %s skipped" % (quote(shown_app), kind_name))
        return None
    bid = info.get("CFBundleIdentifier")
    if not isinstance(bid, str) or not bid:
        fs.warnings.append("%s has no CFBundleIdentifier: %s skipped" % (quote(shown_app), kind_name))
        return None
    if not query.match(bid):
        return None
    rec = {"name": bid[:MAX_TEXT], "scope": scope, "path": safe_text(shown_app)}
    version = _text(info.get("CFBundleShortVersionString")) or _text(info.get("CFBundleVersion"))
    if version:
        rec["version"] = version
    display = _text(info.get("CFBundleDisplayName")) or _text(info.get("CFBundleName"))
    if display:
        rec["display_name"] = display
    if wrapped:
        rec["wrapped"] = True
    st_link = fs.lstat(vapp)
    if st_link is not None and stat.S_ISLNK(st_link.st_mode):
        rec["link"] = True
    if live:
        blocker = codesign_blocker(fs, vapp, info)
        tid = None
        if blocker:
            fs.warnings.append("%s: %s: codesign not run (team_id unknown)" % (quote(shown_app), blocker))
        else:
            tid = team_id(fs, vapp, run_command)
        if tid:
            rec["team_id"] = tid
    return rec


def _bundles_in(fs, vdir, shown_dir, scope, query, records, counter, run_command, live, depth):
    for name, kind in fs.listdir(vdir, what="application bundles"):
        if name.startswith("."):
            continue
        if name.lower().endswith(".app"):
            rec = bundle_record(fs, vjoin(vdir, name), vjoin(shown_dir, name), scope, query, counter,
                                run_command, live)
            if rec is not None:
                records.append(rec)
        elif kind == "dir" and depth > 0:
            _bundles_in(fs, vjoin(vdir, name), vjoin(shown_dir, name), scope, query, records, counter,
                        run_command, live, depth - 1)


def list_bundles(fs, query, users, run_command, live):
    """Return ``(available, records, examined)`` for application bundles."""
    records = []
    counter = [0]
    available = fs.isdir(APPLICATIONS)
    _bundles_in(fs, APPLICATIONS, APPLICATIONS, "machine", query, records, counter, run_command, live, 1)
    for user in users:
        _bundles_in(fs, vjoin(user["vhome"], "Applications"), vjoin(user["rhome"], "Applications"),
                    "user:" + user["name"], query, records, counter, run_command, live, 1)
    return available, records, counter[0]


# -- package receipts ----------------------------------------------------------------------------
def _receipt_plist(fs, vdir, name, query, records, shown_dir=None):
    vpath = vjoin(vdir, name)
    shown = vjoin(shown_dir or vdir, name)
    data = read_plist(fs, vpath, shown, what="package receipt")
    ident = data.get("PackageIdentifier") if isinstance(data, dict) else None
    if not isinstance(ident, str) or not ident:
        ident = _stem(name, ".plist")
    if not query.match(ident):
        return
    rec = {"name": safe_text(ident)[:MAX_TEXT], "scope": "machine", "path": safe_text(shown)}
    if isinstance(data, dict):
        for key, field in (("PackageVersion", "version"), ("InstallPrefixPath", "install_prefix"),
                           ("PackageFileName", "package_file")):
            value = _text(data.get(key))
            if value is not None:
                rec[field] = value
    records.append(rec)


def list_receipts(fs, query, private=""):
    """Return ``(available, records, examined)`` for installer package receipts.

    ``private`` is ``/private`` on a Data volume mounted alone (``data_volume_prefix``): the receipts are
    read there and reported under their usual path ``/var/db/receipts``.
    """
    records = []
    examined = 0
    vreceipts = private + RECEIPTS
    listing = fs.listdir(vreceipts, what="package receipts")
    names = set(n for n, dummy in listing)
    for name, kind in listing:
        if kind == "dir":
            continue
        if name.endswith(".plist"):
            examined += 1
            _receipt_plist(fs, vreceipts, name, query, records, RECEIPTS)
        elif name.endswith(".bom") and _stem(name, ".bom") + ".plist" not in names:
            examined += 1
            ident = _stem(name, ".bom")
            if query.match(ident):
                records.append({"name": safe_text(ident), "scope": "machine", "path": safe_text(vjoin(RECEIPTS, name))})
    for name, kind in fs.listdir(LEGACY_RECEIPTS, what="legacy package receipts"):
        if name.endswith(".plist") and name != "InstallHistory.plist" and kind != "dir":
            examined += 1
            _receipt_plist(fs, LEGACY_RECEIPTS, name, query, records)
        elif name.lower().endswith(".pkg") and kind in ("dir", "link"):
            examined += 1
            vpath = vjoin(LEGACY_RECEIPTS, name)
            info = read_plist(fs, vjoin(vpath, "Contents/Info.plist"), what="package receipt")
            ident = info.get("CFBundleIdentifier") if isinstance(info, dict) else None
            if not isinstance(ident, str) or not ident:
                ident = _stem(name, ".pkg")
            if query.match(ident):
                rec = {"name": safe_text(ident)[:MAX_TEXT], "scope": "machine", "path": safe_text(vpath)}
                version = _text(info.get("CFBundleShortVersionString")) if isinstance(info, dict) else None
                if version:
                    rec["version"] = version
                records.append(rec)
    return fs.isdir(vreceipts), records, examined


# -- launchd -----------------------------------------------------------------------------------
def _launchd_in(fs, vdir, shown_dir, scope, domain, query, records, counter):
    for name, kind in fs.listdir(vdir, what="launchd jobs"):
        if not name.endswith(".plist") or kind == "dir":
            continue
        counter[0] += 1
        vpath = vjoin(vdir, name)
        data = read_plist(fs, vpath, vjoin(shown_dir, name), what="launchd job")
        label = data.get("Label") if isinstance(data, dict) else None
        missing = not isinstance(label, str) or not label
        if missing:
            label = _stem(name, ".plist")
        if not query.match(label):
            continue
        rec = {"name": safe_text(label)[:MAX_TEXT], "scope": scope, "path": safe_text(vjoin(shown_dir, name)),
               "domain": domain}
        if missing:
            rec["label_missing"] = True
        if isinstance(data, dict):
            program = _text(data.get("Program"))
            args = data.get("ProgramArguments")
            if program is None and isinstance(args, list) and args:
                program = _text(args[0])
            if program is not None:
                rec["program"] = program
            if isinstance(data.get("Disabled"), bool):
                rec["disabled"] = data["Disabled"]
        records.append(rec)


def list_launchd(fs, query, users):
    """Return ``(available, records, examined)`` for launchd daemons and agents."""
    records = []
    counter = [0]
    for vdir, domain in LAUNCH_DIRS:
        _launchd_in(fs, vdir, vdir, "machine", domain, query, records, counter)
    for user in users:
        _launchd_in(fs, vjoin(user["vhome"], USER_LAUNCH_AGENTS), vjoin(user["rhome"], USER_LAUNCH_AGENTS),
                    "user:" + user["name"], "gui", query, records, counter)
    return True, records, counter[0]


# -- Homebrew casks ----------------------------------------------------------------------------
def _version_key(text):
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in _NUM_RE.split(text) if p]


def list_casks(fs, query):
    """Return ``(available, records, examined)`` for Homebrew casks."""
    records = []
    examined = 0
    available = False
    for caskroom, prefix in CASKROOMS:
        if not fs.isdir(caskroom):
            continue
        available = True
        for token, kind in fs.listdir(caskroom, what="Homebrew casks"):
            if token.startswith(".") or kind not in ("dir", "link"):
                continue
            examined += 1
            if not query.match(token):
                continue
            vpath = vjoin(caskroom, token)
            versions = sorted((safe_text(v) for v, k in fs.listdir(vpath, what="Homebrew cask versions")
                               if not v.startswith(".") and k in ("dir", "link")), key=_version_key)
            rec = {"name": safe_text(token), "scope": "machine", "path": safe_text(vpath), "prefix": prefix}
            if versions:
                rec["version"] = versions[-1]
                rec["versions"] = versions
            st = fs.stat(vpath)
            if st is not None:
                rec["uid"] = st.st_uid
            records.append(rec)
    return available, records, examined


# -- system and kernel extensions ----------------------------------------------------------------
def _staged_path(ext):
    """The virtual path of the staged extension bundle from ``stagedBundleURL``, or None."""
    url = ext.get("stagedBundleURL")
    if isinstance(url, dict):
        url = url.get("relative")
    if not isinstance(url, str) or not url.startswith("file://"):
        return None
    path = unquote(url[len("file://"):]).rstrip("/")
    comps = path.split("/")
    if not path.startswith(SYSEXT_DIR + "/") or any(c in ("", ".", "..") for c in comps[1:]):
        return None
    return path


def _sysext_db(fs, data, query, records):
    exts = data.get("extensions") if isinstance(data, dict) else None
    if not isinstance(exts, list):
        fs.warnings.append("%s has no extensions list: system extensions are incomplete" % SYSEXT_DB)
        return 0
    examined = 0
    if len(exts) > MAX_PLIST_ITEMS:
        msg = ("%s lists more than %d extensions: only the first %d were examined"
               % (SYSEXT_DB, MAX_PLIST_ITEMS, MAX_PLIST_ITEMS))
        fs.warnings.append(msg)
        fs.budget.partial(msg)
    for ext in exts[:MAX_PLIST_ITEMS]:
        fs.tick()
        if not isinstance(ext, dict):
            continue
        ident = ext.get("identifier")
        if not isinstance(ident, str) or not ident:
            continue
        examined += 1
        if not query.match(ident):
            continue
        rec = {"name": ident[:MAX_TEXT], "scope": "machine", "path": _staged_path(ext) or SYSEXT_DB,
               "kind": "system_extension"}
        for key, field in (("teamID", "team_id"), ("state", "state"), ("originPath", "origin_path")):
            value = _text(ext.get(key))
            if value is not None:
                rec[field] = value
        bv = ext.get("bundleVersion")
        if isinstance(bv, dict):
            version = _text(bv.get("CFBundleShortVersionString")) or _text(bv.get("CFBundleVersion"))
            if version:
                rec["version"] = version
        records.append(rec)
    return examined


def list_sysext(fs, query, run_command, live):
    """Return ``(available, records, examined)`` for system extensions and legacy kexts."""
    records = []
    counter = [0]
    data = read_plist(fs, SYSEXT_DB, what="system extensions are incomplete")
    available = data is not None
    if data is not None:
        counter[0] += _sysext_db(fs, data, query, records)
    else:
        for uuid, kind in fs.listdir(SYSEXT_DIR, what="system extensions"):
            if kind != "dir":
                continue
            vdir = vjoin(SYSEXT_DIR, uuid)
            for name, kind2 in fs.listdir(vdir, what="system extensions"):
                if name.endswith(".systemextension") and kind2 == "dir":
                    rec = bundle_record(fs, vjoin(vdir, name), vjoin(vdir, name), "machine", query, counter,
                                        run_command, live, "system extension")
                    if rec is not None:
                        rec["kind"] = "system_extension"
                        records.append(rec)
    for name, kind in fs.listdir(KEXT_DIR, what="kernel extensions"):
        if name.endswith(".kext") and kind in ("dir", "link"):
            rec = bundle_record(fs, vjoin(KEXT_DIR, name), vjoin(KEXT_DIR, name), "machine", query, counter,
                                run_command, live, "kernel extension")
            if rec is not None:
                rec["kind"] = "kext"
                records.append(rec)
    return available, records, counter[0]


# -- processes ---------------------------------------------------------------------------------
def _uid_name(uid, users):
    for u in users:
        if u.get("uid") == uid:
            return u["name"]
    if pwd is not None:
        try:
            return safe_text(pwd.getpwuid(uid).pw_name)
        except (KeyError, OverflowError):
            return None
    return None


def parse_ps_line(line):
    """``(pid, uid, comm)`` of one ``ps -axo pid=,uid=,comm=`` line, or None (split, not a regular
    expression: a path full of spaces costs one pass)."""
    parts = line.split(None, 2)
    if len(parts) != 3 or not parts[0].isdecimal() or not parts[1].isdecimal():
        return None
    comm = parts[2].rstrip()
    if not comm:
        return None
    return int(parts[0]), int(parts[1]), comm


def list_processes(fs, query, run_command, users):
    """Return ``(available, records, examined)`` from ``ps`` (live scans only)."""
    try:
        rc, out, err = run_command(list(PS_ARGV), environ_update=dict(ENV), expand_user_and_vars=False)
    except Exception as exc:  # pylint: disable=broad-except
        fs.warnings.append("ps could not run: %s (processes were not examined)" % exc)
        return False, [], 0
    if rc != 0:
        fs.warnings.append("ps failed (rc %s): %s (processes were not examined)"
                           % (rc, quote((err or "").strip()[:200])))
        return False, [], 0
    groups = {}
    order = []
    examined = 0
    for line in (out or "").splitlines():
        parsed = parse_ps_line(line)
        if parsed is None:
            continue
        examined += 1
        pid, uid, comm = parsed
        name = comm.rsplit("/", 1)[-1] or comm
        exe = comm if comm.startswith("/") else None
        if not query.match_process(name, comm, exe):
            continue
        key = (name, exe, uid)
        rec = groups.get(key)
        if rec is None:
            rec = {"name": name, "scope": "machine", "pid": pid, "pids": [], "comm": comm, "uid": uid}
            if exe:
                rec["exe"] = exe
                rec["path"] = exe
            user = _uid_name(uid, users)
            if user is not None:
                rec["user"] = user
            groups[key] = rec
            order.append(key)
        rec["pids"].append(pid)
        rec["pid"] = min(rec["pids"])
    return True, [groups[k] for k in order], examined


# -- the collector -----------------------------------------------------------------------------
def find_tools(dirs=None):
    """``{name: path}`` of the ``TOOLS`` that are executable files in ``dirs`` (``TOOL_DIRS``; brew in ``BREW_DIRS``)."""
    if dirs is None:
        return find_executables(TOOLS, TOOL_DIRS, {"brew": BREW_DIRS})
    return find_executables(TOOLS, dirs)


def os_version(fs):
    data = read_plist(fs, SYSTEM_VERSION, what="macOS version unknown")
    return _text(data.get("ProductVersion")) if isinstance(data, dict) else None


def collect_macos(root, query, run_command, users=None, sources=None, live=None,
                  source_timeout=DEFAULT_SOURCE_TIMEOUT):
    """Collect the records ``query`` asks for under ``root``; see the module docstring.

    ``live`` (default: ``root == "/"``) says whether ``root`` is the running system: only then are
    processes listed, code signatures read with codesign and tools looked up.
    """
    fs = RootFS(root, budget=Budget(source_timeout))
    run_command = timed_runner(fs, run_command)
    live = fs.live if live is None else bool(live)
    q = query if isinstance(query, CompiledQuery) else compile_query(query)
    wanted, unknown = wanted_sources(q, SOURCES, sources)
    warnings = list(q.warnings) + unknown

    private = data_volume_prefix(fs)
    selected = list_users(fs, only=users, private=private)
    available = {}
    counts = {}
    records = {}

    for source in wanted:
        sq = source_query(q, source)
        if source == "bundle":
            ok, recs, n = guarded(fs, source, list_bundles, fs, sq, selected, run_command, live)
            available["applications"] = ok
        elif source == "pkg-receipt":
            ok, recs, n = guarded(fs, source, list_receipts, fs, sq, private)
            available["receipts"] = ok
        elif source == "launchd":
            ok, recs, n = guarded(fs, source, list_launchd, fs, sq, selected)
            available["launchd"] = ok
        elif source == "cask":
            ok, recs, n = guarded(fs, source, list_casks, fs, sq)
            available["homebrew"] = ok
        elif source == "sysext":
            ok, recs, n = guarded(fs, source, list_sysext, fs, sq, run_command, live)
            available["sysext_db"] = ok
        elif source in PATH_QUERY_SOURCES:
            ok, recs, n = list_path_source(fs, q, source, selected)
        elif source == "npm":
            ok, recs, n = guarded(fs, source, list_npm, fs, sq, selected)
            available["npm"] = ok
        else:  # process
            if live:
                ok, recs, n = guarded(fs, source, list_processes, fs, q, run_command, selected)
            else:
                ok, recs, n = not_examined_offline(fs, source)
            available["ps"] = ok
        records[source] = recs
        counts[source] = n

    version = os_version(fs)
    local_fact, fact_file, fact_warnings = read_local_fact_file(fs, private + POSIX_FACT, POSIX_FACT)
    run_state, run_warnings = read_run_state(STATE_DIRS["macos"]) if live else (None, [])
    warnings.extend(fs.warnings + fact_warnings + run_warnings)
    result = {
        "os": "macos",
        "root": fs.root,
        "collector_version": COLLECTOR_VERSION,
        "available": available,
        "incomplete": dict(fs.budget.incomplete),
        "counts": counts,
        "users": [dict((k, u[k]) for k in ("name", "uid", "gid", "home") if k in u) for u in selected],
        "records": records,
        "tools": find_tools() if live else {},
        # macOS has no standard "reboot needed" flag (unlike /run/reboot-required on Linux).
        "reboot_required": False,
        "local_fact": local_fact,
        "local_fact_file": fact_file,
        "run_state": run_state,
        "warnings": warnings,
    }
    if version:
        result["os_version"] = version
    if private:
        result["volume"] = "data"
    return result
