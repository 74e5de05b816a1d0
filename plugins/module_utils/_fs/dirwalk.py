# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: reach directories and walk trees through directory descriptors, never following a symbolic link.

* ``open_dir_nofollow``: open a directory component by component from ``/``. Shared by the executor's
  path steps (quarantine, archive, purge) and its file steps (write_file, remove_file): a link planted
  anywhere on the way is refused instead of being followed.
* ``walk_at``: walk a tree below such a descriptor (archive, quarantine copies across file systems,
  purge, ``tree_usage``). Each entry is ``lstat``-ed through its directory's descriptor, opened relative
  to it with ``O_NOFOLLOW`` and checked with ``fstat`` (device, inode, type) before it is used; FIFOs,
  sockets and devices are never opened; other file systems are not entered.
* ``tree_usage``: what trees take on disk (allocated bytes, file sizes, entries), counted by ``walk_at``
  without opening a file, bounded in entries and time: the size a quarantine copy or an archive needs
  before it writes anything, and the size a quarantine's manifest records.

A user on the host may rename, swap and link their own files at any moment while root walks them; what
root reads is always the object it checked, never what a link points to.

Standard library only; Python >= 3.6; Linux and macOS (``O_PATH`` is used where it exists).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class NotADirectory(Exception):
    """A component of the path (``path``, the prefix walked so far) is a symbolic link or not a directory."""

    def __init__(self, path):
        Exception.__init__(self, path)
        self.path = path


def open_dir_nofollow(path, missing=None):
    """Return an fd of directory ``path`` (absolute), opened without following symbolic links.

    ``missing(fd, name, walked)`` is called for a component that does not exist, with the fd of its parent:
    it returns the fd of the component it created, or None to give up (this function then returns None).
    Without ``missing`` a missing component raises the OSError (ENOENT). Raises NotADirectory when a
    component is a symbolic link or not a directory. The caller closes the returned fd.
    """
    fd = os.open("/", DIR_FLAGS)
    walked = ""
    try:
        for part in [p for p in path.split("/") if p]:
            walked += "/" + part
            try:
                new_fd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise NotADirectory(walked)
                if exc.errno != errno.ENOENT or missing is None:
                    raise
                new_fd = missing(fd, part, walked)
                if new_fd is None:
                    os.close(fd)
                    return None
            os.close(fd)
            fd = new_fd
    except BaseException:
        os.close(fd)
        raise
    return fd


# --- a whole tree, by directory descriptors ---------------------------------------------------------

FILE_FLAGS = (os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0)
              | getattr(os, "O_CLOEXEC", 0))
# Linux: a regular file is first opened O_PATH (which opens nothing: no device driver, no FIFO) and
# reopened for reading through /proc/self/fd only once fstat says it is a regular file.
_O_PATH = getattr(os, "O_PATH", 0)
_PROC_FD = "/proc/self/fd"
MAX_DEPTH = 256            # directory levels below the top (one descriptor is held per level)
# open(O_NOFOLLOW) of a symbolic link: ELOOP (Linux, macOS), EMLINK (FreeBSD); O_DIRECTORY of another
# type: ENOTDIR; a socket: ENXIO.
_REPLACED = (errno.ELOOP, errno.EMLINK, errno.ENOTDIR, errno.ENXIO)


class EntryChanged(Exception):
    """An entry is no longer what its ``lstat`` (taken through the same directory descriptor) described."""


