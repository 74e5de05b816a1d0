# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe, read-only access to a file system tree mounted at ``root``.

The tree may be a live host (``root == "/"``) or a mounted image that someone else controls, and
users write parts of it (their homes), so every path is resolved here, component by component, with
chroot semantics:

* an absolute symbolic link target is re-rooted at ``root`` and ``..`` stops at ``root`` (as the
  kernel does inside a chroot), so no link ever leads out of ``root``;
* at most ``MAX_LINKS`` links are followed per path (loops end as ``ELOOP``);
* directory listings stop after ``max_entries`` names and say so in a warning.

Every open of host data goes through ``open_regular`` (files) or ``open_dir`` (listings), which walk
the path by directory file descriptors: each directory is opened from its parent's descriptor with
``O_DIRECTORY | O_NOFOLLOW`` (a name swapped for a link after it was checked is never followed, a
FIFO or device in its place is never opened). A file's type is checked *before* it is opened: its
``lstat`` (taken from the parent's descriptor) must say regular file, then on Linux it is opened with
``O_PATH`` (which runs no driver code), checked again with ``fstat`` and only then re-opened for
reading through ``/proc/self/fd``; without ``O_PATH`` (macOS) or ``/proc`` it is opened by name with
``O_NOFOLLOW | O_NONBLOCK | O_NOCTTY``. Either way the descriptor read is ``fstat``-checked to be a
regular file and the very object that was checked (device and inode). Devices, FIFOs and sockets are
never opened: a link ``~/.local/share/applications/x.desktop -> /dev/watchdog`` is reported as "not a
regular file" (``NotRegularFile``), not read. Reads are bounded (``read_bytes``).

Resolution without opening (``resolve``, ``lstat``, ``stat``) walks the same way by path names; both
walks share one algorithm (``_walk``).

Each ``RootFS`` carries the collector's ``Budget`` (``module_utils/_collect/budget.py``): every path resolved,
every directory entry and every file read checks the current source's deadline, and a listing cut at
its cap or a path that exists but cannot be read (permission denied, I/O error) marks the current
source incomplete. "Does not exist", link loops and objects that are not regular files are not
incomplete reads (there is nothing there to read).

Paths handed to this class are *virtual* paths: absolute paths as seen from inside the tree
(``/var/lib/dpkg/status``). Records carry virtual paths, so an image scan and a live scan report the
same path. Names are ``str`` decoded with ``surrogateescape`` (the os module's convention);
``safe_text`` turns them into printable, JSON-safe text for records and warnings.

Standard library only; Python >= 3.6 (``os.scandir`` of a descriptor from 3.7 on; ``listdir`` and ``lstat``
by the descriptor before).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.budget import Budget

MAX_LINKS = 40
DEFAULT_MAX_ENTRIES = 10000
DEFAULT_MAX_READ = 1024 * 1024

_CONTROL = dict((c, u"\\x%02x" % c) for c in list(range(0, 32)) + [127])
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_PATH = getattr(os, "O_PATH", 0)
DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC
READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | _CLOEXEC
# Errors that mean "nothing readable is there": not an incomplete read.
_ABSENT = (errno.ENOENT, errno.ENOTDIR, errno.ELOOP)


def safe_text(value):
    """Return ``value`` (str with surrogate escapes, or bytes) as valid Unicode text.

    Bytes that are not UTF-8 become ``\\xNN`` escapes; other characters, newlines included, are
    kept: they are part of the name as found on the host.
    """
    if isinstance(value, bytes):
        data = value
    else:
        data = value.encode("utf-8", "surrogateescape")
    return data.decode("utf-8", "backslashreplace")


def quote(value):
    """Text for a warning message: ``safe_text`` with control characters escaped."""
    return safe_text(value).translate(_CONTROL)


def vjoin(*parts):
    """Join virtual path parts (``vjoin("/home/a", ".local")`` -> ``/home/a/.local``)."""
    out = "/".join(p.strip("/") for p in parts if p and p.strip("/"))
    return "/" + out


def _split(path):
    return [c for c in path.split("/") if c]


def file_kind(mode):
    """What a mode says the object is, for messages (``fifo``, ``character device``, ...)."""
    for test, kind in ((stat.S_ISREG, "regular file"), (stat.S_ISDIR, "directory"),
                       (stat.S_ISLNK, "symbolic link"), (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"),
                       (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device")):
        if test(mode):
            return kind
    return "special file"


class NotRegularFile(OSError):
    """The path names something other than a regular file (``kind``); it was not opened."""

    def __init__(self, vpath, kind):
        OSError.__init__(self, errno.EINVAL, "not a regular file (%s), not opened" % kind, vpath)
        self.kind = kind


def read_fd_bounded(fd, max_bytes):
    """Up to ``max_bytes + 1`` bytes from ``fd`` (one more than allowed tells the caller it is too large)."""
    chunks = []
    left = max_bytes + 1
    while left > 0:
        chunk = os.read(fd, min(left, 1024 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_kernel_file(path, max_bytes):
    """Up to ``max_bytes`` of a file the kernel generates (``/proc/<pid>/comm``): no user can put a FIFO,
    device or link there, so it is opened by its path, with the flags of ``open_regular`` and the same
    ``fstat`` check, without the walk (which would cost more than the read)."""
    fd = os.open(path, READ_FLAGS | _NOFOLLOW)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(path, file_kind(mode))
        return os.read(fd, max_bytes)
    finally:
        os.close(fd)


# -- the walk ------------------------------------------------------------------------------------
def _walk(cursor, vpath, follow_last, tick):
    """Resolve ``vpath`` inside root with ``cursor`` (chroot semantics, see the module docstring).

    The cursor ends in the parent directory of the last component; returns ``(name, lstat)`` of that
    component (a link only when ``follow_last`` is false), or ``(None, None)`` when the path names a
    directory reached by ``..``, ``.`` or a link to ``/`` (the cursor is then in it).
    Raises OSError (ENOENT, ENOTDIR, ELOOP, EACCES, ...) like the kernel would.
    """
    if not vpath.startswith("/"):
        raise OSError(errno.EINVAL, "not an absolute path", vpath)
    todo = list(reversed(_split(vpath)))
    hops = 0
    while todo:
        tick()
        comp = todo.pop()
        if comp == ".":
            continue
        if comp == "..":
            cursor.up()
            continue
        st = cursor.lstat(comp)
        if stat.S_ISLNK(st.st_mode) and (todo or follow_last):
            hops += 1
            if hops > MAX_LINKS:
                raise OSError(errno.ELOOP, "too many levels of symbolic links", vpath)
            target = cursor.readlink(comp)
            if target.startswith("/"):
                cursor.top()
            todo.extend(reversed(_split(target)))
            continue
        if not todo:
            return comp, st
        if not stat.S_ISDIR(st.st_mode):
            raise OSError(errno.ENOTDIR, "not a directory", vpath)
        cursor.down(comp, st)
    return None, None


class _ByName(object):
    """Walks by path names: ``lstat`` and ``readlink`` only, nothing is opened."""

    def __init__(self, fs):
        self.fs = fs
        self.parts = []

    def lstat(self, name):
        return os.lstat(self.fs.real(self.parts + [name]))

    def readlink(self, name):
        return os.readlink(self.fs.real(self.parts + [name]))

    def down(self, name, st):  # pylint: disable=unused-argument
        self.parts.append(name)

    def up(self):
        if self.parts:
            self.parts.pop()

    def top(self):
        self.parts = []

    def close(self):
        pass


class _ByHandle(object):
    """Walks by directory descriptors: every name is looked up in the descriptor of its directory and
    every directory is opened with O_DIRECTORY | O_NOFOLLOW, checked to be the one ``lstat`` saw."""

    def __init__(self, fs):
        self.parts = []
        self.fds = [os.open(fs.root, DIR_FLAGS)]

    @property
    def fd(self):
        return self.fds[-1]

    def lstat(self, name):
        return os.stat(name, dir_fd=self.fd, follow_symlinks=False)

    def readlink(self, name):
        return os.readlink(name, dir_fd=self.fd)

    def down(self, name, st):
        fd = os.open(name, DIR_FLAGS | _NOFOLLOW, dir_fd=self.fd)
        self.fds.append(fd)
        self.parts.append(name)
        now = os.fstat(fd)
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise OSError(errno.EAGAIN, "changed while it was being read", name)

    def up(self):
        if len(self.fds) > 1:
            os.close(self.fds.pop())
            self.parts.pop()

    def top(self):
        while len(self.fds) > 1:
            self.up()

    def release(self):
        """The current directory's descriptor, now the caller's to close."""
        return self.fds.pop()

    def close(self):
        while self.fds:
            os.close(self.fds.pop())


def _open_checked(dir_fd, name, st, vpath):
    """A read descriptor of the regular file ``name`` of ``dir_fd`` whose ``lstat`` was ``st``."""
    fd = None
    if _O_PATH:
        # O_PATH opens no file (no driver, no FIFO semantics): check what it is, then re-open exactly
        # that object for reading.
        pfd = os.open(name, _O_PATH | _NOFOLLOW | _CLOEXEC, dir_fd=dir_fd)
        try:
            pst = os.fstat(pfd)
            if not stat.S_ISREG(pst.st_mode):
                raise NotRegularFile(vpath, file_kind(pst.st_mode))
            st = pst
            try:
                fd = os.open("/proc/self/fd/%d" % pfd, READ_FLAGS)
            except OSError as exc:
                if exc.errno != errno.ENOENT:   # no /proc: open by name below
                    raise
        finally:
            os.close(pfd)
    if fd is None:
        fd = os.open(name, READ_FLAGS | _NOFOLLOW, dir_fd=dir_fd)
    try:
        now = os.fstat(fd)
        if not stat.S_ISREG(now.st_mode):
            raise NotRegularFile(vpath, file_kind(now.st_mode))
        if (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise OSError(errno.EAGAIN, "changed while it was being read", vpath)
    except BaseException:
        os.close(fd)
        raise
    return fd


class RootFS:
    """Read-only view of the tree under ``root`` that never leaves it."""

    def __init__(self, root="/", max_entries=DEFAULT_MAX_ENTRIES, budget=None):
        self.root = os.path.realpath(root or "/")
        self.live = self.root == "/"
        self.max_entries = max_entries
        self.warnings = []
        self.budget = budget if budget is not None else Budget()

    def tick(self):
        """Check the current source's time budget (raises ``SourceTimeout`` once it is spent)."""
        self.budget.check()

    # -- paths -----------------------------------------------------------------------------
    def real(self, vparts):
        """Host path of a list of resolved virtual components (or of a virtual path string)."""
        if not isinstance(vparts, list):
            vparts = _split(vparts)
        if self.root == "/":
            return "/" + "/".join(vparts)
        if not vparts:
            return self.root
        return self.root + "/" + "/".join(vparts)

    def resolve(self, vpath, follow_last=True):
        """Resolve ``vpath`` inside root; return the resolved virtual path.

        Raises OSError (ENOENT, ENOTDIR, ELOOP, EACCES, ...) like the kernel would.
        """
        cursor = _ByName(self)
        name, dummy = _walk(cursor, vpath, follow_last, self.tick)
        return "/" + "/".join(cursor.parts + ([name] if name is not None else []))

    def try_resolve(self, vpath, follow_last=True, what=None):
        """``resolve`` or None; a failure other than "does not exist" becomes a warning."""
        try:
            return self.resolve(vpath, follow_last=follow_last)
        except OSError as exc:
            self._oserror(vpath, exc, what)
            return None

    def lstat(self, vpath):
        """lstat the last component (links in the parents are followed inside root) or None."""
        try:
            parent, name = vpath.rstrip("/").rsplit("/", 1)
            if not name:
                return os.lstat(self.root)
            rparent = self.resolve(parent or "/")
            return os.lstat(self.real(rparent + "/" + name))
        except OSError as exc:
            self._oserror(vpath, exc)
            return None

    def stat(self, vpath):
        """stat following links inside root, or None."""
        try:
            return os.lstat(self.real(self.resolve(vpath)))
        except OSError as exc:
            self._oserror(vpath, exc)
            return None

    def isdir(self, vpath):
        st = self.stat(vpath)
        return st is not None and stat.S_ISDIR(st.st_mode)

    def isfile(self, vpath):
        st = self.stat(vpath)
        return st is not None and stat.S_ISREG(st.st_mode)

    def exists(self, vpath):
        return self.lstat(vpath) is not None

    def readlink(self, vpath):
        """Raw target of the link ``vpath`` (parents resolved inside root) or None."""
        try:
            parent, name = vpath.rstrip("/").rsplit("/", 1)
            rparent = self.resolve(parent or "/")
            return os.readlink(self.real(rparent + "/" + name))
        except OSError as exc:
            self._oserror(vpath, exc)
            return None

    # -- opening ---------------------------------------------------------------------------
    def open_dir(self, vpath):
        """A descriptor of the directory ``vpath`` (followed inside root), walked by descriptors.

        The caller closes it. Raises OSError (ENOTDIR for anything but a directory, which is never opened).
        """
        cursor = _ByHandle(self)
        try:
            name, st = _walk(cursor, vpath, True, self.tick)
            if name is not None:
                if not stat.S_ISDIR(st.st_mode):
                    raise OSError(errno.ENOTDIR, "not a directory", vpath)
                cursor.down(name, st)
            return cursor.release()
        finally:
            cursor.close()

    def open_regular(self, vpath, follow_last=True):
        """A read descriptor of the regular file ``vpath``; the caller closes it.

        Links are followed inside root (the last one only with ``follow_last``). Anything but a regular
        file raises ``NotRegularFile`` without being opened; other failures raise OSError.
        """
        cursor = _ByHandle(self)
        try:
            name, st = _walk(cursor, vpath, follow_last, self.tick)
            if name is None:
                raise NotRegularFile(vpath, "directory")
            if not stat.S_ISREG(st.st_mode):
                raise NotRegularFile(vpath, file_kind(st.st_mode))
            return _open_checked(cursor.fd, name, st, vpath)
        finally:
            cursor.close()

    # -- directories -----------------------------------------------------------------------
    def listdir(self, vpath, limit=None, what=None):
        """Sorted ``[(name, kind)]`` of the directory ``vpath`` (followed inside root).

        ``kind`` is "dir", "file", "link" or "other" (from the directory entry, links not
        followed). At most ``limit`` (default ``max_entries``) entries are returned; a longer
        directory adds a warning and marks the current source incomplete. A missing directory gives
        []; other errors give [] and a warning.
        """
        limit = self.max_entries if limit is None else limit
        out = []
        truncated = False
        try:
            fd = self.open_dir(vpath)
            try:
                it = _scandir_fd(fd)
                try:
                    for entry in it:
                        self.tick()
                        if len(out) >= limit:
                            truncated = True
                            break
                        out.append((entry.name, _entry_kind(entry)))
                finally:
                    it.close()
            finally:
                os.close(fd)
        except OSError as exc:
            self._oserror(vpath, exc, what)
            return []
        if truncated:
            msg = ("%s has more than %d entries: only the first %d were examined%s"
                   % (quote(vpath), limit, limit, (" (%s)" % what) if what else ""))
            self.warnings.append(msg)
            self.budget.partial(msg)
        out.sort()
        return out

    # -- files -----------------------------------------------------------------------------
    def read_bytes(self, vpath, max_bytes=DEFAULT_MAX_READ, what=None, follow_last=True):
        """Return ``(data, truncated)`` of the regular file ``vpath`` or ``(None, False)``.

        Opened with ``open_regular``: a FIFO, device or socket (also through a link) is never opened
        and is reported in a warning as not a regular file.
        """
        try:
            fd = self.open_regular(vpath, follow_last=follow_last)
        except OSError as exc:
            self._oserror(vpath, exc, what)
            return None, False
        try:
            self.tick()
            data = read_fd_bounded(fd, max_bytes)
        except OSError as exc:
            self._oserror(vpath, exc, what)
            return None, False
        finally:
            os.close(fd)
        if len(data) > max_bytes:
            return data[:max_bytes], True
        return data, False

    # -- warnings --------------------------------------------------------------------------
    def _oserror(self, vpath, exc, what=None):
        code = getattr(exc, "errno", None)
        if isinstance(exc, NotRegularFile):
            reason = "not a regular file (%s), not opened" % exc.kind
        elif code in (errno.ENOENT, errno.ENOTDIR):
            return
        else:
            reason = {
                errno.EACCES: "permission denied",
                errno.EPERM: "permission denied",
                errno.ELOOP: "symbolic link loop",
            }.get(code, safe_text(getattr(exc, "strerror", None) or str(exc)))
        msg = "cannot read %s: %s" % (quote(vpath), reason)
        if what:
            msg += " (%s)" % what
        if msg not in self.warnings:
            self.warnings.append(msg)
        if not isinstance(exc, NotRegularFile) and code not in _ABSENT:
            self.budget.partial(msg)


class _FdEntry(object):
    """A directory entry read with ``lstat`` relative to its directory's descriptor (``_scandir_fd``)."""

    def __init__(self, fd, name):
        self.name = name
        self._fd = fd
        self._st_mode = None

    def _mode(self):
        if self._st_mode is None:
            self._st_mode = os.lstat(self.name, dir_fd=self._fd).st_mode
        return self._st_mode

    def is_symlink(self):
        return stat.S_ISLNK(self._mode())

    def is_dir(self, follow_symlinks=False):  # pylint: disable=unused-argument
        return stat.S_ISDIR(self._mode())

    def is_file(self, follow_symlinks=False):  # pylint: disable=unused-argument
        return stat.S_ISREG(self._mode())


class _FdListing(object):
    """What ``os.scandir(fd)`` gives, where ``os.scandir`` takes no descriptor (Python 3.6)."""

    def __init__(self, fd):
        self._entries = iter([_FdEntry(fd, name) for name in os.listdir(fd)])

    def __iter__(self):
        return self._entries

    def close(self):
        self._entries = iter(())


def _scandir_fd(fd):
    """``os.scandir`` of a directory descriptor (Python 3.7 and later), else ``listdir`` and ``lstat``."""
    if os.scandir in getattr(os, "supports_fd", ()):
        return os.scandir(fd)
    return _FdListing(fd)


def _entry_kind(entry):
    try:
        if entry.is_symlink():
            return "link"
        if entry.is_dir(follow_symlinks=False):
            return "dir"
        if entry.is_file(follow_symlinks=False):
            return "file"
    except OSError:
        pass
    return "other"


def find_executables(names, dirs, dirs_for=None):
    """``{name: path}`` of the ``names`` that are executable files on the running system.

    Each name is looked for in ``dirs`` (or in ``dirs_for[name]`` when given), first directory wins.
    """
    found = {}
    for name in names:
        for d in (dirs_for or {}).get(name, dirs):
            cand = os.path.join(d, name)
            if os.path.isfile(cand) and os.access(cand, os.X_OK):
                found[name] = cand
                break
    return found
