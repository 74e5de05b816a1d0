# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PRIVATE: the executor's path steps: ``quarantine``, ``archive`` and ``purge``.

* Each path is checked again here: not protected (``protect.py``), no symbolic link in a component of its
  parent; then reached through directory file descriptors opened with ``O_NOFOLLOW``, so a parent swapped
  for a link after the check is not followed either. Nothing follows links.
* Trees (archive, quarantine copies across file systems, purge) are walked by descriptors
  (``_fs/dirwalk.py``, ``walk_at``): each entry is opened relative to its directory's descriptor and
  checked with ``fstat`` against its ``lstat``, so a user swapping a sub-folder for a link while root walks
  it gets nothing from outside their files. Archives and copies are bounded in size, time and free space
  (``limits.py``; ``max_bytes`` and ``timeout`` of the step): before anything is written, the data's size
  (a bounded walk, ``Limits.measure``) must fit above the reserve of the file system written to.

Standard library only; Python >= 3.6.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import os
import stat
import tarfile
import time

from ansible_collections.govsec.banned_software.plugins.module_utils._execute.archive import ArchiveError, Archiver
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.copy import CopyError, copy_tree
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.limits import LimitExceeded, Limits
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.protect import (
    normalise_path, path_protection)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import DEFAULT_MAX_BYTES
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.steps import StepError, shown
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.dirwalk import (
    NotADirectory, create_missing_dirs, lstat_at, open_dir_nofollow, tree_usage, type_name, walk_at)

HASH_LIMIT = 1 << 30          # files larger than this are not hashed in the manifest
MAX_SUFFIX = 1000
MANIFEST_READ_LIMIT = 64 << 20    # bytes of a quarantine's MANIFEST.jsonl read to find a killed run's partial copies
_FILE_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


def _utc(epoch):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _open_dir_nofollow(path):
    """Open directory ``path`` component by component, never following a symbolic link.

    Raises StepError when a component is a link or not a directory; returns an fd.
    """
    try:
        return open_dir_nofollow(path)
    except NotADirectory as exc:
        raise StepError("%s is not a directory or is a symbolic link" % shown(exc.path))


def _check_path(path, homes):
    """Return the normalised path after the refusals common to quarantine, archive and purge."""
    clean = normalise_path(path)
    reason = path_protection(path, homes)
    if clean is None or reason is not None:
        raise StepError("refused: %s is protected (%s)" % (shown(path), reason or "not a clean absolute path"))
    parent = os.path.dirname(clean)
    real = os.path.realpath(parent)
    if real != parent:
        raise StepError("refused: a component of the parent of %s is a symbolic link (%s resolves to %s)"
                        % (shown(clean), shown(parent), shown(real)))
    return clean


def _open_parent(clean):
    """fd of the parent directory of ``clean``, or None when it does not exist."""
    try:
        return _open_dir_nofollow(os.path.dirname(clean))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return None
        raise


def _free_name(path, ext=""):
    """``path + ext`` or, when that exists, ``path.N + ext`` for the first free N."""
    candidate = path + ext
    number = 0
    while os.path.lexists(candidate):
        number += 1
        if number > MAX_SUFFIX:
            raise StepError("no free name for %s%s (%d taken)" % (shown(path), ext, MAX_SUFFIX))
        candidate = "%s.%d%s" % (path, number, ext)
    return candidate


def _makedirs_private(path):
    """Create ``path`` and its missing parents, each with mode 0700 (owned by the caller).

    Returns ``realpath(path)``. Existing directories are left as they are.
    """
    create_missing_dirs(path, 0o700)
    if not os.path.isdir(path):
        raise StepError("%s is not a directory" % shown(path))
    return os.path.realpath(path)


def _makedirs_inside(base_real, relative):
    """Create ``relative`` (0700 each) under the real directory ``base_real``; refuse links."""
    target = os.path.join(base_real, relative) if relative else base_real
    _makedirs_private(target)
    real = os.path.realpath(target)
    if real != os.path.normpath(target):
        raise StepError("refused: %s resolves to %s (symbolic link in the destination)"
                        % (shown(target), shown(real)))
    return target


