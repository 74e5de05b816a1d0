# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: open a directory component by component from ``/``, never following a symbolic link.

Shared by the executor's path steps (quarantine, archive, purge) and its file steps (write_file,
remove_file): a link planted anywhere on the way is refused instead of being followed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os

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
