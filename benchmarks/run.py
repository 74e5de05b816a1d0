# -*- coding: utf-8 -*-
# Copyright: govsec.banned_software contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet benchmark of govsec.banned_software (docs/performance.md).  Entry point: `make bench`.

    .venv/bin/python benchmarks/run.py [--bench-hosts 20] [--rounds 5] [--connection ssh|podman]
                                       [--scaling 5,10] [--catalog-rounds 3] [--quick] [--keep]

Builds the benchmark image once (benchmarks/image.sh), starts N podman containers named bench-host-NN
(each: Debian 12 with a few hundred packages plus the banned/lookalike fixture .debs), and measures in
ONE run, alternating and repeated (the order of the scenarios is shuffled in every round):

  ping       ansible.builtin.ping over the fleet (the floor)
  audit      govsec.banned_software.audit (the installed collection)
  naive      gather_facts + ansible.builtin.package_facts + one set_fact task per catalog entry
  rem-check  govsec.banned_software.remediate --check
  rem-real   govsec.banned_software.remediate (removes the fixture packages)
  rem-again  the same again (must report changed=0)
  (then every host gets its fixture packages back, outside the timed runs)

It then measures the cost growth with N (--scaling) and with the catalog size (17 built-in entries
vs +1,000 synthetic ones, on the fleet and on the engine alone), the host-side CPU of the collector
against `dpkg-query -W` in one container, and calls benchmarks/report_generation.py when it exists.
It prints one table and PASS/FAIL per target; the exit code is 1 when a target fails.
Containers are removed at the end (also on Ctrl-C), unless --keep.  See docs/performance.md.
"""

from __future__ import absolute_import, division, print_function

import argparse
import atexit
import concurrent.futures
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
COLLECTIONS = os.path.join(ROOT, ".collections")
INSTALLED = os.path.join(COLLECTIONS, "ansible_collections", "govsec", "banned_software")
IMAGE = "localhost/bench-govsec-host:latest"
PREFIX = "bench-host-"
BIN = os.path.dirname(sys.executable)

MAIN_SCENARIOS = ["ping", "audit", "naive", "remediate"]  # remediate = rem-check, rem-real, rem-again


def log(msg):
    sys.stderr.write("[bench %s] %s\n" % (time.strftime("%H:%M:%S"), msg))
    sys.stderr.flush()


def sh(argv, check=True, **kwargs):
    return subprocess.run(argv, check=check, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, **kwargs)


# --- the fleet -------------------------------------------------------------------------------------

class Fleet(object):
    def __init__(self, n, workdir, connection):
        self.n = n
        self.workdir = workdir
        self.connection = connection
        self.names = ["%s%02d" % (PREFIX, i + 1) for i in range(n)]
        self.addresses = {}

    def start(self):
        self.remove()
        key = os.path.join(self.workdir, "id_ed25519")
        sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
        start_cmd = ("set -e; cd /opt/bench-debs; dpkg -i $(cat install-order.txt) >/dev/null; "
                     "mkdir -p /run/sshd /root/.ssh; cp /bench/id_ed25519.pub /root/.ssh/authorized_keys; "
                     "/usr/sbin/sshd; touch /run/bench-ready; exec sleep infinity")
        for name in self.names:
            sh(["podman", "run", "-d", "--name", name, "--hostname", name, "--label", "bench=govsec",
                "-v", "%s.pub:/bench/id_ed25519.pub:ro" % key, IMAGE, "sh", "-c", start_cmd])
        deadline = time.time() + 300
        pending = list(self.names)
        while pending and time.time() < deadline:
            pending = [h for h in pending
                       if sh(["podman", "exec", h, "test", "-e", "/run/bench-ready"], check=False).returncode != 0]
            if pending:
                time.sleep(1)
        if pending:
            raise SystemExit("containers not ready: %s" % ", ".join(pending))
        for name in self.names:
            self.addresses[name] = sh(["podman", "inspect", "-f", "{{.NetworkSettings.IPAddress}}", name]).stdout.strip()

    def remove(self):
        names = [n for n in sh(["podman", "ps", "-a", "--format", "{{.Names}}"]).stdout.split()
                 if n.startswith(PREFIX)]
        if names:
            sh(["podman", "rm", "-f", "-t", "0"] + names, check=False)

    def exec_all(self, script):
        def one(name):
            return sh(["podman", "exec", name, "sh", "-c", script], check=False)
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(one, self.names))
        bad = [(n, r.stderr) for n, r in zip(self.names, results) if r.returncode != 0]
        if bad:
            raise SystemExit("host command failed on %s: %s" % (bad[0][0], bad[0][1][-500:]))

    def reset(self):
        """Give every host its fixture packages back (after a real remediation)."""
        self.exec_all("cd /opt/bench-debs && dpkg -i $(cat install-order.txt) >/dev/null 2>&1 "
                      "&& rm -rf /var/lib/govsec-banned-software")

    def inventory(self, path):
        lines = ["all:", "  hosts:"]
        for name in self.names:
            lines.append("    %s:" % name)
            if self.connection == "podman":
                lines.append("      ansible_connection: containers.podman.podman")
                lines.append("      ansible_host: %s" % name)
            else:
                lines.append("      ansible_host: %s" % self.addresses[name])
        lines += ["  vars:", "    ansible_user: root", "    ansible_python_interpreter: /usr/bin/python3"]
        if self.connection == "ssh":
            lines.append("    ansible_ssh_private_key_file: %s" % os.path.join(self.workdir, "id_ed25519"))
        with open(path, "w") as handle:
            handle.write("\n".join(lines) + "\n")


ANSIBLE_CFG = """\
# Written by benchmarks/run.py: the settings of docs/ansible.cfg.fleet (see there for the reasons).
[defaults]
forks = {forks}
gathering = explicit
host_key_checking = False
retry_files_enabled = False
interpreter_python = /usr/bin/python3
callback_plugins = {workdir}/callback_plugins
callbacks_enabled = bench_count
stdout_callback = ansible.builtin.default
deprecation_warnings = False
localhost_warning = False

