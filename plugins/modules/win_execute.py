#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds only the documentation; the module is win_execute.ps1 (PowerShell).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: win_execute
short_description: Run a remediation plan's steps on a Windows host
version_added: 0.1.0
description:
  - Runs, in one module call and in order, the steps of a remediation plan built on the controller
    by the Windows planner (see C(docs/design.md), "Windows"). The module decides nothing; it only
    carries out the steps and reports what happened to each one.
  - Every step is validated before any step runs. An unknown kind, an unknown field, a malformed
    value, a secret placeholder without its secret and the like fail the task naming the step and
    the field, and nothing is run.
  - A failed step does not stop the others, except that a step whose C(requires) names a step that
    failed or was skipped is skipped (user data is never purged when its archive failed). When a
    step fails the task fails, and still returns every step's result in RV(steps).
  - Commands never go through a shell. The executable is started with
    C(System.Diagnostics.Process) (C(UseShellExecute=false)), with the step's C(arguments) as the
    exact command-line tail computed by the planner; standard input is closed and standard output
    and error are read asynchronously. Only C(.exe) files may be started (a C(.bat) or C(.cmd)
    would be run by C(cmd.exe)).
  - "Waiting for children (C(wait_children)): this module does not depend on C(ansible.windows).
    While the command runs it follows the process tree through C(Win32_Process) (every process
    whose parent is the command or an already known descendant, created after that parent) and
    waits until the command and every descendant have ended, within the step's C(timeout). A
    process that escapes the tree (started through a service, such as the Windows Installer
    service's own processes) is not waited for."
  - On timeout the command and its known descendants are stopped (C(Stop-Process -Force)).
  - Path steps refuse drive roots and single-component paths, everything under C(%SystemRoot%),
    C(%ProgramFiles%), C(%ProgramFiles(x86)%), C(%ProgramData%) and the other system folders
    themselves, C(C:\\Users), the O(homes) and their shared folders (C(AppData), C(AppData\\Local),
    C(Documents)...), anything that contains one of those, and any path with a junction, symbolic
    link or other reparse point among its parents.
  - "Path steps never follow a reparse point (junction, symbolic link, mount point, cloud placeholder).
    A path is opened from its drive's root one component at a time, each relative to the handle of
    its parent (C(NtCreateFile) with C(FILE_OPEN_REPARSE_POINT)); inside a tree every entry is opened
    the same way, and what it is (directory, reparse point, volume, hard links) is read from its own
    handle. Deleting, renaming and reading act on that handle, so a folder a user swaps for a junction
    while the step runs cannot redirect it (C(plugins/module_utils/NoFollowTree.cs))."
  - "O(quarantine_dir) and O(archive_dir) are opened the same way. A missing one is created with owner
    Administrators and a protected ACL (SYSTEM and Administrators, full control, nothing inherited).
    One that exists is used only when SYSTEM or Administrators owns it and no ACE gives another SID
    (TrustedInstaller excepted) a right to write, append, add, delete, change attributes or extended
    attributes, the ACL or the owner; otherwise the step fails naming the directory, its owner and
    the offending ACE. A reparse point in its path is refused too."
options:
  steps:
    description:
      - The plan's steps, run in this order. Each is a mapping with C(id) (an integer, or letters,
        digits, C(.), C(_), C(-); unique), C(kind) and the fields of that kind. Optional on every
        kind are C(action) (a label copied to the result), C(findings), C(requires) (ids of earlier
        steps that must not have failed), and the planner's labels C(packages), C(manager),
        C(entry) and C(scope) (accepted, not used).
      - "V(command): C(exe) (absolute path of a C(.exe)), C(arguments) (the exact command-line
        tail, may hold C({{secret:NAME}}) placeholders), C(secrets) (the names of those
        placeholders), C(timeout) (seconds, default O(default_timeout)), C(ok_rc) (default
        C([0]): status V(changed)), C(reboot_rc) (success that needs a reboot: V(changed) and
        C(reboot_required)), C(absent_rc) (already gone: V(absent)), C(retry_rc) (busy, for
        example 1618 for another installation: retried with a backoff of 5, 10, 20, 40, 60...
        seconds for at most O(lock_timeout) seconds), C(wait_children) (boolean)."
      - "V(kill): C(pids), C(exe), C(grace) (seconds to wait for the processes to end, default 10).
        A pid is stopped (C(Stop-Process -Force)) only while C(Win32_Process) still reports C(exe)
        as its executable path (compared case-insensitively), since pids are reused; a process
        whose path cannot be read (protected process) is not stopped and fails the step."
      - "V(service_stop): C(name), C(timeout) (default 120). C(Stop-Service) without C(-Force), so
        a service other running services depend on is not stopped (the step fails)."
      - "V(service_disable): C(name). C(Set-Service -StartupType Disabled)."
      - "V(appx_remove): C(package_full_name), C(all_users) (default V(true)).
        C(Remove-AppxPackage -AllUsers -Package), checked afterwards with C(Get-AppxPackage -AllUsers)."
      - "V(appx_deprovision): C(name), a provisioned package name, or a package family name for
        every provisioned version of it. C(Remove-AppxProvisionedPackage -Online -PackageName)."
      - "V(applocker_policy): C(xml) (a whole C(<AppLockerPolicy>) document, the host's local policy
        merged on the controller with the reinstall-block rules; at most 4194304 characters, no DTD),
        C(expect_sha256) (the sha256 of the UTF-8 text of C(Get-AppLockerPolicy -Local -Xml) the scan
        read). The local policy is read again; when its hash differs the step fails and writes nothing.
        Otherwise C(Set-AppLockerPolicy -PolicyObject) replaces the local policy with C(xml) (no
        C(-Merge): the planner's merge keeps every other rule), and the policy read back must have the
        same enforcement modes and rule ids per collection. The result has C(sha256_before) and
        C(sha256_after)."
      - "V(write_file) (the local fact only): C(path) (exactly
        C(C:\\ProgramData\\govsec-banned-software\\facts.d\\banned_software.json)), C(content) (text, at most
        1048576 characters, written as UTF-8), C(expect_sha256) (the sha256 of the file the scan read; V(null): it
        must not exist). The state directory is opened by handle as a private directory (SYSTEM and Administrators
        only, created so when missing); the file is replaced only while it is a plain file with that sha256 (else
        the step fails and nothing changes), through a new file renamed into its place. V(ok) when it already has
        C(content)."
      - "V(remove_file) (the local fact only): C(path), C(expect_sha256). Deletes the file under the same
        condition; V(absent) when it does not exist."
      - "V(quarantine): C(path), C(type) (V(dir), V(file) or V(link), compared with what the opened
        handle is; any reparse point is a V(link)). Renames the opened handle to
        O(quarantine_dir)\\O(run_id)\\<drive letter>\\<rest of the path> (a numeric suffix is added
        if that exists; nothing is replaced) and appends a JSON line to C(MANIFEST.jsonl) there. A
        path on another volume than O(quarantine_dir) is refused (no copy across volumes)."
      - "V(archive): C(paths), C(name). Writes O(archive_dir)\\<name>.zip (a numeric suffix is added
        if it exists) with C(System.IO.Compression), reading every file through the handle it was
        checked on, reads it back, and writes <name>.zip.sha256 in C(sha256sum) format. Reparse
        points (junctions, symbolic links, cloud placeholders) and files with more than one hard link
        are listed in the result, not followed and not stored. Missing paths are listed. At most
        16 GiB of file content, 200000 entries and one hour per archive: over a limit the step fails
        before reading more (a step that C(requires) it, such as the purge of that data, is skipped).
        A partial archive is deleted."
      - "V(purge): C(path), C(type). Deletes the path by its handle; a directory's contents are
        deleted one by one, depth first (at most 512 levels), each by its own handle, and a reparse
        point met anywhere is deleted itself, never what it points to. An entry on another volume is
        refused."
    type: list
    elements: dict
    required: true
  run_id:
    description:
      - Identifier of this remediation run, used as the quarantine subdirectory.
      - Letters, digits, C(.), C(_) and C(-), 1 to 64 characters.
    type: str
    required: true
  secrets:
    description:
      - Values of the C({{secret:NAME}}) placeholders, by name (for example an uninstall password
        from a vaulted variable). Never logged; replaced only in the command line that is started.
      - The result's C(cmd) keeps the placeholders, and the values are masked in C(stdout) and
        C(stderr). A value with a double quote or a line break is refused.
    type: dict
    default: {}
  homes:
    description:
      - Profile paths of the host's users. A home itself, what contains it, and its shared
        subdirectories are refused by every path step.
    type: list
    elements: path
    default: []
  lock_timeout:
    description:
      - Seconds to wait for the host's run lock (the named mutex C(Global\\govsec-banned-software-run)) while
        another run of this module holds it; then the task fails naming that run (its pid, start time and run
        id, kept in C(run-lock.json) of the state directory C(C:\\ProgramData\\govsec-banned-software)) and nothing is
        run. Windows releases the mutex when the holder's process ends; the next run then reads the journal
        (C(journal.json) in the same directory) and reports an unfinished one as RV(interrupted_run).
      - Also the seconds a C(command) step keeps retrying while its rc is in C(retry_rc).
    type: int
    default: 300
  default_timeout:
    description: Timeout in seconds of a C(command) step that gives none.
    type: int
    default: 900
  quarantine_dir:
    description:
      - Directory under which quarantined paths are moved (on the volume of the paths). When the
        module creates it, it gets owner Administrators and a protected ACL for SYSTEM and
        Administrators only; an existing one that someone else owns or may write to is refused.
    type: path
    default: '%ProgramData%\govsec-banned-software\quarantine'
  archive_dir:
    description:
      - Directory where user data archives are written. When the module creates it, it gets owner
        Administrators and a protected ACL for SYSTEM and Administrators only; an existing one that
        someone else owns or may write to is refused.
    type: path
    default: '%ProgramData%\govsec-banned-software\archive'
  journal:
    description:
      - Whether the run reads and writes the journal in C(%ProgramData%\govsec-banned-software). With
        V(false) it takes the run lock and writes its holder record only; the journal of a run that died is
        left for the next run to report. The local fact's own call uses V(false).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description:
      - In check mode nothing runs. Every step is validated and reported with status V(skipped) and
        message C(check mode); the task reports C(changed) when the plan has steps.
  diff_mode:
    support: none
    description: The plan itself is the diff; the remediation action shows it.
  platform:
    support: full
    platforms: windows
    description: Windows only (Windows PowerShell 5.1).
