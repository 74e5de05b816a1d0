# -*- coding: utf-8 -*-
"""A user attacking the executor's tree walks: swaps at chosen moments, a racing second user, a child with a timeout.

* ``SwapHook``: replaces one entry (a sub-folder, a file) at one moment of a walk — after its directory
  was listed, after it was ``lstat``-ed, after it was opened — by wrapping ``os.listdir``, ``os.stat``,
  ``os.lstat`` and ``os.open`` (path or ``dir_fd`` calls alike, so it fires for any walker).
* ``in_child``: run a function in a forked child and give up after a timeout (a FIFO opened for reading
  blocks forever: the test must fail, not hang).
* ``racer``: a forked child that drops to an unprivileged uid and swaps entries for links as fast as it can.
* ``tmpfs``: a real second file system (root only), for EXDEV without monkeypatching.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import ctypes
import errno
import gzip
import json
import os
import select
import signal
import stat
import subprocess
import tempfile
import time

SECRET = b"root:$6$SECRET-SHADOW-HASH$:19000:0:99999:7:::\n"
NOBODY = 65534

_REAL = {"listdir": os.listdir, "stat": os.stat, "lstat": os.lstat, "open": os.open}


def executor_options(root, **extra):
    """The executor's options for a test tree under ``root`` (alice's home under root/home/alice)."""
    options = {"run_id": "r1", "quarantine_dir": str(root / "q"), "archive_dir": str(root / "a"),
               "homes": [str(root / "home" / "alice")], "lock_timeout": 5, "default_timeout": 30}
    options.update(extra)
    return options


def alice_data_tree(tmp_path):
    """tmp/home/alice/.xwechat/{sub/msg.db, top.txt}; tmp/outside/secret-dir/shadow (root, 0600)."""
    data = tmp_path / "home" / "alice" / ".xwechat"
    (data / "sub").mkdir(parents=True)
    (data / "sub" / "msg.db").write_bytes(b"messages")
    (data / "top.txt").write_bytes(b"top")
    (tmp_path / "outside").mkdir()
    plant_secret(tmp_path / "outside")
    return tmp_path


def plant_secret(base):
    """``base/secret-dir`` (root, 0700) holding ``shadow`` (0600) with SECRET: what a user wants to read."""
    secret_dir = os.path.join(str(base), "secret-dir")
    os.mkdir(secret_dir, 0o700)
    secret = os.path.join(secret_dir, "shadow")
    with open(secret, "wb") as handle:
        handle.write(SECRET)
    os.chmod(secret, 0o600)
    return secret_dir, secret


def replace_with(kind, target):
    """The replacement a ``SwapHook`` puts at a path: the old entry is renamed ``<name>.moved``."""

    def replace(path):
        os.rename(path, path + ".moved")
        if kind == "fifo":
            os.mkfifo(path, 0o600)
        else:
            os.symlink(target, path)
    return replace


def _identity(path=None, fd=None):
    try:
        st = os.fstat(fd) if fd is not None else _REAL["stat"](path)
    except (OSError, TypeError):
        return None
    return st.st_dev, st.st_ino


class SwapHook(object):
    """Replace ``directory/name`` once, right after ``moment``: ``listed``, ``lstat`` or ``opened``.

    ``skip``: how many of those moments pass first (a copy's size walk lstats each entry before the copy does).
    """

    def __init__(self, monkeypatch, directory, name, replace, moment, skip=0):
        self.skip = skip
        self.directory = str(directory)
        self.name = name
        self.path = os.path.join(self.directory, name)
        self.replace = replace
        self.moment = moment
        self.fired = False
        self.dir_id = _identity(self.directory)
        monkeypatch.setattr(os, "listdir", self._listdir)
        monkeypatch.setattr(os, "stat", self._stat)
        monkeypatch.setattr(os, "lstat", self._lstat)
        monkeypatch.setattr(os, "open", self._open)

    def _is_target(self, path, dir_fd):
        if not isinstance(path, str):
            return False
        if dir_fd is not None:
            return path == self.name and _identity(fd=dir_fd) == self.dir_id
        return os.path.abspath(path) == self.path

    def _fire(self):
        if not self.fired and self.skip:
            self.skip -= 1
        elif not self.fired:
            self.fired = True
            self.replace(self.path)

    def _listdir(self, path="."):
        names = _REAL["listdir"](path)
        if self.moment == "listed" and self.name in names:
            same = _identity(fd=path) if isinstance(path, int) else _identity(os.path.abspath(path))
            if same == self.dir_id:
                self._fire()
        return names

    def _after_stat(self, result, path, dir_fd):
        if self.moment == "lstat" and self._is_target(path, dir_fd) and not stat.S_ISLNK(result.st_mode):
            self._fire()
        return result

    def _stat(self, path, *args, **kwargs):
        return self._after_stat(_REAL["stat"](path, *args, **kwargs), path, kwargs.get("dir_fd"))

    def _lstat(self, path, *args, **kwargs):
        return self._after_stat(_REAL["lstat"](path, *args, **kwargs), path, kwargs.get("dir_fd"))

    def _open(self, path, flags, *args, **kwargs):
        fd = _REAL["open"](path, flags, *args, **kwargs)
        if self.moment == "opened" and self._is_target(path, kwargs.get("dir_fd")):
            self._fire()
        return fd


def archive_bytes(path):
    """The whole decompressed tar stream of a ``.tar.gz``: a secret in any member or header shows here."""
    with gzip.open(path, "rb") as handle:
        return handle.read()


def in_child(function, timeout):
    """``function()`` run in a forked child: ``("ok", its JSON result)``, ``("error", repr)`` or ``("hung", None)``.

    A child still running after ``timeout`` seconds is killed (SIGKILL).
    """
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.close(read_end)
            try:
                out = json.dumps(["ok", function()])
            except BaseException as exc:  # pylint: disable=broad-except
                out = json.dumps(["error", repr(exc)])
            data = out.encode("utf-8")
            while data:
                data = data[os.write(write_end, data):]
        finally:
            os._exit(0)
    os.close(write_end)
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                return "hung", None
            ready, dummy, dummy2 = select.select([read_end], [], [], left)
            if ready:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    outcome, value = json.loads(b"".join(chunks).decode("utf-8"))
    return outcome, value


def _exchange():
    """``exchange(dir_fd, a, b)``: swap two names atomically (Linux ``renameat2(RENAME_EXCHANGE)``), or None."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return None
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]

    def exchange(dir_fd, one, other):
        if renameat2(dir_fd, one.encode(), dir_fd, other.encode(), 2) != 0:
            raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    return exchange


