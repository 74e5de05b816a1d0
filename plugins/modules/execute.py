#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: execute
short_description: Run a remediation plan's steps on a POSIX host
version_added: 0.1.0
description:
  - Runs, in one module call and in order, the steps of a remediation plan built on the controller
    by the C(govsec.banned_software.remediate) action (see C(docs/design.md), "Remediation"). The
    module decides nothing; it only carries out the steps and reports what happened to each one.
  - Every step is validated before any step runs. An unknown kind, an unknown or misspelt field, an
    C(argv) that is not a list of strings, a bad C(timeout) and the like fail the task naming the
    step and the field, and nothing is run.
  - A failed step does not stop the others (each finding's outcome is decided by a scan after the
    run), except that a step whose C(requires) names a step that failed or was skipped is
    skipped. This is how user data is never purged when its archive failed.
  - When at least one step fails, the task fails with a message naming the failed steps, and still
    returns every step's result in RV(steps).
  - Commands are argv lists, never run by a shell, in a new session with C(LC_ALL=C), C(LANG=C),
    C(LANGUAGE=C) and C(DEBIAN_FRONTEND=noninteractive). A command that outlives its timeout is
    stopped with its whole process group (C(SIGTERM), then C(SIGKILL)).
  - Path steps (C(quarantine), C(archive), C(purge)) check again on the host that the path is not
    protected (the root, system directories, home directories themselves and their shared
    subdirectories such as C(~/.local)) and that no component of its parent is a symbolic link;
    otherwise the step fails and nothing is touched. No step ever follows a symbolic link.
