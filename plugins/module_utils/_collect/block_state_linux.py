# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The reinstall-block state of a Linux tree (``collect`` with ``block_state: true``). Reads only.

``read_block_state(fs, users, run_command)`` returns::

    {"files": {path: {"exists", "sha256", "content", "error"}},   # BLOCK_FILES, each read safely
     "apt": {"present": bool},
     "dnf": {"family": "dnf4" | "dnf5" | "yum" | "none", "dnf5": bool},
     "zypper": {"present", "path", "locks": [names] | None, "error"},
     "flatpak": {"present", "path", "version", "installations": [
         {"scope": "system" | "user:<name>", "path", "masked": [ids] | None, "error",
          "user": {"user", "uid", "gid", "home"}}]}}           # "user" for per-user installations

* A file is refused (``error``, no ``content``) when it or a directory above it is a symbolic link, when
  it is not a regular file, larger than ``MAX_FILE_BYTES`` or not UTF-8: the planner then changes nothing
  there. ``sha256`` is of the bytes read; the executor writes only while the file still has it.
* dnf family: ``dnf5`` when the ``dnf`` command is dnf 5 (it resolves to a ``dnf5`` file), ``dnf4`` when
  another ``dnf`` exists, ``yum`` when only ``yum`` does, else ``none``; ``dnf5`` is true when a dnf 5
  program is installed at all.
* zypper locks: the package locks of ``/etc/zypp/locks`` (``solvable_name`` of a ``type: package``
  lock without version, architecture or repository qualifier), the format ``zypper addlock`` writes.
* flatpak masks: the ``xa.masked`` key of ``[core]`` in ``<installation>/repo/config`` (what ``flatpak
  mask`` writes; ``;``-separated) of the system installation and of each scanned user's
  ``~/.local/share/flatpak``. The version comes from ``flatpak --version`` on a running system (None
  for an image).

Every path is read through RootFS, so ``root`` (an image) is honoured and never left.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import stat

from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import (
    APT_PREFERENCES_PATH, DNF_CONF_PATH, DNF_DROPIN_PATH, STATE_PATH,
)
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import quote, safe_text, vjoin

BLOCK_FILES = (APT_PREFERENCES_PATH, DNF_CONF_PATH, DNF_DROPIN_PATH, STATE_PATH)
MAX_FILE_BYTES = 256 * 1024
MAX_LOCKS_BYTES = 1024 * 1024
MAX_CONFIG_BYTES = 256 * 1024
BIN_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
ZYPP_LOCKS = "/etc/zypp/locks"
FLATPAK_SYSTEM = "/var/lib/flatpak"
FLATPAK_USER = ".local/share/flatpak"
LOCK_QUALIFIERS = ("version", "solvable_arch", "arch", "repo", "solvable_repo")


def _link_above(fs, vpath):
    """The first directory above ``vpath`` that is a symbolic link (or not a directory), else None."""
    walked = []
    for part in [p for p in vpath.split("/") if p][:-1]:
        walked.append(part)
        try:
            st = os.lstat(fs.real(list(walked)))
        except OSError:
            return None   # missing: nothing above is a link
        if not stat.S_ISDIR(st.st_mode):
            return "/" + "/".join(walked)
    return None


def read_file(fs, vpath, limit=MAX_FILE_BYTES):
    """``{"exists", "sha256", "content", "error"}`` of one file we own or edit (see the docstring)."""
    out = {"exists": False, "sha256": None, "content": None, "error": None}
    above = _link_above(fs, vpath)
    if above is not None:
        out["error"] = "a directory above it (%s) is a symbolic link or not a directory; refused" % quote(above)
        out["exists"] = True
        return out
    st = fs.lstat(vpath)
    if st is None:
        return out
    out["exists"] = True
    if stat.S_ISLNK(st.st_mode):
        out["error"] = "is a symbolic link; refused"
        return out
    if not stat.S_ISREG(st.st_mode):
        out["error"] = "is not a regular file; refused"
        return out
    data, truncated = fs.read_bytes(vpath, limit)
    if data is None:
        out["error"] = "cannot be read"
        return out
    if truncated:
        out["error"] = "is larger than %d bytes; refused" % limit
        return out
    out["sha256"] = hashlib.sha256(data).hexdigest()
    try:
        out["content"] = data.decode("utf-8")
    except UnicodeDecodeError:
        out["error"] = "is not UTF-8 text; refused"
    return out


def find_program(fs, name):
    """Virtual path of ``name`` in ``BIN_DIRS`` inside the tree (first wins), or None."""
    for directory in BIN_DIRS:
        vpath = "%s/%s" % (directory, name)
        if fs.isfile(vpath):
            return vpath
    return None


