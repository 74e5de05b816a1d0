# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Safe, read-only access to a file system tree mounted at ``root``.

The tree may be a live host (``root == "/"``) or a mounted image that someone else controls, so
every path is resolved here, component by component, with chroot semantics:

* an absolute symbolic link target is re-rooted at ``root`` and ``..`` stops at ``root`` (as the
  kernel does inside a chroot), so no link ever leads out of ``root``;
* at most ``MAX_LINKS`` links are followed per path (loops end as ``ELOOP``);
* files are opened with ``O_NOFOLLOW | O_NONBLOCK`` after resolution, must be regular files and are
  read up to a size cap;
* directory listings stop after ``max_entries`` names and say so in a warning.

Paths handed to this class are *virtual* paths: absolute paths as seen from inside the tree
(``/var/lib/dpkg/status``). Records carry virtual paths, so an image scan and a live scan report the
same path. Names are ``str`` decoded with ``surrogateescape`` (the os module's convention);
``safe_text`` turns them into printable, JSON-safe text for records and warnings.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import stat

MAX_LINKS = 40
DEFAULT_MAX_ENTRIES = 10000
DEFAULT_MAX_READ = 1024 * 1024

_CONTROL = dict((c, u"\\x%02x" % c) for c in list(range(0, 32)) + [127])


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


class RootFS:
    """Read-only view of the tree under ``root`` that never leaves it."""

    def __init__(self, root="/", max_entries=DEFAULT_MAX_ENTRIES):
        self.root = os.path.realpath(root or "/")
        self.live = self.root == "/"
        self.max_entries = max_entries
        self.warnings = []

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
        if not vpath.startswith("/"):
            raise OSError(errno.EINVAL, "not an absolute path", vpath)
        todo = list(reversed(_split(vpath)))
        done = []
        hops = 0
        while todo:
            comp = todo.pop()
            if comp == ".":
                continue
            if comp == "..":
                if done:
                    done.pop()
                continue
            cand = done + [comp]
            real = self.real(cand)
            st = os.lstat(real)
            if stat.S_ISLNK(st.st_mode) and (todo or follow_last):
                hops += 1
                if hops > MAX_LINKS:
                    raise OSError(errno.ELOOP, "too many levels of symbolic links", vpath)
                target = os.readlink(real)
                if target.startswith("/"):
                    done = []
                todo.extend(reversed(_split(target)))
                continue
            if todo and not stat.S_ISDIR(st.st_mode):
                raise OSError(errno.ENOTDIR, "not a directory", vpath)
            done = cand
        return "/" + "/".join(done)

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

    # -- directories -----------------------------------------------------------------------
    def listdir(self, vpath, limit=None, what=None):
        """Sorted ``[(name, kind)]`` of the directory ``vpath`` (followed inside root).

        ``kind`` is "dir", "file", "link" or "other" (from the directory entry, links not
        followed). At most ``limit`` (default ``max_entries``) entries are returned; a longer
        directory adds a warning. A missing directory gives []; other errors give [] and a warning.
        """
        limit = self.max_entries if limit is None else limit
        rpath = self.try_resolve(vpath, what=what)
        if rpath is None:
            return []
        out = []
        truncated = False
        try:
            it = os.scandir(self.real(rpath))
            try:
                for entry in it:
                    if len(out) >= limit:
                        truncated = True
                        break
                    try:
                        if entry.is_symlink():
                            kind = "link"
                        elif entry.is_dir(follow_symlinks=False):
                            kind = "dir"
                        elif entry.is_file(follow_symlinks=False):
                            kind = "file"
                        else:
                            kind = "other"
                    except OSError:
                        kind = "other"
                    out.append((entry.name, kind))
            finally:
                close = getattr(it, "close", None)
                if close is not None:
                    close()
        except OSError as exc:
            self._oserror(vpath, exc, what)
            return []
        if truncated:
            self.warnings.append(
                "%s has more than %d entries: only the first %d were examined%s"
                % (quote(vpath), limit, limit, (" (%s)" % what) if what else ""))
        out.sort()
        return out

    # -- files -----------------------------------------------------------------------------
    def read_bytes(self, vpath, max_bytes=DEFAULT_MAX_READ, what=None):
        """Return ``(data, truncated)`` of the regular file ``vpath`` or ``(None, False)``.

        Links are followed inside root; the resolved file is opened with O_NOFOLLOW and must be
        a regular file (a FIFO or device would block or never end).
        """
        try:
            rpath = self.resolve(vpath)
            flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
            flags |= getattr(os, "O_CLOEXEC", 0)
            fd = os.open(self.real(rpath), flags)
        except OSError as exc:
            self._oserror(vpath, exc, what)
            return None, False
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return None, False
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
        if code in (errno.ENOENT, errno.ENOTDIR):
            return
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
