# -*- coding: utf-8 -*-
"""Global npm packages read from the file system (module_utils/_collect/npm.py): prefixes, scopes, nvm, hostile
trees."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.govsec.banned_software.plugins.module_utils._collect.npm import (
    MAX_PACKAGE_JSON, list_npm, node_modules_records)
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.query import compile_query
from ansible_collections.govsec.banned_software.plugins.module_utils._fs.rootfs import RootFS

DSH = "@deepseek-ai/dsh"


def query(*names):
    return compile_query({"npm": {"names": list(names)}}).sources["npm"]


def put(root, rel, data):
    path = os.path.join(str(root), rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))


def pkg(name, version="1.0.0"):
    return json.dumps({"name": name, "version": version})


def users(root, *names):
    return [{"name": n, "vhome": "/home/" + n, "rhome": "/home/" + n} for n in names]


def test_prefixes_scopes_and_nvm(tmp_path):
    put(tmp_path, "usr/local/lib/node_modules/@deepseek-ai/dsh/package.json", pkg(DSH, "0.1.5"))
    put(tmp_path, "usr/local/lib/node_modules/@deepseek-ai/other/package.json", pkg("@deepseek-ai/other"))
    put(tmp_path, "home/alice/.npm-global/lib/node_modules/@deepseek-ai/dsh/package.json", pkg(DSH, "0.1.4"))
    for version in ("v20.1.0", "v22.22.3"):
        put(tmp_path, "home/alice/.nvm/versions/node/%s/lib/node_modules/@deepseek-ai/dsh/package.json" % version,
            pkg(DSH, version))
    put(tmp_path, "home/bob/.local/lib/node_modules/typescript/package.json", pkg("typescript"))
    fs = RootFS(str(tmp_path))
    ok, records, examined = list_npm(fs, query(DSH), users(tmp_path, "alice", "bob"))
    assert ok is True and examined == 6 and fs.warnings == []
    assert sorted((r["scope"], r["path"], r["version"]) for r in records) == [
        ("machine", "/usr/local/lib/node_modules/@deepseek-ai/dsh", "0.1.5"),
        ("user:alice", "/home/alice/.npm-global/lib/node_modules/@deepseek-ai/dsh", "0.1.4"),
        ("user:alice", "/home/alice/.nvm/versions/node/v20.1.0/lib/node_modules/@deepseek-ai/dsh", "v20.1.0"),
        ("user:alice", "/home/alice/.nvm/versions/node/v22.22.3/lib/node_modules/@deepseek-ai/dsh", "v22.22.3")]
    assert all(r["name"] == DSH for r in records)


def test_no_prefix_is_not_available(tmp_path):
    assert list_npm(RootFS(str(tmp_path)), query(DSH), []) == (False, [], 0)


def test_oversized_or_broken_package_json_is_a_warning_and_still_a_record(tmp_path):
    put(tmp_path, "usr/lib/node_modules/@deepseek-ai/dsh/package.json", b"{" + b" " * (MAX_PACKAGE_JSON + 1))
    put(tmp_path, "opt/homebrew/lib/node_modules/@deepseek-ai/dsh/package.json", b"{not json")
    fs = RootFS(str(tmp_path))
    ok, records, examined = list_npm(fs, query(DSH), [])
    assert sorted(r["path"] for r in records) == ["/opt/homebrew/lib/node_modules/@deepseek-ai/dsh",
                                                  "/usr/lib/node_modules/@deepseek-ai/dsh"]
    assert all("version" not in r for r in records)
    assert sorted(fs.warnings) == [
        "npm: /opt/homebrew/lib/node_modules/@deepseek-ai/dsh/package.json is not valid JSON (the package is "
        "recorded by its folder name)",
        "npm: /usr/lib/node_modules/@deepseek-ai/dsh/package.json is larger than %d bytes: not read (the package "
        "is recorded by its folder name)" % MAX_PACKAGE_JSON]


def test_a_renamed_folder_is_found_by_its_manifest_and_a_lookalike_manifest_is_not_read(tmp_path):
    put(tmp_path, "usr/lib/node_modules/DSH copy/package.json", pkg(DSH, "0.1.5"))      # not a valid npm name
    put(tmp_path, "usr/lib/node_modules/left-pad/package.json", pkg(DSH, "9.9.9"))      # valid name: not opened
    fs = RootFS(str(tmp_path))
    ok, records, examined = list_npm(fs, query(DSH), [])
    assert records == [{"name": DSH, "scope": "machine", "path": "/usr/lib/node_modules/DSH copy",
                        "prefix": "/usr/lib/node_modules", "version": "0.1.5", "folder_name": "DSH copy"}]


def test_links_stay_inside_the_tree(tmp_path):
    outside = tmp_path / "outside"
    put(outside, "dsh/package.json", pkg(DSH, "6.6.6"))
    root = tmp_path / "root"
    put(root, "usr/lib/node_modules/.keep", b"")
    os.makedirs(str(root / "usr/lib/node_modules/@deepseek-ai"))
    # absolute link: re-rooted inside the tree, where nothing exists; relative ../ links stop at the root
    os.symlink(str(outside / "dsh"), str(root / "usr/lib/node_modules/@deepseek-ai/dsh"))
    os.symlink("../../../../../../../../outside/dsh", str(root / "usr/lib/node_modules/escape"))
    put(root, "srv/dev/dsh/package.json", pkg(DSH, "0.0.1-dev"))
    os.symlink("/srv/dev/dsh", str(root / "usr/lib/node_modules/linked"))
    fs = RootFS(str(root))
    records = []
    # The two links that point out of the tree lead nowhere inside it: skipped, never read outside.
    n = node_modules_records(fs, query(DSH, "escape", "linked"), "/usr/lib/node_modules", "/usr/lib/node_modules",
                             "machine", records)
    assert n == 1
    assert records == [{"name": "linked", "scope": "machine", "path": "/usr/lib/node_modules/linked",
                        "prefix": "/usr/lib/node_modules", "version": "0.0.1-dev", "package_name": DSH,
                        "link": True}]


def test_windows_paths_use_backslashes(tmp_path):
    put(tmp_path, "Users/alice/AppData/Roaming/npm/node_modules/@deepseek-ai/dsh/package.json", pkg(DSH))
    fs = RootFS(str(tmp_path))
    records = []
    n = node_modules_records(fs, query(DSH), "/Users/alice/AppData/Roaming/npm/node_modules",
                             "C:\\Users\\alice\\AppData\\Roaming\\npm\\node_modules", "user:alice", records, sep="\\")
    assert n == 1
    assert records[0]["path"] == "C:\\Users\\alice\\AppData\\Roaming\\npm\\node_modules\\@deepseek-ai\\dsh"
