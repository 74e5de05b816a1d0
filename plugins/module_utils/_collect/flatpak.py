# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Flatpak applications, read from the installations' directories (the flatpak binary is not used).

Installations examined (all inside root):

* system: ``/var/lib/flatpak`` (scope ``machine``);
* extra system installations named in ``/etc/flatpak/installations.d/*.conf``
  (``[Installation "id"]`` groups with ``Path=``; scope ``machine``, field ``installation``);
* per user: ``~/.local/share/flatpak`` (scope ``user:<name>``).

An application is deployed when ``<installation>/app/<id>/<arch>/<branch>/active`` exists. Only ids
passing the query are descended into; ``examined`` counts application ids. ``version`` comes from
the first ``<release version="...">`` of the deployed metainfo/appdata XML when it is present.

The metainfo of a per-user installation is the user's to write: it is read up to ``MAX_XML_BYTES`` and
searched in linear time (``release_version``): a tag is at most ``MAX_TAG_BYTES`` long and never spans
a ``<``, so each byte is looked at a bounded number of times whatever the file holds.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import quote, safe_text, vjoin

SYSTEM = "/var/lib/flatpak"
INSTALLATIONS_D = "/etc/flatpak/installations.d"
USER_REL = ".local/share/flatpak"
MAX_CONF_BYTES = 64 * 1024
MAX_XML_BYTES = 512 * 1024
MAX_TAG_BYTES = 4096
# Linear: "[^<>]" cannot run past the next "<", where the next candidate tag starts, so the attempts of
# the search never scan the same bytes twice; the attribute search runs on one tag of bounded length.
_RELEASE_TAG = re.compile(br"<release\b([^<>]{0,%d})>" % MAX_TAG_BYTES)
_VERSION_ATTR = re.compile(br"\bversion[ \t\r\n]*=[ \t\r\n]*[\"']([^\"'<>]{1,128})[\"']")
_GROUP = re.compile(r"^\[\s*Installation\s+\"([^\"]*)\"\s*\]\s*$")


def extra_installations(fs):
    """``[(id, path)]`` from ``/etc/flatpak/installations.d/*.conf``."""
    out = []
    for name, kind in fs.listdir(INSTALLATIONS_D, limit=200):
        if not name.endswith(".conf") or kind == "dir":
            continue
        data, dummy = fs.read_bytes(vjoin(INSTALLATIONS_D, name), MAX_CONF_BYTES)
        if data is None:
            continue
        current = None
        for line in data.decode("utf-8", "surrogateescape").splitlines():
            line = line.strip()
            m = _GROUP.match(line)
            if m:
                current = m.group(1)
                continue
            if line.startswith("["):
                current = None
                continue
            if current is not None and line.startswith("Path="):
                path = line[5:].strip()
                if path.startswith("/") and path not in [p for dummy, p in out]:
                    out.append((current, path))
    return out


def _version(fs, deploy):
    for rel in ("files/share/metainfo/", "files/share/appdata/"):
        for name, kind in fs.listdir(vjoin(deploy, rel), limit=50):
            if not name.endswith((".metainfo.xml", ".appdata.xml")):
                continue
            data, dummy = fs.read_bytes(vjoin(deploy, rel, name), MAX_XML_BYTES)
            version = release_version(data) if data else None
            if version:
                return version
    return None


def release_version(data):
    """The ``version`` attribute of the first ``<release>`` tag that has one in the XML bytes ``data``, or None."""
    for tag in _RELEASE_TAG.finditer(data):
        m = _VERSION_ATTR.search(tag.group(1))
        if m:
            return m.group(1).decode("utf-8", "backslashreplace")
    return None


def scan_installation(fs, base, query, scope, records, installation=None, shown_base=None):
    """Append deployed apps of the installation at virtual path ``base``; return ids examined."""
    shown_base = shown_base or base
    apps = fs.listdir(vjoin(base, "app"), what="flatpak installation %s" % quote(shown_base))
    examined = 0
    for app_id, kind in apps:
        if kind not in ("dir", "link"):
            continue
        examined += 1
        if not query.match(safe_text(app_id)):
            continue
        app_dir = vjoin(base, "app", app_id)
        for arch, akind in fs.listdir(app_dir, limit=64):
            if akind not in ("dir", "link") or arch == "current":
                continue
            for branch, bkind in fs.listdir(vjoin(app_dir, arch), limit=256):
                if bkind not in ("dir", "link"):
                    continue
                deploy = vjoin(app_dir, arch, branch)
                if fs.lstat(vjoin(deploy, "active")) is None:
                    continue
                rec = {"name": safe_text(app_id), "scope": scope, "arch": safe_text(arch),
                       "branch": safe_text(branch),
                       "path": safe_text(vjoin(shown_base, "app", app_id, arch, branch))}
                commit = fs.readlink(vjoin(deploy, "active"))
                if commit and "/" not in commit:
                    rec["commit"] = safe_text(commit)
                version = _version(fs, vjoin(deploy, "active"))
                if version:
                    rec["version"] = version
                if installation:
                    rec["installation"] = safe_text(installation)
                records.append(rec)
    return examined


def list_flatpak(fs, query, users):
    """Return ``(available, records, examined)`` over system, extra and per-user installations."""
    records = []
    examined = 0
    available = False
    bases = [(SYSTEM, None)] + [(path, inst) for inst, path in extra_installations(fs)]
    for base, inst in bases:
        if fs.isdir(base):
            available = True
            examined += scan_installation(fs, base, query, "machine", records, installation=inst)
    for user in users:
        base = vjoin(user["vhome"], USER_REL)
        if fs.isdir(base):
            available = True
            examined += scan_installation(fs, base, query, "user:" + user["name"], records,
                                          shown_base=vjoin(user["rhome"], USER_REL))
    return available, records, examined