def dnf_family(fs):
    """``(family, dnf5 installed)`` (see the docstring)."""
    dnf5 = find_program(fs, "dnf5") is not None
    dnf = find_program(fs, "dnf")
    if dnf is not None:
        try:
            target = fs.resolve(dnf)
        except OSError:
            target = dnf
        if target.rsplit("/", 1)[-1].startswith("dnf5"):
            return "dnf5", True
        return "dnf4", dnf5
    if find_program(fs, "yum") is not None:
        return "yum", dnf5
    return "none", dnf5


def parse_zypp_locks(text):
    """Package names locked by name alone in the text of /etc/zypp/locks."""
    names = []
    for stanza in text.replace("\r\n", "\n").split("\n\n"):
        fields = {}
        for line in stanza.split("\n"):
            line = line.strip()
            if not line or line.startswith("#") or ":" not in line:
                continue
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
        name = fields.get("solvable_name")
        if not name or fields.get("type", "package") != "package":
            continue
        if any(fields.get(q) for q in LOCK_QUALIFIERS):
            continue
        if fields.get("match_type", "exact") not in ("exact", "glob") or "*" in name or "?" in name:
            continue
        if name not in names:
            names.append(name)
    return sorted(names)


def parse_masks(text):
    """The ``xa.masked`` ids of ``[core]`` in a flatpak repo config (``;``-separated)."""
    section = None
    masked = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            continue
        if section != "core" or "=" not in line or line.startswith(("#", ";")):
            continue
        key, value = line.split("=", 1)
        if key.strip() == "xa.masked":
            masked = [v.strip() for v in value.split(";") if v.strip()]
    return sorted(set(masked))


def _installation(fs, scope, vbase, shown, user=None):
    inst = {"scope": scope, "path": safe_text(shown), "masked": None, "error": None}
    if user is not None:
        inst["user"] = user
    config = vjoin(vbase, "repo", "config")
    if fs.lstat(config) is None:
        inst["masked"] = []   # no repository yet: nothing is masked
        return inst
    data, truncated = fs.read_bytes(config, MAX_CONFIG_BYTES)
    if data is None or truncated:
        inst["error"] = "%s cannot be read%s" % (quote(shown + "/repo/config"), " (too large)" if truncated else "")
        return inst
    inst["masked"] = parse_masks(data.decode("utf-8", "replace"))
    return inst


def flatpak_state(fs, users, run_command):
    program = find_program(fs, "flatpak")
    out = {"present": program is not None, "path": program, "version": None, "installations": []}
    if program is None:
        return out
    if fs.live:
        try:
            rc, stdout, dummy = run_command([program, "--version"])
            if rc == 0:
                out["version"] = safe_text(stdout).strip()[:64]
        except Exception:  # a broken flatpak must not stop the collector
            out["version"] = None
    if fs.isdir(FLATPAK_SYSTEM):
        out["installations"].append(_installation(fs, "system", FLATPAK_SYSTEM, FLATPAK_SYSTEM))
    for user in users:
        vbase = vjoin(user["vhome"], FLATPAK_USER)
        if fs.isdir(vbase):
            out["installations"].append(_installation(
                fs, "user:" + user["name"], vbase, vjoin(user["rhome"], FLATPAK_USER),
                {"user": user["name"], "uid": user["uid"], "gid": user["gid"], "home": user["home"]}))
    return out


def zypper_state(fs):
    program = find_program(fs, "zypper")
    out = {"present": program is not None, "path": program, "locks": None, "error": None}
    if program is None:
        return out
    if fs.lstat(ZYPP_LOCKS) is None:
        out["locks"] = []
        return out
    data, truncated = fs.read_bytes(ZYPP_LOCKS, MAX_LOCKS_BYTES)
    if data is None or truncated:
        out["error"] = "%s cannot be read%s" % (ZYPP_LOCKS, " (too large)" if truncated else "")
        return out
    out["locks"] = parse_zypp_locks(data.decode("utf-8", "replace"))
    return out


def read_block_state(fs, users, run_command):
    """The block state of the tree of ``fs`` (see the module docstring)."""
    family, dnf5 = dnf_family(fs)
    return {
        "files": dict((path, read_file(fs, path)) for path in BLOCK_FILES),
        "apt": {"present": find_program(fs, "apt-get") is not None},
        "dnf": {"family": family, "dnf5": dnf5},
        "zypper": zypper_state(fs),
        "flatpak": flatpak_state(fs, users, run_command),
    }
