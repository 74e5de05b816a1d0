# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make compat`: a collection artifact (tar.gz) made from an INSTALLED collection, for an offline
``ansible-galaxy collection install`` of a dependency without Galaxy.

    python3 tests/compat/collection_tarball.py INSTALLED_DIR OUT.tar.gz

The copy that the ``ansible`` package installs lacks some files its FILES.json lists (CI files left out of
the wheel): FILES.json is rewritten with the files that are there (and their sha256), and MANIFEST.json with
the new FILES.json checksum, as ``ansible-galaxy collection install`` verifies both.
"""

from __future__ import absolute_import, division, print_function

import hashlib
import io
import json
import os
import sys
import tarfile


def sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def main(argv):
    src, out = argv[1:3]
    with open(os.path.join(src, "MANIFEST.json")) as handle:
        manifest = json.load(handle)
    with open(os.path.join(src, "FILES.json")) as handle:
        files = json.load(handle)
    kept = []
    for entry in files["files"]:
        name = entry["name"]
        path = os.path.join(src, name)
        if name == "." or (entry["ftype"] == "dir" and os.path.isdir(path)):
            kept.append(entry)
        elif entry["ftype"] == "file" and os.path.isfile(path) and "__pycache__" not in name:
            kept.append(dict(entry, chksum_sha256=sha256(path)))
    files["files"] = kept
    files_json = json.dumps(files, indent=4, sort_keys=True).encode("utf-8")
    manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_json).hexdigest()
    manifest_json = json.dumps(manifest, indent=4, sort_keys=True).encode("utf-8")
    with tarfile.open(out, "w:gz") as tar:
        for name, data in (("MANIFEST.json", manifest_json), ("FILES.json", files_json)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
        for entry in kept:
            if entry["name"] != ".":
                tar.add(os.path.join(src, entry["name"]), arcname=entry["name"], recursive=False)
    print("%s: %s.%s %s, %d of the files FILES.json listed" % (
        out, manifest["collection_info"]["namespace"], manifest["collection_info"]["name"],
        manifest["collection_info"]["version"], len(kept)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