[ssh_connection]
pipelining = True
ssh_args = -o ControlMaster=auto -o ControlPersist=600s -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
control_path_dir = {workdir}/cp
"""


PING_YML = """\
- name: Floor
  hosts: all
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
"""


def linux_package_signatures(entry):
    """(exact names, regexes) of an entry's Linux package signatures (dpkg, rpm, packages)."""
    linux = (entry.get("signatures") or {}).get("linux") or {}
    names, regexes = [], []
    for source in ("dpkg", "rpm", "packages"):
        for sig in linux.get(source) or []:
            if "name" in sig:
                names.append(sig["name"])
            elif "name_regex" in sig:
                regexes.append(sig["name_regex"])
    return names, regexes


def load_entries(files):
    import yaml
    entries = []
    for path in files:
        with open(path) as handle:
            doc = yaml.safe_load(handle) or {}
        entries.extend(doc.get("entries") or [])
    return entries


def builtin_entry_files():
    d = os.path.join(INSTALLED, "catalog", "entries")
    return sorted(os.path.join(d, f) for f in os.listdir(d) if f.endswith(".yml"))


def naive_playbook(entries):
    """What an ops engineer writes: facts, package_facts, one task per catalog entry."""
    out = ["# Generated by benchmarks/run.py from the catalog: the naive approach.",
           "- name: Naive audit", "  hosts: all", "  gather_facts: true", "  tasks:",
           "    - name: Package facts", "      ansible.builtin.package_facts:", "        manager: auto"]
    # One task per catalog entry, as the issue describes the naive approach; an entry without Linux package
    # names still gets its (empty) check, as a hand-written per-entry task list would have it.
    for entry in entries:
        names, regexes = linux_package_signatures(entry)
        expr = "%s | select('in', ansible_facts.packages) | list" % json.dumps(names)
        for rx in regexes:
            expr += " + (ansible_facts.packages.keys() | select('match', %s) | list)" % json.dumps(rx + "$")
        out += ["    - name: Check %s" % entry["id"],
                "      ansible.builtin.set_fact:",
                "        naive_%s: \"{{ %s }}\"" % (re.sub(r"[^a-z0-9_]", "_", entry["id"]), expr.replace('"', '\\"'))]
    out += ["    - name: Summary", "      ansible.builtin.debug:",
            "        msg: \"{{ query('varnames', '^naive_') | map('extract', vars) | flatten | list }}\""]
    return "\n".join(out) + "\n"


