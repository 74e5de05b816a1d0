#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

# This file holds only the documentation; the module is win_collect.ps1 (PowerShell).

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: win_collect
short_description: Collect raw records about possibly banned software on a Windows host
version_added: 0.1.0
description:
  - Gathers, in one module call, the records a query asks for from the uninstall entries in the
    registry (machine-wide in the 64-bit and 32-bit views, and per user from every profile),
    AppX packages (installed per user, and provisioned), services, running processes and paths.
  - The module decides nothing and changes nothing. Matching against the catalog, exemptions,
    planning and reporting happen on the controller, in Python (see C(docs/design.md), "Windows",
    and C(docs/windows.md)).
  - "Pre-filter: a record of V(registry), V(appx), V(service), V(process) or V(npm) is returned when its
    name (uninstall key name, package family name, service name, image name or the file name of
    the process's executable, npm package name) is one of the query's C(names) (compared case-insensitively) or
    fully matches one of its C(regex), compiled by .NET with C(IgnoreCase). A pattern .NET cannot
    compile (Python-only syntax) makes that source unfiltered, with a warning: every record of it
    is returned. The controller matches again with Python's C(re), so the pre-filter only keeps
    the output small."
  - Per-user uninstall entries are read from C(HKU\\<SID>) when the user's hive is loaded (the
    user is logged on). Otherwise the profile's C(NTUSER.DAT) is loaded with
    C(reg.exe load HKU\\govsec_<random>) (arguments passed one by one, no shell), read, and always
    unloaded again with C(reg.exe unload) (retried; a failure is reported in RV(collector_warnings)).
    This is the only write the module makes.
  - An error in one source (for example Get-AppxPackage failing) becomes a warning in
    RV(collector_warnings) and that source's C(available) is V(false); the call still succeeds.
options:
  query:
    description:
      - The pre-filter built on the controller from the enabled catalog entries. Either the whole
        query (keyed by platform; the V(windows) part is used) or the Windows part itself, a
        mapping of source name to a mapping.
      - "Sources V(registry), V(appx), V(service), V(process), V(npm): C(names) (exact identifiers) and
        C(regex) (regular expressions, matched in full); C(casefold) is accepted and implied
        (Windows names are compared case-insensitively)."
      - "Sources V(file), V(data), V(leftover): C(paths), each a drive-absolute path
        (C(C:\\...)), a path starting with C(%ProgramFiles%), C(%ProgramFiles(x86)%),
        C(%ProgramW6432%), C(%ProgramData%), C(%SystemRoot%), C(%windir%), C(%SystemDrive%),
        C(%Public%) (machine-wide), or with C(%LocalAppData%), C(%AppData%), C(%UserProfile%) or
        C(~) (checked in every selected profile: C(<profile>\\AppData\\Local),
        C(<profile>\\AppData\\Roaming), C(<profile>)). The last component may hold C(*), C(?) or
        C([...]) wildcards. Portable installs such as Scoop's are found this way
        (C(%UserProfile%\\scoop\\apps\\wechat))."
      - A source absent from the query is not examined.
    type: dict
    required: true
  sources:
    description:
      - Examine only these sources (a subset of the query's sources). Default is every source in
        the query.
    type: list
    elements: str
    choices: [registry, appx, service, process, file, data, leftover, npm]
  users:
    description:
      - Examine per-user locations only for these profiles, given by profile folder name (the
        user name in records), account (C(DOMAIN\\name)) or SID.
      - By default every profile of a real account in the C(ProfileList) (SIDs C(S-1-5-21-*) and
        C(S-1-12-1-*)) is examined.
    type: list
    elements: str
  block_state:
    description:
      - Also return RV(block_state), the raw facts the reinstall-block planner needs (edition, AppLocker
        cmdlets, the Application Identity service, the local and effective AppLocker policies, provisioned
        AppX packages). The remediation asks for it; an audit does not.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: The module only reads; it runs the same way in check mode and never reports a change.
  diff_mode:
    support: none
    description: Nothing is changed, so there is no diff.
  platform:
    support: full
    platforms: windows
    description: Windows only (Windows PowerShell 5.1).
notes:
  - "Run as an administrator (WinRM with an elevated token, or C(become_method=runas) as SYSTEM):
    loading other users' hives, C(Get-AppxPackage -AllUsers) and C(Get-AppxProvisionedPackage
    -Online) need it."
  - Each source keeps at most 10000 records, and a wildcard reads at most 10000 entries of one
    directory; anything cut is reported in RV(collector_warnings).
  - Paths are examined without following junctions or symbolic links (their own attributes are
    read); a reparse point is reported with C(type=link). Cloud placeholder files are reparse
    points too.
  - No Windows host runs in this collection's CI; see C(docs/windows.md) for what is and is not
    verified.
seealso:
  - module: govsec.banned_software.win_execute
  - module: govsec.banned_software.collect
author:
  - govsec.banned_software maintainers (@govsec)
"""

EXAMPLES = r"""
- name: Look for WeChat, Weixin and the Kaspersky agents on a Windows host
  govsec.banned_software.win_collect:
    query:
      registry:
        names: [WeChat, Weixin]
        regex: ['\{[0-9A-Fa-f-]{36}\}']
      service:
        names: [AVP, klnagent]
      process:
        names: [WeChat.exe, Weixin.exe, avp.exe]
      appx:
        names: [TencentWeChatLimited.forWindows10_sdtnhv12zgd7a]
      file:
        paths:
          - '%ProgramFiles(x86)%\Tencent\WeChat'
          - '%LocalAppData%\Programs\Tencent\Weixin'
          - '%UserProfile%\scoop\apps\wechat'
  register: collected

- name: Only the uninstall entries, for one user
  govsec.banned_software.win_collect:
    sources: [registry]
    users: [alice]
    query:
      registry:
        names: [1bf39983-50d0-5fe0-9ef4-cece76f67c5e]
"""

RETURN = r"""
os:
  description: Operating system family the collector ran for.
  returned: success
  type: str
  sample: windows
collector_version:
  description: Version of the record format.
  returned: success
  type: str
  sample: "1"
available:
  description:
    - For the sources examined, whether the source could be read (V(appx) is V(false) when the
      Appx module is missing or its cmdlets failed). Sources not examined have no key.
  returned: success
  type: dict
  sample: {"registry": true, "appx": true, "service": true, "process": true, "file": true}
counts:
  description: Number of items examined per source (passing the pre-filter or not).
  returned: success
  type: dict
  sample: {"registry": 412, "appx": 96, "service": 287, "process": 143, "file": 9}
users:
  description:
    - The profiles examined. C(name) is the profile folder's name (used in C(scope) as
      C(user:<name>)), C(account) the account (null when the SID no longer resolves),
      C(home) the profile path, C(hive_loaded) whether this collector loaded the user's
      C(NTUSER.DAT) (V(false) when it was loaded already, or could not be loaded).
  returned: success
  type: list
  elements: dict
  sample: [{"name": "alice", "sid": "S-1-5-21-1004336348-1177238915-682003330-1001",
            "account": "CONTOSO\\alice", "home": "C:\\Users\\alice", "hive_loaded": true}]
environment:
  description:
    - Machine-wide variables (C(ProgramFiles), C(ProgramFiles(x86)), C(ProgramW6432),
      C(ProgramData), C(SystemRoot), C(windir), C(SystemDrive), C(Public)) as this process sees
      them, and under C(users) per profile name C(UserProfile), C(LocalAppData) and C(AppData).
    - The planner expands uninstall strings with these.
  returned: success
  type: dict
  sample: {"ProgramFiles": "C:\\Program Files", "ProgramFiles(x86)": "C:\\Program Files (x86)",
           "ProgramData": "C:\\ProgramData", "SystemRoot": "C:\\Windows",
           "users": {"alice": {"UserProfile": "C:\\Users\\alice",
                               "LocalAppData": "C:\\Users\\alice\\AppData\\Local",
                               "AppData": "C:\\Users\\alice\\AppData\\Roaming"}}}