def lstat_at(dir_fd, name):
    """``lstat`` of ``name`` in the directory ``dir_fd``, or None when it does not exist."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise


def _same(one, other):
    return (one.st_dev == other.st_dev and one.st_ino == other.st_ino
            and stat.S_IFMT(one.st_mode) == stat.S_IFMT(other.st_mode))


def _open_entry(name, flags, dir_fd):
    try:
        return os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno in _REPLACED:
            raise EntryChanged("replaced while being read (%s)" % exc.strerror)
        raise


def _open_regular(dir_fd, name):
    if _O_PATH:
        handle = _open_entry(name, _O_PATH | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0), dir_fd)
        try:
            mode = os.fstat(handle).st_mode
            if not stat.S_ISREG(mode):
                raise EntryChanged("replaced while being read (now a %s)" % type_name(mode))
            try:
                return os.open("%s/%d" % (_PROC_FD, handle), FILE_FLAGS & ~os.O_NOFOLLOW)
            except OSError as exc:
                if exc.errno != errno.ENOENT:      # no /proc (a chroot): open it by name, as elsewhere
                    raise
        finally:
            os.close(handle)
    return _open_entry(name, FILE_FLAGS, dir_fd)


def open_verified(dir_fd, name, st):
    """Open the directory or regular file ``name`` of ``dir_fd`` that ``st`` (its lstat through ``dir_fd``) is.

    Directories are opened ``O_DIRECTORY|O_NOFOLLOW``, regular files ``O_NOFOLLOW|O_NONBLOCK|O_NOCTTY``
    (on Linux through an ``O_PATH`` descriptor first, so a device node or FIFO put there meanwhile is
    never opened). Returns ``(fd, fstat)`` once the descriptor's device, inode and type are those of
    ``st``; raises EntryChanged when they are not (the name was swapped, e.g. for a symbolic link),
    OSError otherwise (ENOENT: it is gone). The caller closes ``fd``.
    """
    if stat.S_ISDIR(st.st_mode):
        fd = _open_entry(name, DIR_FLAGS, dir_fd)
    elif stat.S_ISREG(st.st_mode):
        fd = _open_regular(dir_fd, name)
    else:
        raise ValueError("only directories and regular files are opened, not a %s" % type_name(st.st_mode))
    try:
        fst = os.fstat(fd)
        if not _same(fst, st):
            raise EntryChanged("replaced while being read (now a %s, inode %d)" % (type_name(fst.st_mode), fst.st_ino))
    except BaseException:
        os.close(fd)
        raise
    return fd, fst


def type_name(mode):
    """``dir``, ``file``, ``link``, ``fifo``, ``socket``, ``device`` or ``unknown``."""
    for test, name in ((stat.S_ISDIR, "dir"), (stat.S_ISREG, "file"), (stat.S_ISLNK, "link"),
                       (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"), (stat.S_ISCHR, "device"),
                       (stat.S_ISBLK, "device")):
        if test(mode):
            return name
    return "unknown"


class Node(object):
    """One entry met by ``walk_at``.

    ``kind``: ``dir`` (``fd`` open and verified; its entries follow, then a ``leave`` node), ``file``
    (``fd`` open and verified when the walk opens files, else None), ``link`` (``link``: its target, read,
    never followed), ``special`` (a FIFO, socket or device: never opened), ``leave`` (the end of a
    directory, ``fd`` still open), and entries that were not read, with ``reason``: ``vanished`` (removed
    meanwhile), ``changed`` (no longer what its lstat was: swapped), ``mount`` (on another file system:
    not entered), ``error`` (could not be read, or too deep).

    ``parts`` are the names below the top (``()`` for the top), ``name`` and ``parent_fd`` the entry's
    name and its directory's descriptor, ``st`` the fstat of what was opened, else the lstat. The walk
    closes every descriptor itself: ``fd`` is valid only until the walk goes on.
    """

    __slots__ = ("kind", "parts", "name", "parent_fd", "st", "fd", "link", "reason")

    def __init__(self, kind, parts, name, parent_fd, st=None, fd=None, link=None, reason=None):
        self.kind = kind
        self.parts = parts
        self.name = name
        self.parent_fd = parent_fd
        self.st = st
        self.fd = fd
        self.link = link
        self.reason = reason


def _unread(exc, parts, name, parent_fd):
    if exc.errno == errno.ENOENT:
        return Node("vanished", parts, name, parent_fd, reason="removed while being read")
    return Node("error", parts, name, parent_fd, reason=exc.strerror or str(exc))


def _node(parent_fd, name, st, parts, device, open_files, max_depth):
    mode = st.st_mode
    if st.st_dev != device:
        return Node("mount", parts, name, parent_fd, st, reason="on another file system; not entered")
    if stat.S_ISLNK(mode):
        try:
            return Node("link", parts, name, parent_fd, st, link=os.readlink(name, dir_fd=parent_fd))
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                return Node("changed", parts, name, parent_fd, st, reason="replaced while being read (no longer a link)")
            return _unread(exc, parts, name, parent_fd)
    if stat.S_ISDIR(mode) and len(parts) >= max_depth:
        return Node("error", parts, name, parent_fd, st, reason="more than %d directory levels deep" % max_depth)
    if stat.S_ISDIR(mode) or (stat.S_ISREG(mode) and open_files):
        try:
            fd, fst = open_verified(parent_fd, name, st)
        except EntryChanged as exc:
            return Node("changed", parts, name, parent_fd, st, reason=str(exc))
        except OSError as exc:
            return _unread(exc, parts, name, parent_fd)
        return Node("dir" if stat.S_ISDIR(mode) else "file", parts, name, parent_fd, fst, fd=fd)
    if stat.S_ISREG(mode):
        return Node("file", parts, name, parent_fd, st)
    return Node("special", parts, name, parent_fd, st, reason="a %s; never opened" % type_name(mode))


def _child(dir_fd, name, parts, device, open_files, max_depth):
    try:
        st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except OSError as exc:
        return _unread(exc, parts, name, dir_fd)
    return _node(dir_fd, name, st, parts, device, open_files, max_depth)


def walk_at(parent_fd, name, st, open_files=True, max_depth=None):
    """Walk ``name`` of the directory ``parent_fd`` (``st``: its lstat through ``parent_fd``), depth first.

    Yields a Node per entry, the top first, a directory before its entries (in name order) and its
    ``leave`` node after them. Nothing is reached by a path: each entry is ``lstat``-ed through its
    directory's descriptor and opened (``open_verified``) relative to it, so a symbolic link swapped in
    at any moment is never followed, and an entry swapped after its ``lstat`` is reported ``changed``.
    The walk stays on the file system of ``parent_fd``: a top that is a mount point is not entered
    either (a user's FUSE mount could stall every read). ``open_files=False``: regular files are not
    opened. ``max_depth`` (default MAX_DEPTH): directory levels entered below the top, deeper is an ``error``.
    """
    max_depth = MAX_DEPTH if max_depth is None else max_depth
    device = os.fstat(parent_fd).st_dev
    frames = []     # [dir Node, names still to visit (last first)] per open directory
    try:
        node = _node(parent_fd, name, st, (), device, open_files, max_depth)
        while True:
            if node is not None and node.kind == "dir":
                try:
                    names = sorted(os.listdir(node.fd), reverse=True)
                except OSError as exc:
                    os.close(node.fd)
                    node = Node("error", node.parts, node.name, node.parent_fd, node.st, reason=exc.strerror)
                else:
                    frames.append([node, names])
                    yield node
                    node = None
            if node is not None:
                try:
                    yield node
                finally:
                    if node.kind == "file" and node.fd is not None:
                        os.close(node.fd)
                node = None
            if not frames:
                return
            top, names = frames[-1]
            if names:
                child = names.pop()
                node = _child(top.fd, child, top.parts + (child,), device, open_files, max_depth)
                continue
            frames.pop()
            try:
                yield Node("leave", top.parts, top.name, top.parent_fd, top.st, fd=top.fd)
            finally:
                os.close(top.fd)
    finally:
        for frame in frames:
            os.close(frame[0].fd)


class TreeUsage(object):
    """What ``tree_usage`` counted.

    ``allocated``: the bytes allocated to the entries counted (``st_blocks * 512``: holes cost nothing,
    a symbolic link is its own blocks, never its target's); ``file_bytes``: the sizes of the regular files
    among them; ``entries``: how many (directories, files, links, FIFOs, sockets, devices; the top is one);
    ``unread``: entries that could not be read (a directory that cannot be opened or listed, an entry gone
    or swapped meanwhile, another file system), counted as 0 and not entered; ``complete``: False when the
    walk stopped at its bound (``max_entries`` or ``expired``), the counts then being lower bounds.
    """

    __slots__ = ("allocated", "file_bytes", "entries", "unread", "complete")

    def __init__(self):
        self.allocated = 0
        self.file_bytes = 0
        self.entries = 0
        self.unread = 0
        self.complete = True


def tree_usage(tops, max_entries=None, expired=None):
    """Count what the trees ``tops`` (``(parent_fd, name, lstat)`` each, as ``walk_at`` takes them) take on disk.

    Walks with ``walk_at(open_files=False)``: no link is followed, no file opened, no other file system
    entered; a directory that cannot be read counts as 0 and the walk goes on. Stops, with
    ``complete`` False, once ``max_entries`` entries were counted or ``expired()`` (asked before each entry)
    returns True; None: no bound. Returns a TreeUsage.
    """
    usage = TreeUsage()
    for parent_fd, name, st in tops:
        walk = walk_at(parent_fd, name, st, open_files=False)
        try:
            for node in walk:
                if node.kind == "leave":
                    continue
                if (max_entries is not None and usage.entries >= max_entries) or (expired is not None and expired()):
                    usage.complete = False
                    return usage
                if node.kind in ("dir", "file", "link", "special"):
                    usage.entries += 1
                    usage.allocated += node.st.st_blocks * 512
                    if node.kind == "file":
                        usage.file_bytes += node.st.st_size
                else:
                    usage.unread += 1
        finally:
            walk.close()
    return usage


def create_missing_dirs(path, mode=0o700):
    """Create ``path`` and its missing parents, each with exactly ``mode``; existing ones are left as they are.

    For the executor's own directories (state, quarantine, archive), whose parents are root's: callers check
    what they got (a link, not a directory) themselves."""
    missing = []
    probe = os.path.normpath(path)
    while not os.path.lexists(probe):
        missing.append(probe)
        parent = os.path.dirname(probe)
        if parent == probe:
            break
        probe = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, mode)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
        else:
            os.chmod(directory, mode)
