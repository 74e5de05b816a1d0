# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""File based sources on Linux: AppImages, ``file`` signatures and ``.desktop`` entries.

Nothing here walks a tree: each source lists a few fixed directories (bounded by ``RootFS``).

AppImages (``appimage``): files named ``*.AppImage`` (case-insensitive) in ``/opt`` and ``/opt/*``
(depth 2), ``/usr/local/bin`` and, per user, ``~/Applications``, ``~/AppImages``, ``~/.local/bin``,
``~/bin``, ``~/Desktop``, ``~/Downloads`` (depth 1), that ARE AppImages by content: an ELF file with
the AppImage magic (``AI\x01``/``AI\x02`` at offset 8) or a type-1 AppImage (ELF and ISO 9660). A
name alone, or a link, is not the software. ``/usr/bin`` is left to the package managers.

Per-user files are the user's own, and nothing a user links to makes root look outside them: a
per-user directory that resolves outside the user's home is not examined (a warning says so), a link
whose target leaves the user's home is ignored, and a link that stays inside it is reported as
``type: link`` with its resolved ``target`` (both are the user's files). Machine directories are
root's: links in them are followed inside root.

Files (``file``, and the remediation pseudo-sources ``data`` and ``leftover``): each query path (absolute, or ``~/`` for every selected user's home) is checked
with ``lstat`` inside root; links in the parents are followed inside root, the last component is
never followed (a link is reported as ``type: link`` with its ``target``). The last component may
contain ``*``, ``?`` or ``[...]`` globs, matched against a bounded listing of the parent directory.
``/``, ``~/`` and paths with ``.`` or ``..`` components are ignored with a warning.

Desktop entries (``desktop``): ``*.desktop`` files in ``/usr/share/applications``,
``/usr/local/share/applications``, ``/var/lib/flatpak/exports/share/applications``,
``/var/lib/snapd/desktop/applications`` and ``~/.local/share/applications``,
``~/.local/share/flatpak/exports/share/applications``. ``name`` is the file id (base name); ``exec``
and ``display_name`` are the ``Exec=`` and ``Name=`` keys of the ``[Desktop Entry]`` group, read
only for files whose name passes the query.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import re
import stat

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import quote, safe_text, vjoin

APPIMAGE_MACHINE_DIRS = ("/usr/local/bin",)
APPIMAGE_OPT = "/opt"
APPIMAGE_USER_DIRS = ("Applications", "AppImages", ".local/bin", "bin", "Desktop", "Downloads")
DESKTOP_MACHINE_DIRS = ("/usr/share/applications", "/usr/local/share/applications",
                        "/var/lib/flatpak/exports/share/applications",
                        "/var/lib/snapd/desktop/applications")
DESKTOP_USER_DIRS = (".local/share/applications", ".local/share/flatpak/exports/share/applications")
MAX_DESKTOP_BYTES = 256 * 1024
_GLOB_CHARS = re.compile(r"[*?\[]")


def _kind(st):
    mode = st.st_mode
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "other"


# -- per-user trees ------------------------------------------------------------------------------
def within(vpath, vdir):
    """True when the resolved virtual path ``vpath`` is ``vdir`` or lies below it."""
    return vpath == vdir or vpath.startswith(vdir.rstrip("/") + "/")


def user_dir(fs, user, rel, what):
    """The resolved virtual directory ``~/rel`` of ``user``, or None when it is missing or leads outside
    the user's home (a warning then says that it was not examined)."""
    vdir = vjoin(user["vhome"], rel)
    real = fs.try_resolve(vdir, what=what)
    if real is None:
        return None
    if not within(real, user["vhome"]):
        fs.warnings.append("%s of %s leads outside their home (to %s): not examined (%s)"
                           % (quote(vjoin(user["rhome"], rel)), quote(user["name"]), quote(real), what))
        return None
    return real


def entry_target(fs, vdir, name, kind, home):
    """The resolved virtual path of the entry ``name`` of the resolved directory ``vdir``; a link is
    followed inside root, and inside ``home`` when one is given (None when it leaves it)."""
    vpath = vjoin(vdir, name)
    if kind != "link":
        return vpath
    target = fs.try_resolve(vpath)
    if target is None or (home is not None and not within(target, home)):
        return None
    return target


# -- AppImages ---------------------------------------------------------------------------------
ELF_MAGIC = b"\x7fELF"
APPIMAGE_MAGICS = (b"AI\x01", b"AI\x02")
ISO9660_MAGIC = b"CD001"
ISO9660_OFFSET = 0x8001
APPIMAGE_HEAD = 16


def is_appimage(head):
    """True for the first bytes of an AppImage: ELF with the AppImage magic at offset 8 (types 1 and 2),
    or ELF whose bytes at 0x8001 are the ISO 9660 signature (type 1 without the magic)."""
    if head[:4] != ELF_MAGIC:
        return False
    if head[8:11] in APPIMAGE_MAGICS:
        return True
    return head[ISO9660_OFFSET:ISO9660_OFFSET + len(ISO9660_MAGIC)] == ISO9660_MAGIC


def _appimage_content(fs, vpath):
    """True when the regular file ``vpath`` is an AppImage by content (bounded reads)."""
    head, dummy = fs.read_bytes(vpath, APPIMAGE_HEAD, what="AppImages")
    if head is None or head[:4] != ELF_MAGIC:
        return False
    if head[8:11] in APPIMAGE_MAGICS:
        return True
    head, dummy = fs.read_bytes(vpath, ISO9660_OFFSET + len(ISO9660_MAGIC), what="AppImages")
    return head is not None and is_appimage(head)


def _appimages_in(fs, vdir, shown_dir, scope, query, records, counter, home=None):
    """AppImages in the resolved directory ``vdir``; ``home`` (resolved) for a user's directory."""
    for name, kind in fs.listdir(vdir, what="AppImages"):
        if not name.lower().endswith(".appimage") or kind == "dir":
            continue
        target = entry_target(fs, vdir, name, kind, home)
        if target is None:
            continue   # a dangling link, or a user's link that leaves their home: not the software
        st = fs.stat(target)
        if st is None or not stat.S_ISREG(st.st_mode):
            continue  # a directory or a device named *.AppImage
        counter[0] += 1
        text = safe_text(name)
        if not query.match(text) or not _appimage_content(fs, target):
            continue
        rec = {"name": text, "scope": scope, "path": safe_text(vjoin(shown_dir, name)), "size": st.st_size,
               "type": "link" if kind == "link" else "file"}
        if kind == "link":
            rec["link"] = True
            rec["target"] = safe_text(target)
        records.append(rec)


def list_appimages(fs, query, users):
    """Return ``(available, records, examined)``."""
    records = []
    counter = [0]
    for d in APPIMAGE_MACHINE_DIRS:
        _appimages_in(fs, d, d, "machine", query, records, counter)
    _appimages_in(fs, APPIMAGE_OPT, APPIMAGE_OPT, "machine", query, records, counter)
    for name, kind in fs.listdir(APPIMAGE_OPT, what="AppImages"):
        if kind in ("dir", "link"):
            sub = vjoin(APPIMAGE_OPT, name)
            if kind == "dir" or fs.isdir(sub):
                _appimages_in(fs, sub, sub, "machine", query, records, counter)
    for user in users:
        for rel in APPIMAGE_USER_DIRS:
            vdir = user_dir(fs, user, rel, "AppImages")
            if vdir is not None:
                _appimages_in(fs, vdir, vjoin(user["rhome"], rel), "user:" + user["name"], query, records, counter,
                              home=user["vhome"])
    return True, records, counter[0]


# -- file signatures -----------------------------------------------------------------------------
def _file_record(fs, vpath, shown, scope, st):
    rec = {"name": safe_text(shown), "path": safe_text(shown), "scope": scope, "type": _kind(st)}
    if rec["type"] == "link":
        target = fs.readlink(vpath)
        if target is not None:
            rec["target"] = safe_text(target)
    return rec


def _check_path(fs, vpath, shown, scope, records):
    """Append records for ``vpath`` (whose last component may be a glob); return checks made."""
    parent, dummy, last = vpath.rstrip("/").rpartition("/")
    sparent = shown.rstrip("/").rpartition("/")[0]
    if not _GLOB_CHARS.search(last):
        st = fs.lstat(vpath)
        if st is not None:
            records.append(_file_record(fs, vpath, shown, scope, st))
        return 1
    pattern = re.compile(fnmatch.translate(last))
    n = 0
    for name, _kind_unused in fs.listdir(parent or "/", what="file checks"):
        n += 1
        if not pattern.match(name):
            continue
        child = vjoin(parent, name)
        st = fs.lstat(child)
        if st is not None:
            records.append(_file_record(fs, child, vjoin(sparent, name), scope, st))
    return n


def _bad_components(path):
    """True for a path naming the root or a home directory itself, or with ``.``/``..`` components."""
    comps = path[2:].split("/") if path.startswith("~/") else path.split("/")[1:]
    comps = [c for c in comps if c]
    return not comps or any(c in (".", "..") for c in comps)


def list_files(fs, paths, users):
    """Return ``(available, records, examined)`` for the query's ``file`` (or ``data``, ``leftover``) paths."""
    records = []
    examined = 0
    for path in paths:
        if path.startswith(("~/", "/")) and _bad_components(path):
            fs.warnings.append("file path %s names the root or a home directory itself or contains . or ..: "
                               "ignored" % quote(path))
        elif path.startswith("~/"):
            rel = path[2:]
            for user in users:
                examined += _check_path(fs, vjoin(user["vhome"], rel), vjoin(user["rhome"], rel),
                                        "user:" + user["name"], records)
        elif path.startswith("/"):
            examined += _check_path(fs, path, path, "machine", records)
        else:
            fs.warnings.append("file path %s is neither absolute nor ~/: ignored" % quote(path))
    return True, records, examined


# -- desktop entries ---------------------------------------------------------------------------
def parse_desktop(data):
    """``{"exec": ..., "display_name": ...}`` from the ``[Desktop Entry]`` group of ``data``."""
    out = {}
    in_group = False
    for raw in data.decode("utf-8", "backslashreplace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            if in_group:
                break
            in_group = line == "[Desktop Entry]"
            continue
        if not in_group or "=" not in line:
            continue
        key, value = line.split("=", 1)
        key = key.strip()
        if key == "Exec" and "exec" not in out:
            out["exec"] = value.strip()[:4096]
        elif key == "Name" and "display_name" not in out:
            out["display_name"] = value.strip()[:1024]
    return out


def _desktop_in(fs, vdir, shown_dir, scope, query, records, counter, home=None):
    for name, kind in fs.listdir(vdir, what="desktop entries"):
        if not name.endswith(".desktop") or kind == "dir":
            continue
        counter[0] += 1
        text = safe_text(name)
        if not query.match(text):
            continue
        target = entry_target(fs, vdir, name, kind, home)
        if target is None:
            continue   # a dangling link, or a user's link that leaves their home: not a launcher of theirs
        data, dummy = fs.read_bytes(target, MAX_DESKTOP_BYTES, what="desktop entry")
        if data is None:
            continue
        rec = {"name": text, "scope": scope, "path": safe_text(vjoin(shown_dir, name)),
               "type": "link" if kind == "link" else "file"}
        if kind == "link":
            rec["target"] = safe_text(target)
        rec.update(parse_desktop(data))
        records.append(rec)


def list_desktop(fs, query, users):
    """Return ``(available, records, examined)``."""
    records = []
    counter = [0]
    for d in DESKTOP_MACHINE_DIRS:
        _desktop_in(fs, d, d, "machine", query, records, counter)
    for user in users:
        for rel in DESKTOP_USER_DIRS:
            vdir = user_dir(fs, user, rel, "desktop entries")
            if vdir is not None:
                _desktop_in(fs, vdir, vjoin(user["rhome"], rel), "user:" + user["name"], query, records, counter,
                            home=user["vhome"])
    return True, records, counter[0]