records:
  description:
    - Per examined source, the records that passed the pre-filter. Every record has C(name) and
      C(scope) (V(machine) or V(user:<name>)).
    - "V(registry): C(name) (uninstall key name), C(display_name), C(publisher), C(version)
      (DisplayVersion), C(uninstall_string), C(quiet_uninstall_string), C(install_location) (each
      only when the value exists and holds text; environment variables are not expanded),
      C(windows_installer), C(system_component) (booleans), C(hive) (V(HKLM) or V(HKU)), C(view)
      (V(64) or V(32)), C(sid) (per-user entries), C(path) (the full key path)."
    - "V(appx): C(name) (package family name), C(package_full_name), C(version),
      C(install_location), C(provisioned); installed packages have C(scope=user:<name>), C(sid)
      and C(install_state), provisioned ones C(scope=machine)."
    - "V(service): C(name), C(display_name), C(path) (the image path as registered),
      C(start_mode), C(state)."
    - "V(process): C(name) (image name), C(exe), C(pid), C(user) (C(DOMAIN\\name), when readable)."
    - "V(npm): globally installed npm packages in C(%ProgramFiles%\\nodejs\\node_modules) (scope
      V(machine)) and each profile's C(%AppData%\\npm\\node_modules): C(name) (the package folder,
      C(@scope/name)), C(version) and C(package_name) (from C(package.json), at most 512 KiB, when it
      names the package otherwise), C(path), C(prefix), C(link) (a reparse point, not read)."
    - "V(file), V(data), V(leftover): C(name) and C(path) in the query's form (C(%Variable%\\...),
      with the matched name for a wildcard), C(real_path) (expanded), C(type) (V(dir), V(file) or
      V(link))."
  returned: success
  type: dict
  sample:
    registry:
      - {"name": "WeChat", "display_name": "WeChat", "publisher": "腾讯科技(深圳)有限公司",
         "version": "3.9.12.57", "uninstall_string": "\"C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe\"",
         "install_location": "C:\\Program Files (x86)\\Tencent\\WeChat", "windows_installer": false,
         "system_component": false, "hive": "HKLM", "view": "32", "scope": "machine",
         "path": "HKLM\\SOFTWARE\\WOW6432Node\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\WeChat"}
    file:
      - {"name": "%ProgramFiles(x86)%\\Tencent\\WeChat", "path": "%ProgramFiles(x86)%\\Tencent\\WeChat",
         "real_path": "C:\\Program Files (x86)\\Tencent\\WeChat", "type": "dir", "scope": "machine"}
reboot_required:
  description:
    - V(true) when Windows says a reboot is pending (C(Component Based Servicing\RebootPending),
      C(WindowsUpdate\Auto Update\RebootRequired) or a non-empty C(PendingFileRenameOperations)).
  returned: success
  type: bool
  sample: false
reboot_reasons:
  description: The registry flags that made RV(reboot_required) true.
  returned: success
  type: list
  elements: str
  sample: ["HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending"]
local_fact_text:
  description:
    - The raw text of the local fact the executor keeps
      (C(C:\ProgramData\govsec-banned-software\facts.d\banned_software.json)), at most 4 MiB, for the
      drift check (findings that a remediation removed before). The controller parses it; the module only
      reads it.
    - V(null) when the file does not exist or was refused (a reparse point on the file or its folders, not a
      file, too large; a warning in RV(collector_warnings) says which).
  returned: success
  type: str
  sample: '{"schema": 1, "status": "compliant", "removals": []}'
