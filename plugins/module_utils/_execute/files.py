# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the executor's file steps for reinstall blocks and the local fact: ``write_file`` and ``remove_file``.

* ``write_file`` {path, content, mode, expect_sha256}: writes ``content`` (UTF-8) atomically (a
  temporary file in the same directory, fsync, rename, fsync of the directory), only while the file
  still has the sha256 the scan saw (``expect_sha256``; null = it must not exist), so an edit made
  since the scan is never lost: the step fails instead. A file that already has ``content`` and
  ``mode`` is left alone (status ``ok``). The owner of a replaced file is kept.
* ``remove_file`` {path, expect_sha256}: unlinks the file under the same condition; ``absent`` when
  it is gone already.
* Both walk the path from ``/`` with directory descriptors opened ``O_NOFOLLOW``: a symbolic link in
  any component (the file itself included) makes the step fail and touches nothing. Missing parent
  directories are created (mode 0755) only inside ``MKDIR_ROOTS``; anywhere else the step fails.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import os
import re
import stat

from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import (
    APT_PREFERENCES_PATH, DNF_DROPIN_PATH, MACOS_FACT, POSIX_FACT, STATE_DIRS)
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.dirwalk import (
    DIR_FLAGS, NotADirectory, open_dir_nofollow,
)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.protect import (
    normalise_path, path_protection)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.steps import StepError, shown

# The directories of the block files (_host_paths.py), the collection's state directory and Ansible's
# configuration directory that holds facts.d (the local fact).
MKDIR_ROOTS = (os.path.dirname(APT_PREFERENCES_PATH), os.path.dirname(DNF_DROPIN_PATH), STATE_DIRS["linux"],
               os.path.dirname(os.path.dirname(POSIX_FACT)), os.path.dirname(os.path.dirname(MACOS_FACT)))
CONTENT_LIMIT = 1024 * 1024
SHA256_RE = re.compile(r"^[0-9a-f]{64}\Z")
MODE_RE = re.compile(r"^0?[0-7]{3}\Z")
_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


def check_file_step(step, bad):
    """Shape checks of a ``write_file`` or ``remove_file`` step (``bad(field, message)`` per error)."""
    path = step.get("path")
    if not (isinstance(path, str) and normalise_path(path) == path):
        bad("path", "must be a clean absolute path (no '.', '..', '//', trailing '/' or NUL)")
    sha = step.get("expect_sha256")
    if step.get("kind") == "remove_file":
        if not (isinstance(sha, str) and SHA256_RE.match(sha)):
            bad("expect_sha256", "must be the sha256 (64 lowercase hex digits) the scan saw")
        return
    if "expect_sha256" not in step or not (sha is None or (isinstance(sha, str) and SHA256_RE.match(sha))):
        bad("expect_sha256", "must be null (the file must not exist) or the sha256 the scan saw")
    content = step.get("content")
    if not isinstance(content, str) or "\x00" in content:
        bad("content", "must be a string without NUL")
    elif len(content.encode("utf-8", "surrogatepass")) > CONTENT_LIMIT:
        bad("content", "must be at most %d bytes" % CONTENT_LIMIT)
    if not (isinstance(step.get("mode"), str) and MODE_RE.match(step["mode"])):
        bad("mode", "must be an octal mode string such as '0644'")


def _may_create(directory):
    return any(directory == root or directory.startswith(root + "/") for root in MKDIR_ROOTS)


def _create_dir(parent_fd, name, walked):
    """Create a missing directory of a block file's path, only under MKDIR_ROOTS; its fd."""
    if not _may_create(walked):
        raise StepError("refused: %s does not exist and is not a directory this collection "
                        "creates (%s); nothing was changed" % (shown(walked), ", ".join(MKDIR_ROOTS)))
    os.mkdir(name, 0o755, dir_fd=parent_fd)
    new_fd = os.open(name, DIR_FLAGS, dir_fd=parent_fd)
    os.fchmod(new_fd, 0o755)
    return new_fd