def _sha256_fd(fd, limit=None):
    digest = hashlib.sha256()
    total = 0
    while True:
        chunk = os.read(fd, 1 << 20)
        if not chunk:
            break
        total += len(chunk)
        if limit is not None and total > limit:
            return None
        digest.update(chunk)
    return digest.hexdigest()


def _sha256_path(path, limit=None):
    fd = os.open(path, _FILE_FLAGS)
    try:
        if limit is not None and os.fstat(fd).st_size > limit:
            return None
        return _sha256_fd(fd, limit)
    finally:
        os.close(fd)


def _tree_size(path):
    """Total size of the regular files under directory ``path`` (``dirwalk.tree_usage``: no link followed)."""
    parent_fd = _open_dir_nofollow(os.path.dirname(path))
    try:
        name = os.path.basename(path)
        st = lstat_at(parent_fd, name)
        return tree_usage([(parent_fd, name, st)]).file_bytes if st is not None else 0
    finally:
        os.close(parent_fd)


# --- tree operations through directory fds (no link is ever followed) -------------------------------

def _remove_at(parent_fd, name, st, errors):
    """Remove ``name`` in ``parent_fd``: unlink, or a depth-first delete of a real directory.

    Walks with ``dirwalk.walk_at`` (files are not opened): never follows a link, enters a directory
    only once its descriptor is verified against its ``lstat``, never descends into another file
    system (a mount point inside the tree is left alone and reported). Errors are appended to
    ``errors``; it carries on past them.
    """
    for node in walk_at(parent_fd, name, st, open_files=False):
        kind = node.kind
        label = shown("/".join((name,) + node.parts))
        try:
            if kind in ("file", "link", "special"):
                os.unlink(node.name, dir_fd=node.parent_fd)
            elif kind == "leave":
                os.rmdir(node.name, dir_fd=node.parent_fd)
            elif kind == "mount":
                errors.append("%s: another file system is mounted there; not descended" % label)
            elif kind in ("changed", "error"):
                errors.append("%s: %s" % (label, node.reason))
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                errors.append("%s: %s" % (label, exc.strerror))


def _checked_entry(step, homes):
    """Refusals common to quarantine and purge: ``(clean, parent_fd, name, st)``; st None = absent."""
    clean = _check_path(step["path"], homes)
    parent_fd = _open_parent(clean)
    if parent_fd is None:
        return clean, None, None, None
    name = os.path.basename(clean)
    try:
        st = lstat_at(parent_fd, name)
        if st is not None:
            actual = type_name(st.st_mode)
            if actual != step["type"]:
                raise StepError("refused: %s is a %s, the plan expects a %s; nothing was touched"
                                % (shown(clean), actual, step["type"]))
    except BaseException:
        os.close(parent_fd)
        raise
    return clean, parent_fd, name, st


