# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ON a benchmark host (python3, copied there by benchmarks/run.py), in a module's debug_dir.

    python3 host_collector_cpu.py DEBUG_DIR REPEATS COMMANDS_JSON

Measures user+sys CPU, in alternating random order:
  * every command of COMMANDS_JSON (name -> shell command) as a child process (os.wait4 rusage);
  * "collector code (in-process)": collect_linux(...) with the scan's real query (from DEBUG_DIR/args),
    called in this already running interpreter, modules imported once: the collector's own work,
    without the interpreter start and Ansible's module runtime (AnsiballZ unpacking, AnsibleModule),
    which every Ansible Python module pays, ping included. Child processes it starts are counted.
Prints JSON {name: [seconds, ...]}.
"""
import json
import os
import random
import resource
import subprocess
import sys

debug_dir, repeats, commands = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
sys.path.insert(0, debug_dir)
with open(os.path.join(debug_dir, "args")) as handle:
    query = json.load(handle)["ANSIBLE_MODULE_ARGS"]["query"]["linux"]
from ansible_collections.govsec.banned_software.plugins.module_utils._collect.linux import collect_linux  # noqa: E402


def run_command(argv, environ_update=None, **dummy):
    env = dict(os.environ, **(environ_update or {}))
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, check=False)
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def cpu():
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


NAME = "collector code (in-process)"
collect_linux("/", query, run_command)  # warm-up
results = dict((n, []) for n in list(commands) + [NAME])
order = list(results)
for dummy in range(repeats):
    random.shuffle(order)
    for name in order:
        if name == NAME:
            t0 = cpu()
            collect_linux("/", query, run_command)
            results[name].append(cpu() - t0)
            continue
        proc = subprocess.Popen(commands[name], shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        dummy, status, usage = os.wait4(proc.pid, 0)
        if status != 0:
            raise SystemExit("%s failed (status %s)" % (name, status))
        results[name].append(usage.ru_utime + usage.ru_stime)
print(json.dumps(results))