options:
  steps:
    description:
      - The plan's steps, run in this order. Each is a mapping with C(id) (an integer, or a string of
        letters, digits, C(.), C(_), C(-); unique), C(kind) and the fields of that kind. Optional on
        every kind are C(action) (a label copied to the result), C(findings) (finding keys, for the
        report) and C(requires) (ids of earlier steps that must not have failed); C(packages),
        C(manager) and C(entry) are labels of the planner, accepted and not used.
      - "V(command): C(argv) (list of strings; C(argv[0]) an absolute path or a bare command name
        found in C(PATH)), C(timeout) (seconds, default O(default_timeout)), C(env) (variables set
        over the C locale environment), C(run_as) (C(user), C(uid), C(gid), C(home): run as that
        user, with no supplementary groups, C(HOME), C(USER) and C(LOGNAME) set and the home as
        working directory; needs root), C(ok_rc) (return codes that mean success, default C([0])),
        C(tolerate) (output substrings that make a failure a no-op, status C(ok)), C(absent) (output
        substrings meaning the thing was already gone, status C(absent)) and C(lock) (V(dpkg) or
        V(rpm): while the output says another process holds that package manager's lock, retry
        with exponential backoff for at most O(lock_timeout) seconds; lock files are never touched)."
      - "V(kill): C(pids), C(exe) and/or C(comm), C(grace) (seconds, default 10). A pid is only
        signalled while C(/proc/<pid>/exe) still equals C(exe) (or, without C(exe), its C(comm)
        equals C(comm)), since pids are reused. Without C(/proc) (macOS) the executable is read with
        C(/bin/ps -p <pid> -o comm=). C(SIGTERM), then C(SIGKILL) to those still running
        after C(grace) seconds."
      - "V(quarantine): C(path), C(type) (V(dir), V(file) or V(link), compared with C(lstat)), C(max_bytes),
        C(timeout). Moves the path, not following links, to O(quarantine_dir)/O(run_id)/<path> (a numeric
        suffix is added if that exists), and records it in C(MANIFEST.jsonl) in that directory: a line with
        C(state) V(moving) (C(original), C(quarantined), C(type)) is appended and synced before the move, the full
        line after it, and a line with C(state) V(not_moved) and C(reason) when the move failed; so a run killed at
        any point leaves the data at its original path or at a C(quarantined) path the manifest names. Across
        file systems it is copied through verified directory descriptors (links as links, FIFOs and device
        nodes recreated without being opened, modes, owners and times kept; sparse files stay sparse), and
        the original is removed only once the copy is complete, unchanged while read and synced; on any
        failure (an entry swapped while copied, a limit) the partial copy is removed and the original
        stays. C(max_bytes) (default 16 GiB) bounds the data read, C(timeout) (default O(default_timeout))
        the seconds, and the destination file system keeps 5% of its size free (a file or a directory is
        refused before anything is written when its allocated size would not fit; a directory is measured
        first by a walk that follows no link, bounded to 500,000 entries and a quarter of C(timeout), whose
        count is a lower bound when it stops at that bound). A full or read-only destination (C(ENOSPC),
        C(EROFS)) fails the step naming the directory written to; the partial copy is removed."
      - "V(archive): C(paths), C(name), C(max_bytes), C(timeout). Writes O(archive_dir)/<name>.tar.gz (a
        numeric suffix is added if it exists), reads it back, and writes <name>.tar.gz.sha256 in
        C(sha256sum) format. Missing paths are skipped and listed. The trees are read through directory
        descriptors, each entry checked with C(fstat) against its C(lstat): directories, regular files and
        links (stored as links) are archived; FIFOs, sockets, devices, other file systems, hard links to a
        file of another owner than the path's and entries swapped while read are left out and listed.
        More than C(max_bytes) of file data (default 16 GiB, files counted by size), more than C(timeout)
        seconds (default O(default_timeout)), less than 5% free on the archive's file system, an
        unreadable file or one that changes while read fail the step, and the partial archive is removed.
        Before the archive is created, the data's uncompressed allocated size (measured as for a quarantined
        directory, plus 512 bytes per entry) must fit above that 5%, or the step fails and writes nothing."
      - "V(purge): C(path), C(type). Deletes the path without following links (a directory's
        contents are removed through verified directory descriptors; other file systems mounted inside
        are not entered)."
      - "V(write_file) (reinstall blocks): C(path), C(content), C(mode) (octal text, V(0644)), C(expect_sha256)
        (the sha256 the scan saw, or null when the file must not exist). Writes the text atomically (a
        temporary file in the same directory, then a rename) only while the file still has that sha256, so an
        edit made since the scan is never overwritten (the step fails); a file that already has the content
        and mode is left alone (status C(ok)). A symbolic link in any component of the path fails the step;
        missing directories are created (0755) only under C(/etc/apt/preferences.d),
        C(/etc/dnf/libdnf5.conf.d) and C(/var/lib/govsec-banned-software)."
      - "V(remove_file) (reinstall blocks): C(path), C(expect_sha256). Removes the file under the same
        conditions; status C(absent) when it is gone already."
    type: list
    elements: dict
    required: true
  run_id:
    description:
      - Identifier of this remediation run, used as the quarantine subdirectory.
      - Letters, digits, C(.), C(_) and C(-), 1 to 64 characters.
    type: str
    required: true
  homes:
    description:
      - Home directories of the host's users. A home itself, what contains it, and its shared
        subdirectories (C(.local), C(.config), C(Documents)...) are refused by every path step.
    type: list
    elements: path
    default: []
  lock_timeout:
    description:
      - Seconds to wait for the host's run lock while another run of this module holds it; then the task
        fails naming that run (its pid, start time and run id) and nothing is run.
      - Also the seconds a C(command) step with C(lock) keeps retrying while the package lock is held.
    type: int
    default: 300
  default_timeout:
    description: Timeout in seconds of a C(command) step that gives none.
    type: int
    default: 900
  quarantine_dir:
    description: Directory under which quarantined paths are moved (created with mode 0700).
    type: path
    default: /var/lib/govsec-banned-software/quarantine
  archive_dir:
    description: Directory where user data archives are written (created with mode 0700).
    type: path
    default: /var/lib/govsec-banned-software/archive
  journal:
    description:
      - Whether the run reads and writes the journal in O(state_dir). With V(false) it takes the run lock
        only, and the journal of a run that died is left for the next run to report (and to clean up after).
      - The local fact's own call (one C(write_file) step after a run) sets it, so that a run whose executor was
        killed does not take the report of its own interruption away from the next run.
    type: bool
    default: true
  state_dir:
    description:
      - The collection's state directory (created with mode 0700), where the run lock C(run.lock) and the
        journal C(journal.json) are kept (see C(docs/design.md), "Run lock and journal").
      - Outside check mode the module takes the run lock (C(flock), released by the kernel when the process
        ends), records the plan and each finished step in the journal (written atomically), reports an
        unfinished journal of a run that died as RV(interrupted_run), and ignores C(SIGHUP) and C(SIGPIPE)
        while the plan runs, so that a lost connection does not stop it half-way.
      - Before a plan that runs dpkg or apt, C(dpkg --audit) is asked; when it reports anything, C(dpkg
        --configure -a) completes the interrupted transaction first (RV(package_repair)). What it leaves (a
        removal killed in its C(prerm) stays half-configured and selected for removal) the plan's own removal
        completes; the verification scan says what is left.
    type: path
    default: /var/lib/govsec-banned-software
