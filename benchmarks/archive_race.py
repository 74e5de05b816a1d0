# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Long race: a second, unprivileged user against the executor's archive and quarantine copy (root only).

    sudo .venv/bin/python benchmarks/archive_race.py [--seconds 60] [--uid 65534] [--kind archive|quarantine]

A user (``--uid``, default nobody) owns ``home/alice/.xwechat`` in a temporary directory and, for
``--seconds``, swaps its sub-folder and a file with symbolic links to a root-only directory and file
(``RENAME_EXCHANGE`` where Linux has it), as fast as it can. Meanwhile root runs the executor's
``archive`` step (or ``quarantine`` with rename made to answer EXDEV, so the copy across file systems runs)
again and again on that folder, and checks each archive or copy for the secret.

Prints the runs, how many the racer caught mid-walk (an entry left out, a link stored), how many failed
cleanly, and the leaks. Exits 1 on any leak. The unit test ``test_archive_against_a_real_racing_user``
runs the same race for 3 seconds; this is the long version (docs/testing.md).
"""

from __future__ import absolute_import, division, print_function

import argparse
import errno
import gzip
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # benchmarks/checkout.py, also when loaded by path
from checkout import use_checkout  # noqa: E402  pylint: disable=wrong-import-position


def _import_collection():
    """Import the executor from this checkout (as conftest does for the unit tests)."""
    use_checkout()
    # pylint: disable=import-outside-toplevel
    from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import run_plan
    from ansible_collections.govsec.banned_software.tests.unit.helpers import hostile_fs
    return run_plan, hostile_fs


def _leaked_archive(dest, secret):
    with gzip.open(dest, "rb") as handle:
        return secret[:8] in handle.read()


def _leaked_copy(dest, secret):
    for dirpath, dirnames, filenames in os.walk(dest):
        for name in filenames:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as handle:
                    if secret[:8] in handle.read():
                        return True
    return False


def _new_folder(hostile, data, uid, secret_dir, secret, seconds):
    """The user's folder (owned by ``uid``) and its racer; the racer's pid."""
    os.makedirs(os.path.join(data, "sub"))
    with open(os.path.join(data, "sub", "msg.db"), "wb") as handle:
        handle.write(b"messages of alice")
    with open(os.path.join(data, "notes.txt"), "wb") as handle:
        handle.write(b"notes of alice's")
    for dirpath, dirnames, filenames in os.walk(data):
        for name in [dirpath] + [os.path.join(dirpath, n) for n in dirnames + filenames]:
            os.chown(name, uid, uid, follow_symlinks=False)
    dir_fd = os.open(data, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return hostile.racer(dir_fd, [("sub", secret_dir), ("notes.txt", secret)], uid, max(0.0, seconds))
    finally:
        os.close(dir_fd)


def _stop(pid):
    if pid is not None:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
        os.waitpid(pid, 0)
    return None


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--uid", type=int, default=65534)
    parser.add_argument("--kind", choices=("archive", "quarantine"), default="archive")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        parser.error("run as root: the racer is a second user, made with setuid")
    run_plan, hostile = _import_collection()
    base = tempfile.mkdtemp(prefix="govsec-race-")
    real_rename = os.rename

    def rename(src, dst, src_dir_fd=None, dst_dir_fd=None):
        if src_dir_fd is not None:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_rename(src, dst, dst_dir_fd=dst_dir_fd)

    if args.kind == "quarantine":
        os.rename = rename
    runs = caught = failed = leaks = 0
    pid = None
    try:
        os.makedirs(os.path.join(base, "outside"))
        secret_dir, secret = hostile.plant_secret(os.path.join(base, "outside"))
        options = {"run_id": "r", "quarantine_dir": os.path.join(base, "q"), "archive_dir": os.path.join(base, "a"),
                   "homes": [os.path.join(base, "home", "alice")], "lock_timeout": 5, "default_timeout": 60}
        data = os.path.join(base, "home", "alice", ".xwechat")
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            if not os.path.lexists(data):     # first run, or the last quarantine took the folder
                pid = _stop(pid)
                pid = _new_folder(hostile, data, args.uid, secret_dir, secret, end - time.monotonic())
            runs += 1
            if args.kind == "archive":
                step = {"id": 1, "kind": "archive", "name": "run%d" % runs, "paths": [data]}
            else:
                step = {"id": 1, "kind": "quarantine", "path": data, "type": "dir"}
            res = run_plan([step], dict(options, run_id="r%d" % runs))[0]
            if res["status"] != "changed":
                failed += 1
                continue
            if args.kind == "archive":
                leaks += _leaked_archive(res["dest"], hostile.SECRET)
                caught += bool(res["not_archived"])
                os.unlink(res["dest"])
                os.unlink(res["sha256_file"])
            else:
                leaks += _leaked_copy(res["dest"], hostile.SECRET)
                shutil.rmtree(os.path.join(base, "q"))
    finally:
        _stop(pid)
        os.rename = real_rename
        shutil.rmtree(base, ignore_errors=True)
    print("kind=%s seconds=%s runs=%d caught_mid_walk=%d failed_cleanly=%d leaks=%d"
          % (args.kind, args.seconds, runs, caught, failed, leaks))
    return 1 if leaks else 0


if __name__ == "__main__":
    sys.exit(main())
