# -*- coding: utf-8 -*-
"""The C# module utils NoFollowHandles.cs, NoFollowTree.cs (win_execute's quarantine, archive, purge) and
RunJournal.cs (its run record and journal).

No Windows runs here, so three things are checked, and only these:

* The sources compile with mono's ``mcs`` as C# 5 (the language of the ``csc`` that Windows
  PowerShell 5.1 uses), every warning an error (Ansible compiles module utils that way), against the
  .NET 4.x reference assemblies.
* The tree logic (NoFollowTree.cs) runs under mono against an in-memory stand-in of the Win32 layer
  (tests/unit/helpers/NoFollowHarness.cs) with an attacker in it: a user who swaps folders for
  junctions between the executor's steps. The stand-in does what the Win32 layer promises (an entry
  is opened relative to its parent's open object; a reparse point is opened itself; a handle names
  the same object after a rename); each test asserts what is left on the "disk" and what was done to
  which object.
* The Win32 layer (NoFollowHandles.cs) is read as source: every open is the one NtCreateFile call,
  relative to the parent's handle, with FILE_OPEN_REPARSE_POINT; nothing opens a path by name.

Whether Windows behaves as documented (NtCreateFile, GetFileInformationByHandleEx,
SetFileInformationByHandle, NtSetInformationFile, GetSecurityInfo) only a Windows host proves
(docs/windows.md, "What is verified, and what is not").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
UTILS = os.path.join(ROOT, "plugins", "module_utils")
SOURCES = [os.path.join(UTILS, "NoFollowHandles.cs"), os.path.join(UTILS, "NoFollowTree.cs"), os.path.join(UTILS, "RunJournal.cs")]
HARNESS = os.path.join(ROOT, "tests", "unit", "helpers", "NoFollowHarness.cs")
# As Ansible's Add-CSharpType compiles module utils: warnings are errors, WINDOWS and the bitness defined.
STRICT = ["-langversion:5", "-warnaserror+", "-warn:4", "-r:System.IO.Compression.dll"]

WECHAT = "C:\\Users\\bob\\AppData\\Roaming\\Tencent\\WeChat"
VAULT = "C:\\ProgramData\\govsec-banned-software\\quarantine"
ARCHIVE = "C:\\ProgramData\\govsec-banned-software\\archive"
SYSTEM_FILES = ["C:\\Windows\\System32\\config\\SAM file", "C:\\Windows\\System32\\kernel32.dll file"]

needs_mono = pytest.mark.skipif(
    shutil.which("mcs") is None or shutil.which("mono") is None,
    reason="mono's mcs and mono are not installed (tests/host/setup.sh installs mono-mcs)")


def read(path):
    with open(path, encoding="utf-8") as handle:
        return handle.read()


def mcs(*args):
    run = subprocess.run(["mcs"] + list(args), capture_output=True, text=True, timeout=300, check=False)
    return run.returncode, run.stdout + run.stderr


@pytest.fixture(scope="module")
def harness(tmp_path_factory):
    build = tmp_path_factory.mktemp("nofollow")
    library = str(build / "NoFollow.dll")
    rc, output = mcs("-target:library", "-define:WINDOWS;AMD64", "-out:" + library, *(STRICT + SOURCES))
    assert rc == 0, "the module utils do not compile:\n" + output
    program = str(build / "harness.exe")
    rc, output = mcs("-r:" + library, "-r:System.IO.Compression.dll", "-out:" + program, HARNESS)
    assert rc == 0, "the test harness does not compile:\n" + output

    def run(scenario, *args):
        done = subprocess.run(["mono", program, scenario] + list(args), capture_output=True, text=True, check=False,
                              timeout=120, cwd=str(build))
        assert done.returncode == 0, "harness %s failed (rc %d): %s" % (scenario, done.returncode, done.stderr)
        result = json.loads(done.stdout)
        assert result["open_handles"] == 0, "%s left %d handles open" % (scenario, result["open_handles"])
        return result
    return run


def untouched_system(result):
    """Nothing under C:\\Windows was opened, read, moved or deleted, and it is all still there."""
    for line in SYSTEM_FILES:
        assert line in result["tree"], "expected %r to survive, the tree is %s" % (line, result["tree"])
    touched = [entry for entry in result["log"] if "C:\\Windows" in entry]
    assert touched == [], "operations on C:\\Windows: %s" % touched


# --- compile --------------------------------------------------------------------------------------

@needs_mono
@pytest.mark.parametrize("bits", ["AMD64", "X86"])
def test_utils_compile_as_csharp_5_without_warnings(tmp_path, bits):
    rc, output = mcs("-target:library", "-define:WINDOWS;" + bits, "-out:" + str(tmp_path / "u.dll"),
                     *(STRICT + SOURCES))
    assert rc == 0, "mcs (C# 5, warnings as errors) rejects the module utils:\n" + output


@needs_mono
def test_compile_check_rejects_what_windows_powershell_cannot_compile(tmp_path):
    broken = tmp_path / "NoFollowTree.cs"
    broken.write_text(read(SOURCES[1]).replace(
        'return n == 0 ? name : name + "." + n;', 'return n == 0 ? name : $"{name}.{n}";'), encoding="utf-8")
    rc, output = mcs("-target:library", "-out:" + str(tmp_path / "u.dll"), *(STRICT + [SOURCES[0], str(broken)]))
    assert rc != 0 and "interpolated strings" in output, "a C# 6 string interpolation went unnoticed: %s" % output


# --- purge ----------------------------------------------------------------------------------------

@needs_mono
def test_purge_deletes_the_tree_and_nothing_else(harness):
    result = harness("purge-plain")
    assert result["error"] is None and result["removed"] == 6, result
    assert not [line for line in result["tree"] if line.startswith(WECHAT)], result["tree"]
    untouched_system(result)


@needs_mono
def test_purge_deletes_a_junction_swapped_in_after_the_listing_not_its_target(harness):
    # The attack: once SYSTEM has listed WeChat, the user replaces WeChat\sub with a junction to
    # C:\Windows\System32 and WeChat\a.txt with a symbolic link to kernel32.dll.
    result = harness("purge-swap-after-listing")
    assert result["error"] is None, result["error"]
    untouched_system(result)
    assert "delete %s\\sub (link)" % WECHAT in result["log"], result["log"]
    assert "delete %s\\a.txt (link)" % WECHAT in result["log"], result["log"]
    assert "C:\\Windows\\System32\\config dir" in result["tree"]


@needs_mono
def test_purge_keeps_to_the_open_directory_when_its_parents_become_junctions(harness):
    # The attack: while SYSTEM is inside WeChat\sub, WeChat and Tencent become junctions to
    # C:\Windows. The walk goes on in the directory it holds open, which the user moved away.
    result = harness("purge-swap-parent-during-walk")
    assert result["error"] is None, result["error"]
    untouched_system(result)
    assert "delete C:\\Users\\bob\\moved-WeChat\\sub\\deeper\\c.txt" in result["log"], result["log"]


@needs_mono
def test_purge_of_a_link_deletes_the_link_only(harness):
    result = harness("purge-leaf-link")
    assert result["kind"] == "link" and result["removed"] == 1, result
    assert result["log"][-1] == "delete %s\\link (link)" % WECHAT
    untouched_system(result)


@needs_mono
def test_purge_refuses_to_cross_onto_another_volume(harness):
    result = harness("purge-other-volume")
    assert "refused" in result["error"] and "another volume" in result["error"], result["error"]
    assert "%s\\mounted\\d.txt file" % WECHAT in result["tree"]


@needs_mono
def test_purge_refuses_a_tree_deeper_than_the_limit(harness):
    result = harness("purge-too-deep")
    assert "nested deeper than 512 levels" in result["error"], result["error"]


@needs_mono
def test_a_junction_among_the_parents_is_refused_before_anything_is_deleted(harness):
    result = harness("open-junction-parent")
    assert result["error"] == ("RefusedException: refused: C:\\Users\\bob\\AppData\\Roaming\\Tencent (a parent of %s) "
                               "is a junction, symbolic link or other reparse point" % WECHAT), result["error"]
    assert not [entry for entry in result["log"] if not entry.startswith("open ")], result["log"]
    assert "C:\\Program Files (x86)\\Tencent\\WeChat\\WeChat.exe file" in result["tree"]


@needs_mono
def test_a_missing_path_is_reported_absent(harness):
    result = harness("open-missing")
    assert result["error"] is None and result["removed"] == -1, result


@needs_mono
@pytest.mark.parametrize("path", [
    "C:\\Users\\bob\\..\\..\\Windows\\System32", "C:\\Users\\bob\\data:stream", "\\\\server\\share\\bob",
    "C:relative\\bob", "C:\\Users\\bob\\trailing.", "C:\\Users\\\\bob", "C:\\", "\\\\?\\C:\\Windows\\x",
])
def test_only_clean_drive_absolute_paths_are_opened(harness, path):
    result = harness("open-unclean", path)
    assert result["error"] is not None and "refused" in result["error"], "%r was accepted: %s" % (path, result)
    assert result["log"] == [], "%r was opened: %s" % (path, result["log"])


# --- archive --------------------------------------------------------------------------------------

@needs_mono
def test_archive_writes_the_zip_its_checksum_and_a_free_name(harness):
    result = harness("archive-plain")
    assert result["error"] is None, result["error"]
    assert result["name"] == "wechat-bob.zip.1", "an older wechat-bob.zip exists: expected .1, got %s" % result["name"]
    prefix = "C/Users/bob/AppData/Roaming/Tencent/WeChat/"
    assert result["zip"] == {prefix: "", prefix + "a.txt": "user a", prefix + "sub/": "", prefix + "sub/b.txt": "user b",
                             prefix + "sub/deeper/": "", prefix + "sub/deeper/c.txt": "user c"}, result["zip"]
    assert result["members"] == 6 and result["files"] == 3
    assert result["sha256"] == result["zip_sha256"]
    assert result["sha256_file"] == "%s  wechat-bob.zip.1\n" % result["zip_sha256"]
    assert result["missing"] == [WECHAT + "-missing"] and result["archived"] == [WECHAT]


@needs_mono
def test_archive_lists_a_junction_swapped_in_after_the_listing_and_reads_nothing_through_it(harness):
    result = harness("archive-swap-after-listing")
    assert result["error"] is None, result["error"]
    assert result["not_archived"] == [WECHAT + "\\a.txt", WECHAT + "\\sub"], result["not_archived"]
    assert result["zip"] == {"C/Users/bob/AppData/Roaming/Tencent/WeChat/": ""}, result["zip"]
    untouched_system(result)


@needs_mono
def test_archive_leaves_out_a_file_with_another_hard_link(harness):
    result = harness("archive-hard-link")
    assert result["not_archived"] == [WECHAT + "\\sam-link"], result["not_archived"]
    assert not [name for name, text in result["zip"].items() if "SECRET" in text], result["zip"]


@needs_mono
def test_archive_over_the_size_limit_fails_before_reading_and_leaves_no_partial_zip(harness):
    result = harness("archive-too-big")
    assert "more than 4096 bytes to archive" in result["error"], result["error"]
    assert "read %s\\sparse.bin" % WECHAT not in result["log"], "the oversized file was read"
    left = [line for line in result["tree"] if line.startswith(ARCHIVE + "\\")]
    assert left == [], "a partial archive was left: %s" % left


@needs_mono
def test_archive_of_nothing_writes_nothing_and_creates_no_directory(harness):
    result = harness("archive-nothing")
    assert result["name"] is None and result["missing"] == [WECHAT + "-gone"], result
    assert not [line for line in result["tree"] if line.startswith(ARCHIVE)], result["tree"]


# --- quarantine -----------------------------------------------------------------------------------

@needs_mono
def test_quarantine_moves_the_opened_object_even_when_its_parents_become_junctions(harness):
    # The attack: after SYSTEM opened ...\Programs\WeChat, the user turns Programs and Local into
    # junctions to C:\Windows. The rename acts on the open handle: the user's folder is moved.
    result = harness("quarantine-swap-parent")
    assert result["error"] is None, result["error"]
    assert result["moved_object_is_the_users"] is True
    assert result["destination"] == VAULT + "\\run-1\\C\\Users\\bob\\AppData\\Local\\Programs\\WeChat"
    untouched_system(result)
    assert result["manifest"] == '{"n": 1}\n{"n": 2}\n'


@needs_mono
def test_quarantine_of_a_file_hashes_it_and_takes_a_free_name(harness):
    result = harness("quarantine-file-collision")
    assert result["destination"].endswith("\\WeChat\\a.txt.1"), result["destination"]
    assert result["sha256"] == hashlib.sha256(b"user a").hexdigest()


@needs_mono
def test_quarantine_refuses_another_volume(harness):
    result = harness("quarantine-other-volume")
    assert "is not on the volume of %s" % VAULT in result["error"], result["error"]
    assert "D:\\Tools\\WeChat\\WeChat.exe file" in result["tree"]


# --- the quarantine and archive directories -------------------------------------------------------

FULL = 0x1F01FF
PROTECTED = {"owner": "S-1-5-32-544", "protected": True, "aces": [
    ["AccessAllowed", "S-1-5-18", FULL, "ObjectInherit, ContainerInherit"],
    ["AccessAllowed", "S-1-5-32-544", FULL, "ObjectInherit, ContainerInherit"]]}


@needs_mono
def test_a_missing_private_directory_is_created_for_system_and_administrators_only(harness):
    result = harness("vault-created")
    assert result["error"] is None, result["error"]
    for path in ("C:\\ProgramData\\govsec-banned-software", VAULT):
        assert result[path] == PROTECTED, "%s was created with %s" % (path, result[path])
    assert result["own_check"] is None, "the check refuses the directory it creates: %s" % result["own_check"]


@needs_mono
@pytest.mark.parametrize("owner, aces, refusal", [
    ("S-1-5-21-1-2-3-1001", ["allow:S-1-5-18:1F01FF:3"],
     "is owned by S-1-5-21-1-2-3-1001, not by SYSTEM or Administrators"),
    ("S-1-5-32-544", ["allow:S-1-5-18:1F01FF:3", "allow:S-1-5-32-545:1301BF:3"],
     "(owner S-1-5-32-544 (BUILTIN\\Administrators)) has an ACE allowing write data/add file, append data/add "
     "subdirectory, write extended attributes, write attributes, delete to S-1-5-32-545 (BUILTIN\\Users)"),
    ("S-1-5-32-544", ["allow:S-1-5-32-544:1F01FF:3", "allow:S-1-1-0:40000000:0"], "generic write to S-1-1-0"),
    ("S-1-5-32-544", ["allow:S-1-5-18:1F01FF:3", "allow:S-1-5-11:40:0"], "delete child to S-1-5-11"),
    ("S-1-5-32-544", ["allow:S-1-5-18:1F01FF:3", "allow:S-1-3-0:1F01FF:B"], "to S-1-3-0"),
    ("S-1-5-32-544", ["null"], "has no DACL (full access for everyone)"),
    ("S-1-5-18", ["allow:S-1-5-18:1F01FF:3", "allow:S-1-5-32-545:1200A9:3"], None),
    ("S-1-5-18", ["deny:S-1-1-0:40000000:0", "allow:S-1-5-18:1F01FF:3"], None),
    ("S-1-5-32-544", ["allow:S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464:1F01FF:3"], None),
])
def test_an_existing_private_directory_is_refused_when_another_sid_owns_or_may_write_it(harness, owner, aces, refusal):
    # The attack: a user pre-creates C:\ProgramData\govsec-banned-software\quarantine (ProgramData
    # lets users create folders) to read or swap what SYSTEM moves into it.
    result = harness("vault-existing", owner, *aces)
    if refusal is None:
        assert result["error"] is None and result["vault"] == VAULT, result
    else:
        assert result["error"] is not None and result["error"].startswith("RefusedException: refused: " + VAULT), result
        assert refusal in result["error"], "expected %r in %r" % (refusal, result["error"])


@needs_mono
def test_a_junction_in_the_private_directory_path_is_refused(harness):
    result = harness("vault-reparse-parent")
    assert result["error"] == ("RefusedException: refused: C:\\ProgramData\\govsec-banned-software (in the path of %s) "
                               "is a junction, symbolic link or other reparse point" % VAULT), result["error"]


@needs_mono
def test_a_file_in_place_of_the_private_directory_is_refused(harness):
    result = harness("vault-is-a-file")
    assert result["error"] == "RefusedException: refused: %s is not a directory" % VAULT, result["error"]


# --- the local fact (GuardedFile: win_execute's write_file and remove_file) -----------------------------

FACT = "C:\\ProgramData\\govsec-banned-software\\facts.d\\banned_software.json"


def sha(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@needs_mono
def test_the_local_fact_is_created_in_the_private_state_directory(harness):
    result = harness("fact-write-new")
    assert (result["error"], result["status"], result["content"]) == (None, "changed", "first"), result
    assert FACT + " file" in result["tree"]
    assert not [line for line in result["tree"] if ".new" in line], result["tree"]


@needs_mono
def test_the_local_fact_is_replaced_only_while_it_is_what_the_scan_read(harness):
    result = harness("fact-write-again")
    assert (result["error"], result["statuses"], result["content"]) == (None, ["changed", "ok"], "second"), result
    assert not [line for line in result["tree"] if ".new" in line], result["tree"]


@needs_mono
def test_a_local_fact_changed_since_the_scan_is_left_alone(harness):
    result = harness("fact-write-stale")
    assert result["error"] == ("RefusedException: refused: %s changed since the scan (sha256 %s, the scan saw %s); "
                               "not changed, scan again" % (FACT, sha("first"), sha("what the scan saw"))), result
    assert result["content"] == "first"


@needs_mono
def test_a_local_fact_created_since_the_scan_is_left_alone(harness):
    result = harness("fact-write-created-since-the-scan")
    assert result["error"].startswith("RefusedException: refused: %s was created since the scan" % FACT), result
    assert result["content"] == "planted"


@needs_mono
def test_a_link_in_place_of_the_local_fact_is_refused_and_its_target_untouched(harness):
    result = harness("fact-write-link")
    assert result["error"] == ("RefusedException: refused: %s is not a plain file of at most 4194304 bytes; "
                               "nothing was changed" % FACT), result
    assert (result["content"], result["sam"]) == ("link", "SECRET-SAM")


@needs_mono
def test_the_local_fact_is_removed_while_it_is_what_the_scan_read(harness):
    result = harness("fact-remove")
    assert (result["error"], result["statuses"], result["content"]) == (None, ["changed", "absent"], None), result


# --- the run record and the journal (RunJournal.cs: win_execute's run lock and journal) -----------------

STATE_DIR = "C:\\ProgramData\\govsec-banned-software"
JOURNAL = STATE_DIR + "\\journal.json"
PLAN = [{"id": 1, "kind": "service_stop", "action": None}, {"id": 2, "kind": "command", "action": "msi_uninstall"},
        {"id": 3, "kind": "quarantine", "action": None}]
T0 = "2026-11-29T12:00:00Z"


def state_files(result):
    return sorted(line for line in result["tree"] if line.startswith(STATE_DIR + "\\"))


@needs_mono
def test_the_journal_is_the_record_of_journal_py_rewritten_whole_at_each_stage(harness):
    result = harness("journal-run")
    assert result["error"] is None and result["previous"] is None and result["warnings"] == [], result
    journals = [json.loads(text) for text in result["journals"]]
    # The plan before any step, then each step started and finished, then the end: each a whole record.
    assert [(j["state"], j["current"], [d["id"] for d in j["done"]]) for j in journals] == [
        ("running", None, []), ("running", 1, []), ("running", None, [1]), ("running", 2, [1]),
        ("running", None, [1, 2]), ("running", 3, [1, 2]), ("running", None, [1, 2, 3]),
        ("finished", None, [1, 2, 3])], journals
    assert journals[-1] == {"run_id": "run-2", "pid": 4242, "started": T0, "updated": T0, "state": "finished",
                            "current": None, "plan": PLAN, "done": [{"id": 1, "status": "changed"},
                                                                    {"id": 2, "status": "failed"},
                                                                    {"id": 3, "status": "skipped"}]}
    # Byte for byte what journal.py writes for the same record (json.dumps, sorted keys).
    assert result["journals"][-1] == json.dumps(journals[-1], sort_keys=True)
    # No temporary file is left; the holder record names this run while it runs and is emptied at the end.
    assert state_files(result) == [JOURNAL + " file", STATE_DIR + "\\run-lock.json file"], result["tree"]
    holder = {"pid": 4242, "started": T0, "run_id": "run-2"}
    assert (result["holder"], json.loads(result["holder_file"]), result["holder_after"]) == (holder, holder, "{}")
    assert [e for e in result["log"] if e.startswith("replace ")][:2] == [
        "replace %s\\.run-lock.json.tmp -> %s\\run-lock.json" % (STATE_DIR, STATE_DIR),
        "replace %s\\.journal.json.tmp -> %s" % (STATE_DIR, JOURNAL)], result["log"]


@needs_mono
def test_the_busy_message_is_lock_py_s_naming_the_holder(harness):
    from ansible_collections.govsec.banned_software.plugins.module_utils._execute.lock import describe_holder
    result = harness("journal-run")
    holder = {"pid": 4242, "started": T0, "run_id": "run-2"}
    assert result["busy"] == (
        "another remediation is running on this host (%s): the run lock Global\\govsec-banned-software-run was not "
        "free after 300 s (banned_software_lock_timeout); nothing was run" % describe_holder(holder)), result["busy"]


@needs_mono
def test_a_running_journal_is_reported_as_interrupted_run_as_journal_py_reports_it(harness):
    from ansible_collections.govsec.banned_software.plugins.module_utils._run_files import interrupted
    result = harness("journal-interrupted")
    assert result["error"] is None, result["error"]
    journal = json.loads(result["journal"])
    expected = interrupted(journal)
    assert result["previous"] == expected, "C# says %s, journal.py says %s" % (result["previous"], expected)
    assert (expected["step_interrupted"], expected["steps_not_run"], expected["steps_done"]) == (
        2, [3], [{"id": 1, "status": "changed"}])
    assert result["warnings"] == [expected["detail"]]
    assert expected["detail"] == ("the previous run (run-1, pid 77, started %s) ended before it finished: 1 of 3 "
                                  "steps done, interrupted in step 2" % T0)
    # The dead run's holder record still names it; the new run's journal replaces the old one.
    assert "(pid 77, started %s, run run-1)" % T0 in result["busy_before"]
    after = json.loads(result["journal_after"])
    assert (after["run_id"], after["state"], after["done"]) == ("run-2", "running", [])


@needs_mono
def test_a_call_that_keeps_no_journal_leaves_the_dead_run_s_journal_for_the_next_removal(harness):
    result = harness("journal-not-kept")
    assert result["error"] is None, result["error"]
    assert json.loads(result["journal"])["run_id"] == "run-1"
    assert result["previous"] is None and result["warnings"] == [], result
    assert json.loads(result["holder_file"])["run_id"] == "run-2"
    assert json.loads(result["holder_after"]) == {}
    assert result["journal_after"] == result["journal"]


@needs_mono
def test_an_abandoned_lock_whose_journal_finished_is_a_warning_not_an_interrupted_run(harness):
    result = harness("journal-finished-abandoned")
    assert (result["error"], result["previous"], result["previous_not_abandoned"]) == (None, None, None), result
    assert result["warnings"] == ["the previous run (run-1, pid 77, started %s) ended without releasing the run "
                                  "lock, after its journal said it finished" % T0], result["warnings"]


@needs_mono
def test_a_failed_journal_write_after_the_start_keeps_the_last_whole_record_and_warns(harness):
    result = harness("journal-write-fails")
    assert result["error"] is None, result["error"]
    assert result["after"] == result["before"] and json.loads(result["after"])["state"] == "running"
    warning = "the journal %s was not updated: There is not enough space on the disk" % JOURNAL
    assert result["warnings"] == [warning, warning], result["warnings"]
    assert state_files(result) == [JOURNAL + " file", STATE_DIR + "\\run-lock.json file"], result["tree"]


@needs_mono
def test_a_crash_before_the_rename_leaves_the_old_record_whole_and_the_next_run_removes_the_leftover(harness):
    result = harness("journal-crash-leftover")
    assert result["error"] is None, result["error"]
    assert json.loads(result["journal"])["current"] == 1
    assert result["previous"]["step_interrupted"] == 1 and result["previous"]["steps_not_run"] == [2, 3]
    assert state_files(result) == [JOURNAL + " file", STATE_DIR + "\\run-lock.json file"], result["tree"]
    assert "delete %s\\.journal.json.tmp" % STATE_DIR in result["log"], result["log"]


@needs_mono
@pytest.mark.parametrize("case, reason", [
    ("full", "There is not enough space on the disk"),
    ("directory", "refused: %s is not a plain file; not replaced" % JOURNAL),
])
def test_a_journal_that_cannot_be_written_before_the_first_step_refuses_the_run(harness, case, reason):
    result = harness("journal-cannot-begin", case)
    assert result["error"] == "IOException: the journal cannot be written in %s (%s); nothing was run" % (
        STATE_DIR, reason), result["error"]
    assert not [line for line in state_files(result) if ".tmp" in line], result["tree"]


@needs_mono
@pytest.mark.parametrize("case, detail", [
    ("garbage", "the previous run's journal cannot be read: not JSON: unterminated string"),
    ("array", "the previous run's journal cannot be read: not a JSON object"),
    ("link", "the previous run's journal cannot be read: refused: %s is not a plain file of at most 1048576 bytes"
     % JOURNAL),
])
def test_an_unreadable_journal_is_reported_with_journal_py_s_words(harness, case, detail):
    result = harness("journal-unreadable", case)
    assert result["error"] is None, result["error"]
    assert result["previous"] == {"run_id": None, "detail": detail}, result["previous"]
    assert result["sam"] == "SECRET-SAM"
    assert not [entry for entry in result["log"] if "C:\\Windows" in entry], result["log"]


@needs_mono
@pytest.mark.parametrize("owner, aces, refusal", [
    ("S-1-5-21-1-2-3-1001", ["allow:S-1-5-18:1F01FF:3"], "is owned by S-1-5-21-1-2-3-1001, not by SYSTEM or Administrators"),
    ("S-1-5-32-544", ["allow:S-1-5-18:1F01FF:3", "allow:S-1-5-32-545:1301BF:3"], "to S-1-5-32-545 (BUILTIN\\Users)"),
    ("S-1-5-18", ["allow:S-1-5-18:1F01FF:3"], None),
])
def test_a_state_directory_someone_else_owns_or_may_write_is_refused_before_any_journal(harness, owner, aces, refusal):
    result = harness("state-dir-existing", owner, *aces)
    if refusal is None:
        assert result["error"] is None and json.loads(result["journal"])["state"] == "running", result
        return
    assert result["error"].startswith("RefusedException: refused: %s " % STATE_DIR) and refusal in result["error"], result
    assert result["journal"] is None and state_files(result) == [], result["tree"]


@needs_mono
def test_a_junction_in_place_of_the_state_directory_is_refused(harness):
    result = harness("state-dir-junction")
    assert result["error"] == ("RefusedException: refused: %s is a junction, symbolic link or other reparse point"
                               % STATE_DIR), result["error"]
    assert "C:\\Users\\bob\\fake-state dir" in result["tree"]
    assert not [line for line in result["tree"] if line.startswith("C:\\Users\\bob\\fake-state\\")], result["tree"]


@needs_mono
def test_the_record_json_reads_what_it_writes_and_refuses_what_is_not_json(harness):
    result = harness("json-round-trip")
    text = '{"a": [1, -2, 3.5, true, false, null, "x\\"\\\\\\u00e9\\n"], "b": {}, "c": []}'
    assert json.loads(result["written"]) == json.loads(text) and result["written"] == json.dumps(json.loads(text))
    assert result["refused"] == [True] * 8, result["refused"]


# --- the directory listing parser -----------------------------------------------------------------

@needs_mono
def test_directory_records_are_parsed_and_bounds_checked(harness):
    result = harness("listing")
    assert result["names"] == ["a.txt", u"b\u00e9 \u5fae\u4fe1"], result["names"]
    assert result["error"] == "InvalidDataException: directory listing name out of bounds", result["error"]


# --- the Win32 layer, read as source --------------------------------------------------------------

def handles_source():
    return re.sub(r"//[^\n]*", "", read(SOURCES[0]))


def method_body(source, signature):
    start = source.index(signature)
    depth, index = 0, source.index("{", start)
    for index in range(index, len(source)):
        depth += {"{": 1, "}": -1}.get(source[index], 0)
        if depth == 0:
            return source[start:index + 1]
    raise AssertionError("no end of %s" % signature)


def test_every_open_is_the_one_relative_no_follow_ntcreatefile_call():
    source = handles_source()
    assert source.count("Native.NtCreateFile(") == 1, "NtCreateFile must be called in one place only"
    opener = method_body(source, "private static int Open(SafeFileHandle root")
    assert "Native.NtCreateFile(" in opener
    assert "options | Native.ALWAYS" in opener, "the open does not add FILE_OPEN_REPARSE_POINT to every call"
    assert "attributes.RootDirectory = root == null ? IntPtr.Zero : root.DangerousGetHandle();" in opener
    always = re.search(r"const uint ALWAYS = ([^;]+);", source).group(1)
    assert "FILE_OPEN_REPARSE_POINT" in always, always
    # Only OpenRoot opens without a parent handle (the drive's root directory).
    assert source.count("Open(null,") == 1 and "Open(null," in method_body(source, "public FileNode OpenRoot(")


def test_the_win32_constants_are_the_documented_values():
    source = handles_source()
    documented = {  # winternl.h / winbase.h / ntifs.h
        "FILE_OPEN_REPARSE_POINT": "0x00200000", "FILE_OPEN_FOR_BACKUP_INTENT": "0x00004000",
        "FILE_SYNCHRONOUS_IO_NONALERT": "0x00000020", "FILE_DIRECTORY_FILE": "0x00000001",
        "FILE_NON_DIRECTORY_FILE": "0x00000040", "FILE_OPEN": "1", "FILE_CREATE": "2", "FILE_OVERWRITE_IF": "5",
        "FileBasicInfo": "0", "FileDispositionInfo": "4", "FileAttributeTagInfo": "9",
        "FileIdBothDirectoryInfo": "10", "FileIdBothDirectoryRestartInfo": "11", "FileDispositionInfoEx": "21",
        "FileRenameInformation": "10", "FILE_DISPOSITION_DELETE": "0x1", "FILE_DISPOSITION_POSIX_SEMANTICS": "0x2",
        "FILE_DISPOSITION_IGNORE_READONLY_ATTRIBUTE": "0x10", "DELETE": "0x00010000", "READ_CONTROL": "0x00020000",
        "SYNCHRONIZE": "0x00100000", "OBJ_CASE_INSENSITIVE": "0x40", "ERROR_NO_MORE_FILES": "18",
        "NameLengthOffset": "60", "NameOffset": "104",
    }
    for name, value in documented.items():
        match = re.search(r"const (?:u?int) %s = ([^;]+);" % name, source)
        assert match is not None, "constant %s not found" % name
        assert match.group(1) == value, "%s is %s, documented %s" % (name, match.group(1), value)


@pytest.mark.parametrize("path", SOURCES)
def test_no_path_is_opened_by_name(path):
    source = re.sub(r"//[^\n]*", "", read(path))
    for pattern in (r"(?<![\w.])File\.\w+\(", r"(?<![\w.])Directory\.\w+\(", r"\bFileInfo\b", r"\bDirectoryInfo\b",
                    r"new FileStream\(\s*(?!borrowed)", r"\bCreateFileW?\s*\(\s*\"", r"\"CreateFileW?\"",
                    r"\bZipFile\b", r"CreateEntryFromFile", r"\bDeleteFileW?\b", r"\bRemoveDirectoryW?\b",
                    r"\bMoveFile\w*\b", r"FindFirstFile"):
        match = re.search(pattern, source)
        assert match is None, "%s: %r opens or changes a file by its path" % (os.path.basename(path), match.group(0))


def test_delete_and_rename_act_on_the_handle():
    source = handles_source()
    delete = method_body(source, "public void Delete(FileNode node)")
    assert "SetFileInformationByHandle(handle, Native.FileDispositionInfoEx" in delete
    assert "FILE_DISPOSITION_POSIX_SEMANTICS" in delete
    setter = method_body(source, "private static int SetName(FileNode node")
    assert "Native.NtSetInformationFile(HandleOf(node)" in setter and "Native.FileRenameInformation" in setter
    # Only Replace (the journal and the run record) sets ReplaceIfExists; a rename never replaces a file in the vault.
    assert "SetName(node, directory, name, false)" in method_body(source, "public bool Rename(FileNode node")
    assert "SetName(node, directory, name, true)" in method_body(source, "public void Replace(FileNode node")
    assert source.count("SetName(node, directory, name, true)") == 1
    info = method_body(source, "private static byte[] RenameInformation(")
    assert "info[0] = replace ? (byte)1 : (byte)0;" in info
