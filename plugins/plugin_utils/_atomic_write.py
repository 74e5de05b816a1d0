# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: files the controller-side actions write (reports, exported block rules), atomically."""

import json
import os
import tempfile


def write_atomically(path, write, mode="w", encoding="utf-8", perms=0o640):
    """Call ``write(handle)`` on a temporary file next to ``path``, then rename it over ``path``.

    Readers never see a partial file; a failure leaves the previous file (if any) in place. The data is
    flushed to disk before the rename; the file gets ``perms``.
    """
    directory = os.path.dirname(path)
    fd, tmp_path = tempfile.mkstemp(prefix=".%s." % os.path.basename(path), suffix=".tmp", dir=directory)
    try:
        if "b" in mode:
            handle = os.fdopen(fd, mode)
        else:
            handle = os.fdopen(fd, mode, encoding=encoding, newline="")
        with handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_path, perms)
        os.replace(tmp_path, path)
    except BaseException:
        if os.path.exists(tmp_path):
            os.unlink(tmp_path)
        raise


def dump_json(data):
    """A writer of ``data`` as the reports' JSON (indented, sorted keys, UTF-8 text, final newline)."""
    def write(handle):
        json.dump(data, handle, indent=2, sort_keys=True, ensure_ascii=False)
        handle.write("\n")
    return write


def write_json_atomically(path, data):
    """Write ``data`` as JSON to ``path`` through a temporary file and a rename (mode 0640)."""
    write_atomically(path, dump_json(data))
