# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Snaps, read from the file system (snapd is not asked: the tree may be an image).

Two places are combined, by snap instance name:

* ``/var/lib/snapd/snaps/<instance>_<revision>.snap``: the installed snap files (present in images);
* ``/snap/<instance>/current`` (or ``/var/lib/snapd/snap`` on Fedora-like systems): a link to the
  current revision, whose ``meta/snap.yaml`` gives ``version`` when the snap is mounted (live hosts).

``name`` is the snap name (an instance ``foo_bar`` of a parallel install is reported with
``name: foo`` and ``instance: foo_bar``). ``examined`` counts snap instances.

``version`` is the first top-level ``version:`` line of ``meta/snap.yaml`` whose value is a plain or
quoted scalar, optionally followed by a comment (``snap_version``: one pass per line, no backtracking).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import safe_text, vjoin

SNAPS_DIR = "/var/lib/snapd/snaps"
MOUNT_DIRS = ("/snap", "/var/lib/snapd/snap")
MAX_YAML_BYTES = 256 * 1024
_SNAP_FILE = re.compile(r"^([a-z0-9][a-z0-9-]*(?:_[a-z0-9]{1,10})?)_(x?[0-9]+)\.snap$")
_INSTANCE = re.compile(r"^[a-z0-9][a-z0-9-]*(?:_[a-z0-9]{1,10})?$")
_VERSION_LINE = re.compile(br"^version:([^\n]*)", re.M)
_QUOTES = (b"'", b'"')
_VALUE_STOPS = (b"'", b'"', b"\r", b"#")
_SKIP_MOUNT = frozenset(("bin", "README", "current"))


def _revkey(rev):
    try:
        return (0, int(rev.lstrip("x")))
    except ValueError:
        return (-1, 0)


def _scalar(rest):
    """The value of a ``version:`` line (the bytes after the colon), or None when the line holds
    something else than ``[blanks][quote]value[quote][blanks][# comment]``."""
    rest = rest.lstrip(b" \t")
    if rest[:1] in _QUOTES:
        rest = rest[1:]
    stops = [i for i in (rest.find(c) for c in _VALUE_STOPS) if i >= 0]
    end = min(stops) if stops else len(rest)
    tail = rest[end:]
    if tail[:1] in _QUOTES:
        tail = tail[1:]
    tail = tail.lstrip(b" \t")
    if tail and not tail.startswith(b"#"):
        return None
    return rest[:end].rstrip(b" \t")


def snap_version(data):
    """``version`` of the snap.yaml bytes ``data`` (see the module docstring), or None."""
    for m in _VERSION_LINE.finditer(data):
        value = _scalar(m.group(1))
        if value is not None:
            return value.decode("utf-8", "backslashreplace") or None
    return None


def list_snap(fs, query):
    """Return ``(available, records, examined)``."""
    available = False
    instances = {}  # instance -> {"revisions": [...], "mount": vpath or None}
    if fs.isdir(SNAPS_DIR):
        available = True
        for fname, kind in fs.listdir(SNAPS_DIR, what="snap packages"):
            m = _SNAP_FILE.match(fname)
            if not m or kind == "dir":
                continue
            inst = instances.setdefault(m.group(1), {"revisions": [], "mount": None, "files": []})
            inst["revisions"].append(m.group(2))
            inst["files"].append(fname)
    for mdir in MOUNT_DIRS:
        rdir = fs.try_resolve(mdir)
        if rdir is None or not fs.isdir(rdir):
            continue
        available = True
        for name, kind in fs.listdir(rdir, what="snap mounts"):
            if name in _SKIP_MOUNT or not _INSTANCE.match(name) or kind not in ("dir", "link"):
                continue
            inst = instances.setdefault(name, {"revisions": [], "mount": None, "files": []})
            if inst["mount"] is None:
                inst["mount"] = vjoin(mdir, name)
    records = []
    for instance in sorted(instances):
        info = instances[instance]
        snap_name = instance.split("_", 1)[0]
        if not (query.match(snap_name) or query.match(instance)):
            continue
        rec = {"name": snap_name, "scope": "machine"}
        if instance != snap_name:
            rec["instance"] = instance
        current = None
        if info["mount"]:
            target = fs.readlink(vjoin(info["mount"], "current"))
            if target and "/" not in target:
                current = target
            data, dummy = fs.read_bytes(vjoin(info["mount"], "current", "meta", "snap.yaml"), MAX_YAML_BYTES)
            version = snap_version(data) if data else None
            if version:
                rec["version"] = version
            rec["path"] = info["mount"]
        if current is None and info["revisions"]:
            current = max(info["revisions"], key=_revkey)
        if current is not None:
            rec["revision"] = safe_text(current)
        if "path" not in rec:
            rec["path"] = vjoin(SNAPS_DIR, "%s_%s.snap" % (instance, current))
        if info["revisions"]:
            rec["revisions"] = sorted(info["revisions"], key=_revkey)
        records.append(rec)
    return available, records, len(instances)