attributes:
  check_mode:
    support: full
    description:
      - In check mode nothing runs. Every step is validated and reported with status V(skipped) and
        message C(check mode); the task reports C(changed) when the plan has steps.
  diff_mode:
    support: none
    description: The plan itself is the diff; the C(remediate) action shows it.
  platform:
    support: full
    platforms: posix
    description: Linux and macOS (C(kill) reads C(/proc), or C(ps) where there is none).
notes:
  - Run with C(become); C(run_as) steps need root.
  - The module is normally called by the C(govsec.banned_software.remediate) action, not directly.
seealso:
  - module: govsec.banned_software.collect
author:
  - govsec.banned_software maintainers (@govsec)
"""

EXAMPLES = r"""
- name: Stop the Kaspersky service, remove the package, quarantine WeChat's directory
  govsec.banned_software.execute:
    run_id: 20261129T120000Z
    homes: [/home/alice]
    steps:
      - id: 1
        kind: command
        action: stop_service
        argv: [systemctl, stop, kesl.service]
        timeout: 120
        tolerate: ["System has not been booted with systemd"]
        absent: ["not loaded"]
      - id: 2
        kind: command
        action: remove_packages
        argv: [dpkg, --purge, kesl, wechat]
        lock: dpkg
      - id: 3
        kind: quarantine
        action: quarantine_path
        path: /opt/wechat
        type: dir
  become: true

- name: Archive Alice's WeChat data, then purge it only if the archive was written
  govsec.banned_software.execute:
    run_id: 20261129T120000Z
    homes: [/home/alice]
    steps:
      - {id: 1, kind: archive, paths: [/home/alice/.xwechat, /home/alice/xwechat_files], name: alice-wechat}
      - {id: 2, kind: purge, path: /home/alice/.xwechat, type: dir, requires: [1]}
      - {id: 3, kind: purge, path: /home/alice/xwechat_files, type: dir, requires: [1]}
  become: true

- name: Remove WeChat installed by Alice from Flathub, as Alice
  govsec.banned_software.execute:
    run_id: 20261129T120000Z
    steps:
      - id: 1
        kind: command
        argv: [flatpak, uninstall, --user, --noninteractive, com.tencent.WeChat]
        run_as: {user: alice, uid: 1000, gid: 1000, home: /home/alice}
        absent: ["not installed"]
  become: true