def synthetic_catalog(path, count):
    """A catalog file with ``count`` entries (and their policy) that match nothing on the hosts."""
    import yaml
    doc = {"policies": [{"id": "bench-synthetic", "title": "Synthetic policy (benchmark)", "jurisdiction": "EU",
                         "instrument": "none (benchmark data)", "date": "2026-01-01",
                         "url": "https://example.invalid/bench"}],
           "entries": []}
    for i in range(count):
        sigs = {"packages": [{"name": "bench-synthetic-%04d" % i}],
                "flatpak": [{"name": "org.example.BenchSynthetic%04d" % i}],
                "file": [{"path": "/opt/bench-synthetic-%04d" % i}]}
        if i % 10 == 0:
            sigs["desktop"] = [{"name_regex": "bench-synthetic-%04d(-[a-z]+)?\\.desktop" % i}]
        doc["entries"].append({"id": "bench-synthetic-%04d" % i, "vendor": "Example %d" % (i % 37),
                               "product": "Synthetic product %d" % i, "policies": ["bench-synthetic"],
                               "references": [{"url": "https://example.invalid/%d" % i, "note": "synthetic"}],
                               "signatures": {"linux": sigs}})
    with open(path, "w") as handle:
        yaml.safe_dump(doc, handle, default_flow_style=False, sort_keys=False)


# --- one timed run -----------------------------------------------------------------------------------

RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)")


class Runner(object):
    def __init__(self, workdir, inventory):
        self.workdir = workdir
        self.inventory = inventory
        self.seq = 0

    def run(self, label, args, extra_env=None):
        self.seq += 1
        base = os.path.join(self.workdir, "runs", "%03d-%s" % (self.seq, label))
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(self.workdir, "ansible.cfg"),
                   ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, BENCH_COUNT_LOG=base + ".count",
                   ANSIBLE_LOCAL_TEMP=os.path.join(self.workdir, "tmp"), ANSIBLE_NOCOLOR="1",
                   PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
        env.update(extra_env or {})
        argv = [os.path.join(BIN, "ansible-playbook"), "-i", self.inventory] + args
        with open(base + ".log", "w") as out:
            t0 = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=self.workdir)
            dummy, status, usage = os.wait4(proc.pid, 0)
            wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status) if hasattr(os, "waitstatus_to_exitcode") else status >> 8
        with open(base + ".log") as handle:
            text = handle.read()
        recap = {}
        for line in text.splitlines():
            m = RECAP.match(line)
            if m:
                recap[m.group(1)] = dict(ok=int(m.group(2)), changed=int(m.group(3)),
                                         unreachable=int(m.group(4)), failed=int(m.group(5)))
        counts = {}
        if os.path.exists(base + ".count"):
            with open(base + ".count") as handle:
                for line in handle:
                    kind, host, task, module = (line.rstrip("\n").split("\t") + ["", "", "", ""])[:4]
                    counts.setdefault(kind, {}).setdefault(host, []).append((task, module))
        return dict(label=label, wall=wall, rc=proc.returncode, cpu=usage.ru_utime + usage.ru_stime,
                    maxrss_mb=usage.ru_maxrss / 1024.0, recap=recap, counts=counts, log=base + ".log")


# --- statistics ----------------------------------------------------------------------------------------

def summary(values):
    values = sorted(values)
    med = statistics.median(values)
    if len(values) >= 4:
        q = statistics.quantiles(values, n=4)
        iqr = q[2] - q[0]
    else:
        iqr = values[-1] - values[0]
    return dict(median=med, min=values[0], max=values[-1], iqr=iqr, n=len(values))


def ratio_stats(num, den):
    """Median of the per-round ratios (the two runs of one round ran close together) and their range."""
    rs = [a / b for a, b in zip(num, den)]
    return summary(rs)


def per_host_modules(result, task_filter=None):
    per = {}
    for host, calls in (result["counts"].get("module") or {}).items():
        n = sum(1 for task, module in calls if task_filter is None or task_filter(task, module))
        per[host] = n
    return per