notes:
  - Run as an administrator. The module is normally called by the remediation action, not directly.
  - No Windows host runs in this collection's CI; see C(docs/windows.md) for what is and is not
    verified.
seealso:
  - module: govsec.banned_software.win_collect
  - module: govsec.banned_software.execute
author:
  - govsec.banned_software maintainers (@govsec)
"""

EXAMPLES = r"""
- name: Stop Kaspersky, uninstall the Network Agent with its password, remove WeChat for Windows 10
  govsec.banned_software.win_execute:
    run_id: 20261129T120000Z
    homes: ['C:\Users\alice']
    secrets:
      KLPASSWD: "{{ vault_kaspersky_uninstall_password }}"
    steps:
      - {id: 1, kind: service_stop, name: klnagent}
      - {id: 2, kind: service_disable, name: klnagent}
      - id: 3
        kind: command
        action: msi_uninstall
        exe: 'C:\Windows\System32\msiexec.exe'
        # !unsafe: the placeholder is for win_execute, not for Jinja
        arguments: !unsafe '/x {1A7B331A-ABBE-4230-995E-BCD99C5A18CF} /qn /norestart KLLOGIN=KLAdmin KLPASSWD="{{secret:KLPASSWD}}"'
        secrets: [KLPASSWD]
        timeout: 1800
        ok_rc: [0]
        reboot_rc: [3010, 1641]
        absent_rc: [1605, 1614]
        retry_rc: [1618]
      - {id: 4, kind: appx_remove, package_full_name: TencentWeChatLimited.forWindows10_3.9.12.57_x86__sdtnhv12zgd7a}
      - {id: 5, kind: appx_deprovision, name: TencentWeChatLimited.forWindows10_sdtnhv12zgd7a}