def racer(dir_fd, swaps, uid, seconds):
    """Fork a child that drops to ``uid`` and, for ``seconds``, swaps each ``(name, link_target)`` of
    ``swaps`` (entries of the directory ``dir_fd``) with a symbolic link ``<name>.link`` to ``link_target``
    and back: atomically where the system can (``RENAME_EXCHANGE``: the name always exists, a real entry
    or the link), else by renames. Returns its pid."""
    pid = os.fork()
    if pid:
        return pid
    try:  # pragma: no cover - the child
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        exchange = _exchange()
        for name, target in swaps:
            os.symlink(target, name + ".link", dir_fd=dir_fd)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for name, dummy in swaps:
                try:
                    if exchange is not None:
                        exchange(dir_fd, name, name + ".link")
                        continue
                    os.rename(name, name + ".real", src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                    os.rename(name + ".link", name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                    os.rename(name, name + ".link", src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                    os.rename(name + ".real", name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
                except OSError:
                    pass
    finally:
        os._exit(0)


def can_mount():
    return os.geteuid() == 0 and os.path.exists("/proc/filesystems") and b"tmpfs" in open(
        "/proc/filesystems", "rb").read()


@contextlib.contextmanager
def tmpfs(size="64m"):
    """A tmpfs of ``size`` mounted on a new directory (root only); unmounted and removed afterwards."""
    where = tempfile.mkdtemp(prefix="govsec-tmpfs-")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size, "tmpfs", where], check=True,
                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        yield where
    finally:
        for dummy in range(50):
            if subprocess.run(["umount", where], check=False, stderr=subprocess.PIPE).returncode == 0:
                break
            time.sleep(0.1)
        try:
            os.rmdir(where)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise
