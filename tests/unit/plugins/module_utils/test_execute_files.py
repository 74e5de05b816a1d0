# -*- coding: utf-8 -*-
"""The executor's write_file and remove_file steps in real temporary directories: atomic writes,
lost-update refusal, symbolic links anywhere in the path, parent creation only where allowed, idempotence."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import os
import stat

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._execute import files as _execute_files
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.run import run_plan
from ansible_collections.govsec.banned_software.plugins.module_utils._execute.validate import validate_steps


def sha(data):
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def run(steps):
    for i, step in enumerate(steps):
        step.setdefault("id", i + 1)
    return run_plan(steps, {"run_id": "r1", "homes": []})


def write(path, content, expect, mode="0644"):
    return {"kind": "write_file", "path": str(path), "content": content, "mode": mode, "expect_sha256": expect}


def check(seen, expected, what):
    assert seen == expected, "%s:\nexpected %r\nseen     %r" % (what, expected, seen)


@pytest.mark.parametrize("step, expected", [
    ({"id": 1, "kind": "write_file", "path": "/etc/x", "content": "a", "mode": "0644"},
     "step 1 (write_file): field expect_sha256: must be null"),
    ({"id": 1, "kind": "write_file", "path": "/etc/../x", "content": "a", "mode": "0644", "expect_sha256": None},
     "field path: must be a clean absolute path"),
    ({"id": 1, "kind": "write_file", "path": "/etc/x", "content": b"a", "mode": "0644", "expect_sha256": None},
     "field content: must be a string without NUL"),
    ({"id": 1, "kind": "write_file", "path": "/etc/x", "content": "a", "mode": 420, "expect_sha256": None},
     "field mode: must be an octal mode string"),
    ({"id": 1, "kind": "write_file", "path": "/etc/x", "content": "a", "mode": "0644", "expect_sha256": "ABC"},
     "field expect_sha256: must be null"),
    ({"id": 1, "kind": "remove_file", "path": "/etc/x", "expect_sha256": None},
     "step 1 (remove_file): field expect_sha256: must be the sha256"),
    ({"id": 1, "kind": "remove_file", "path": "/etc/x", "expect_sha256": "0" * 64, "content": "a"},
     "field content: unknown field(s) content for kind remove_file"),
])
def test_validation(step, expected):
    errors = validate_steps([step])
    assert errors and expected in errors[0], "expected %r in %r" % (expected, errors)


def test_write_new_file_then_again_is_ok(tmp_path):
    target = tmp_path / "pin"
    result = run([write(target, "Package: wechat\n", None)])[0]
    check((result["status"], result["before_sha256"], result["sha256"]), ("changed", None, sha("Package: wechat\n")),
          "first write")
    check((target.read_text(), stat.S_IMODE(target.stat().st_mode)), ("Package: wechat\n", 0o644), "file")
    again = run([write(target, "Package: wechat\n", None)])[0]
    check((again["status"], again["msg"].endswith("already has this content")), ("ok", True), "second write")
    check(sorted(os.listdir(str(tmp_path))), ["pin"], "no temporary file left")


def test_replace_keeps_owner_and_sets_mode(tmp_path):
    target = tmp_path / "dnf.conf"
    target.write_text("[main]\n")
    os.chmod(str(target), 0o600)
    result = run([write(target, "[main]\nexcludepkgs=wechat\n", sha("[main]\n"))])[0]
    check(result["status"], "changed", "status")
    check((target.read_text(), stat.S_IMODE(target.stat().st_mode)), ("[main]\nexcludepkgs=wechat\n", 0o644), "file")


def test_changed_since_scan_is_refused(tmp_path):
    target = tmp_path / "dnf.conf"
    target.write_text("[main]\nadmin=1\n")
    result = run([write(target, "ours\n", sha("[main]\n"))])[0]
    check(result["status"], "failed", "status")
    assert "changed since the scan" in result["msg"], result["msg"]
    check(target.read_text(), "[main]\nadmin=1\n", "untouched")
    created = run([write(tmp_path / "new", "ours\n", sha("x"))])[0]
    check((created["status"], "removed since the scan" in created["msg"]), ("failed", True), "expected a file")
    (tmp_path / "late").write_text("someone else's\n")
    late = run([write(tmp_path / "late", "ours\n", None)])[0]
    check((late["status"], "created since the scan" in late["msg"]), ("failed", True), "must not exist")
    check((tmp_path / "late").read_text(), "someone else's\n", "late file untouched")


def test_symbolic_link_target_is_refused(tmp_path):
    outside = tmp_path / "outside"
    outside.write_text("precious\n")
    link = tmp_path / "pin"
    link.symlink_to(outside)
    result = run([write(link, "ours\n", sha("precious\n"))])[0]
    check((result["status"], "is a symbolic link" in result["msg"]), ("failed", True), "link target")
    removed = run([{"kind": "remove_file", "path": str(link), "expect_sha256": sha("precious\n")}])[0]
    check((removed["status"], "is a symbolic link" in removed["msg"]), ("failed", True), "link remove")
    check((outside.read_text(), link.is_symlink()), ("precious\n", True), "nothing changed")


def test_symbolic_link_in_a_parent_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "etc").symlink_to(real)
    result = run([write(tmp_path / "etc" / "pin", "ours\n", None)])[0]
    check((result["status"], "is a symbolic link or not a directory" in result["msg"]), ("failed", True), "parent link")
    check(os.listdir(str(real)), [], "nothing written through the link")


def test_parents_created_only_inside_allowed_roots(tmp_path, monkeypatch):
    allowed = str(tmp_path / "var" / "lib" / "govsec")
    monkeypatch.setattr(_execute_files, "MKDIR_ROOTS", (allowed,))
    (tmp_path / "var" / "lib").mkdir(parents=True)
    result = run([write(tmp_path / "var" / "lib" / "govsec" / "sub" / "blocks.json", "{}\n", None, "0600")])[0]
    check(result["status"], "changed", "inside an allowed root")
    check(stat.S_IMODE((tmp_path / "var" / "lib" / "govsec").stat().st_mode), 0o755, "created directory mode")
    outside = run([write(tmp_path / "elsewhere" / "x", "{}\n", None)])[0]
    check((outside["status"], "is not a directory this collection creates" in outside["msg"]), ("failed", True),
          "outside the allowed roots")
    check((tmp_path / "elsewhere").exists(), False, "no directory created")


def test_remove_file(tmp_path):
    target = tmp_path / "pin"
    target.write_text("ours\n")
    other = run([{"kind": "remove_file", "path": str(target), "expect_sha256": sha("theirs\n")}])[0]
    check((other["status"], target.exists()), ("failed", True), "changed since the scan")
    result = run([{"kind": "remove_file", "path": str(target), "expect_sha256": sha("ours\n")}])[0]
    check((result["status"], target.exists()), ("changed", False), "removed")
    again = run([{"kind": "remove_file", "path": str(target), "expect_sha256": sha("ours\n")}])[0]
    check(again["status"], "absent", "gone already")
    missing_dir = run([{"kind": "remove_file", "path": str(tmp_path / "no" / "pin"), "expect_sha256": sha("x")}])[0]
    check(missing_dir["status"], "absent", "parent missing")


def test_not_a_regular_file_is_refused(tmp_path):
    (tmp_path / "dir").mkdir()
    result = run([write(tmp_path / "dir", "x\n", None)])[0]
    check((result["status"], "not a regular file" in result["msg"]), ("failed", True), "directory")


def test_protected_path_is_refused(tmp_path):
    result = run_plan([dict(write("/etc", "x\n", None), id=1)], {"run_id": "r1", "homes": []})[0]
    check((result["status"], "is protected" in result["msg"]), ("failed", True), "protected path")


def test_requires_a_failed_write_skips_the_command(tmp_path):
    target = tmp_path / "state.json"
    target.write_text("changed by someone\n")
    results = run([write(target, "{}\n", sha("what the scan saw\n")),
                   {"kind": "command", "argv": ["/bin/true"], "requires": [1]}])
    check([r["status"] for r in results], ["failed", "skipped"], "statuses")


def test_check_mode_writes_nothing(tmp_path):
    target = tmp_path / "pin"
    results = run_plan([dict(write(target, "x\n", None), id=1)], {"run_id": "r1", "homes": [], "check_mode": True})
    check((results[0]["status"], target.exists()), ("skipped", False), "check mode")