def _open_parent(path, create):
    """fd of the parent directory of ``path`` (links refused), or None when it is missing and not created."""
    try:
        return open_dir_nofollow(os.path.dirname(path), _create_dir if create else (lambda fd, name, walked: None))
    except NotADirectory as exc:
        raise StepError("refused: %s is a symbolic link or not a directory; nothing was changed"
                        % shown(exc.path))


def _current(parent_fd, name, path):
    """``(stat, sha256)`` of the regular file ``name`` or ``(None, None)``; refuses links and others."""
    try:
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None, None
        raise
    if stat.S_ISLNK(st.st_mode):
        raise StepError("refused: %s is a symbolic link; nothing was changed" % shown(path))
    if not stat.S_ISREG(st.st_mode):
        raise StepError("refused: %s is not a regular file; nothing was changed" % shown(path))
    fd = os.open(name, _READ_FLAGS, dir_fd=parent_fd)
    try:
        digest = hashlib.sha256()
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            digest.update(chunk)
    finally:
        os.close(fd)
    return st, digest.hexdigest()


def _expect(path, st, sha, expected):
    if expected is None and st is not None:
        raise StepError("%s was created since the scan (sha256 %s); not changed, scan again" % (shown(path), sha))
    if expected is not None and st is None:
        raise StepError("%s was removed since the scan; not changed, scan again" % shown(path))
    if expected is not None and sha != expected:
        raise StepError("%s changed since the scan (sha256 %s, the scan saw %s); not changed, scan again"
                        % (shown(path), sha, expected))


def _checked(path, homes):
    reason = path_protection(path, homes)
    if reason:
        raise StepError("refused: %s is protected (%s)" % (shown(path), reason))


def run_write_file(step, options, result):
    path = step["path"]
    _checked(path, options.get("homes") or ())
    data = step["content"].encode("utf-8", "surrogateescape")
    mode = int(step["mode"], 8)
    new_sha = hashlib.sha256(data).hexdigest()
    name = os.path.basename(path)
    parent_fd = _open_parent(path, create=True)
    tmp = None
    try:
        st, sha = _current(parent_fd, name, path)
        result.update(before_sha256=sha, sha256=new_sha)
        if st is not None and sha == new_sha and stat.S_IMODE(st.st_mode) == mode:
            return "ok", "%s already has this content" % shown(path)
        _expect(path, st, sha, step["expect_sha256"])
        tmp = ".%s.govsec-%d-%s.tmp" % (name, os.getpid(), os.urandom(4).hex())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0),
                     0o600, dir_fd=parent_fd)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            os.fchmod(fd, mode)
            if st is not None:
                os.fchown(fd, st.st_uid, st.st_gid)
            os.fsync(fd)
        finally:
            os.close(fd)
        st2, sha2 = _current(parent_fd, name, path)
        _expect(path, st2, sha2, sha if st is not None else None)   # still as read above
        os.rename(tmp, name, src_dir_fd=parent_fd, dst_dir_fd=parent_fd)
        tmp = None
        os.fsync(parent_fd)
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp, dir_fd=parent_fd)
            except OSError:
                pass
        os.close(parent_fd)
    return "changed", "%s written (%d bytes, mode %04o)" % (shown(path), len(data), mode)


def run_remove_file(step, options, result):
    path = step["path"]
    _checked(path, options.get("homes") or ())
    parent_fd = _open_parent(path, create=False)
    if parent_fd is None:
        return "absent", "%s does not exist" % shown(path)
    try:
        name = os.path.basename(path)
        st, sha = _current(parent_fd, name, path)
        result["before_sha256"] = sha
        if st is None:
            return "absent", "%s does not exist" % shown(path)
        _expect(path, st, sha, step["expect_sha256"])
        os.unlink(name, dir_fd=parent_fd)
        os.fsync(parent_fd)
    finally:
        os.close(parent_fd)
    return "changed", "%s removed" % shown(path)