def run_quarantine(step, options, result, clock):
    """Move the path into the quarantine, recorded in ``MANIFEST.jsonl`` before and after the move.

    Whatever point a kill hits, the data is either at its original path or in the quarantine with a line in
    the manifest: a ``moving`` line (``original``, ``quarantined``) is appended and synced before the move,
    the full line (mode, owner, size, sha256) after it, and a move that fails appends a ``not_moved`` line.
    """
    clean, parent_fd, name, st = _checked_entry(step, options["homes"])
    if st is None:
        if parent_fd is not None:
            os.close(parent_fd)
        return "absent", "%s does not exist" % shown(clean)
    try:
        run_dir = _makedirs_private(os.path.join(options["quarantine_dir"], options["run_id"]))
        dest_parent = _makedirs_inside(run_dir, os.path.dirname(clean).lstrip("/"))
        dest = _free_name(os.path.join(dest_parent, name))
        manifest = os.path.join(run_dir, "MANIFEST.jsonl")
        try:
            _append_line(manifest, {"original": clean, "quarantined": dest, "type": step["type"], "state": "moving",
                                    "time": _utc(clock())})
        except OSError as exc:
            raise StepError("the manifest %s cannot be written (%s); nothing was moved" % (shown(manifest), exc.strerror))
        try:
            try:
                os.rename(name, dest, src_dir_fd=parent_fd)
                how = "renamed"
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise StepError("%s cannot be moved to %s: %s; nothing was moved"
                                    % (shown(clean), shown(dest), exc.strerror))
                how = "copied across file systems and removed"
                _move_across(step, options, parent_fd, name, st, clean, dest, result)
        except StepError as exc:
            if not os.path.lexists(dest):
                try:
                    _append_line(manifest, {"original": clean, "quarantined": dest, "state": "not_moved",
                                            "reason": str(exc), "time": _utc(clock())})
                except OSError:
                    pass
            raise
    finally:
        os.close(parent_fd)
    result["dest"] = dest
    entry = {"original": clean, "quarantined": dest, "type": step["type"],
             "mode": "%04o" % stat.S_IMODE(st.st_mode), "uid": st.st_uid, "gid": st.st_gid,
             "size": st.st_size, "sha256": None, "time": _utc(clock())}
    try:
        if step["type"] == "file":
            entry["sha256"] = _sha256_path(dest, HASH_LIMIT)
        elif step["type"] == "dir":
            entry["size"] = _tree_size(dest)
        _append_line(manifest, entry)
    except OSError as exc:
        raise StepError("%s moved to %s (its \"moving\" line is in the manifest), but the full manifest line was not "
                        "written: %s" % (shown(clean), shown(dest), exc.strerror))
    result["manifest"] = entry
    return "changed", "%s %s to %s" % (shown(clean), how, shown(dest))


