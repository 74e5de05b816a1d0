# -*- coding: utf-8 -*-
"""The remediate action end to end: scan -> plan -> execute -> verify, with the host simulated.

``FakeHost`` is a small state machine: the collector call returns its records (matched against the
shipped catalog by the real matcher), and the executor call applies the steps to them (a package
removal drops the package and the files it owns, a quarantine drops everything under its path),
so a second run sees the state the first one left.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime

import pytest

from ansible.errors import AnsibleActionFail

from ansible_collections.govsec.banned_software.plugins.action import remediate as remediate_action
from ansible_collections.govsec.banned_software.tests.unit.helpers import action_runner
from ansible_collections.govsec.banned_software.tests.unit.helpers.action_runner import without_fact

COLLECT = "govsec.banned_software.collect"
EXECUTE = "govsec.banned_software.execute"
DPKG = "/usr/bin/dpkg"
SYSTEMCTL = "/usr/bin/systemctl"
STATUS = "/var/lib/dpkg/status"
TOOLS = {"dpkg": DPKG, "systemctl": SYSTEMCTL, "flatpak": "/usr/bin/flatpak"}
FAR = (datetime.date.today() + datetime.timedelta(days=30)).isoformat()
APPIMAGE = "/home/alice/Applications/WeChatLinux_x86_64.AppImage"


def initial_records():
    return {
        "dpkg": [{"name": n, "scope": "machine", "path": STATUS, "arch": "amd64", "version": "1.0"}
                 for n in ("kesl", "kesl-gui", "wechat", "linuxqq")],
        "service": [{"name": "kesl.service", "scope": "machine", "type": "systemd",
                     "path": "/lib/systemd/system/kesl.service", "owner": "kesl", "owner_source": "dpkg"}],
        "file": [{"name": "/opt/wechat", "path": "/opt/wechat", "scope": "machine", "type": "dir",
                  "owner": "wechat", "owner_source": "dpkg"}],
        "appimage": [{"name": "WeChatLinux_x86_64.AppImage", "path": APPIMAGE, "scope": "user:alice", "type": "file"}],
        "flatpak": [],
    }


K_KESL = "dpkg|machine|kesl|" + STATUS
K_GUI = "dpkg|machine|kesl-gui|" + STATUS
K_WECHAT = "dpkg|machine|wechat|" + STATUS
K_SVC = "service|machine|kesl.service|/lib/systemd/system/kesl.service"
K_OPT = "file|machine|/opt/wechat|/opt/wechat"
K_APP = "appimage|user:alice|WeChatLinux_x86_64.AppImage|" + APPIMAGE
ALL_KEYS = sorted([K_KESL, K_GUI, K_WECHAT, K_SVC, K_OPT, K_APP])
REMOVE = [DPKG, "--remove", "--", "kesl", "kesl-gui", "wechat"]
EXPECTED_STEPS = [
    (1, "stop_service", [SYSTEMCTL, "stop", "--", "kesl.service"]),
    (2, "disable_service", [SYSTEMCTL, "disable", "--", "kesl.service"]),
    (3, "remove_packages", REMOVE),
    (4, "quarantine", APPIMAGE),
]


class FakeHost(object):

    def __init__(self, records=None, fail_actions=(), executor_error=None, verify_error=False):
        self.records = records if records is not None else initial_records()
        self.calls = []
        self.fail_actions = set(fail_actions)
        self.executor_error = executor_error
        self.verify_error = verify_error

    def __call__(self, module_name=None, module_args=None, task_vars=None, **kwargs):
        self.calls.append((module_name, copy.deepcopy(module_args)))
        if module_name == COLLECT:
            if self.verify_error and len([c for c in self.calls if c[0] == COLLECT]) > 1:
                return {"failed": True, "msg": "collector crashed", "rc": 1, "module_stderr": "Traceback"}
            return {"os": "linux", "root": "/", "collector_version": "1", "available": {"dpkg": True},
                    "users": [{"name": "alice", "uid": 1000, "gid": 1000, "home": "/home/alice"}],
                    "records": copy.deepcopy(self.records), "tools": dict(TOOLS), "counts": {},
                    "reboot_required": False, "collector_warnings": []}
        if module_name == EXECUTE:
            if self.executor_error:
                return {"failed": True, "msg": self.executor_error}
            results = [self.run_step(step) for step in module_args["steps"]]
            failed = [r for r in results if r["status"] == "failed"]
            out = {"changed": any(r["status"] == "changed" for r in results), "steps": results}
            if failed:
                out.update(failed=True, msg="steps failed: %s" % ", ".join(str(r["id"]) for r in failed))
            return out
        raise AssertionError("unexpected module %s" % module_name)

    def run_step(self, step):
        result = {"id": step["id"], "kind": step["kind"], "action": step.get("action"), "status": "changed", "msg": ""}
        if step.get("action") in self.fail_actions:
            result.update(status="failed", msg="rc 1 (expected 0)", rc=1, cmd=step.get("argv"),
                          stderr="dpkg: dependency problems prevent removal of kesl")
            return result
        if step["kind"] == "command" and step["action"] in ("remove_packages", "purge_packages"):
            names = set(step["argv"][step["argv"].index("--") + 1:])
            self.records["dpkg"] = [r for r in self.records["dpkg"] if r["name"] not in names]
            for source in ("file", "service", "desktop"):
                self.records[source] = [r for r in self.records.get(source, []) if r.get("owner") not in names]
            result.update(rc=0, cmd=step["argv"])
        elif step["kind"] == "quarantine":
            for source, items in self.records.items():
                self.records[source] = [r for r in items if not (r.get("path") == step["path"] or
                                                                 (r.get("path") or "").startswith(step["path"] + "/"))]
        return result

    def modules(self):
        return [c[0] for c in self.calls]


def make_action(args, host, check_mode=False, diff=False):
    return action_runner.make_action(remediate_action, host, without_fact(args), check_mode=check_mode, diff=diff)


def run(host, args=None, **kwargs):
    task_vars = {"inventory_hostname": "h1", "ansible_connection": "ssh"}
    return make_action(args or {}, host, **kwargs).run(task_vars=task_vars)


def outcomes(result):
    return sorted((f["key"], f["outcome"]) for f in result["findings"])


def check(seen, expected, what):
    assert seen == expected, "%s:\nexpected %r\nseen     %r" % (what, expected, seen)


def step_summary(steps):
    return [(s["id"], s["action"], s.get("argv") or s.get("path")) for s in steps]


# -- check mode -----------------------------------------------------------------------------------

def test_check_mode_plans_only_and_predicts():
    host = FakeHost()
    before = copy.deepcopy(host.records)
    result = run(host, check_mode=True, diff=True)
    check(result.get("failed"), None, "failed")
    check(host.modules(), [COLLECT], "module calls")
    check(host.records, before, "host state")
    check(result["changed"], True, "changed")
    check(step_summary(result["remediation"]["plan"]["steps"]), EXPECTED_STEPS, "plan")
    check(outcomes(result), [(k, "would_remove") for k in ALL_KEYS], "outcomes")
    check((result["status"], result["remediation"]["checked_only"], result["remediation"]["steps"]),
          ("non_compliant", True, []), "status")
    diff = result["diff"]
    check((diff["before_header"], diff["after_header"]), ("banned software found", "after remediation"), "diff headers")
    check(diff["after"].splitlines()[:4], [
        "# step 1 stop_service: %s stop -- kesl.service" % SYSTEMCTL,
        "# step 2 disable_service: %s disable -- kesl.service" % SYSTEMCTL,
        "# step 3 remove_packages: %s" % " ".join(REMOVE),
        "# step 4 quarantine: %s" % APPIMAGE], "diff after")
    check(len(diff["before"].splitlines()), 6, "diff before lines")


def test_check_mode_without_diff_has_no_diff():
    result = run(FakeHost(), check_mode=True)
    check("diff" in result, False, "diff present")


def test_check_mode_on_a_clean_host_is_unchanged():
    host = FakeHost(records={"dpkg": [{"name": "linuxqq", "scope": "machine", "path": STATUS}]})
    result = run(host, check_mode=True, diff=True)
    check((result["changed"], result["status"], host.modules(), "diff" in result),
          (False, "compliant", [COLLECT], False), "clean host")


# -- real run, then a second run ------------------------------------------------------------------

def test_real_run_then_second_run_changes_nothing():
    host = FakeHost()
    result = run(host)
    check(result.get("failed"), None, "failed")
    check(host.modules(), [COLLECT, EXECUTE, COLLECT], "module calls")
    sent = host.calls[1][1]
    check(step_summary(sent["steps"]), EXPECTED_STEPS, "steps sent")
    for step in sent["steps"]:
        check(sorted(k for k in ("packages", "manager", "entry") if k in step), [], "planner fields sent to the executor")
    check((sent["lock_timeout"], sent["default_timeout"], sent["homes"], sent["run_id"] == result["remediation"]["run_id"]),
          (300, 900, ["/home/alice"], True), "executor options")
    check((result["changed"], result["status"]), (True, "remediated"), "first run")
    check(outcomes(result), [(k, "removed") for k in ALL_KEYS], "outcomes")
    check(result["remediation"]["outcomes"], {"removed": 6}, "counts")
    check(sorted(r["name"] for r in host.records["dpkg"]), ["linuxqq"], "left installed")
    facts = result["ansible_facts"]["banned_software"]
    check((facts["status"], facts["findings"] is not None, result["reboot_required"]), ("remediated", True, False),
          "facts")

    second = FakeHost(records=host.records)
    again = run(second)
    check(second.modules(), [COLLECT], "second run module calls")
    check((again["changed"], again["status"], again["findings"], again["remediation"]["plan"]["steps"]),
          (False, "compliant", [], []), "second run")

    third = FakeHost(records=host.records)
    check_again = run(third, check_mode=True)
    check((third.modules(), check_again["changed"]), ([COLLECT], False), "check mode after the run")


def test_check_mode_predicts_the_real_run():
    predicted = run(FakeHost(), check_mode=True)
    real = run(FakeHost())
    check(step_summary(predicted["remediation"]["plan"]["steps"]), step_summary(real["remediation"]["plan"]["steps"]),
          "same plan")
    check(predicted["changed"], real["changed"], "changed")
    check([k for k, o in outcomes(predicted) if o == "would_remove"], [k for k, o in outcomes(real) if o == "removed"],
          "would_remove == removed")


def test_a_failing_step_leaves_its_findings_failed():
    host = FakeHost(fail_actions=["remove_packages"])
    result = run(host)
    check(host.modules(), [COLLECT, EXECUTE, COLLECT], "module calls")
    check((result["changed"], result["status"], result.get("failed")), (True, "non_compliant", None), "result")
    detail = "step 3 remove_packages: rc 1 (expected 0)"
    check(sorted((f["key"], f["outcome"], f.get("outcome_detail")) for f in result["findings"]), sorted([
        (K_KESL, "failed", detail), (K_GUI, "failed", detail), (K_WECHAT, "failed", detail),
        (K_SVC, "failed", detail), (K_OPT, "failed", detail), (K_APP, "removed", None)]), "outcomes")
    failed = [s for s in result["remediation"]["steps"] if s["status"] == "failed"]
    check([(s["id"], s["rc"], s["stderr"], s["cmd"]) for s in failed],
          [(3, 1, "dpkg: dependency problems prevent removal of kesl", REMOVE)], "failed step in the report")
    check(result["remediation"]["outcomes"], {"failed": 5, "removed": 1}, "counts")


def test_executor_failing_before_running_is_reported():
    host = FakeHost(executor_error="steps[2].argv: must be a non-empty list")
    result = run(host)
    check(host.modules(), [COLLECT, EXECUTE, COLLECT], "module calls")
    error = "executor failed before running the plan: steps[2].argv: must be a non-empty list"
    check((result["remediation"]["error"], result["changed"], result["status"]), (error, False, "non_compliant"),
          "result")
    check(sorted((f["key"], f["outcome"], f["outcome_detail"]) for f in result["findings"]),
          [(k, "failed", error) for k in ALL_KEYS], "outcomes")


def test_verification_scan_failing_fails_the_task_as_changed():
    host = FakeHost(verify_error=True)
    result = run(host)
    check(host.modules(), [COLLECT, EXECUTE, COLLECT], "module calls")
    check((result["failed"], result["changed"], result["rc"], result["module_stderr"]), (True, True, 1, "Traceback"),
          "result")
    check(result["msg"], "removal ran but the verification scan failed: collector %s failed: collector crashed"
          % COLLECT, "msg")
    check(len(result["remediation"]["steps"]), 4, "steps recorded")


# -- circuit breaker, exemptions, variables -------------------------------------------------------

@pytest.mark.parametrize("check_mode", [False, True])
def test_circuit_breaker_holds_the_machine_scope_and_fails_the_host(check_mode):
    host = FakeHost()
    result = run(host, {"max_removals": 2}, check_mode=check_mode)
    message = ("the plan would remove 3 items in scope machine, more than the maximum of 2 per scope; nothing in "
               "that scope was removed (raise banned_software_max_removals after review)")
    check((result["failed"], result["msg"], result["status"]), (True, message, "non_compliant"), "result")
    machine = [(k, "skipped_limit") for k in ALL_KEYS if k != K_APP]
    if check_mode:
        check(host.modules(), [COLLECT], "module calls")
        check(outcomes(result), sorted(machine + [(K_APP, "would_remove")]), "outcomes")
        return
    # alice's own AppImage is still quarantined; nothing machine-wide ran
    check(host.modules(), [COLLECT, EXECUTE, COLLECT], "module calls")
    check(step_summary(host.calls[1][1]["steps"]), [(1, "quarantine", APPIMAGE)], "steps sent")
    check(outcomes(result), sorted(machine + [(K_APP, "removed")]), "outcomes")
    check(sorted(r["name"] for r in host.records["dpkg"]), ["kesl", "kesl-gui", "linuxqq", "wechat"], "packages kept")


def test_a_user_scope_trip_holds_that_user_only_and_does_not_fail_the_host():
    records = initial_records()
    records["appimage"] = [{"name": "wechat-%d.AppImage" % n, "path": "/home/alice/Downloads/wechat-%d.AppImage" % n,
                            "scope": "user:alice", "type": "file"} for n in range(4)]
    host = FakeHost(records=records)
    result = run(host, {"max_removals": 3})
    check(host.modules(), [COLLECT, EXECUTE, COLLECT], "module calls")
    check(step_summary(host.calls[1][1]["steps"]), EXPECTED_STEPS[:3], "the machine scope goes on")
    check((result.get("failed"), result["status"], result["changed"]), (None, "non_compliant", True), "result")
    assert result["remediation"]["plan"]["tripped_scopes"] == ["user:alice"]
    limited = [f for f in result["findings"] if f["outcome"] == "skipped_limit"]
    check(sorted(f["name"] for f in limited), ["wechat-%d.AppImage" % n for n in range(4)], "alice's scope held")
    check(sorted(r["name"] for r in host.records["dpkg"]), ["linuxqq"], "banned packages removed")


def test_exactly_max_removals_passes():
    host = FakeHost()
    result = run(host, {"max_removals": 4})
    check((host.modules(), result.get("failed"), result["status"]), ([COLLECT, EXECUTE, COLLECT], None, "remediated"),
          "result")


def test_exemptions_are_respected_end_to_end():
    host = FakeHost()
    args = {"exemptions": [{"entry": "wechat", "reason": "liaison office", "expires": FAR}]}
    result = run(host, args)
    sent = host.calls[1][1]["steps"]
    check(step_summary(sent), [(1, "stop_service", [SYSTEMCTL, "stop", "--", "kesl.service"]),
                               (2, "disable_service", [SYSTEMCTL, "disable", "--", "kesl.service"]),
                               (3, "remove_packages", [DPKG, "--remove", "--", "kesl", "kesl-gui"])], "steps")
    check(outcomes(result), sorted([(K_KESL, "removed"), (K_GUI, "removed"), (K_SVC, "removed"),
                                    (K_WECHAT, "skipped_exempt"), (K_OPT, "skipped_exempt"),
                                    (K_APP, "skipped_exempt")]), "outcomes")
    check(sorted(r["name"] for r in host.records["dpkg"]), ["linuxqq", "wechat"], "left installed")
    check(result["status"], "remediated", "status")
    second = FakeHost(records=host.records)
    again = run(second, args)
    check((second.modules(), again["changed"], again["status"]), ([COLLECT], False, "compliant"), "second run")


def test_protected_package_from_a_custom_entry_is_never_removed():
    records = {"dpkg": [{"name": "sudo", "scope": "machine", "path": STATUS}]}
    custom = [{"id": "bad-entry", "vendor": "x", "product": "x", "policies": ["ca-tbs-2023-10-30"],
               "references": [{"url": "https://e.example"}], "signatures": {"linux": {"dpkg": [{"name": "sudo"}]}}}]
    host = FakeHost(records=records)
    result = run(host, {"custom_entries": custom})
    check((host.modules(), result["changed"], result["status"]), ([COLLECT], False, "non_compliant"), "result")
    check(outcomes(result), [("dpkg|machine|sudo|" + STATUS, "skipped_protected")], "outcomes")


@pytest.mark.parametrize("args, message", [
    ({"data_policies": {"no-such-entry": "purge"}}, "banned_software_data_policies names unknown entries: no-such-entry"),
    ({"data_policies": {"wechat": "delete"}},
     "banned_software_data_policies[wechat] must be one of keep, archive, purge, got 'delete'"),
    ({"max_removals": -1}, "banned_software_max_removals must be a whole number >= 0, got -1"),
    ({"step_timeout": 0}, "banned_software_step_timeout must be a whole number of seconds > 0, got 0"),
    ({"policies": ["no-such-policy"]}, "unknown policy 'no-such-policy'"),
])
def test_bad_variables_fail_before_any_module_call(args, message):
    host = FakeHost()
    result = run(host, args)
    check(host.calls, [], "module calls")
    assert result["failed"] is True and message in result["msg"], \
        "expected a failure with %r, seen %r" % (message, result.get("msg"))


def test_data_policy_outside_the_choices_fails_before_any_module_call():
    host = FakeHost()
    with pytest.raises(AnsibleActionFail) as err:
        run(host, {"data_policy": "delete"})
    assert "data_policy" in str(err.value) and "delete" in str(err.value), str(err.value)
    check(host.calls, [], "module calls")


def test_collector_failure_before_planning_is_reported():
    host = FakeHost()

    def broken(module_name=None, module_args=None, task_vars=None, **kwargs):
        host.calls.append((module_name, module_args))
        return {"failed": True, "msg": "boom", "rc": 3}

    result = make_action({}, broken).run(task_vars={"inventory_hostname": "h1"})
    check((result["failed"], result["msg"], result["rc"], [c[0] for c in host.calls]),
          (True, "collector %s failed: boom" % COLLECT, 3, [COLLECT]), "result")
