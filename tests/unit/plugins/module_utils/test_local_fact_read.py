# -*- coding: utf-8 -*-
"""Reading the local fact for the drift check: hostile files (links, huge, FIFOs, invalid JSON, wrong
schema, malformed items) are warnings, never failures; root is honoured; the history is bounded."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.govsec.banned_software.plugins.module_utils._collect import local_fact as R
from ansible_collections.govsec.banned_software.plugins.module_utils._host_paths import WINDOWS_FACT
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS

KEY = "dpkg|machine|wechat|/var/lib/dpkg/status"
REMOVAL = {"key": KEY, "id": "wechat", "source": "dpkg", "name": "wechat", "scope": "machine",
           "path": "/var/lib/dpkg/status", "removed_at": "2026-12-01T09:00:42Z"}
RECORD = {"schema": 1, "status": "compliant", "status_since": "2026-12-01T09:00:00Z", "findings": 0,
          "products": [], "removals": [REMOVAL],
          "last_remediation": {"run_id": "20261201T090000Z", "at": "2026-12-01T09:00:42Z", "removed": [],
                               "failed": [], "reboot_required": False}}
SKIPPED = "reinstalls are not reported for this host"


def fact_root(tmp_path, content=None):
    root = tmp_path / "root"
    (root / "etc" / "ansible" / "facts.d").mkdir(parents=True)
    if content is not None:
        data = content if isinstance(content, bytes) else json.dumps(content).encode("utf-8")
        (root / "etc" / "ansible" / "facts.d" / "banned_software.fact").write_bytes(data)
    return root


def read(root):
    return R.read_local_fact(RootFS(str(root)))


def test_a_record_is_read_under_root(tmp_path):
    state, warnings = read(fact_root(tmp_path, RECORD))
    assert warnings == []
    assert state == {"path": R.POSIX_FACT, "removals": [REMOVAL], "last_remediation_at": "2026-12-01T09:00:42Z"}


def test_no_file_no_directory_is_no_state_and_no_warning(tmp_path):
    assert read(fact_root(tmp_path)) == (None, [])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert read(empty) == (None, [])


def test_a_symlinked_fact_is_refused_even_inside_root(tmp_path):
    root = fact_root(tmp_path)
    (root / "etc" / "real.json").write_text(json.dumps(RECORD))
    os.symlink("../../real.json", str(root / "etc" / "ansible" / "facts.d" / "banned_software.fact"))
    state, warnings = read(root)
    assert state is None
    assert warnings == ["local fact %s: is a symbolic link, not read; %s" % (R.POSIX_FACT, SKIPPED)]


def test_a_symlinked_parent_stays_inside_root(tmp_path):
    """An image whose /etc/ansible links to the host's /etc/ansible (absolute target): re-rooted."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    outside = tmp_path / "outside" / "facts.d"
    outside.mkdir(parents=True)
    (outside / "banned_software.fact").write_text(json.dumps(RECORD))
    os.symlink(str(tmp_path / "outside"), str(root / "etc" / "ansible"))
    assert read(root) == (None, [])
    # the same link target inside root is followed (chroot semantics)
    inside = root / str(tmp_path / "outside").lstrip("/") / "facts.d"
    inside.mkdir(parents=True)
    (inside / "banned_software.fact").write_text(json.dumps(RECORD))
    state, warnings = read(root)
    assert warnings == [] and state["removals"] == [REMOVAL]


def test_a_huge_file_is_not_read(tmp_path):
    root = fact_root(tmp_path)
    path = root / "etc" / "ansible" / "facts.d" / "banned_software.fact"
    with open(str(path), "wb") as handle:
        handle.truncate(R.MAX_FACT_BYTES + 1)  # sparse: no disk space used
    state, warnings = read(root)
    assert state is None
    assert warnings == ["local fact %s: larger than %d bytes, not read; %s" % (R.POSIX_FACT, R.MAX_FACT_BYTES, SKIPPED)]


def test_a_fifo_or_directory_is_not_read(tmp_path):
    root = fact_root(tmp_path)
    os.mkfifo(str(root / "etc" / "ansible" / "facts.d" / "banned_software.fact"))
    state, warnings = read(root)  # never blocks on the FIFO
    assert state is None and warnings == ["local fact %s: is not a regular file, not read; %s" % (R.POSIX_FACT, SKIPPED)]
    other = fact_root(tmp_path / "b")
    (other / "etc" / "ansible" / "facts.d" / "banned_software.fact").mkdir()
    assert read(other)[1] == ["local fact %s: is not a regular file, not read; %s" % (R.POSIX_FACT, SKIPPED)]


@pytest.mark.parametrize("content, warning", [
    (b"{not json", "not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))"),
    (b"", "not valid JSON (Expecting value: line 1 column 1 (char 0))"),
    (b"\xff\xfe\x00garbage", "not valid JSON (Expecting value: line 1 column 1 (char 0))"),
    (b"[1, 2]", "not a schema 1 record (list)"),
    (b"null", "not a schema 1 record (NoneType)"),
    (b'{"schema": 2, "removals": []}', "not a schema 1 record (schema 2)"),
    (b'{"status": "compliant"}', "not a schema 1 record (schema None)"),
    (b'{"schema": "1"}', "not a schema 1 record (schema '1')"),
])
def test_unusable_records_are_warnings(tmp_path, content, warning):
    state, warnings = read(fact_root(tmp_path, content))
    assert state is None
    assert warnings == ["local fact %s: %s; %s" % (R.POSIX_FACT, warning, SKIPPED)]