- name: Uninstall WeChat (NSIS), waiting for the uninstaller's children, then quarantine the leftovers
  govsec.banned_software.win_execute:
    run_id: 20261129T120000Z
    steps:
      - {id: 1, kind: kill, pids: [4242], exe: 'C:\Program Files (x86)\Tencent\WeChat\WeChat.exe'}
      - id: 2
        kind: command
        exe: 'C:\Program Files (x86)\Tencent\WeChat\Uninstall.exe'
        arguments: '/S _?=C:\Program Files (x86)\Tencent\WeChat'
        wait_children: true
      - {id: 3, kind: quarantine, path: 'C:\Program Files (x86)\Tencent\WeChat', type: dir}
"""

RETURN = r"""
steps:
  description:
    - One result per step, in plan order.
    - C(status) is V(changed), V(ok) (nothing to do, for example a service already stopped),
      V(absent) (the thing was already gone), V(failed) or V(skipped) (check mode, or a required
      step failed).
    - Every result has C(id), C(kind), C(action), C(status), C(msg), C(duration) (seconds) and
      C(reboot_required).
    - Command results add C(cmd) (the executable in double quotes and the arguments, with the
      secret placeholders, never the secrets), C(rc) (null when it did not start or timed out),
      C(stdout) and C(stderr) (each cut to 8192 characters, keeping the head and the tail) and
      C(attempts).
    - Kill results add C(killed), C(not_matching), C(already_gone), C(unverified) and
      C(still_running).
    - Quarantine results add C(dest) and C(manifest) (C(original), C(quarantined), C(type),
      C(attributes), C(size) and C(sha256) for files up to 1 GiB, C(time)).
    - Archive results add C(archived), C(missing), C(links_not_archived) (reparse points and files
      with other hard links, listed and not stored), and when written
      C(dest), C(sha256), C(sha256_file) and C(members).
    - Deprovision results add C(removed).
  returned: always (also when the task fails because a step failed)
  type: list
  elements: dict
  sample:
    - {"id": 3, "kind": "command", "action": "msi_uninstall", "status": "changed",
       "msg": "rc 3010 (success, reboot required)", "duration": 41.2, "rc": 3010, "attempts": 1,
       "cmd": "\"C:\\Windows\\System32\\msiexec.exe\" /x {1A7B331A-ABBE-4230-995E-BCD99C5A18CF} /qn /norestart KLPASSWD=\"{{secret:KLPASSWD}}\"",
       "stdout": "", "stderr": "", "reboot_required": true}