"""

RETURN = r"""
steps:
  description:
    - One result per step, in plan order.
    - C(status) is V(changed) (it ran and changed something), V(ok) (a tolerated failure, nothing to
      do), V(absent) (the thing was already gone), V(failed) or V(skipped) (check mode, or a required
      step failed).
    - Every result has C(id), C(kind), C(action), C(status), C(msg) and C(duration) (seconds).
    - Command results add C(cmd) (the argv), C(rc) (null when it could not start), C(stdout) and
      C(stderr) (each cut to 8 KiB, keeping the head and the tail, with a marker) and C(attempts).
    - Kill results add C(signalled), C(killed) (got C(SIGKILL)), C(not_matching) (pids now running
      something else), C(already_gone) and C(still_running).
    - Quarantine results add C(dest) and C(manifest) (the line written to C(MANIFEST.jsonl),
      with C(original), C(quarantined), C(type), C(mode), C(uid), C(gid), C(size), C(sha256) for regular
      files up to 1 GiB, C(time)); after a copy across file systems, C(not_copied) lists the sockets
      left out, when there are any.
    - Archive results add C(archived), C(missing), and when written C(dest), C(sha256),
      C(sha256_file), C(members), C(bytes_read) (file data read), C(not_archived) (the first 100 entries
      left out, each C(path) and C(reason)) and C(not_archived_count).
    - C(write_file) and C(remove_file) results add C(before_sha256) (null when the file did not exist) and,
      for C(write_file), C(sha256) of the content written.
  returned: always (also when the task fails because a step failed)
  type: list
  elements: dict
  sample:
    - {"id": 1, "kind": "command", "action": "remove_packages", "status": "changed", "msg": "rc 0",
       "duration": 4.2, "cmd": ["dpkg", "--purge", "wechat"], "rc": 0, "attempts": 2,
       "stdout": "Removing wechat (4.0.1.11) ...\n", "stderr": ""}
    - {"id": 2, "kind": "quarantine", "action": "quarantine_path", "status": "changed", "duration": 0.01,
       "msg": "/opt/wechat renamed to /var/lib/govsec-banned-software/quarantine/20261129T120000Z/opt/wechat",
       "dest": "/var/lib/govsec-banned-software/quarantine/20261129T120000Z/opt/wechat",
       "manifest": {"original": "/opt/wechat", "type": "dir", "mode": "0755", "uid": 0, "gid": 0,
                    "size": 482113536, "sha256": null, "time": "2026-11-29T12:00:05Z",
                    "quarantined": "/var/lib/govsec-banned-software/quarantine/20261129T120000Z/opt/wechat"}}