# --- host-side CPU: collector vs dpkg-query --------------------------------------------------------------

def host_cpu(runner, host, repeats):
    """Leave the real AnsiballZ payloads of one scan (and of ping) on ``host``; time them, the collector
    code in-process, and ``dpkg-query -W`` (benchmarks/host_collector_cpu.py runs on the host)."""
    play = os.path.join(runner.workdir, "keep.yml")
    with open(play, "w") as handle:
        handle.write("- hosts: %s\n  gather_facts: false\n  tasks:\n"
                     "    - govsec.banned_software.scan:\n    - ansible.builtin.ping:\n" % host)
    sh(["podman", "exec", host, "rm", "-rf", "/root/.ansible/tmp"], check=False)
    res = runner.run("keep-remote-files", [play, "-l", host],
                     {"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_PIPELINING": "0"})
    if res["rc"] != 0:
        raise SystemExit("scan with kept remote files failed, see %s" % res["log"])

    def payload(name):
        return sh(["podman", "exec", host, "sh", "-c", "ls /root/.ansible/tmp/*/%s" % name]).stdout.split()[0]
    collect, ping = payload("AnsiballZ_collect.py"), payload("AnsiballZ_ping.py")
    sh(["podman", "exec", "-w", os.path.dirname(collect), host, "python3", collect, "explode"])
    sh(["podman", "cp", os.path.join(HERE, "host_collector_cpu.py"), "%s:/tmp/bench_host_cpu.py" % host])
    cmds = {"dpkg-query -W": "dpkg-query -W",
            "collect module (AnsiballZ, as Ansible runs it)": "python3 %s" % collect,
            "ping module (AnsiballZ, as Ansible runs it)": "python3 %s" % ping,
            "python3 -c pass (interpreter start)": "python3 -c pass"}
    out = sh(["podman", "exec", host, "python3", "/tmp/bench_host_cpu.py",
              os.path.join(os.path.dirname(collect), "debug_dir"), str(repeats), json.dumps(cmds)]).stdout
    data = json.loads(out)
    return dict((name, summary(v)) for name, v in data.items())


def engine_cost(extra_file, repeats=5):
    """Controller CPU of one host's scan work in the engine (load+select, query, match), no host."""
    sys.path.insert(0, COLLECTIONS)
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog import files as cf
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.catalog.query import build_query
    from ansible_collections.govsec.banned_software.plugins.plugin_utils.match.matcher import Matcher
    records = {"os": "linux", "root": "/", "available": {"dpkg": True},
               "records": {"dpkg": [{"name": "wechat", "version": "1", "arch": "amd64", "scope": "machine",
                                     "path": "/var/lib/dpkg/status"}]}, "users": []}
    out = {}
    for label, files in (("17 entries", []), ("1,017 entries", [extra_file])):
        times = {"load+validate (cold)": [], "query": [], "match": []}
        for dummy in range(repeats):
            cf._CACHE.clear()
            t0 = time.process_time()
            catalog = cf.load_catalog(extra_files=files)
            entries = catalog.select(policies=["all"], disabled=[])
            t1 = time.process_time()
            build_query(entries, ["linux", "macos"])
            t2 = time.process_time()
            Matcher(entries, ["all"]).match("linux", records)
            t3 = time.process_time()
            times["load+validate (cold)"].append(t1 - t0)
            times["query"].append(t2 - t1)
            times["match"].append(t3 - t2)
        out[label] = dict((k, statistics.median(v)) for k, v in times.items())
    return out


def install_collection(workdir, source):
    """Build and install the collection into the work directory, so that a concurrent
    `make collection` in the checkout cannot change it in the middle of the benchmark."""
    global COLLECTIONS, INSTALLED  # pylint: disable=global-statement
    src = ROOT
    if source != "worktree":
        src = os.path.join(workdir, "src")
        os.makedirs(src)
        archive = subprocess.run(["git", "-C", ROOT, "archive", source], check=True, stdout=subprocess.PIPE).stdout
        subprocess.run(["tar", "-x", "-C", src], input=archive, check=True)
    galaxy = os.path.join(BIN, "ansible-galaxy")
    sh([galaxy, "collection", "build", "--force", "--output-path", os.path.join(workdir, "build"), src])
    tarball = [f for f in os.listdir(os.path.join(workdir, "build")) if f.endswith(".tar.gz")][0]
    COLLECTIONS = os.path.join(workdir, "collections")
    INSTALLED = os.path.join(COLLECTIONS, "ansible_collections", "govsec", "banned_software")
    sh([galaxy, "collection", "install", "--force", "-p", COLLECTIONS,
        os.path.join(workdir, "build", tarball)], env=dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS))
    log("collection from %s installed in %s" % ("the working tree" if source == "worktree" else source, COLLECTIONS))


