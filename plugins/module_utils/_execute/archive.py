# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the members of a user-data archive, read through verified descriptors (the ``archive`` step).

``add_tree`` walks an archived path with ``dirwalk.walk_at`` (``_fs/dirwalk.py``) and adds to an open ``tarfile``:

* directories and regular files as the descriptors the walk opened and verified (``fstat`` equal to the
  ``lstat`` taken through the same parent descriptor), with ``tar.addfile(info, fileobj)``: tarfile is
  never given a path, so a sub-folder swapped for a symbolic link mid-walk cannot make root archive
  what the link points to (the swapped entry is listed in ``not_archived``);
* symbolic links as links (their text, read through the parent descriptor), never followed;
* a second name of a file already archived as a hard link member;
* nothing else: FIFOs, sockets and devices are never opened (listed in ``not_archived``), nor another
  file system mounted inside, nor a hard link to a file of another owner than the archived path's
  (a user may link a file they do not own, where ``fs.protected_hardlinks`` is off).

A file that cannot be read, a tree deeper than ``dirwalk.MAX_DEPTH`` or a file that changes while it is
read fails the archive (``ArchiveError``): the purge that requires it then does not run, so no data
is lost. Sizes and time are bounded by ``limits.Limits``.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import stat
import tarfile

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.dirwalk import walk_at

try:
    import grp
    import pwd
except ImportError:  # pragma: no cover - not a POSIX host
    grp = pwd = None

NOT_ARCHIVED_LIMIT = 100     # entries listed in the step's result (all are counted)


class ArchiveError(Exception):
    """The archive cannot be complete; the caller removes it."""


def _shown(path):
    return json.dumps(path)[1:-1]


class _Names(object):
    """User and group names of ids, looked up once each."""

    def __init__(self):
        self.users = {}
        self.groups = {}

    def user(self, uid):
        if uid not in self.users:
            try:
                self.users[uid] = pwd.getpwuid(uid).pw_name if pwd else ""
            except KeyError:
                self.users[uid] = ""
        return self.users[uid]

    def group(self, gid):
        if gid not in self.groups:
            try:
                self.groups[gid] = grp.getgrgid(gid).gr_name if grp else ""
            except KeyError:
                self.groups[gid] = ""
        return self.groups[gid]


class _Reader(object):
    """What tarfile reads a member's data from: exactly ``size`` bytes of the verified descriptor ``fd``."""

    def __init__(self, fd, size, limits):
        self.fd = fd
        self.left = size
        self.limits = limits
        self.short = False

    def read(self, size=-1):
        want = self.left if size is None or size < 0 else min(size, self.left)
        chunks = []
        got = 0
        while got < want:
            chunk = os.read(self.fd, want - got)
            if not chunk:
                self.short = True
                chunks.append(bytes(want - got))   # tarfile needs the size it was promised
                got = want
                break
            chunks.append(chunk)
            got += len(chunk)
            self.limits.progress(len(chunk))
        self.left -= got
        return b"".join(chunks)


class Archiver(object):
    """Adds trees to ``tar`` (an open ``tarfile.TarFile``); one per archive."""

    def __init__(self, tar, limits):
        self.tar = tar
        self.limits = limits
        self.names = _Names()
        self.added = []           # member names, in order
        self.not_archived = []    # {"path", "reason"}, the first NOT_ARCHIVED_LIMIT
        self.not_archived_count = 0
        self.inodes = {}          # (st_dev, st_ino) -> member name of a file with more than one link

    def _skip(self, path, reason):
        self.not_archived_count += 1
        if len(self.not_archived) < NOT_ARCHIVED_LIMIT:
            self.not_archived.append({"path": _shown(path), "reason": reason})

    def _info(self, member, st, kind):
        info = tarfile.TarInfo(member)
        info.type = kind
        info.mode = stat.S_IMODE(st.st_mode)
        info.uid, info.gid = st.st_uid, st.st_gid
        info.uname, info.gname = self.names.user(st.st_uid), self.names.group(st.st_gid)
        info.mtime = st.st_mtime
        return info

    def _add(self, info, fileobj=None):
        self.tar.addfile(info, fileobj)
        self.added.append(info.name)

    def _file(self, node, member, path, owner):
        st = node.st
        key = (st.st_dev, st.st_ino)
        if st.st_nlink > 1 and st.st_uid != owner:
            self._skip(path, "a hard link to a file of uid %d, not of the archived path's owner (uid %d)"
                       % (st.st_uid, owner))
            return
        if st.st_nlink > 1 and key in self.inodes:
            info = self._info(member, st, tarfile.LNKTYPE)
            info.linkname = self.inodes[key]
            self._add(info)
            return
        self.limits.claim(st.st_size, _shown(path))
        info = self._info(member, st, tarfile.REGTYPE)
        info.size = st.st_size
        reader = _Reader(node.fd, st.st_size, self.limits)
        self._add(info, reader)
        after = os.fstat(node.fd)
        if reader.short or (after.st_size, after.st_mtime_ns) != (st.st_size, st.st_mtime_ns):
            raise ArchiveError("%s changed while it was archived" % _shown(path))
        if st.st_nlink > 1:
            self.inodes[key] = member

    def add_tree(self, parent_fd, name, st, top):
        """Add the path ``top`` (``name`` in ``parent_fd``, lstat ``st``) and what is under it.

        Members are named ``top`` without its leading ``/`` (and ``/``-joined names below it).
        """
        arcname = top.lstrip("/")
        owner = st.st_uid
        for node in walk_at(parent_fd, name, st):
            self.limits.tick()
            member = "/".join((arcname,) + node.parts)
            path = "/".join((top,) + node.parts)
            kind = node.kind
            if kind == "dir":
                self._add(self._info(member, node.st, tarfile.DIRTYPE))
            elif kind == "file":
                self._file(node, member, path, owner)
            elif kind == "link":
                info = self._info(member, node.st, tarfile.SYMTYPE)
                info.linkname = node.link
                self._add(info)
            elif kind in ("special", "vanished", "changed", "mount"):
                self._skip(path, node.reason)
            elif kind == "error":
                raise ArchiveError("%s: %s" % (_shown(path), node.reason))
