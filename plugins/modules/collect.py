#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: collect
short_description: Collect raw records about possibly banned software on a POSIX host
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
  - Linux only for now; macOS will be added to this same module.
options:
  query:
    description:
      - The pre-filter built on the controller from the enabled catalog entries, keyed by platform
        (V(linux), V(macos)); the module uses the part for the system it scans.
      - Per platform, a mapping of source name to a mapping with C(names) (a list of exact identifiers) and
        C(regex) (a list of Python regular expressions matched with C(re.fullmatch)).
      - The C(file) source takes C(paths) instead, a list of absolute paths or C(~/) paths (checked in
        every selected user's home); the last path component may contain C(*), C(?) or C([...])
        globs.
      - "Linux sources: V(dpkg), V(rpm), V(flatpak), V(snap), V(appimage), V(file), V(desktop),
        V(service), V(process)."
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
    type: list
    elements: str
    choices: [dpkg, rpm, flatpak, snap, appimage, file, desktop, service, process, data, leftover]
  users:
    description:
      - Examine per-user locations only for these local user names.
      - By default every user from C(<root>/etc/passwd) whose home directory exists under O(root)
        and is not V(/) or V(/nonexistent) is examined (users sharing a home once).
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
    description: Linux today. Other systems fail with a clear message.
notes:
  - Per-user locations in home directories the module cannot read (running unprivileged) are
    reported in RV(collector_warnings); run with C(become) for a complete scan.
  - Directory listings are capped (10000 entries); a longer directory is reported in RV(collector_warnings).
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
"""

RETURN = r"""
os:
  description: Operating system family the collector ran for.
  returned: success
  type: str
  sample: linux
root:
  description: The scanned root directory (resolved).
  returned: success
  type: str
  sample: /
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
    - V(false) with a warning means it exists but could not be read.
  returned: success
  type: dict
  sample: {"dpkg": true, "rpm": false, "flatpak": true, "snap": false, "systemd": true, "sysv": false, "proc": true}
counts:
  description: Number of items examined per source (matching the query or not).
  returned: success
  type: dict
  sample: {"dpkg": 812, "flatpak": 3, "process": 214}
users:
  description: Local users whose home directories were examined.
  returned: success
  type: list
  elements: dict
  sample: [{"name": "alice", "uid": 1000, "home": "/home/alice"}]
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
    - An empty mapping for an image scan (the image's tools cannot run on this host).
  returned: success
  type: dict
  sample: {"dpkg": "/usr/bin/dpkg", "apt-get": "/usr/bin/apt-get", "systemctl": "/usr/bin/systemctl",
           "runuser": "/usr/sbin/runuser", "tar": "/usr/bin/tar"}
reboot_required:
  description:
    - V(true) when the running system says it needs a reboot (C(/run/reboot-required) or
      C(/var/run/reboot-required) exists). Always V(false) for an image scan.
  returned: success
  type: bool
  sample: false
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
import platform

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.govsec.banned_software.plugins.module_utils._collect_linux import (
    SOURCES, collect_linux)


def target_os(root):
    """The system to scan: the running one for V(/), else recognised from the files under root."""
    if root == "/":
        return {"Linux": "linux", "Darwin": "macos"}.get(platform.system(), platform.system())
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
            sources=dict(type="list", elements="str", choices=list(SOURCES)),
            users=dict(type="list", elements="str"),
        ),
        supports_check_mode=True,
    )
    module.run_command_environ_update = dict(LANG="C", LC_ALL="C", LANGUAGE="C")

    root = module.params["root"]
    if not os.path.isdir(root):
        module.fail_json(msg="root %s is not a directory" % root)
    target = target_os(root)
    if target != "linux":
        module.fail_json(msg="govsec.banned_software.collect supports Linux only for now; %s runs %s"
                             % ("this host" if root == "/" else "the system under %s" % root, target))

    query = module.params["query"].get(target)
    if query is None:
        query = {}
    result = collect_linux(root, query, module.run_command,
                           users=module.params["users"], sources=module.params["sources"])
    # Ansible reserves the "warnings" key of a module result (it is deprecated in exit_json and
    # popped by the executor), so the collector's warnings travel as "collector_warnings": they are
    # data for the engine, which reports them per host.
    result["collector_warnings"] = result.pop("warnings")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