def test_malformed_removal_items_are_dropped_with_a_warning(tmp_path):
    bad = [None, "x", {"key": KEY}, {"key": "", "removed_at": "2026-12-01T09:00:42Z"},
           {"key": 5, "removed_at": "2026-12-01T09:00:42Z"}, {"key": "k", "removed_at": "yesterday"},
           {"key": "k", "removed_at": "2026-12-01T09:00:42Z\n"}, {"key": "k", "removed_at": "2026-12-01T09:00:42Z", "name": 7},
           {"key": "k" * (R.MAX_FIELD + 1), "removed_at": "2026-12-01T09:00:42Z"}]
    record = dict(RECORD, removals=[REMOVAL] + bad, last_remediation={"at": 17, "removed": "all"})
    state, warnings = read(fact_root(tmp_path, record))
    assert state == {"path": R.POSIX_FACT, "removals": [REMOVAL], "last_remediation_at": None}
    assert warnings == ["local fact %s: 10 malformed removal record(s) ignored" % R.POSIX_FACT]


def test_a_record_written_before_the_history_counts_its_last_removals(tmp_path):
    legacy = {"schema": 1, "status": "compliant",
              "last_remediation": {"run_id": "r", "at": "2026-12-01T09:00:42Z", "failed": [],
                                   "removed": [dict((k, v) for k, v in REMOVAL.items() if k != "removed_at"),
                                               ]}}
    legacy["last_remediation"]["removed"][0].update(outcome="removed", at="2026-12-01T09:00:42Z")
    state, warnings = read(fact_root(tmp_path, legacy))
    assert warnings == [] and state["removals"] == [REMOVAL]


def test_text_parsing_windows_raw_text():
    text = u"\ufeff" + json.dumps(RECORD)
    state, warnings = R.parse_fact_text(text, WINDOWS_FACT)
    assert warnings == [] and state["path"] == WINDOWS_FACT and state["removals"] == [REMOVAL]
    assert R.parse_fact_text(None, WINDOWS_FACT) == (None, [])
    not_text = "local fact %s: int instead of text; %s" % (WINDOWS_FACT, SKIPPED)
    assert R.parse_fact_text(5, WINDOWS_FACT) == (None, [not_text])
    huge = " " * (R.MAX_FACT_BYTES + 1)
    too_large = "local fact x: larger than %d bytes, not read; %s" % (R.MAX_FACT_BYTES, SKIPPED)
    assert R.parse_fact_text(huge, "x")[1] == [too_large]


def test_merge_keeps_the_newest_per_key_and_at_most_the_bound():
    older = dict(REMOVAL, removed_at="2026-01-01T00:00:00Z")
    assert R.merge_removals([older], [REMOVAL]) == [REMOVAL]
    assert R.merge_removals([REMOVAL], [older]) == [REMOVAL]
    many = [{"key": "k%04d" % i, "removed_at": "2026-01-01T00:%02d:%02dZ" % (i // 60 % 60, i % 60)}
            for i in range(R.MAX_REMOVALS + 20)]
    merged = R.merge_removals(list(reversed(many)))
    assert len(merged) == R.MAX_REMOVALS
    assert [m["key"] for m in merged] == ["k%04d" % i for i in range(20, R.MAX_REMOVALS + 20)]
    assert R.merge_removals(many) == merged  # order of the input does not matter


# -- what the writer needs (local_fact_file) ----------------------------------------------------------------

def test_the_writer_gets_the_sha256_of_the_bytes_and_the_record(tmp_path):
    import hashlib
    record = {"schema": 1, "status": "compliant", "findings": 0, "removals": []}
    root = fact_root(tmp_path, record)
    state, found, warnings = R.read_local_fact_file(RootFS(str(root)))
    data = (root / "etc/ansible/facts.d/banned_software.fact").read_bytes()
    assert found == {"sha256": hashlib.sha256(data).hexdigest(), "record": record}
    assert state["removals"] == [] and warnings == []


def test_the_writer_may_replace_a_record_that_is_not_ours_but_knows_its_bytes(tmp_path):
    root = fact_root(tmp_path, b"not json")
    state, found, warnings = R.read_local_fact_file(RootFS(str(root)))
    assert state is None and found["record"] is None and len(found["sha256"]) == 64 and warnings


def test_no_file_means_no_writer_information(tmp_path):
    assert R.read_local_fact_file(RootFS(str(tmp_path))) == (None, None, [])


def test_a_linked_fact_is_refused_to_the_writer_too(tmp_path):
    root = fact_root(tmp_path)
    (tmp_path / "elsewhere").write_text("{}")
    os.symlink(str(tmp_path / "elsewhere"), str(root / "etc/ansible/facts.d/banned_software.fact"))
    state, found, warnings = R.read_local_fact_file(RootFS(str(root)))
    assert state is None and found == {"refused": "is a symbolic link, not read"} and warnings


def test_the_executor_may_create_the_fact_directories_and_nothing_above():
    from ansible_collections.govsec.banned_software.plugins.module_utils._execute import files
    assert files._may_create("/etc/ansible") and files._may_create("/etc/ansible/facts.d")
    assert files._may_create("/private/etc/ansible/facts.d")
    assert not files._may_create("/etc") and not files._may_create("/etc/ansiblex")