interrupted_run:
  description:
    - The previous run's unfinished journal (that run died), or null. C(run_id), C(pid), C(started),
      C(updated), C(steps_done) (C(id), C(status), C(at) when it finished, C(findings) the finding keys the step
      covered, at most 64), C(step_interrupted) (the step it was in, or null),
      C(steps_not_run) and C(detail) (one line). This run's plan was built from a fresh scan and rolls forward.
    - C(partial_copies_removed) lists the partial copies that run left in its quarantine when it was killed while
      it copied a quarantine across file systems, removed by this run (the data was still at its original path).
  returned: when the plan ran or was refused after the lock was taken
  type: dict
  sample: {"run_id": "20261129T110000Z", "pid": 4242, "started": "2026-11-29T11:00:02Z",
           "updated": "2026-11-29T11:00:09Z", "steps_done": [{"id": 1, "status": "changed", "at": "2026-11-29T11:00:05Z",
                                                           "findings": ["dpkg|machine|wechat|/var/lib/dpkg/status"]}],
           "step_interrupted": 2, "steps_not_run": [3],
           "detail": "the previous run (20261129T110000Z, pid 4242, started 2026-11-29T11:00:02Z) ended before
                      it finished: 1 of 3 steps done, interrupted in step 2"}
package_repair:
  description:
    - Null when C(dpkg --audit) reported nothing (or the plan runs no dpkg); otherwise C(audit) (what it
      reported), C(status) (V(changed) when C(dpkg --configure -a) made it clean, V(failed)), C(msg), C(cmd),
      C(rc), C(stdout), C(stderr), C(attempts).
  returned: when the plan ran or was refused after the lock was taken
  type: dict
  sample: {"audit": "The following packages are only half configured ...", "status": "changed",
           "msg": "an interrupted dpkg transaction was completed (dpkg --configure -a)",
           "cmd": ["dpkg", "--configure", "-a"], "rc": 0, "stdout": "", "stderr": "", "attempts": 1}
run_warnings:
  description: What the run wants the report to say (an interrupted previous run, a repair, a journal not updated).
  returned: when the plan ran
  type: list
  elements: str
  sample: ["an interrupted dpkg transaction was completed (dpkg --configure -a)"]
run_lock:
  description: The run holding the host's run lock (C(pid), C(started), C(run_id)) when this one could not take it.
  returned: when the run lock was not free within O(lock_timeout)
  type: dict
  sample: {"pid": 4242, "started": "2026-11-29T12:00:00Z", "run_id": "20261129T120000Z"}
counts:
  description: Number of steps per status.
  returned: always
  type: dict
  sample: {"changed": 2, "ok": 0, "absent": 1, "failed": 0, "skipped": 0}
"""

from ansible.module_utils.basic import AnsibleModule

# First, so that the module_utils below are compiled once on the host, not twice (docs/performance.md).
from ansible_collections.govsec.banned_software.plugins.module_utils._compile_once import install as compile_once

compile_once()

from ansible_collections.govsec.banned_software.plugins.module_utils._execute.lock import RunLockBusy
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import (
    DEFAULT_ARCHIVE_DIR, DEFAULT_QUARANTINE_DIR, DEFAULT_STATE_DIR, RunRefused, run_guarded)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.schema import (
    DEFAULT_LOCK_TIMEOUT, DEFAULT_TIMEOUT, STATUSES)
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.validate import (
    RUN_ID_RE, validate_run_id, validate_steps)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            steps=dict(type="list", elements="dict", required=True),
            run_id=dict(type="str", required=True),
            homes=dict(type="list", elements="path", default=[]),
            lock_timeout=dict(type="int", default=DEFAULT_LOCK_TIMEOUT),
            default_timeout=dict(type="int", default=DEFAULT_TIMEOUT),
            quarantine_dir=dict(type="path", default=DEFAULT_QUARANTINE_DIR),
            archive_dir=dict(type="path", default=DEFAULT_ARCHIVE_DIR),
            state_dir=dict(type="path", default=DEFAULT_STATE_DIR),
            journal=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    errors = []
    if not validate_run_id(params["run_id"]):
        errors.append("run_id: must match %s, not %r" % (RUN_ID_RE.pattern, params["run_id"]))
    for key in ("lock_timeout", "default_timeout"):
        if params[key] <= 0:
            errors.append("%s: must be a positive number of seconds" % key)
    errors.extend(validate_steps(params["steps"]))
    if errors:
        module.fail_json(msg="invalid plan, nothing was run: %s" % "; ".join(errors), errors=errors,
                         steps=[], changed=False)

    steps = params["steps"]
    try:
        run = run_guarded(steps, dict(
            lock_timeout=params["lock_timeout"], default_timeout=params["default_timeout"],
            quarantine_dir=params["quarantine_dir"], archive_dir=params["archive_dir"],
            state_dir=params["state_dir"], run_id=params["run_id"], homes=params["homes"],
            check_mode=module.check_mode, journal=params["journal"]))
    except RunLockBusy as exc:
        module.fail_json(msg=str(exc), run_lock=exc.holder, steps=[], changed=False)
    except RunRefused as exc:
        module.fail_json(msg=str(exc), steps=[], changed=False, **exc.details)
    except OSError as exc:
        module.fail_json(msg="the run lock in %s cannot be taken, nothing was run: %s"
                         % (params["state_dir"], exc.strerror or exc), steps=[], changed=False)
    results = run["steps"]
    counts = dict((status, 0) for status in STATUSES)
    for result in results:
        counts[result["status"]] += 1
    if module.check_mode:
        module.exit_json(changed=bool(steps), steps=results, counts=counts)
    extra = dict(interrupted_run=run["interrupted_run"], package_repair=run["package_repair"],
                 run_warnings=run["warnings"])
    changed = counts["changed"] > 0 or bool(run["package_repair"])
    failed = [r for r in results if r["status"] == "failed"]
    if failed:
        module.fail_json(
            msg="%d of %d steps failed: %s" % (len(failed), len(results), "; ".join(
                "step %s (%s): %s" % (r["id"], r["action"] or r["kind"], r["msg"]) for r in failed)),
            changed=changed, steps=results, counts=counts, **extra)
    module.exit_json(changed=changed, steps=results, counts=counts, **extra)


if __name__ == "__main__":
    main()