local_fact_file:
  description:
    - What a writer of the local fact needs. V(null) when there is
      no file, C(sha256) of its bytes when it was read, C(refused) (the reason) when it exists but was not read
      (a refused file is never replaced).
  returned: success
  type: dict
  sample: {"sha256": "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}
installer_products:
  description:
    - For every product code (C({GUID})) that a returned uninstall entry names (its key name or uninstall
      strings), what HKLM says about it, written only by administrators and the Windows Installer service -
      its registration under
      C(HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Installer\UserData\<SID>\Products\<packed code>\InstallProperties)
      (C(source=installer), with C(sid)) and the machine uninstall keys named by the code (C(source=uninstall),
      with C(view)). The planner runs C(msiexec /x) only on a code proven this way (or named by the catalog).
    - Empty when the C(registry) source was not read. At most 1000 codes.
  returned: success
  type: dict
  sample: {"{9A017278-F7F4-4DF9-A482-0B97B70DD7ED}": [{"source": "installer", "sid": "S-1-5-18",
           "display_name": "Kaspersky Endpoint Security for Windows", "publisher": "AO Kaspersky Lab",
           "version": "12.3.0.493"}]}
program_acls:
  description:
    - For every program (absolute C(X:\...) path) that a returned uninstall entry's C(UninstallString) or
      C(QuietUninstallString) names, its owner and access entries and those of each folder above it up to the
      drive root (C(chain), program first), read without following links (a junction or symbolic link is
      reported as C(reparse=true)). The planner runs a recorded uninstaller with SYSTEM rights only when no
      account but SYSTEM, Administrators and TrustedInstaller can change it or a folder above it up to its
      trusted root. At most 200 programs.
    - Each chain item has C(path), C(exists), C(directory), C(reparse), C(owner) (a SID) and C(aces)
      (C(sid), C(allow), C(rights) (the access mask, a signed 32-bit number), C(inherit_only)), or C(error).
  returned: success
  type: list
  elements: dict
  sample: [{"program": "C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe", "chain": [
            {"path": "C:\\Program Files (x86)\\Tencent\\WeChat\\Uninstall.exe", "exists": true,
             "directory": false, "reparse": false, "owner": "S-1-5-32-544",
             "aces": [{"sid": "S-1-5-32-545", "allow": true, "rights": 1179817, "inherit_only": false}]}]}]
block_state:
  description:
    - Only with O(block_state). Raw facts; the controller decides (C(docs/windows.md), "Reinstall blocks").
      Anything that cannot be read is left out and C(<name>_error) holds the message instead.
    - "C(edition): C(edition_id), C(installation_type), C(product_name), C(build) (from
      C(HKLM\\SOFTWARE\\Microsoft\\Windows NT\\CurrentVersion)); C(applocker_cmdlets): whether
      C(Get-AppLockerPolicy) and C(Set-AppLockerPolicy) exist; C(appidsvc): C(status) and C(start_type) of the
      Application Identity service (V(null) when it does not exist)."
    - "C(applocker_local_xml) and C(applocker_local_sha256) (C(Get-AppLockerPolicy -Local -Xml), the
      sha256 of its UTF-8 text), C(applocker_effective_xml) and C(applocker_effective_sha256)
      (C(-Effective): the local policy merged with domain policies). A policy of more than 4194304
      characters is not returned (an C(_error) says so)."
    - "C(appx_provisioned): C(Get-AppxProvisionedPackage -Online), each with C(display_name),
      C(package_name), C(version), C(publisher_id)."
  returned: when O(block_state) is true
  type: dict
  sample: {"edition": {"edition_id": "Enterprise", "installation_type": "Client",
                       "product_name": "Windows 10 Enterprise", "build": "19045"},
           "applocker_cmdlets": true, "appidsvc": {"status": "Running", "start_type": "Automatic"},
           "applocker_local_xml": "<AppLockerPolicy Version=\"1\" />",
           "applocker_local_sha256": "5f3c...", "applocker_effective_xml": "<AppLockerPolicy Version=\"1\" />",
           "applocker_effective_sha256": "5f3c...",
           "appx_provisioned": [{"display_name": "Microsoft.BingWeather",
                                 "package_name": "Microsoft.BingWeather_4.25.20211.0_neutral_~_8wekyb3d8bbwe",
                                 "version": "4.25.20211.0", "publisher_id": "8wekyb3d8bbwe"}]}
collector_warnings:
  description:
    - Problems that make results incomplete (a hive that could not be loaded or unloaded, a
      source that failed, a truncated listing, a regular expression .NET cannot compile).
    - Ansible reserves the C(warnings) key.
  returned: success
  type: list
  elements: str
  sample: ["registry: cannot load C:\\Users\\bob\\NTUSER.DAT (rc 1: ...); per-user uninstall entries of bob not read"]
"""
