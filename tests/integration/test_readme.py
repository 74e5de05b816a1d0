# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every command README.md shows, run as written from a fresh copy of the checkout.

The copy holds the files git knows (tracked, and untracked ones that are not ignored), as a fresh clone
does, plus a link to this checkout's .venv (the same pins, so `make` does not install it again). Its
commands run without ANSIBLE_COLLECTIONS_PATH: the checkout's ansible.cfg must be enough.

Substitutions, and nothing else: `/var/tmp/bsw` becomes a temporary directory; `<inventory>` an inventory
of one podman test host, `compat-readme` (from tests/images/build.sh govsec-debian12, with the banned
fixture package wechat), reached through the podman connection plugin of .venv's ansible package. The
example inventory's hosts do not exist: its command runs with ssh replaced by /bin/false (no lookup of
their names leaves this machine), so they are reported unreachable, and what is checked is that the
playbook and its roles load and the report is written.

Not run here: `make test` (CI runs it: .ci/run), `make compat` (a step of make test) and `make bench` (a fleet benchmark of about 15 minutes,
docs/performance.md).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re
import shutil
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
HOST = "compat-readme"
IMAGE = "localhost/govsec-debian12:latest"
NOT_RUN = {"make test": "CI runs it (.ci/run)", "make compat": "a step of make test",
           "make bench": "a fleet benchmark, run by hand"}
COMMAND_START = re.compile(r"^(make|ansible-playbook|ansible-galaxy|ansible-doc) ")


def readme_commands():
    """The commands of README.md: lines of ```sh blocks (comments stripped) and inline `make ...`,
    `ansible-playbook ...`, `ansible-galaxy ...`, `ansible-doc ...` code spans."""
    with open(os.path.join(ROOT, "README.md")) as handle:
        text = handle.read()
    commands = []
    for block in re.findall(r"```sh\n(.*?)```", text, re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and line not in commands:
                commands.append(line)
    for span in re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S)):
        span = span.strip()
        if COMMAND_START.match(span) and span not in commands:
            commands.append(span)
    return commands


