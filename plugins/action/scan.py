# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin for govsec.banned_software.scan: one collector call per host, matching here."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

from ansible_collections.govsec.banned_software.plugins.module_utils._catalog import CatalogError
from ansible_collections.govsec.banned_software.plugins.module_utils._exemptions import apply_exemptions
from ansible_collections.govsec.banned_software.plugins.module_utils._match import Matcher, host_status
from ansible_collections.govsec.banned_software.plugins.module_utils._query import build_query
from ansible_collections.govsec.banned_software.plugins.plugin_utils._catalog_files import (
    SELECTION_SPEC, load_selection,
)

display = Display()

ARGUMENT_SPEC = dict(
    SELECTION_SPEC,
    sources=dict(type="list", elements="str"),
    users=dict(type="list", elements="str"),
    root=dict(type="path"),
)

WINDOWS_CONNECTIONS = frozenset(["winrm", "psrp", "ansible.builtin.winrm", "ansible.builtin.psrp",
                                 "ansible.windows.psrp"])
POSIX_COLLECTOR = "govsec.banned_software.collect"
WINDOWS_COLLECTOR = "govsec.banned_software.win_collect"


def host_platform_family(task_vars):
    """``windows`` or ``posix``, from facts when gathered, else from the connection."""
    facts = task_vars.get("ansible_facts") or {}
    if facts.get("os_family") == "Windows" or facts.get("system") == "Win32NT":
        return "windows"
    if facts.get("system") in ("Linux", "Darwin"):
        return "posix"
    connection = str(task_vars.get("ansible_connection") or "")
    shell = str(task_vars.get("ansible_shell_type") or "")
    if connection in WINDOWS_CONNECTIONS or shell in ("powershell", "cmd"):
        return "windows"
    return "posix"


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _requires_connection = True

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)

        try:
            catalog, entries, exemptions = load_selection(args)
        except CatalogError as exc:
            result.update(failed=True, msg="catalog or variable error: %s" % exc, catalog_error=True)
            return result

        family = host_platform_family(task_vars)
        platforms = ["windows"] if family == "windows" else ["linux", "macos"]
        query = build_query(entries, platforms)
        if family == "windows":
            module, module_args = WINDOWS_COLLECTOR, {"query": query.get("windows", {})}
        else:
            module, module_args = POSIX_COLLECTOR, {"query": query}
        for key in ("sources", "users", "root"):
            if args.get(key) is not None:
                module_args[key] = args[key]

        started = datetime.datetime.now(datetime.timezone.utc)
        collected = self._execute_module(module_name=module, module_args=module_args, task_vars=task_vars)
        if collected.get("failed"):
            result.update(failed=True, msg="collector %s failed: %s" % (module, collected.get("msg", "no message")))
            for key in ("rc", "stdout", "stderr", "module_stderr", "module_stdout", "exception"):
                if key in collected:
                    result[key] = collected[key]
            return result

        os_name = collected.get("os")
        if os_name not in platforms:
            result.update(failed=True, msg="collector %s reported os %r, expected one of %s"
                          % (module, os_name, ", ".join(platforms)))
            return result

        matcher = Matcher(entries, args["policies"])
        findings, warnings = matcher.match(os_name, collected)
        # Modules return their own warnings as collector_warnings ("warnings" is reserved by Ansible).
        warnings = [w for w in (collected.get("collector_warnings") or []) if isinstance(w, str)] + warnings
        warnings += apply_exemptions(findings, exemptions)
        for warning in warnings:
            display.warning("%s: %s" % (task_vars.get("inventory_hostname", "host"), warning))

        facts = {
            "status": host_status(findings),
            "scanned_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "os": os_name,
            "catalog_version": catalog.version,
            "policies": list(args["policies"]),
            "entries_enabled": sorted(e.id for e in entries),
            "findings": findings,
            "warnings": warnings,
            "counts": collected.get("counts") or {},
            "available": collected.get("available") or {},
            "root": collected.get("root", "/"),
        }
        result.update(changed=False, findings=findings, status=facts["status"],
                      ansible_facts={"banned_software": facts})
        return result