run_lock:
  description: The run holding the host's run lock (C(pid), C(started), C(run_id)) when this one could not take it.
  returned: when the run lock was not free within O(lock_timeout)
  type: dict
  sample: {"pid": 4242, "started": "2026-11-29T12:00:00Z", "run_id": "20261129T120000Z"}
interrupted_run:
  description:
    - The previous run ended before it finished (killed, the host restarted), seen in its journal, which still said
      C(running) when this run found it in the state directory while holding the run lock. The same keys as the
      C(execute) module's.
    - C(run_id), C(pid), C(started), C(updated), C(steps_done) (C(id) and C(status) of each finished step),
      C(step_interrupted) (the step it was in, or null), C(steps_not_run) and C(detail). An unreadable journal
      gives C(run_id) null and C(detail) only.
  returned: when the run did not run in check mode; null when the previous run finished or there was none
  type: dict
  sample: {"run_id": "20261129T110000Z", "pid": 4242, "started": "2026-11-29T11:00:02Z",
           "updated": "2026-11-29T11:03:10Z", "steps_done": [{"id": 1, "status": "changed"}],
           "step_interrupted": 2, "steps_not_run": [3],
           "detail": "the previous run (20261129T110000Z, pid 4242, started 2026-11-29T11:00:02Z) ended before it
                      finished: 1 of 3 steps done, interrupted in step 2"}
run_warnings:
  description:
    - What the run says of itself besides its steps, as on Linux - the previous run's C(detail), a run lock that was
      abandoned after its journal said it finished, and journal writes that failed after the first step (at most five).
  returned: when the run did not run in check mode
  type: list
  elements: str
  sample: ["the journal C:\\ProgramData\\govsec-banned-software\\journal.json was not updated: There is not enough space on the disk"]
counts:
  description: Number of steps per status.
  returned: always
  type: dict
  sample: {"changed": 4, "ok": 1, "absent": 0, "failed": 0, "skipped": 0}
reboot_required:
  description: V(true) when a command step ended with an rc of its C(reboot_rc).
  returned: always
  type: bool
  sample: true
errors:
  description: The validation errors, when the plan is invalid (nothing was run).
  returned: failure
  type: list
  elements: str
  sample: ["step 3: placeholder {{secret:KLPASSWD}} is not listed in the step's secrets"]
"""