# --- main ------------------------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    ap.add_argument("--bench-hosts", type=int, default=int(os.environ.get("BENCH_HOSTS", "20")))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_ROUNDS", "5")))
    ap.add_argument("--connection", choices=["ssh", "podman"], default=os.environ.get("BENCH_CONNECTION", "ssh"))
    ap.add_argument("--scaling", default="5,10", help="smaller fleet sizes for the growth curve ('' skips)")
    ap.add_argument("--scaling-rounds", type=int, default=3)
    ap.add_argument("--catalog-rounds", type=int, default=3, help="0 skips the 1,000-entry catalog runs")
    ap.add_argument("--cpu-repeats", type=int, default=20)
    ap.add_argument("--compare-connections", action="store_true",
                    help="also time ping/audit over the other connection (podman exec vs ssh)")
    ap.add_argument("--source", default="worktree",
                    help="what to benchmark: 'worktree' (default) or a git revision such as HEAD")
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", action="store_true", help="keep the containers and the work directory")
    args = ap.parse_args()
    if args.rounds < 1 or args.bench_hosts < 1:
        ap.error("--rounds and --bench-hosts must be at least 1")
    rnd = random.Random(args.seed)
    t_start = time.time()

    log("image: benchmarks/image.sh")
    subprocess.run(["bash", os.path.join(HERE, "image.sh")], check=True)

    workdir = tempfile.mkdtemp(prefix="bench-govsec-")
    for d in ("runs", "tmp", "cp", "callback_plugins", "reports", "build"):
        os.makedirs(os.path.join(workdir, d))
    install_collection(workdir, args.source)
    shutil.copy(os.path.join(HERE, "bench_count.py"), os.path.join(workdir, "callback_plugins"))
    fleet = Fleet(args.bench_hosts, workdir, args.connection)

    def cleanup(*dummy):
        if not args.keep:
            fleet.remove()
            shutil.rmtree(workdir, ignore_errors=True)
    atexit.register(cleanup)
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))

    with open(os.path.join(workdir, "ansible.cfg"), "w") as handle:
        handle.write(ANSIBLE_CFG.format(forks=max(args.bench_hosts, 5), workdir=workdir))
    entries = load_entries(builtin_entry_files())
    with open(os.path.join(workdir, "ping.yml"), "w") as handle:
        handle.write(PING_YML)
    with open(os.path.join(workdir, "naive.yml"), "w") as handle:
        handle.write(naive_playbook(entries))
    synthetic = os.path.join(workdir, "synthetic-1000.yml")
    synthetic_catalog(synthetic, 1000)

    log("starting %d containers (%s connection)" % (args.bench_hosts, args.connection))
    t0 = time.time()
    fleet.start()
    inv = os.path.join(workdir, "inventory.yml")
    fleet.inventory(inv)
    pkg_count = sh(["podman", "exec", fleet.names[0], "sh", "-c", "dpkg-query -W | wc -l"]).stdout.strip()
    log("fleet up in %.0f s; %s packages per host" % (time.time() - t0, pkg_count))
    runner = Runner(workdir, inv)
    report_dir = os.path.join(workdir, "reports")

    scen_args = {
        "ping": [os.path.join(workdir, "ping.yml")],
        "audit": ["govsec.banned_software.audit", "-e", "banned_software_report_dir=%s" % report_dir],
        "naive": [os.path.join(workdir, "naive.yml")],
        "rem-check": ["govsec.banned_software.remediate", "--check"],
        "rem-real": ["govsec.banned_software.remediate", "-e", "banned_software_report_dir=%s" % report_dir],
        "rem-again": ["govsec.banned_software.remediate", "-e", "banned_software_report_dir=%s" % report_dir],
    }
    # warm-up (not timed): caches, ControlMaster sockets, pyc files
    runner.run("warmup-ping", scen_args["ping"])
    runner.run("warmup-audit", scen_args["audit"])

    results = dict((k, []) for k in scen_args)
    problems = []
    for rnd_i in range(args.rounds):
        order = list(MAIN_SCENARIOS)
        rnd.shuffle(order)
        log("round %d/%d: %s" % (rnd_i + 1, args.rounds, " ".join(order)))
        for scen in order:
            names = ["rem-check", "rem-real", "rem-again"] if scen == "remediate" else [scen]
            for name in names:
                res = runner.run(name, scen_args[name])
                results[name].append(res)
                if res["rc"] != 0 or len(res["recap"]) < args.bench_hosts:
                    problems.append("%s round %d: rc=%s, %d hosts in recap (%s)"
                                    % (name, rnd_i + 1, res["rc"], len(res["recap"]), res["log"]))
            if scen == "remediate":
                fleet.reset()

    # checks of what the runs did
    for res in results["rem-again"]:
        changed = sum(r["changed"] for h, r in res["recap"].items() if h.startswith(PREFIX))
        if changed:
            problems.append("rem-again reported changed=%d (%s)" % (changed, res["log"]))
    for res in results["rem-real"]:
        if not any(r["changed"] for h, r in res["recap"].items() if h.startswith(PREFIX)):
            problems.append("rem-real changed nothing (%s)" % res["log"])

    # growth with N (ping and audit, alternating, on the first n hosts)
    scaling = {}
    sizes = [int(s) for s in args.scaling.split(",") if s.strip()] if args.scaling else []
    for n in sizes:
        if n >= args.bench_hosts:
            continue
        limit = ",".join(fleet.names[:n])
        scaling[n] = {"ping": [], "audit": []}
        for dummy in range(args.scaling_rounds):
            order = ["ping", "audit"]
            rnd.shuffle(order)
            for scen in order:
                scaling[n][scen].append(runner.run("%s-n%d" % (scen, n), scen_args[scen] + ["-l", limit]))
    scaling[args.bench_hosts] = {"ping": results["ping"], "audit": results["audit"]}

    # growth with the catalog size (the same fleet, the built-in catalog + 1,000 synthetic entries)
    catalog_runs = {"audit": [], "audit-1017": []}
    cat_args = scen_args["audit"] + ["-e", json.dumps({"banned_software_catalog_files": [synthetic]})]
    for dummy in range(args.catalog_rounds):
        order = ["audit", "audit-1017"]
        rnd.shuffle(order)
        for scen in order:
            catalog_runs[scen].append(runner.run(scen, scen_args["audit"] if scen == "audit" else cat_args))
    engine = engine_cost(synthetic)

    # host-side CPU
    log("host-side CPU: collector vs dpkg-query -W on %s" % fleet.names[0])
    cpu = host_cpu(runner, fleet.names[0], args.cpu_repeats)

    # the other connection, for the choice of connection (optional)
    other = {}
    if args.compare_connections:
        alt = "podman" if args.connection == "ssh" else "ssh"
        inv2 = os.path.join(workdir, "inventory-%s.yml" % alt)
        conn_saved = fleet.connection
        fleet.connection = alt
        fleet.inventory(inv2)
        fleet.connection = conn_saved
        r2 = Runner(workdir, inv2)
        r2.seq = 500
        other = {"ping": [], "audit": []}
        for dummy in range(3):
            for scen in ("ping", "audit"):
                other[scen].append(r2.run("%s-%s" % (scen, alt), scen_args[scen]))
        other["name"] = alt

    # report generation (benchmarks/report_generation.py, written separately)
    report_line = None
    rg = os.path.join(HERE, "report_generation.py")
    if os.path.exists(rg):
        log("report generation: %s" % rg)
        t0 = time.perf_counter()
        proc = subprocess.Popen([sys.executable, rg], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True, cwd=ROOT)
        out = proc.communicate()[0]
        report_line = dict(rc=proc.returncode, wall=time.perf_counter() - t0, output=out.strip().splitlines())

    # --- the table ---
    p = print
    p("")
    p("govsec.banned_software fleet benchmark: N=%d hosts (%s connection, %s packages each), %d rounds, "
      "forks=%d, pipelining on; %s" % (args.bench_hosts, args.connection, pkg_count, args.rounds,
                                       max(args.bench_hosts, 5), time.strftime("%Y-%m-%d %H:%M")))
    p("")
    p("%-12s %9s %17s %7s %10s %9s %10s %10s"
      % ("scenario", "median s", "min-max s", "IQR s", "ctrl CPU s", "peak MB", "mod/host", "cmds/host"))
    walls = {}
    for name in ["ping", "audit", "naive", "rem-check", "rem-real", "rem-again"]:
        rs = results[name]
        w = summary([r["wall"] for r in rs])
        walls[name] = [r["wall"] for r in rs]
        cpu_s = statistics.median([r["cpu"] for r in rs])
        rss = max(r["maxrss_mb"] for r in rs)
        mods = [n for r in rs for n in per_host_modules(r).values()] if rs else [0]
        cmds = [len(v) for r in rs for h, v in (r["counts"].get("exec") or {}).items()] or [0]
        p("%-12s %9.2f %8.2f-%-8.2f %7.2f %10.1f %9.0f %10s %10s" % (
            name, w["median"], w["min"], w["max"], w["iqr"], cpu_s, rss,
            "%g" % statistics.median(mods) if min(mods) == max(mods) else "%g-%g" % (min(mods), max(mods)),
            "%g" % statistics.median(cmds)))
    p("")
    ratios = {
        "audit/ping": ratio_stats(walls["audit"], walls["ping"]),
        "naive/audit": ratio_stats(walls["naive"], walls["audit"]),
        "rem-check/ping": ratio_stats(walls["rem-check"], walls["ping"]),
        "rem-real/ping": ratio_stats(walls["rem-real"], walls["ping"]),
        "rem-again/ping": ratio_stats(walls["rem-again"], walls["ping"]),
    }
    p("%-16s %8s %15s" % ("ratio (per round)", "median", "min-max"))
    for k, v in ratios.items():
        p("%-16s %8.2f %7.2f-%-7.2f" % (k, v["median"], v["min"], v["max"]))

    # scan round trips: module calls of the scan task per host, every audit run
    scan_calls = [n for r in results["audit"]
                  for n in per_host_modules(r, lambda t, m: "scan" in m.split(".")[-1] or "collect" in m).values()]
    scan_per_host = [n for r in results["audit"] for n in per_host_modules(r).values()]
    p("")
    p("module round trips per host, counted (bench_count callback wraps ActionBase._execute_module):")
    p("  audit: %s collector call(s) per host for the scan (all %d audit runs x %d hosts), %s module call(s) "
      "per host in the whole play" % (sorted(set(scan_calls)), len(results["audit"]), args.bench_hosts,
                                      sorted(set(scan_per_host))))
    for name in ("naive", "rem-check", "rem-real", "rem-again"):
        detail = {}
        for r in results[name][:1]:
            for host, calls in sorted((r["counts"].get("module") or {}).items())[:1]:
                for task, module in calls:
                    detail[module] = detail.get(module, 0) + 1
        p("  %-9s per host: %s" % (name, ", ".join("%s x%d" % kv for kv in sorted(detail.items())) or "-"))

    p("")
    p("growth with N (median wall s of %d alternating rounds; N=%d from the main rounds):"
      % (args.scaling_rounds, args.bench_hosts))
    p("  %4s %8s %8s %11s" % ("N", "ping", "audit", "audit/ping"))
    for n in sorted(scaling):
        pw = [r["wall"] for r in scaling[n]["ping"]]
        aw = [r["wall"] for r in scaling[n]["audit"]]
        p("  %4d %8.2f %8.2f %11.2f" % (n, statistics.median(pw), statistics.median(aw),
                                        ratio_stats(aw, pw)["median"]))

    if catalog_runs["audit"]:
        p("")
        p("growth with the catalog (audit at N=%d, %d alternating rounds):" % (args.bench_hosts, args.catalog_rounds))
        for name, label in (("audit", "17 entries"), ("audit-1017", "1,017 entries")):
            rs = catalog_runs[name]
            p("  %-14s wall %6.2f s (%.2f-%.2f)  controller CPU %6.1f s  peak %5.0f MB" % (
                label, statistics.median([r["wall"] for r in rs]), min(r["wall"] for r in rs),
                max(r["wall"] for r in rs), statistics.median([r["cpu"] for r in rs]),
                max(r["maxrss_mb"] for r in rs)))
        p("  engine alone, per host (controller CPU ms, median of 5):")
        for label, t in engine.items():
            p("    %-14s %s" % (label, "  ".join("%s %.1f" % (k, v * 1000) for k, v in t.items())))

    p("")
    p("host-side CPU (user+sys) on %s, %d alternating runs each, median (min-max) ms:" % (fleet.names[0], args.cpu_repeats))
    for name, s in cpu.items():
        p("  %-44s %7.1f (%.1f-%.1f)" % (name, s["median"] * 1000, s["min"] * 1000, s["max"] * 1000))
    coll = cpu["collector code (in-process)"]["median"]
    module_cpu = cpu["collect module (AnsiballZ, as Ansible runs it)"]["median"]
    ping_cpu = cpu["ping module (AnsiballZ, as Ansible runs it)"]["median"]
    native = cpu["dpkg-query -W"]["median"]
    p("  collector code / dpkg-query -W: %.2f   collect module / ping module: %.2f   "
      "(collect module - ping module) / dpkg-query -W: %.2f"
      % (coll / native, module_cpu / ping_cpu, (module_cpu - ping_cpu) / native))

    if other:
        p("")
        p("other connection (%s), 3 rounds: ping %.2f s, audit %.2f s, audit/ping %.2f" % (
            other["name"], statistics.median([r["wall"] for r in other["ping"]]),
            statistics.median([r["wall"] for r in other["audit"]]),
            ratio_stats([r["wall"] for r in other["audit"]], [r["wall"] for r in other["ping"]])["median"]))

    report_ok = None
    if report_line is not None:
        p("")
        p("report generation (benchmarks/report_generation.py, rc=%d, %.1f s):" % (report_line["rc"], report_line["wall"]))
        for line in report_line["output"][-6:]:
            p("  " + line)
        # its "total" line: seconds of the untraced generation of every format (the script's wall time
        # also includes its second, tracemalloc-traced pass); rc != 0 means it saw a bound exceeded
        totals = [line.split() for line in report_line["output"] if line.strip().startswith("total")]
        try:
            report_line["total"] = float(totals[-1][1])
        except (IndexError, ValueError):
            report_line["total"] = report_line["wall"]
        report_ok = report_line["rc"] == 0 and report_line["total"] < 60

    # --- targets ---
    p("")
    p("targets:")
    targets = [
        ("audit/ping <= 1.2 at N=%d" % args.bench_hosts, ratios["audit/ping"]["median"] <= 1.2,
         "%.2f" % ratios["audit/ping"]["median"]),
        ("naive/audit >= 3", ratios["naive/audit"]["median"] >= 3, "%.2f" % ratios["naive/audit"]["median"]),
        ("collector CPU <= 2x dpkg-query -W (collector code)", coll <= 2 * native, "%.2fx" % (coll / native)),
        ("one module round trip per host for the scan", set(scan_calls) == {1}, str(sorted(set(scan_calls)))),
    ]
    if report_ok is not None:
        targets.append(("report generation, 10,000 hosts < 60 s", report_ok,
                        "%.1f s (bounded memory: rc=%d)" % (report_line["total"], report_line["rc"])))
    else:
        targets.append(("report generation, 10,000 hosts < 60 s", None, "benchmarks/report_generation.py missing"))
    failed = False
    for name, ok, value in targets:
        word = "SKIP" if ok is None else ("PASS" if ok else "FAIL")
        failed = failed or ok is False
        p("  %-4s %-46s %s" % (word, name, value))
    if problems:
        p("")
        p("problems seen in the runs:")
        for line in problems:
            p("  " + line)
    p("")
    p("total benchmark time: %.0f s%s" % (time.time() - t_start, "; work dir kept: %s" % workdir if args.keep else ""))
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
