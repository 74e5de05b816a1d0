# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Local users of a Linux tree, from ``<root>/etc/passwd`` (never NSS: the tree may be an image).

Selection (documented decision): every passwd user whose home directory

* is an absolute path other than ``/`` and ``/nonexistent``,
* resolves *inside root* (links are followed with chroot semantics, see ``_fs/rootfs.py``) to an
  existing directory that is not the root directory itself,

is scanned. Users sharing one resolved home directory are scanned once, under the first of them
in passwd order. System accounts with a real directory as home (``/var/www``, ``/bin``) are included:
per-user checks are a handful of ``lstat`` calls, and a banned program can be dropped anywhere.
``only`` restricts the selection to the named users. A home that cannot be listed (permission) is
kept and reported in a warning, because per-user results for it are incomplete.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import quote, safe_text

MAX_PASSWD_BYTES = 16 * 1024 * 1024
_NO_HOME = ("/", "/nonexistent")


def read_passwd(fs):
    """Return ``[{"name", "uid", "gid", "home", "shell"}]`` from ``<root>/etc/passwd`` (may be [])."""
    data, truncated = fs.read_bytes("/etc/passwd", MAX_PASSWD_BYTES, what="local users unknown")
    if data is None:
        return []
    if truncated:
        fs.warnings.append("/etc/passwd is larger than %d bytes: only the start was read" % MAX_PASSWD_BYTES)
    out = []
    for line in data.decode("utf-8", "surrogateescape").split("\n"):
        if not line or line.startswith(("#", "+", "-")):
            continue
        fields = line.split(":")
        if len(fields) < 7:
            continue
        try:
            uid = int(fields[2])
            gid = int(fields[3])
        except ValueError:
            continue
        out.append({"name": fields[0], "uid": uid, "gid": gid, "home": fields[5], "shell": fields[6]})
    return out


def uid_names(entries):
    """``{uid: name}``; the first passwd line wins for a shared uid."""
    names = {}
    for e in entries:
        names.setdefault(e["uid"], safe_text(e["name"]))
    return names


def select_users(fs, entries, only=None):
    """Users to scan: ``[{"name", "uid", "gid", "home", "vhome"}]`` (``vhome``: resolved virtual home).

    ``home`` is the passwd value (what records show); ``vhome`` is where it really is inside root.
    """
    wanted = set(only) if only else None
    seen = {}
    users = []
    for e in entries:
        name = safe_text(e["name"])
        if wanted is not None and name not in wanted:
            continue
        home = e["home"]
        if not home.startswith("/") or home.rstrip("/") in ("", "/nonexistent") or home in _NO_HOME:
            continue
        vhome = fs.try_resolve(home, what="per-user sources for %s are incomplete" % quote(name))
        if vhome is None:
            continue
        if vhome == "/":
            fs.warnings.append("home of %s (%s) resolves to the root directory: not scanned as a home"
                               % (quote(name), quote(home)))
            continue
        if not fs.isdir(vhome):
            continue
        if vhome in seen:
            continue
        seen[vhome] = name
        if not os.access(fs.real(vhome), os.R_OK | os.X_OK):
            fs.warnings.append("cannot read %s: permission denied (per-user sources for %s are incomplete)"
                               % (quote(home), quote(name)))
        users.append({"name": name, "uid": e["uid"], "gid": e["gid"], "home": safe_text(home.rstrip("/") or "/"),
                      "vhome": vhome, "rhome": home.rstrip("/")})
    if wanted:
        found = set(u["name"] for u in users)
        for name in sorted(wanted - found):
            fs.warnings.append("user %s was requested but has no scannable home under root" % quote(name))
    return users
