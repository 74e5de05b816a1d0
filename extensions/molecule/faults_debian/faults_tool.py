# -*- coding: utf-8 -*-
"""Host-side helper of the faults_debian scenario (copied to the host by prepare.yml, run with python3). Prints JSON.

  make DIR FILES KIB        a tree of FILES files of KIB KiB of random bytes (in 20 sub-directories)
  digest DIR                {"files": N, "bytes": B, "sha256": ...}: one digest over every file's relative path
                            and sha256 (None when DIR does not exist)
  locate ORIGINAL QDIR      where ORIGINAL's data is: its digest at ORIGINAL, each manifest line of
                            QDIR/*/MANIFEST.jsonl naming it (with the digest of what it names), and the partial
                            copies (*.partial*) left under QDIR
  kill-in-copy QDIR LOCK SECONDS
                            wait until a partial copy appears under QDIR/*/opt/, then SIGKILL the pid the run
                            lock LOCK names (the executor) and say what it killed
"""

import glob
import hashlib
import json
import os
import signal
import sys
import time


def make(top, files, kib):
    for number in range(int(files)):
        sub = os.path.join(top, "part%02d" % (number % 20))
        os.makedirs(sub, exist_ok=True)
        with open(os.path.join(sub, "blob%05d.bin" % number), "wb") as handle:
            handle.write(os.urandom(int(kib) * 1024))
    return digest(top)


def digest(top):
    if not os.path.isdir(top) or os.path.islink(top):
        return None
    total, count, outer = 0, 0, hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames.sort()
        for name in sorted(filenames):
            path = os.path.join(dirpath, name)
            inner = hashlib.sha256()
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    inner.update(chunk)
                    total += len(chunk)
            count += 1
            outer.update(("%s %s\n" % (os.path.relpath(path, top), inner.hexdigest())).encode("utf-8"))
    return {"files": count, "bytes": total, "sha256": outer.hexdigest()}


def locate(original, qdir):
    lines = []
    for manifest in sorted(glob.glob(os.path.join(qdir, "*", "MANIFEST.jsonl"))):
        with open(manifest) as handle:
            for text in handle:
                line = json.loads(text)
                if line.get("original") == original:
                    line["state"] = line.get("state", "moved")
                    line["digest"] = digest(line["quarantined"]) if line["state"] == "moved" else None
                    lines.append(line)
    partials = sorted(os.path.join(d, n) for d, dirs, files in os.walk(qdir) for n in dirs + files if ".partial" in n)
    return {"original": digest(original), "manifest": lines, "partials": partials}


def kill_in_copy(qdir, lock, seconds):
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        partials = glob.glob(os.path.join(qdir, "*", "opt", "*.partial*"))
        if partials:
            with open(lock) as handle:
                pid = json.load(handle)["pid"]
            os.kill(pid, signal.SIGKILL)
            return {"killed": pid, "partial": partials[0], "files_copied": sum(len(f) for d, s, f in os.walk(partials[0]))}
        time.sleep(0.005)
    raise SystemExit("no partial copy appeared under %s within %s s" % (qdir, seconds))


def main(argv):
    commands = {"make": make, "digest": digest, "locate": locate, "kill-in-copy": kill_in_copy}
    print(json.dumps(commands[argv[1]](*argv[2:]), sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
