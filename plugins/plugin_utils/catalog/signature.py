# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: signature grammar of the catalog and compiled signature matchers.

A signature is a mapping of conditions on one record of one source; all must hold:
``<field>: text`` (equality; case-insensitive for Windows sources) and ``<field>_regex: pattern``
(``re.fullmatch``). See docs/design.md.
"""

import fnmatch
import re

PLATFORMS = ("linux", "windows", "macos")

# Fields each (platform, source) record may be tested on. ``name`` and ``path`` identify;
# the others only qualify.
SOURCE_FIELDS = {
    "linux": {
        "dpkg": ("name", "arch"),
        "rpm": ("name", "arch", "vendor"),
        "packages": ("name",),
        "flatpak": ("name",),
        "snap": ("name",),
        "appimage": ("name", "path"),
        "file": ("path",),
        "desktop": ("name", "exec"),
        "service": ("name",),
        "process": ("name", "exe"),
        "npm": ("name", "path"),
    },
    "windows": {
        "registry": ("name", "display_name", "publisher"),
        "appx": ("name",),
        "service": ("name", "path"),
        "process": ("name", "exe"),
        "file": ("path",),
        "npm": ("name", "path"),
    },
    "macos": {
        "bundle": ("name", "path", "team_id"),
        "pkg-receipt": ("name",),
        "launchd": ("name",),
        "cask": ("name",),
        "sysext": ("name", "team_id"),
        "process": ("name", "exe"),
        "file": ("path",),
        "npm": ("name", "path"),
    },
}

# Catalog shorthands: a signature under the key is used for each of these sources.
SOURCE_ALIASES = {("linux", "packages"): ("dpkg", "rpm")}

# ``name`` and ``path`` identify. The collector's pre-filter works on names (docs/design.md), so every source
# but ``file`` must be identified by ``name`` or ``name_regex``; ``path`` may only qualify there.

# Sources whose identifiers are case-insensitive on the host.
CASE_INSENSITIVE_PLATFORMS = frozenset(["windows"])

EXTRA_KEYS = frozenset(["note", "min_version", "max_version"])

WINDOWS_PATH_VARIABLES = (
    "%ProgramFiles%", "%ProgramFiles(x86)%", "%ProgramData%", "%LocalAppData%", "%AppData%",
    "%SystemRoot%", "%ProgramW6432%",
)


class SignatureError(ValueError):
    """A signature does not follow the grammar. ``field`` names the offending key."""

    def __init__(self, message, field=None):
        super(SignatureError, self).__init__(message)
        self.field = field


def expand_sources(platform, source):
    """Return the record sources a catalog key stands for."""
    return SOURCE_ALIASES.get((platform, source), (source,))


def _check_path(platform, path):
    if platform == "windows":
        if not re.match(r"^[A-Za-z]:\\", path):
            for var in WINDOWS_PATH_VARIABLES:
                if path.lower().startswith(var.lower() + "\\"):
                    break
            else:
                raise SignatureError(
                    "path %r must be absolute (C:\\...) or start with one of %s"
                    % (path, ", ".join(WINDOWS_PATH_VARIABLES)), "path")
        if "/" in path:
            raise SignatureError("path %r: use '\\' as the separator of Windows paths" % path, "path")
        parts = path.split("\\")
    else:
        if not (path.startswith("/") or path.startswith("~/")):
            raise SignatureError("path %r must be absolute or start with '~/' (every user's home)" % path, "path")
        parts = path.split("/")[1:]
    if any(p in (".", "..") for p in parts):
        raise SignatureError("path %r must not contain '.' or '..' components" % path, "path")
    if any(p == "" for p in parts):
        # '/', '~/', '//x' or a trailing separator would name a home, the root or nothing at all.
        raise SignatureError("path %r has an empty component" % path, "path")
    for part in parts[:-1]:
        if any(c in part for c in "*?["):
            raise SignatureError("path %r: globs are allowed in the last component only" % path, "path")


class Signature:
    """One compiled signature of one catalog entry for one platform and catalog source key."""

    __slots__ = ("platform", "source", "equals", "regexes", "raw", "casefold", "file_home", "file_regex")

    def __init__(self, platform, source, spec):
        if platform not in SOURCE_FIELDS:
            raise SignatureError("unknown platform %r (expected one of %s)" % (platform, ", ".join(PLATFORMS)))
        fields = SOURCE_FIELDS[platform].get(source)
        if fields is None:
            raise SignatureError("unknown source %r for %s (expected one of %s)"
                                 % (source, platform, ", ".join(sorted(SOURCE_FIELDS[platform]))))
        if not isinstance(spec, dict):
            raise SignatureError("a signature must be a mapping of conditions, got %s" % type(spec).__name__)
        self.platform = platform
        self.source = source
        self.raw = spec
        self.casefold = platform in CASE_INSENSITIVE_PLATFORMS
        self.equals = []
        self.regexes = []
        self.file_home = False
        self.file_regex = None
        identifies = False
        for key in spec:
            if not isinstance(key, str):
                raise SignatureError("field names must be strings, got %r" % (key,), str(key))
        for key in sorted(spec):
            value = spec[key]
            if key in EXTRA_KEYS:
                if not isinstance(value, str):
                    raise SignatureError("%s must be a string" % key, key)
                continue
            field, is_regex = (key[:-6], True) if key.endswith("_regex") else (key, False)
            if field not in fields:
                allowed = ", ".join(sorted(list(fields) + [f + "_regex" for f in fields] + list(EXTRA_KEYS)))
                raise SignatureError("unknown field %r for source %s/%s (allowed: %s)" % (key, platform, source, allowed), key)
            if not isinstance(value, str) or not value:
                raise SignatureError("%s must be a non-empty string" % key, key)
            if field == ("path" if source == "file" else "name"):
                identifies = True
            if is_regex:
                try:
                    compiled = re.compile(value)
                except (re.error, OverflowError, RecursionError) as exc:
                    raise SignatureError("%s is not a valid regular expression: %s" % (key, exc), key)
                if compiled.fullmatch(""):
                    raise SignatureError("%s matches the empty string, which would match anything" % key, key)
                self.regexes.append((field, compiled))
            else:
                if field == "path" and source == "file":
                    _check_path(platform, value)
                self.equals.append((field, value.casefold() if self.casefold else value))
        if not identifies:
            if source == "file":
                raise SignatureError("a file signature needs path (it must identify something)")
            raise SignatureError("a signature needs name or name_regex (it must identify something; "
                                 "other fields only qualify)")
        if source == "file" and (self.regexes or [f for f, dummy in self.equals if f != "path"]):
            raise SignatureError("file signatures take a single 'path' (with optional globs in the last component)", "path")
        if source == "file":
            self._compile_file_path(spec["path"])

    def _compile_file_path(self, path):
        sep = "\\" if self.platform == "windows" else "/"
        if path.startswith("~/"):
            self.file_home = True
            path = path[2:]
        head, dummy, last = path.rpartition(sep)
        last_re = fnmatch.translate(last)
        # fnmatch's '*' crosses separators; a glob stays inside the last component.
        last_re = "(?=[^%s]*\\Z)%s" % (re.escape(sep), last_re)
        prefix = re.escape(head + sep) if head or path.startswith(sep) else ""
        flags = re.IGNORECASE if self.casefold else 0
        self.file_regex = re.compile(prefix + last_re, flags)

    def matches(self, record, homes=None):
        """True when every condition holds on ``record`` (a dict of strings).

        ``homes`` maps user names to home directories; ``~/`` file signatures need it.
        """
        if self.file_regex is not None:
            return self._matches_file(record, homes or {})
        for field, expected in self.equals:
            value = record.get(field)
            if not isinstance(value, str):
                return False
            if self.casefold:
                value = value.casefold()
            if value != expected:
                return False
        for field, pattern in self.regexes:
            value = record.get(field)
            if not isinstance(value, str) or pattern.fullmatch(value) is None:
                return False
        return True

    def _matches_file(self, record, homes):
        path = record.get("path")
        if not isinstance(path, str):
            return False
        if self.file_home:
            scope = record.get("scope")
            if not isinstance(scope, str) or not scope.startswith("user:"):
                return False
            home = homes.get(scope[5:])
            if not isinstance(home, str) or not home.startswith("/"):
                return False
            home = home.rstrip("/") + "/"
            if not path.startswith(home):
                return False
            path = path[len(home):]
        return self.file_regex.match(path) is not None

    def describe(self):
        return ", ".join("%s=%s" % (k, self.raw[k]) for k in sorted(self.raw) if k not in EXTRA_KEYS)
