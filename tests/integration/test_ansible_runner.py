# -*- coding: utf-8 -*-
"""The audit run through ansible-runner (the engine AWX uses), asserting its artifacts.

Artifacts are read from artifacts/<ident>/job_events/*.json (never stdout): the set_stats custom data
of the playbook_on_stats event, the status and rc of the run, and report.json on the controller.
Then a sliced audit: two runs with --limit on the halves of a 4-host inventory, merged with the
merge_reports playbook, must equal one unsliced run. Requires ANSIBLE_COLLECTIONS_PATH pointing at the
INSTALLED collection (make integration sets it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import sys

import ansible_runner
import pytest

PLAYBOOK_PYTHON = sys.executable


def _installed():
    path = os.environ.get("ANSIBLE_COLLECTIONS_PATH", "")
    installed = os.path.join(path, "ansible_collections", "govsec", "banned_software")
    assert os.path.isdir(installed), "the collection must be installed (make collection), not found at %s" % installed
    assert not os.path.islink(installed), "tests run the installed form, not a link to the source tree"
    return path, installed


def run(tmp, name, playbook, inventory, extravars, cmdline=None):
    collections_path, installed = _installed()
    private = tmp / name
    private.mkdir()
    result = ansible_runner.run(
        private_data_dir=str(private), ident=name,
        playbook=os.path.join(installed, "playbooks", playbook),
        inventory=inventory, extravars=extravars, cmdline=cmdline, quiet=True,
        envvars={"ANSIBLE_COLLECTIONS_PATH": collections_path, "ANSIBLE_HOST_KEY_CHECKING": "False",
                 "ANSIBLE_CALLBACKS_ENABLED": "govsec.banned_software.summary"})
    events = []
    for path in glob.glob(str(private / "artifacts" / name / "job_events" / "*.json")):
        with open(path) as handle:
            events.append(json.load(handle))
    events.sort(key=lambda e: e["counter"])
    return result, events


def stats_event(events):
    found = [e for e in events if e["event"] == "playbook_on_stats"]
    assert len(found) == 1, [e["event"] for e in events]
    return found[0]["event_data"]


LOCAL = {"ansible_connection": "local", "ansible_python_interpreter": PLAYBOOK_PYTHON}
FLEET = {"all": {"hosts": {
    "localhost": LOCAL,
    "gone.example.invalid": {"ansible_host": "127.0.0.1", "ansible_port": 9, "ansible_connection": "ssh",
                             "ansible_ssh_common_args": "-o ConnectTimeout=5 -o StrictHostKeyChecking=no "
                                                        "-o UserKnownHostsFile=/dev/null"}}}}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runner")
    out = tmp / "reports"
    result, events = run(tmp, "audit", "audit.yml", FLEET, {"banned_software_report_dir": str(out)})
    report = json.loads((out / "report.json").read_text())
    return result, events, report, tmp


def test_runner_status_and_rc_show_the_incomplete_audit(fleet):
    result, events, report, tmp = fleet
    assert result.status == "failed"
    assert result.rc == 2
    assert (tmp / "audit" / "artifacts" / "audit" / "rc").read_text().strip() == "2"
    assert (tmp / "audit" / "artifacts" / "audit" / "status").read_text().strip() == "failed"


def test_set_stats_custom_data_in_the_job_events(fleet):
    dummy, events, report, dummy_tmp = fleet
    data = stats_event(events)
    custom = data["artifact_data"]
    assert sorted(custom) == ["banned_software_changes", "banned_software_failed_hosts", "banned_software_has_changes",
                              "banned_software_non_compliant_hosts",
                              "banned_software_reboot_pending", "banned_software_reinstalled_hosts",
                              "banned_software_summary", "banned_software_unreachable_hosts"]
    # the first run into a new report directory: nothing earlier to compare with
    assert custom["banned_software_has_changes"] is False
    assert custom["banned_software_changes"] == {
        "previous_generated_at": None, "new_non_compliant": [], "resolved": [], "reinstalled": [],
        "new_findings": [], "removed_findings": [], "newly_unreachable": []}
    assert "changes" not in report and len(report["trend"]) == 1
    assert custom["banned_software_unreachable_hosts"] == ["gone.example.invalid"]
    assert custom["banned_software_reinstalled_hosts"] == []
    assert custom["banned_software_failed_hosts"] == []
    assert custom["banned_software_reboot_pending"] == []
    assert custom["banned_software_summary"] == report["summary"]
    assert custom["banned_software_summary"]["hosts"] == 2
    assert custom["banned_software_summary"]["unreachable"] == 1
    local = report["hosts"]["localhost"]["status"]
    assert custom["banned_software_non_compliant_hosts"] == (["localhost"] if local == "non_compliant" else [])
    # The hosts' own stats: the unreachable host is failed by the last play, localhost changed nothing.
    assert data["changed"] == {}
    assert data["failures"] == {"gone.example.invalid": 1}


def test_report_written_on_the_controller_and_summary_callback_ran(fleet):
    dummy, events, report, dummy_tmp = fleet
    assert sorted(report["hosts"]) == ["gone.example.invalid", "localhost"]
    assert report["hosts"]["gone.example.invalid"]["status"] == "unreachable"
    stdout = "".join(e.get("stdout", "") for e in events)
    assert "BANNED SOFTWARE SUMMARY" in stdout
    assert "UNREACHABLE: gone.example.invalid" in stdout


SLICED = {"all": {"hosts": dict(("node%d" % i, LOCAL) for i in range(1, 5))}}


def _shape(report):
    return dict((name, (host["status"], sorted(f["key"] for f in host["findings"])))
                for name, host in report["hosts"].items())


def test_sliced_audit_merges_to_the_unsliced_report(tmp_path):
    out = tmp_path / "reports"
    results = {}
    for name, limit in (("slice1", "node1,node2,localhost"), ("slice2", "node3,node4,localhost"), ("whole", None)):
        results[name] = run(tmp_path, name, "audit.yml", SLICED, {"banned_software_report_dir": str(out / name)},
                            cmdline="--limit %s" % limit if limit else None)
        assert results[name][0].rc == 0, name
    slices = [json.loads((out / name / "report.json").read_text()) for name in ("slice1", "slice2")]
    assert [sorted(s["hosts"]) for s in slices] == [["node1", "node2"], ["node3", "node4"]]
    merged_result, events = run(tmp_path, "merge", "merge_reports.yml", {"all": {"hosts": {}}},
                                {"banned_software_merge_src": [str(out / "slice1"), str(out / "slice2" / "report.json")],
                                 "banned_software_report_dir": str(out / "merged")})
    assert (merged_result.status, merged_result.rc) == ("successful", 0)
    merged = json.loads((out / "merged" / "report.json").read_text())
    whole = json.loads((out / "whole" / "report.json").read_text())
    assert sorted(merged["hosts"]) == ["node1", "node2", "node3", "node4"]
    assert _shape(merged) == _shape(whole)
    assert merged["summary"] == whole["summary"]
    assert merged["catalog"]["version"] == whole["catalog"]["version"]
    assert [s["hosts"] for s in merged["merge"]["sources"]] == [2, 2]
    assert merged["merge"]["duplicates"] == []
    custom = stats_event(events)["artifact_data"]
    assert custom["banned_software_summary"] == whole["summary"]
    assert custom["banned_software_summary"]["hosts"] == 4
    expected_nc = sorted(n for n, h in whole["hosts"].items() if h["status"] == "non_compliant")
    assert custom["banned_software_non_compliant_hosts"] == expected_nc
    assert custom["banned_software_unreachable_hosts"] == [] and custom["banned_software_failed_hosts"] == []
