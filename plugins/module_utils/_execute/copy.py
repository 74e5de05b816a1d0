# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: copy a tree to another file system through verified descriptors (quarantine when rename says EXDEV).

``copy_tree`` walks the source with ``dirwalk.walk_at`` (``_fs/dirwalk.py``) (no link followed, each entry
``fstat``-checked against its ``lstat``, FIFOs, sockets and devices never opened, the source's file system only) and
writes the copy through destination directory descriptors: links as links, FIFOs and device nodes
recreated (``mkfifo``/``mknod``, never opened), sockets left out (``not_copied``), modes, owners and
times kept.

Regular files are copied sparse-aware: only the data regions ``lseek(SEEK_DATA/SEEK_HOLE)`` reports are
read, blocks of zeros are not written, and the copy gets the source's size with ``ftruncate``, so a
``truncate -s 10T`` file costs nothing. Where the system has no ``SEEK_DATA`` (macOS before 10.14; a file
system that refuses it) the whole file is read, zeros still skipped. Data read counts against
``Limits.max_bytes``; time and free space are bounded too.

Anything unusual (an entry swapped while copied, a file that changes while read, another file system
inside, a tree too deep, an unreadable entry) raises CopyError: the caller removes the partial copy and
leaves the original where it was.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import stat

from ansible_collections.govsec.banned_software.plugins.module_utils._fs.dirwalk import DIR_FLAGS, walk_at

CHUNK = 1 << 20
_NEW_FILE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_NO_SEEK_DATA = (errno.EINVAL, errno.ENOTSUP, getattr(errno, "EOPNOTSUPP", errno.ENOTSUP))


class CopyError(Exception):
    """The copy cannot be complete; the caller removes it and keeps the original."""


def _shown(path):
    return json.dumps(path)[1:-1]


def _data_regions(src, size):
    """``(start, end)`` of each data region of ``src``, in order; the whole file without SEEK_DATA."""
    seek_data = getattr(os, "SEEK_DATA", None)
    offset = 0
    while offset < size:
        if seek_data is None:
            yield offset, size
            return
        try:
            start = os.lseek(src, offset, seek_data)
            end = os.lseek(src, start, os.SEEK_HOLE)
        except OSError as exc:
            if exc.errno == errno.ENXIO:        # no data after offset: a hole up to the end
                return
            if exc.errno not in _NO_SEEK_DATA:
                raise
            seek_data = None
            continue
        if start >= size:
            return
        end = min(end, size)
        yield start, end
        offset = end


def copy_data(src, dst, size, limits, what=""):
    """Copy ``size`` bytes of the regular file ``src`` into the new empty file ``dst``; holes stay holes.

    Every byte read is ``limits.take``-n (size, time, free space). Raises CopyError when ``src`` is
    shorter than ``size`` (it shrank while copied).
    """
    allocated = os.fstat(src).st_blocks * 512
    # Refuse at once what cannot fit: the allocated bytes, or all of it where holes cannot be seen.
    limits.fits(size if getattr(os, "SEEK_DATA", None) is None else min(size, allocated), what)
    for start, end in _data_regions(src, size):
        pos = start
        while pos < end:
            chunk = os.pread(src, min(CHUNK, end - pos), pos)
            if not chunk:
                raise CopyError("shrank while being copied")
            limits.take(len(chunk))
            if chunk.count(b"\x00") != len(chunk):
                view = memoryview(chunk)
                at = pos
                while view:
                    written = os.pwrite(dst, view, at)
                    view = view[written:]
                    at += written
            pos += len(chunk)
    os.ftruncate(dst, size)


def _set_meta(fd, st):
    """Owner, mode and times of ``st`` on the open ``fd`` (owner first: chown clears set-id bits)."""
    os.fchown(fd, st.st_uid, st.st_gid)
    os.fchmod(fd, stat.S_IMODE(st.st_mode))
    os.utime(fd, ns=(st.st_atime_ns, st.st_mtime_ns))


def _set_meta_at(dir_fd, name, st, is_link):
    """The same for an entry that is not opened (a link, a FIFO, a device node), through ``dir_fd``."""
    os.chown(name, st.st_uid, st.st_gid, dir_fd=dir_fd, follow_symlinks=False)
    if not is_link:
        os.chmod(name, stat.S_IMODE(st.st_mode), dir_fd=dir_fd)
    if os.utime in os.supports_dir_fd and os.utime in os.supports_follow_symlinks:
        os.utime(name, ns=(st.st_atime_ns, st.st_mtime_ns), dir_fd=dir_fd, follow_symlinks=False)


def _copy_file(node, out_dir, out_name, limits, path):
    st = node.st
    out = os.open(out_name, _NEW_FILE, 0o600, dir_fd=out_dir)
    try:
        copy_data(node.fd, out, st.st_size, limits, _shown(path))
        after = os.fstat(node.fd)
        if (after.st_size, after.st_mtime_ns, after.st_ctime_ns) != (st.st_size, st.st_mtime_ns, st.st_ctime_ns):
            raise CopyError("%s changed while it was copied" % _shown(path))
        _set_meta(out, st)
    finally:
        os.close(out)


def _copy_special(node, out_dir, out_name, path, not_copied):
    mode = node.st.st_mode
    try:
        if stat.S_ISFIFO(mode):
            os.mkfifo(out_name, 0o600, dir_fd=out_dir)
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
            os.mknod(out_name, stat.S_IFMT(mode) | 0o600, node.st.st_rdev, dir_fd=out_dir)
        else:
            not_copied.append(_shown(path))
            return
    except NotImplementedError:     # no mkfifoat/mknodat (older macOS)
        not_copied.append(_shown(path))
        return
    _set_meta_at(out_dir, out_name, node.st, False)


def copy_tree(parent_fd, name, st, out_parent_fd, out_name, limits, top, not_copied):
    """Copy ``name`` of ``parent_fd`` (lstat ``st``; shown as ``top``) to the new ``out_name`` of ``out_parent_fd``.

    Sockets (and, where the system cannot create them relative to a descriptor, FIFOs and devices) are
    listed in ``not_copied``. Raises CopyError, LimitExceeded or OSError when the copy is incomplete.
    """
    outs = []   # destination directory descriptors, one per open source directory
    try:
        for node in walk_at(parent_fd, name, st):
            limits.tick()
            kind = node.kind
            path = "/".join((top,) + node.parts)
            out_dir = outs[-1] if outs else out_parent_fd
            out = node.name if node.parts else out_name
            if kind == "dir":
                os.mkdir(out, 0o700, dir_fd=out_dir)
                outs.append(os.open(out, DIR_FLAGS, dir_fd=out_dir))
            elif kind == "leave":
                fd = outs.pop()
                try:
                    _set_meta(fd, node.st)
                finally:
                    os.close(fd)
            elif kind == "file":
                _copy_file(node, out_dir, out, limits, path)
            elif kind == "link":
                os.symlink(node.link, out, dir_fd=out_dir)
                _set_meta_at(out_dir, out, node.st, True)
            elif kind == "special":
                _copy_special(node, out_dir, out, path, not_copied)
            elif kind != "vanished":
                raise CopyError("%s: %s" % (_shown(path), node.reason))
    finally:
        for fd in outs:
            os.close(fd)
