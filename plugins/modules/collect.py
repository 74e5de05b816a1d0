#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: collect
short_description: Collect raw records about possibly banned software on a Linux or macOS host or image
version_added: 0.1.0
description:
  - Gathers, in one module call, the records that a query asks for from the host's package
    databases (dpkg, rpm), Flatpak and Snap installations, AppImages, files, desktop entries,
    services (systemd units and SysV init scripts) and running processes.
  - The module decides nothing. It returns raw records that pass the query's pre-filter, never the
    whole inventory, and the number of items examined per source so that an empty result is never
    silent. Matching against the catalog, exemptions and reporting happen on the controller
    (M(govsec.banned_software.scan) calls this module and does all of that).
  - It only reads. It never runs a package manager that could change the host; C(rpm) is run only
    when an rpm database file exists under O(root) (rpm would create one otherwise), to list the
    packages and, when machine-wide file, desktop or service records were found and rpm packages
    passed the query, once more (C(rpm -qf)) to tell which of those packages own the records' paths.
  - With O(root) set to a mounted image, every path is resolved inside O(root), with chroot
    semantics for symbolic links, so a hostile image cannot make the module read outside it.
  - macOS. On a Mac (or when O(root) holds a macOS system volume, recognised by
    C(System/Library/CoreServices/SystemVersion.plist)) the module reads application bundles
    (C(Contents/Info.plist) of the C(*.app) in C(/Applications), its sub-folders one level down and each user's
    C(~/Applications); C(/System/Applications) is not examined), installer package receipts
    (C(/var/db/receipts), legacy C(/Library/Receipts)), launchd jobs (C(/Library/LaunchDaemons),
    C(/Library/LaunchAgents), C(~/Library/LaunchAgents)), Homebrew casks (C(/opt/homebrew/Caskroom),
    C(/usr/local/Caskroom)), system extensions (C(/Library/SystemExtensions/db.plist), else the staged bundles)
    and legacy kernel extensions (C(/Library/Extensions/*.kext)), and the C(file), C(data) and C(leftover)
    paths. Property lists are read with Python's plistlib (XML and binary), size-capped. Users are the
    directories in C(/Users) (not C(Shared), C(Guest), C(Deleted Users) or hidden ones) and C(root)
    (C(/var/root)); uid and gid come from the local directory node
    (C(/var/db/dslocal/nodes/Default/users)), else, on a running Mac, from the system user database.
  - On a running Mac only, the module also lists processes (C(ps -axo pid=,uid=,comm=)) and, only for the
    application bundles and extensions that passed the query, reads the signing team with
    C(codesign -dv --verbose=2). Nothing runs for an image.
  - Windows images. When O(root) holds an offline Windows system drive (it has
    C(Windows/System32/config/SOFTWARE)), the module reads it without running anything from it. It reads the
    uninstall entries of the C(SOFTWARE) hive (64-bit and 32-bit views) and of each user's
    C(NTUSER.DAT) (users from the ProfileList), the Win32 services of the current control set of the
    C(SYSTEM) hive, AppX packages (provisioned, staged and per-user keys of the AppX store, and the
    package directories under C(Program Files/WindowsApps)) and the query's C(file), C(data) and
    C(leftover) paths (C(%ProgramFiles%), C(%ProgramFiles(x86)%), C(%ProgramData%), C(%SystemRoot%), and per
    user C(%LocalAppData%), C(%AppData%)), with case-insensitive path resolution that never leaves O(root).
    Processes are not examined. This needs the Python library C(regipy) on the node that reads the image.
options:
  query:
    description:
      - The pre-filter built on the controller from the enabled catalog entries, keyed by platform
        (V(linux), V(macos), V(windows)); the module uses the part for the system it scans.
      - A source mapping may carry C(casefold=true), which makes its names and regular expressions match
        regardless of case (the controller sets it for V(windows)).
      - Per platform, a mapping of source name to a mapping with C(names) (a list of exact identifiers) and
        C(regex) (a list of Python regular expressions matched with C(re.fullmatch)).
      - The C(file) source takes C(paths) instead, a list of absolute paths or C(~/) paths (checked in
        every selected user's home); the last path component may contain C(*), C(?) or C([...])
        globs.
      - "Linux sources: V(dpkg), V(rpm), V(flatpak), V(snap), V(appimage), V(file), V(desktop),
        V(service), V(process)."
      - "macOS sources: V(bundle), V(pkg-receipt), V(launchd), V(cask), V(sysext), V(process) (running Mac
        only), V(file)."
      - "Windows image sources: V(registry), V(appx), V(service), V(process) (never examined in an image),
        V(file); Windows C(file) paths start with C(%Variable%) or a drive (C(C:\\...)) and use C(\\) as the separator."
      - The pseudo-sources C(data) (user data of a product) and C(leftover) (vendor leftovers) take
        C(paths) like C(file) and are collected the same way, for remediation. They never identify a
        product.
      - A source absent from the query is not examined.
    type: dict
    required: true
  root:
    description:
      - Directory holding the file system to scan. V(/) scans the running host; anything else scans a
        mounted image (processes and C(/run) are then not examined).
      - Paths in the records are relative to O(root) (host paths as the image sees them).
    type: path
    default: /
  sources:
    description:
      - Examine only these sources (a subset of the query's sources). Default is every source in the
        query.
      - For a Windows image, V(registry) and V(appx) cannot be chosen here; they are examined when the
        query asks for them and O(sources) is not set.
    type: list
    elements: str
    choices: [dpkg, rpm, flatpak, snap, appimage, file, desktop, service, process, data, leftover, npm, bundle,
              pkg-receipt, launchd, cask, sysext]
  source_timeout:
    description:
      - Wall-clock budget of each source, in seconds. A source still running after it stops and is reported
        incomplete (RV(incomplete) and a warning in RV(collector_warnings)); the next source then starts.
      - Commands a source runs (C(rpm)) are run under C(timeout) (coreutils, from C(/usr/bin) or C(/bin)) with
        the time the source has left, when the host has it. On macOS C(ps) and C(codesign) are not interrupted;
        the budget is checked between them.
      - V(0) means no budget.
    type: int
    default: 60
  block_state:
    description:
      - Also return RV(block_state), what the reinstall blocks of this collection look like on the host
        (the files it owns or edits, the package managers present, zypper locks and flatpak masks), for
        C(govsec.banned_software.remediate) and C(govsec.banned_software.block) to plan them
        (C(docs/blocking.md)). Linux only; ignored on macOS and for images of other systems.
      - Reads only. Files are read with a size cap and refused (reported, not read) when they or a
        directory above them are symbolic links.
    type: bool
    default: false
  users:
    description:
      - Examine per-user locations only for these local user names.
      - By default every user from C(<root>/etc/passwd) whose home directory exists under O(root)
        and is not V(/) or V(/nonexistent) is examined (users sharing a home once).
      - On macOS, by default the users with a home directory in C(/Users), and C(root).
    type: list
    elements: str
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same way in check mode and never reports a change.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    support: full
    platforms: posix
    description: Linux and macOS, and offline Windows images under O(root). Other systems fail with a clear message.
requirements:
  - regipy (Python library, only to scan a Windows image; the project pins regipy 6.5.0)
notes:
  - Per-user locations in home directories the module cannot read (running unprivileged) are
    reported in RV(collector_warnings); run with C(become) for a complete scan.
  - Directory listings are capped (10000 entries); a longer directory is reported in RV(collector_warnings)
    and makes its source incomplete (RV(incomplete)).
  - Files are opened only after their type was checked, never through a link to a device, FIFO or socket
    (those are reported in RV(collector_warnings) as not regular files, and never opened), and read up to a
    size cap. Parsers of host data run in linear time.
seealso:
  - module: govsec.banned_software.scan
author:
  - govsec.banned_software maintainers (@govsec)
"""

EXAMPLES = r"""
- name: Look for WeChat and the Kaspersky Linux packages, files and processes
  govsec.banned_software.collect:
    query:
      dpkg:
        names: [wechat, kesl, kesl-gui, klnagent64]
      rpm:
        names: [wechat, kesl, kesl-gui, klnagent64]
      flatpak:
        names: [com.tencent.WeChat]
      process:
        regex: ["(?i)wechat.*", "kesl"]
      file:
        paths: [/opt/wechat, /opt/kaspersky/kesl, "~/.xwechat"]
  register: collected
  become: true

- name: Scan an image mounted at /mnt/image, packages only
  govsec.banned_software.collect:
    root: /mnt/image
    sources: [dpkg, rpm]
    query:
      dpkg:
        regex: ["kesl(-gui)?(-astra)?", "klnagent(64)?(-astra)?"]
      rpm:
        regex: ["kesl(-gui)?", "klnagent(64)?"]

- name: Look for WeChat on a Mac (bundle ids, casks, the app path)
  govsec.banned_software.collect:
    query:
      macos:
        bundle:
          names: [com.tencent.xinWeChat]
        cask:
          names: [wechat]
        file:
          paths: [/Applications/WeChat.app]
  become: true

- name: Scan a Windows system drive mounted (read-only) at /mnt/win on the controller
  govsec.banned_software.collect:
    root: /mnt/win
    query:
      windows:
        registry:
          names: [WeChat]
          casefold: true
        file:
          paths: ['%ProgramFiles(x86)%\Tencent\WeChat']
  delegate_to: localhost
"""

RETURN = r"""
os:
  description: Operating system family the collector ran for (V(linux), V(macos), or V(windows) for a Windows image).
  returned: success
  type: str
  sample: linux
root:
  description: The scanned root directory (resolved).
  returned: success
  type: str
  sample: /
os_version:
  description: macOS only. C(ProductVersion) of C(System/Library/CoreServices/SystemVersion.plist).
  returned: when the scanned system is macOS and the file is readable
  type: str
  sample: "14.5"
volume:
  description:
    - macOS image only. V(data) when O(root) is a Data volume mounted on its own (no C(var) link, that link
      lives on the System volume). Receipts, root's home and the local fact were read under C(/private)
      and are reported with their usual paths.
  returned: when O(root) is a macOS Data volume mounted alone
  type: str
  sample: data
collector_version:
  description: Version of the record format.
  returned: success
  type: str
  sample: "1"
available:
  description:
    - For the sources examined, whether each package system, service manager and procfs exists
      under O(root) and was read (C(systemd) and C(sysv) for the C(service) source, C(proc) for
      C(process)). Sources not examined have no key.
    - "macOS: C(applications) (C(/Applications) exists), C(receipts) (C(/var/db/receipts) exists), C(launchd),
      C(homebrew) (a Caskroom exists), C(sysext_db) (C(/Library/SystemExtensions/db.plist) was read), C(ps)
      (processes were listed)."
    - V(false) with a warning means it exists but could not be read.
  returned: success
  type: dict
  sample: {"dpkg": true, "rpm": false, "flatpak": true, "snap": false, "systemd": true, "sysv": false, "proc": true}
incomplete:
  description:
    - The sources that could be read only in part, each with the first reason (details in
      RV(collector_warnings)); an empty mapping when every source examined was read completely.
    - "Reasons: the source's O(source_timeout) ran out; a directory listing was cut at its cap; a file or
      directory that exists could not be read (permission denied, I/O error); a plist that identifies was too large;
      a registry hive a source needs could not be read or parsed, or a key was cut at its cap (Windows images);
      the source's lister failed; for C(process), processes whose executable could not be examined while their
      C(comm) or C(argv[0]) passes the query (or whose C(/proc) entry is not readable at all), or C(/proc) mounted
      with C(hidepid) that hides processes from the collector."
    - C(ownership) is the package ownership of C(file), C(desktop) and C(service) records (Linux), on its own
      budget.
    - The controller (M(govsec.banned_software.scan)) never reports a host compliant while a source an enabled
      catalog entry has signatures for is incomplete.
  returned: success
  type: dict
  sample: {"process": "1 process(es) could not be examined: ...; 1 of them may be a banned program and could not be confirmed: wechat (pid 4242)"}
counts:
  description: Number of items examined per source (matching the query or not).
  returned: success
  type: dict
  sample: {"dpkg": 812, "flatpak": 3, "process": 214}
users:
  description:
    - Local users whose home directories were examined.
    - On macOS, C(uid) and C(gid) are absent when neither the local directory node nor (running Mac) the
      system user database knows them.
    - For a Windows image, the users of the ProfileList whose profile directory exists in the image, with
      C(name), C(sid), C(home) (the profile path as registered) and C(hive_loaded) (their C(NTUSER.DAT)
      was read).
  returned: success
  type: list
  elements: dict
  sample: [{"name": "alice", "uid": 1000, "home": "/home/alice"}]
environment:
  description:
    - Windows images only. The standard locations of the image (C(SystemDrive), C(SystemRoot), C(windir),
      C(ProgramFiles), C(ProgramFiles(x86)), C(ProgramW6432), C(ProgramData)), from the C(SOFTWARE) hive
      when it names them on the system drive, else the Windows defaults; per user (C(users.<name>))
      C(USERPROFILE), C(LocalAppData) and C(AppData).
  returned: when O(root) holds a Windows image
  type: dict
  sample: {"SystemDrive": "C:", "SystemRoot": "C:\\Windows", "windir": "C:\\Windows",
           "ProgramFiles": "C:\\Program Files", "ProgramFiles(x86)": "C:\\Program Files (x86)",
           "ProgramW6432": "C:\\Program Files", "ProgramData": "C:\\ProgramData",
           "users": {"alice": {"USERPROFILE": "C:\\Users\\alice", "LocalAppData": "C:\\Users\\alice\\AppData\\Local",
                               "AppData": "C:\\Users\\alice\\AppData\\Roaming"}}}
records:
  description:
    - Per examined source, the records that passed the query.
    - Every record has C(name) and C(scope) (V(machine) or V(user:<name>)) and may have C(version),
      C(path) and source-specific fields (dpkg C(arch), C(state); rpm C(arch), C(vendor); flatpak
      C(arch), C(branch); file, data and leftover C(type), C(target); desktop C(exec); service
      C(type), C(enabled); process C(pid), C(pids), C(comm), C(exe), C(user)).
    - Machine-wide C(file), C(desktop) and C(service) records whose path belongs to a dpkg or rpm
      package that passed the query (and whose source was examined) have C(owner) (the package name;
      the first by name when several packages own the path, all of them then in C(owners)) and
      C(owner_source) (V(dpkg) or V(rpm)). Records without C(owner) belong to none of those packages.
    - C(data) and C(leftover) hold the remediation paths of the query (same shape as C(file)); they
      are not findings.
    - "Windows images: C(registry) (C(name) = uninstall key name, C(display_name), C(publisher), C(version),
      C(uninstall_string), C(quiet_uninstall_string), C(install_location), C(windows_installer),
      C(system_component), C(hive) V(HKLM)/V(HKU), C(view) V(64)/V(32), C(sid), C(path) = full key path);
      C(appx) (C(name) = package family name, C(package_full_name), C(package_full_names), C(version),
      C(architecture), C(install_location), C(provisioned)); C(service) (C(display_name), C(path) =
      ImagePath as registered, C(start_mode), C(service_type), C(registry_path)); C(file), C(data),
      C(leftover) (C(name) and C(path) in the catalog's C(%Variable%\\...) form, C(real_path) the Windows
      path found, C(type))."
    - "macOS: C(bundle) (C(name) = CFBundleIdentifier, C(version), C(display_name), C(path) of the C(.app), C(team_id)
      on a running Mac, C(link), C(wrapped) for an iOS app); C(pkg-receipt) (C(name) = package id, C(version),
      C(install_prefix), C(package_file)); C(launchd) (C(name) = Label, C(program), C(domain) V(system)/V(gui),
      C(disabled), C(label_missing)); C(cask) (C(name) = token, C(version), C(versions), C(prefix), C(uid) of the
      owner); C(sysext) (C(name) = extension bundle id, C(kind) V(system_extension)/V(kext), C(team_id),
      C(state), C(origin_path), C(version)); C(process) (C(name), C(exe), C(comm), C(pid), C(pids), C(uid),
      C(user))."
  returned: success
  type: dict
  sample:
    dpkg:
      - {"name": "wechat", "version": "4.0.1.11", "arch": "amd64", "state": "installed",
         "scope": "machine", "path": "/var/lib/dpkg/status"}
    file:
      - {"name": "/opt/wechat", "path": "/opt/wechat", "scope": "machine", "type": "dir",
         "owner": "wechat", "owner_source": "dpkg"}
    data:
      - {"name": "/home/alice/.xwechat", "path": "/home/alice/.xwechat", "scope": "user:alice",
         "type": "dir"}
tools:
  description:
    - For a scan of the running system (O(root) is V(/)), the absolute path of each of C(dpkg),
      C(apt-get), C(rpm), C(dnf), C(yum), C(zypper), C(flatpak), C(snap), C(systemctl), C(runuser)
      and C(tar) that is an executable file in C(/usr/local/sbin), C(/usr/local/bin), C(/usr/sbin),
      C(/usr/bin), C(/sbin) or C(/bin) (the first directory in that order wins). Tools not found
      have no key.
    - "On a running Mac: C(launchctl), C(pkgutil), C(osascript), C(systemextensionsctl), C(profiles), C(codesign)
      (in C(/usr/bin), C(/bin), C(/usr/sbin), C(/sbin), C(/usr/local/bin), C(/opt/homebrew/bin)) and C(brew)
      (C(/opt/homebrew/bin) first, then C(/usr/local/bin))."
    - An empty mapping for an image scan (the image's tools cannot run on this host).
  returned: success
  type: dict
  sample: {"dpkg": "/usr/bin/dpkg", "apt-get": "/usr/bin/apt-get", "systemctl": "/usr/bin/systemctl",
           "runuser": "/usr/sbin/runuser", "tar": "/usr/bin/tar"}
reboot_required:
  description:
    - V(true) when the running system says it needs a reboot (C(/run/reboot-required) or
      C(/var/run/reboot-required) exists). Always V(false) for an image scan.
    - Always V(false) on macOS, which has no standard "reboot needed" flag.
  returned: success
  type: bool
  sample: false
local_fact:
  description:
    - For the drift check (findings that a remediation removed before, reported as C(reinstalled)), what
      the local fact the C(report) role keeps says, C(path), C(removals) (per finding C(key), with C(id),
      C(source), C(name), C(scope), C(path) and C(removed_at), the last time a remediation removed it) and
      C(last_remediation_at).
    - Read from C(/etc/ansible/facts.d/banned_software.fact) under O(root) (for a Windows image,
      C(ProgramData/govsec-banned-software/facts.d/banned_software.json) under O(root)). The file is not
      read when it is a symbolic link, not a regular file or larger than 4 MiB; a record that is not
      valid JSON or not schema 1 is ignored. Each of those adds a warning to RV(collector_warnings), never
      a failure.
    - V(null) when there is no usable record.
  returned: success
  type: dict
local_fact_file:
  description:
    - What the remediate and scan actions need to replace the local fact (a hash-checked C(write_file) step of
      the executor). V(null) when there is no file; C(sha256) of its bytes and C(record) (the parsed schema 1
      record, or V(null)) when it was read; C(refused) (the reason) when it exists but was not read (a
      symbolic link, not a regular file, larger than 4 MiB), in which case it is never replaced.
  returned: success
  type: dict
  sample: {"path": "/etc/ansible/facts.d/banned_software.fact", "last_remediation_at": "2026-12-01T09:00:42Z",
           "removals": [{"key": "dpkg|machine|wechat|/var/lib/dpkg/status", "id": "wechat", "source": "dpkg",
                         "name": "wechat", "scope": "machine", "path": "/var/lib/dpkg/status",
                         "removed_at": "2026-12-01T09:00:42Z"}]}
run_state:
  description:
    - On a live host, what the executor's journal and run lock say of the last remediation
      (C(module_utils/_collect/run_state.py)); read only, the lock is never waited for. V(null) when the last run
      finished (or none ran, or the journal may not be read by this user).
    - C(running) (what the run holding the lock wrote of itself, C(pid), C(started), C(run_id)) while a remediation
      runs on the host now; C(interrupted_run) when the run that wrote the journal died before it finished (the
      record the execute module returns as RV(govsec.banned_software.execute#module:interrupted_run)).
  returned: success
  type: dict
  sample: {"interrupted_run": {"run_id": "20261201T090000Z", "pid": 4242, "started": "2026-12-01T09:00:01Z",
                               "updated": "2026-12-01T09:00:09Z", "steps_done": [], "step_interrupted": 1,
                               "steps_not_run": [2],
                               "detail": "the previous run (20261201T090000Z, pid 4242, started 2026-12-01T09:00:01Z)
                                          ended before it finished: 0 of 2 steps done, interrupted in step 1"}}
block_state:
  description:
    - With O(block_state), the reinstall-block state of a Linux host (C(module_utils/_collect/block_state_linux.py)).
    - C(files) maps each file the blocks own or edit (C(/etc/apt/preferences.d/govsec-banned-software),
      C(/etc/dnf/dnf.conf), C(/etc/dnf/libdnf5.conf.d/80-govsec-banned-software.conf),
      C(/var/lib/govsec-banned-software/blocks.json)) to C(exists), C(sha256), C(content) (UTF-8 text, at most
      256 KiB) and C(error) (why it was refused, for example a symbolic link on the way, not a regular file,
      too large, not UTF-8).
    - C(apt) (C(present)), C(dnf) (C(family) V(dnf4), V(dnf5), V(yum) or V(none); C(dnf5) whether a dnf 5 program
      is installed), C(zypper) (C(present), C(path), C(locks) = package names locked in C(/etc/zypp/locks)),
      C(flatpak) (C(present), C(path), C(version), C(installations) with C(scope), C(path), C(masked) = the
      C(xa.masked) ids of the installation's C(repo/config), and C(user) for a per-user installation).
  returned: when O(block_state) is true and the scanned system is Linux
  type: dict
  sample: {"files": {"/etc/dnf/dnf.conf": {"exists": true, "sha256": "3b5d...", "content": "[main]\ngpgcheck=1\n",
                                           "error": null}},
           "apt": {"present": true}, "dnf": {"family": "dnf4", "dnf5": false},
           "zypper": {"present": false, "path": null, "locks": null, "error": null},
           "flatpak": {"present": true, "path": "/usr/bin/flatpak", "version": "Flatpak 1.14.10",
                       "installations": [{"scope": "system", "path": "/var/lib/flatpak", "masked": [], "error": null}]}}
collector_warnings:
  description:
    - Problems that make results incomplete (unreadable homes, truncated listings, failed rpm query).
    - This is the C(warnings) list of the records format; Ansible reserves the C(warnings) key.
  returned: success
  type: list
  elements: str
  sample: ["cannot read /home/bob: permission denied (per-user sources for bob are incomplete)"]
"""

import os

from ansible.module_utils.basic import AnsibleModule

# First, so that the module_utils below are compiled once on the host, not twice (docs/performance.md).
from ansible_collections.govsec.banned_software.plugins.module_utils._compile_once import install as compile_once

compile_once()

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.sources import (
    LINUX_SOURCES as SOURCES, MACOS_SOURCES)


def system_name():
    """The kernel's name (os.uname, not the platform module: importing that costs every host ~8 ms)."""
    return os.uname().sysname


def target_os(root):
    """The system to scan: the running one for V(/), else recognised from the files under root."""
    if root == "/":
        system = system_name()
        return {"Linux": "linux", "Darwin": "macos"}.get(system, system)
    if os.path.exists(os.path.join(root, "System/Library/CoreServices/SystemVersion.plist")):
        return "macos"
    for marker in ("Windows/System32/config/SOFTWARE", "WINDOWS/system32/config/SOFTWARE"):
        if os.path.exists(os.path.join(root, marker)):
            return "windows"
    return "linux"


def main():
    module = AnsibleModule(
        argument_spec=dict(
            query=dict(type="dict", required=True),
            root=dict(type="path", default="/"),
            sources=dict(type="list", elements="str",
                         choices=list(SOURCES) + [s for s in MACOS_SOURCES if s not in SOURCES]),
            users=dict(type="list", elements="str"),
            block_state=dict(type="bool", default=False),
            source_timeout=dict(type="int", default=60),
        ),
        supports_check_mode=True,
    )
    module.run_command_environ_update = dict(LANG="C", LC_ALL="C", LANGUAGE="C")

    root = module.params["root"]
    if not os.path.isdir(root):
        module.fail_json(msg="root %s is not a directory" % root)
    if module.params["source_timeout"] < 0:
        module.fail_json(msg="source_timeout must be 0 (no budget) or a number of seconds, not %d"
                             % module.params["source_timeout"])
    timeout = module.params["source_timeout"]
    target = target_os(root)
    if target == "windows" and root != "/":
        # Imported here: a live scan never needs it, and every import costs host CPU (docs/performance.md).
        from ansible_collections.govsec.banned_software.plugins.module_utils._collect.windows_image import (
            MissingLibrary, collect_windows_image)
        query = module.params["query"].get("windows")
        try:
            result = collect_windows_image(root, query if query is not None else {},
                                           users=module.params["users"], sources=module.params["sources"],
                                           source_timeout=timeout)
        except MissingLibrary as exc:
            module.fail_json(msg=str(exc))
            return
        result["collector_warnings"] = result.pop("warnings")
        module.exit_json(changed=False, **result)
    if target not in ("linux", "macos"):
        module.fail_json(msg="govsec.banned_software.collect supports Linux and macOS; %s runs %s"
                             % ("this host" if root == "/" else "the system under %s" % root, target))

    query = module.params["query"].get(target)
    if query is None:
        query = {}
    # Only the collector this host runs is imported (docs/performance.md).
    if target == "macos":
        from ansible_collections.govsec.banned_software.plugins.module_utils._collect.macos import (
            collect_macos as collector)
    else:
        from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux import (
            collect_linux as collector)
    extra = {"block_state": True} if module.params["block_state"] and target == "linux" else {}
    result = collector(root, query, module.run_command,
                       users=module.params["users"], sources=module.params["sources"], source_timeout=timeout,
                       **extra)
    # Ansible reserves the "warnings" key of a module result (it is deprecated in exit_json and
    # popped by the executor), so the collector's warnings travel as "collector_warnings": they are
    # data for the engine, which reports them per host.
    result["collector_warnings"] = result.pop("warnings")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