def _append_line(path, entry):
    """Append one JSON line to ``path`` (0600, no link followed) and sync it."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, (json.dumps(entry, sort_keys=True) + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)


def _move_across(step, options, parent_fd, name, st, clean, dest, result):
    """EXDEV fallback: copy to ``dest.partial`` by descriptors, rename it to ``dest``, remove the original.

    Before the copy starts, the destination's file system must have the data's allocated size free above
    its reserve (holes stay holes in the copy): a file's blocks, a directory's as ``Limits.measure`` counts
    them (a bounded walk: when it stops at its bound, what it counted; the checks while copying then stop
    the copy before the reserve is reached). The original is removed only once the copy is complete (every
    file read to its end, unchanged while read, within the step's limits), the original is still the object
    that was copied, and the copy is on disk (``sync``). On any failure (ENOSPC, EROFS too) the partial copy
    is removed and the original stays.
    """
    partial = _free_name(dest + ".partial")
    out_dir, out_name = os.path.dirname(partial), os.path.basename(partial)
    not_copied = []
    out_fd = _open_dir_nofollow(out_dir)
    need = 0
    try:
        limits = Limits(step.get("max_bytes", DEFAULT_MAX_BYTES), step.get("timeout") or options["default_timeout"],
                        out_dir)
        if stat.S_ISDIR(st.st_mode):
            need, complete = limits.measure([(parent_fd, name, st)])
        else:
            need, complete = st.st_blocks * 512, True
        limits.check_space(need, complete)
        copy_tree(parent_fd, name, st, out_fd, out_name, limits, clean, not_copied)
        now = lstat_at(parent_fd, name)
        if now is None or (now.st_dev, now.st_ino) != (st.st_dev, st.st_ino):
            raise CopyError("%s was replaced while it was copied" % shown(clean))
        os.sync()
        os.rename(partial, dest)
    except (OSError, CopyError, LimitExceeded) as exc:
        leftovers = []
        pst = lstat_at(out_fd, out_name)
        if pst is not None:
            _remove_at(out_fd, out_name, pst, leftovers)
        raise StepError("copy across file systems failed, original left in place: %s%s"
                        % (getattr(exc, "strerror", None) or exc, _space_detail(exc, out_dir, need)))
    finally:
        os.close(out_fd)
    if not_copied:
        result["not_copied"] = not_copied
    errors = []
    _remove_at(parent_fd, name, st, errors)
    if errors:
        raise StepError("copied to %s but the original could not be fully removed: %s"
                        % (shown(dest), "; ".join(errors[:5])))


def remove_partial_copies(quarantine_dir, run_id):
    """Remove the partial copies a run killed in a quarantine left in ``quarantine_dir/run_id``: ``(removed, errors)``.

    A copy across file systems is written as ``<quarantined>.partial`` (or ``.partial.N``) and renamed to its
    place only once complete, before the original is touched; a failed copy is removed and gets a
    ``not_moved`` line. So a partial copy of a ``moving`` line that has no line after it is what a killed run
    left, and that data is still at its original path. Only the names of such lines are looked at, below the
    run's own quarantine directory; nothing follows a link. Called under the run lock, which the killed run no
    longer holds: no copy is being written there.
    """
    run_dir = os.path.join(quarantine_dir, run_id)
    try:
        fd = os.open(os.path.join(run_dir, "MANIFEST.jsonl"), os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            return [], []
        return [], ["the manifest of %s cannot be read: %s" % (shown(run_dir), exc.strerror)]
    try:
        with os.fdopen(fd, "rb") as handle:
            data = handle.read(MANIFEST_READ_LIMIT + 1)
    except OSError as exc:
        return [], ["the manifest of %s cannot be read: %s" % (shown(run_dir), exc.strerror)]
    if len(data) > MANIFEST_READ_LIMIT:
        # Half a manifest could show a move as unfinished when its full line is past the cut: nothing is removed.
        return [], ["the manifest of %s is larger than %d bytes: its partial copies were not looked for"
                    % (shown(run_dir), MANIFEST_READ_LIMIT)]
    lines = data.decode("utf-8", "replace").splitlines()
    pending, named = [], set()
    for text in lines:
        try:
            line = json.loads(text)
        except ValueError:
            continue        # a line cut by the kill
        dest = line.get("quarantined") if isinstance(line, dict) else None
        if not isinstance(dest, str):
            continue
        named.add(dest)     # quarantined data (an original may be named like a partial copy): never removed here
        if line.get("state") == "moving":
            pending.append(dest)
        elif dest in pending:
            pending.remove(dest)        # moved (its full line) or not_moved (its partial copy already removed)
    removed, errors = [], []
    for dest in pending:
        if os.path.normpath(dest) != dest or not dest.startswith(run_dir + "/"):
            continue
        base = os.path.basename(dest)
        try:
            parent_fd = _open_dir_nofollow(os.path.dirname(dest))
        except (OSError, StepError):
            continue
        try:
            for name in sorted(os.listdir(parent_fd)):
                suffix = name[len(base):] if name.startswith(base) else ""
                if not (suffix == ".partial" or (suffix.startswith(".partial.") and suffix[9:].isdigit())):
                    continue
                if os.path.join(os.path.dirname(dest), name) in named:
                    continue
                st = lstat_at(parent_fd, name)
                if st is None:
                    continue
                failed = []
                _remove_at(parent_fd, name, st, failed)
                errors.extend(failed)
                if not failed:
                    removed.append(os.path.join(os.path.dirname(dest), name))
        finally:
            os.close(parent_fd)
    return removed, errors


def _space_detail(exc, where, need):
    """`` (writing to <dir>, <n> MiB needed)`` for a full or read-only file system, else ``""``."""
    if not isinstance(exc, OSError) or exc.errno not in (errno.ENOSPC, errno.EROFS, errno.EDQUOT):
        return ""
    return " (writing to %s%s)" % (shown(where), ", %d MiB needed" % -(-need // (1024 * 1024)) if need else "")


def run_purge(step, options, result):
    clean, parent_fd, name, st = _checked_entry(step, options["homes"])
    if st is None:
        if parent_fd is not None:
            os.close(parent_fd)
        return "absent", "%s does not exist" % shown(clean)
    errors = []
    try:
        _remove_at(parent_fd, name, st, errors)
    finally:
        os.close(parent_fd)
    if errors:
        result["errors"] = errors[:20]
        raise StepError("%s partly removed, %d error(s): %s" % (shown(clean), len(errors), "; ".join(errors[:5])))
    return "changed", "%s deleted" % shown(clean)


def _archive_entries(step, homes):
    """``(entries, missing)``: ``entries`` = ``(clean, parent_fd, name, lstat)`` of each path that exists."""
    entries, missing = [], []
    try:
        for path in step["paths"]:
            clean = _check_path(path, homes)
            parent_fd = _open_parent(clean)
            st = None
            if parent_fd is not None:
                try:
                    st = lstat_at(parent_fd, os.path.basename(clean))
                finally:
                    if st is None:
                        os.close(parent_fd)
            if st is None:
                missing.append(clean)
            else:
                entries.append((clean, parent_fd, os.path.basename(clean), st))
    except BaseException:
        for entry in entries:
            os.close(entry[1])
        raise
    return entries, missing


def run_archive(step, options, result):
    entries, missing = _archive_entries(step, options["homes"])
    try:
        result.update(archived=[e[0] for e in entries], missing=missing)
        if not entries:
            return "absent", "none of the paths exists"
        return _write_archive(step, options, result, entries)
    finally:
        for entry in entries:
            os.close(entry[1])


def _write_archive(step, options, result, entries):
    """Write ``entries`` to a new ``<name>.tar.gz`` (and its ``.sha256``) in the archive directory.

    Before the archive file is created, the archive directory's file system must have the data's
    uncompressed size (allocated bytes plus a tar header per entry, ``Limits.measure``) free above its
    reserve: user data such as photos, videos and databases barely compresses, so only that size is sure
    to fit, and an archive that fills the disk half-way helps no one (docs/design.md, "Plan").
    """
    archive_dir = _makedirs_private(options["archive_dir"])
    dest = _free_name(os.path.join(archive_dir, step["name"]), ".tar.gz")
    sums = dest + ".sha256"
    limits = None
    need = 0
    created = False
    try:
        limits = Limits(step.get("max_bytes", DEFAULT_MAX_BYTES), step.get("timeout") or options["default_timeout"],
                        archive_dir)
        need, complete = limits.measure([entry[1:] for entry in entries])
        limits.check_space(need, complete)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        created = True
        with os.fdopen(fd, "wb") as handle:
            with tarfile.open(fileobj=handle, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
                archiver = Archiver(tar, limits)
                for clean, parent_fd, name, st in entries:
                    archiver.add_tree(parent_fd, name, st, clean)
        with tarfile.open(dest, mode="r:gz") as tar:
            names = tar.getnames()
        if names != archiver.added:
            raise StepError("archive %s reads back %d members, %d were written"
                            % (shown(dest), len(names), len(archiver.added)))
        digest = _sha256_path(dest)
        sfd = os.open(sums, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(sfd, "wb") as handle:
            handle.write(("%s  %s\n" % (digest, os.path.basename(dest))).encode("utf-8", "surrogateescape"))
    except BaseException as exc:
        for leftover in (dest, sums) if created else ():
            try:
                os.unlink(leftover)
            except OSError:
                pass
        if isinstance(exc, (OSError, tarfile.TarError, ArchiveError, LimitExceeded)):
            need = max(need, limits.taken if limits else 0)
            raise StepError("archive not written, the data is left as it was: %s%s"
                            % (getattr(exc, "strerror", None) or exc, _space_detail(exc, archive_dir, need)))
        raise
    added = archiver.added
    result.update(dest=dest, sha256=digest, sha256_file=sums, members=len(added),
                  not_archived=archiver.not_archived, not_archived_count=archiver.not_archived_count,
                  bytes_read=limits.taken)
    skipped = ""
    if archiver.not_archived_count:
        skipped = ", %d entr%s not archived (not_archived)" % (
            archiver.not_archived_count, "y" if archiver.not_archived_count == 1 else "ies")
    return "changed", "%d path(s), %d member(s) archived to %s (read back)%s" % (
        len(entries), len(added), shown(dest), skipped)