def sh(command, cwd, env, timeout=900):
    proc = subprocess.run(["bash", "-c", command], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout


def podman(*args):
    return subprocess.run(["podman"] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A fresh copy of the checkout, as a clone would have it, with .venv linked."""
    copy = tmp_path_factory.mktemp("readme") / "banned_software"
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                           stdout=subprocess.PIPE, check=True).stdout.decode("utf-8").split("\0")
    for name in filter(None, files):
        src = os.path.join(ROOT, name)
        if not os.path.lexists(src):
            continue  # deleted in the working tree
        dest = copy / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, str(dest), follow_symlinks=False)
    os.symlink(os.path.realpath(os.path.join(ROOT, ".venv")), str(copy / ".venv"))
    return copy


@pytest.fixture(scope="module")
def test_host(tmp_path_factory):
    """The podman host of <inventory>, carrying the banned fixture package wechat."""
    build = subprocess.run(["bash", os.path.join(ROOT, "tests/images/build.sh"), IMAGE], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert build.returncode == 0, build.stdout
    debs = tmp_path_factory.mktemp("debs")
    built = subprocess.run(["bash", os.path.join(ROOT, "tests/fixtures/packages/build_debs.sh"), str(debs)],
                           env=dict(os.environ, FIXTURE_ONLY="wechat"), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    assert built.returncode == 0, built.stdout
    deb = glob.glob(str(debs / "wechat_*.deb"))[0]
    podman("rm", "-f", HOST)
    started = podman("run", "-d", "--name", HOST, "--hostname", HOST, IMAGE, "sleep", "infinity")
    assert started.returncode == 0, started.stdout
    try:
        for args in (("cp", deb, HOST + ":/var/tmp/wechat.deb"), ("exec", HOST, "dpkg", "-i", "/var/tmp/wechat.deb")):
            done = podman(*args)
            assert done.returncode == 0, done.stdout
        inventory = tmp_path_factory.mktemp("inventory") / "hosts.yml"
        inventory.write_text("all:\n  hosts:\n    %s:\n      ansible_connection: containers.podman.podman\n"
                             "      ansible_python_interpreter: /usr/bin/python3\n" % HOST)
        yield str(inventory)
    finally:
        podman("rm", "-f", HOST)


def installed(package):
    status = podman("exec", HOST, "dpkg-query", "-W", "-f", "${db:Status-Status}", package).stdout.strip()
    return status == "installed"


def report(directory):
    with open(os.path.join(str(directory), "report.json")) as handle:
        return json.load(handle)


def test_every_command_of_the_readme_is_run_here():
    commands = readme_commands()
    covered = set(RUNS) | set(NOT_RUN)
    assert [c for c in commands if c not in covered] == [], "README commands that no test runs"
    assert [c for c in RUNS if c not in commands] == [], "commands this test runs that the README no longer shows"


RUNS = [
    "make audit",
    "make collection",
    "ansible-playbook -i inventories/example/hosts.yml playbooks/audit.yml -e banned_software_report_dir=/var/tmp/bsw",
    "ansible-galaxy collection install govsec-banned_software-*.tar.gz",
    "ansible-playbook -i <inventory> govsec.banned_software.audit -e banned_software_report_dir=/var/tmp/bsw",
    "ansible-playbook -i <inventory> govsec.banned_software.audit -e banned_software_fail_on=non_compliant",
    "ansible-doc govsec.banned_software.catalog",
    "ansible-playbook -i <inventory> govsec.banned_software.remediate --check --diff",
    "ansible-playbook -i <inventory> govsec.banned_software.remediate -e banned_software_report_dir=/var/tmp/bsw",
    "ansible-playbook -i <inventory> govsec.banned_software.unblock",
]


def test_readme_commands_run_as_written(checkout, test_host, tmp_path):
    base = dict((k, v) for k, v in os.environ.items() if not k.startswith("ANSIBLE_"))
    base.update(PATH=BIN + os.pathsep + os.environ["PATH"], ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="False")
    user_collections = tmp_path / "collections"
    user = dict(base, ANSIBLE_COLLECTIONS_PATH=str(user_collections))
    user_dir = tmp_path / "user"
    user_dir.mkdir()
    outputs = []

    def run(command, cwd, env, want_rc=0):
        reports = tmp_path / ("reports-%d" % len(outputs))
        actual = command.replace("/var/tmp/bsw", str(reports)).replace("<inventory>", test_host)
        rc, out = sh(actual, str(cwd), env)
        outputs.append((command, rc))
        assert rc == want_rc, "%s\n(run as: %s in %s) exited %d, expected %d:\n%s" % (
            command, actual, cwd, rc, want_rc, out[-4000:])
        for marker in ("could not be found", "was not found", "couldn't resolve module/action"):
            assert marker not in out, "%s: %r in the output:\n%s" % (command, marker, out[-4000:])
        return reports, out

    # Set up and audit this machine (read-only).
    run(RUNS[0], checkout, base)
    assert report(checkout / "reports")["hosts"]["localhost"]["status"] in ("compliant", "non_compliant")
    # From this checkout.
    run(RUNS[1], checkout, base)
    assert (checkout / ".collections/ansible_collections/govsec/banned_software/galaxy.yml").exists() or \
        (checkout / ".collections/ansible_collections/govsec/banned_software/MANIFEST.json").exists()
    reports, out = run(RUNS[2], checkout, dict(base, ANSIBLE_SSH_EXECUTABLE="/bin/false"), want_rc=2)
    hosts = report(reports)["hosts"]
    assert sorted(hosts) == ["srv-0001.example.gov", "ws-0001.example.gov", "ws-0002.example.gov"], hosts
    assert set(h["status"] for h in hosts.values()) == {"unreachable"}, hosts
    # Once the collection is installed: the tarball that make collection left in build/.
    run(RUNS[3], checkout / "build", user)
    assert (user_collections / "ansible_collections/govsec/banned_software/MANIFEST.json").exists()
    reports, dummy = run(RUNS[4], user_dir, user)
    assert report(reports)["hosts"][HOST]["status"] == "non_compliant"
    findings = report(reports)["hosts"][HOST]["findings"]
    assert "dpkg|wechat" in ["%s|%s" % (f["source"], f["name"]) for f in findings], findings
    assert set(f["id"] for f in findings) == {"wechat"}, findings
    reports, out = run(RUNS[5], user_dir, user, want_rc=2)
    assert "banned software on %s (banned_software_fail_on=non_compliant): WeChat" % HOST in out, out[-3000:]
    dummy, out = run(RUNS[6], user_dir, user)
    for policy in ("ca-tbs-2023-10-30", "us-dhs-bod-17-01"):
        assert policy in out, "ansible-doc govsec.banned_software.catalog does not list %s" % policy
    # Remove what the audit found: the prediction changes nothing, the run removes, unblock undoes the block.
    run(RUNS[7], user_dir, user)
    assert installed("wechat"), "remediate --check removed wechat"
    reports, dummy = run(RUNS[8], user_dir, user)
    assert not installed("wechat"), "remediate left wechat installed"
    assert report(reports)["hosts"][HOST]["status"] == "remediated", report(reports)["hosts"][HOST]
    assert podman("exec", HOST, "test", "-f", "/etc/apt/preferences.d/govsec-banned-software").returncode == 0
    run(RUNS[9], user_dir, user)
    assert podman("exec", HOST, "test", "-e", "/etc/apt/preferences.d/govsec-banned-software").returncode != 0
    assert [c for c, dummy in outputs] == RUNS
