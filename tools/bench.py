#!/usr/bin/env python3
"""tools/bench.py -- the measuring half of `make bench` (tools/bench.sh prepares
the work directory, decides how crun can run, and cleans up after it).

Runs apus, runc and crun (and apus built with -DAPUS_BENCH_UNPROTECTED) on the
same busybox bundle, interleaved: every round runs each runtime once per
operation, the runtime order rotating round by round, so machine noise hits
all of them alike. Each timed command is posix_spawn'ed and reaped with
wait4(): wall time around the two calls; CPU time (user + system) and peak
RSS from the rusage wait4 returns. That rusage covers the command and every
descendant it reaped itself (for `run`: the container's init); ru_maxrss is
the largest single process of that tree, not a sum -- what `/usr/bin/time -f
%M` prints, since it reads the same rusage. Syscalls per operation: one extra
run of each under `strace -f -c` (all threads and children, the container's
process included for `run`).

Operations: version, state (of a running container), run /bin/true with
1/10/100 bind mounts added to the spec's defaults, run with 1 mount again
while BENCH_LOAD_HOGS (default: one per CPU) CPU-bound processes spin (started
for that measurement only, killed right after; each also dies with this
process, PR_SET_PDEATHSIG), exec true, the orchestrator
sequence create -> start -> state -> kill -> delete (separate invocations; the
untimed wait for `stopped` between kill and delete is what a shim does on the
exit event), N containers created concurrently then deleted concurrently,
state and list with 0, 100, 1,000 other containers in the state root. Those
others are real containers of each runtime, in its own format: created, then
their init killed (stopped), so no process per container is kept.

Writes the table to stdout and everything (every sample) as JSON to --out.
"""

import argparse
import ctypes
import json
import os
import shutil
import signal
import subprocess
import sys
import time

p = argparse.ArgumentParser()
p.add_argument("--work", required=True)
p.add_argument("--prefix", required=True, help="every container id starts with it")
p.add_argument("--runtime", action="append", default=[], help="NAME=BINARY, in table order")
p.add_argument("--out", required=True)
p.add_argument("--note", action="append", default=[])
p.add_argument("--quick", action="store_true")
A = p.parse_args()

RT = []
BIN = {}
for spec in A.runtime:
    name, _, path = spec.partition("=")
    RT.append(name)
    BIN[name] = path
WORK = A.work
ROOT = {n: os.path.join(WORK, "root-" + n) for n in RT}
ERR = os.path.join(WORK, "last.err")
ENV = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "HOME": "/root"}

if A.quick:
    K = dict(rounds=3, warmup=1, fast_rounds=5, mounts=[1, 10, 100], others=[0, 10], concurrent=10, concurrent_rounds=1)
else:
    K = dict(rounds=int(os.environ.get("BENCH_ROUNDS", 40)), warmup=3, fast_rounds=int(os.environ.get("BENCH_FAST_ROUNDS", 50)),
             mounts=[1, 10, 100], others=[0, 100, 1000], concurrent=100, concurrent_rounds=3)
K["load_hogs"] = int(os.environ.get("BENCH_LOAD_HOGS", os.cpu_count()))
# growing the state roots to 1,000 stopped containers per runtime stops
# early past this many seconds (the table then names the N reached)
POPULATE_BUDGET = float(os.environ.get("BENCH_POPULATE_SECONDS", 900))


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


def spawn(argv):
    """Start argv with stdin/stdout on /dev/null, stderr to ERR-<pid>."""
    acts = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, ERR, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)]
    return os.posix_spawn(argv[0], argv, ENV, file_actions=acts)


def timed(argv, check=True):
    """One run: (wall s, cpu s, peak rss kB, exit code)."""
    open(ERR, "w").close()
    t0 = time.perf_counter()
    pid = spawn(argv)
    _, status, ru = os.wait4(pid, 0)
    wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    if check and rc != 0:
        raise BenchError("%s exited %d: %s" % (" ".join(argv), rc, open(ERR).read().strip()))
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss, rc


def run(argv, check=True):
    return timed(argv, check)[3]


def cmd(rt, *args):
    return [BIN[rt], "--root", ROOT[rt]] + list(args)


def output(argv):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=ENV).stdout


def status(rt, cid):
    try:
        return json.loads(output(cmd(rt, "state", cid)))["status"]
    except (ValueError, KeyError):
        return "gone"


def gone(rt, cid):
    if os.path.exists(os.path.join(ROOT[rt], cid)):
        run(cmd(rt, "delete", "--force", cid))
        if os.path.exists(os.path.join(ROOT[rt], cid)):
            raise BenchError("%s: %s still exists after delete --force" % (rt, cid))


def wait_status(rt, cid, want, seconds=20):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if status(rt, cid) == want:
            return
        time.sleep(0.005)
    raise BenchError("%s: %s is not %s after %ds" % (rt, cid, want, seconds))


def syscalls(argv, follow=True):
    """Syscalls of one run of argv (strace -c), with its children (-f) unless
    follow is False: a `create` leaves its init behind, which strace -f would
    wait for (and detaching it on a signal kills it)."""
    out = os.path.join(WORK, "strace.txt")
    open(ERR, "w").close()
    pid = spawn(["/usr/bin/strace"] + (["-f"] if follow else []) + ["-c", "-o", out] + argv)
    _, st, _ = os.wait4(pid, 0)
    if os.waitstatus_to_exitcode(st) != 0:
        raise BenchError("%s exited %d: %s" % (" ".join(argv), os.waitstatus_to_exitcode(st), open(ERR).read().strip()))
    for line in open(out):
        f = line.split()
        if f and f[-1] == "total":
            return int(f[3])
    raise BenchError("no total in strace -c output for " + " ".join(argv))


def peak_rss(argv, follow=True):
    """Peak RSS (kB) of one run of argv: /usr/bin/time -f %M, i.e. wait4's
    ru_maxrss of the child time forks -- the largest process of the tree
    that child reaps, time's own pre-exec image (about 1 MB, the
    "/bin/true" row) as a floor. Not taken in the timed runs: a child
    posix_spawn'ed from this Python would report Python's image instead."""
    out = os.path.join(WORK, "time.txt")
    run(["/usr/bin/time", "-f", "%M", "-o", out] + argv)
    return int(open(out).read().split()[-1])


def alive(pid):
    try:
        return open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False


def cpu_ticks(pid):
    """user + system CPU of pid, in clock ticks (0 once it is gone)"""
    try:
        f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
        return int(f[11]) + int(f[12])
    except OSError:
        return 0


def quantile(xs, q):
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, int(round(q * len(s) + 0.5)) - 1))]


# --- the measured operations ------------------------------------------------
# Each op(rt) returns {"wall": s, "cpu": s, "rss": kB} for one run (untimed
# preparation and cleanup inside), and sc(rt) its syscall count.
SLEEP = os.path.join(WORK, "bundle-sleep")


def bundle_true(m):
    return os.path.join(WORK, "bundle-true-m%d" % m)


def sid(rt):
    return "%s-%s-sleep" % (A.prefix, rt)


def one(argv):
    w, c, r, _ = timed(argv)
    return {"wall": w, "cpu": c, "rss": r}


def op_version(rt):
    return one([BIN[rt], "--version"])


def op_state(rt):
    return one(cmd(rt, "state", sid(rt)))


def op_exec(rt):
    return one(cmd(rt, "exec", sid(rt), "true"))


def op_list(rt):
    return one(cmd(rt, "list"))


def run_once(rt, m, probe):
    cid = "%s-%s-run" % (A.prefix, rt)
    gone(rt, cid)
    r = probe(cmd(rt, "run", "--bundle", bundle_true(m), cid))
    gone(rt, cid)
    return r


def op_run(m):
    return lambda rt: run_once(rt, m, one)


def sc_run(m):
    return lambda rt, probe=syscalls: run_once(rt, m, probe)


# a CPU hog: killed with its parent (checked: the parent may be gone before prctl), then spins
HOG = """import ctypes, os, sys
if ctypes.CDLL(None).prctl(1, 9) != 0 or os.getppid() != int(sys.argv[1]): sys.exit(1)
while True: pass"""
HOG_PIDS = []   # every hog started, for the JSON (the self-test checks none is left)


def under_load(name, op, sc):
    """measure() beside K["load_hogs"] CPU hogs, started here and killed
    afterwards whatever happens."""
    pids = [spawn([sys.executable, "-c", HOG, str(os.getpid()), A.prefix + "-hog"]) for _ in range(K["load_hogs"])]
    HOG_PIDS.extend(pids)
    try:
        end = time.monotonic() + 20
        while not all(cpu_ticks(pid) >= 10 for pid in pids):   # each spinning: 100 ms of CPU used
            if time.monotonic() > end or not all(alive(pid) for pid in pids):
                raise BenchError("the CPU hogs did not start spinning within 20 s")
            time.sleep(0.01)
        measure(name, op, K["rounds"], sc=sc)
        if not all(alive(pid) for pid in pids):
            raise BenchError("a CPU hog exited during " + name)
    finally:
        for pid in pids:
            os.kill(pid, 9)
        for pid in pids:
            os.waitpid(pid, 0)


LC_STEPS = ["create", "start", "state", "kill", "delete"]


def lifecycle(rt, measure):
    cid = "%s-%s-lc" % (A.prefix, rt)
    gone(rt, cid)
    steps = {}
    if measure in (syscalls, peak_rss):
        steps["create"] = measure(cmd(rt, "create", "--bundle", SLEEP, cid), follow=False)
    else:
        steps["create"] = measure(cmd(rt, "create", "--bundle", SLEEP, cid))
    steps["start"] = measure(cmd(rt, "start", cid))
    steps["state"] = measure(cmd(rt, "state", cid))
    steps["kill"] = measure(cmd(rt, "kill", cid, "KILL"))
    wait_status(rt, cid, "stopped")
    steps["delete"] = measure(cmd(rt, "delete", cid))
    if os.path.exists(os.path.join(ROOT[rt], cid)):
        raise BenchError("%s: delete left %s" % (rt, cid))
    return steps


def op_lifecycle(rt):
    steps = lifecycle(rt, one)
    r = {"wall": sum(s["wall"] for s in steps.values()), "cpu": sum(s["cpu"] for s in steps.values()),
         "rss": max(s["rss"] for s in steps.values())}
    r["steps"] = {k: v["wall"] for k, v in steps.items()}
    return r


def sc_lifecycle(rt, probe=syscalls):
    r = lifecycle(rt, probe).values()
    return sum(r) if probe is syscalls else max(r)


def op_concurrent(rt):
    """N creates started at once, all reaped; then N deletes at once."""
    n = K["concurrent"]
    ids = ["%s-%s-c%d" % (A.prefix, rt, i) for i in range(n)]
    for cid in ids:
        gone(rt, cid)
    r = {}
    for phase, argv_of in (("create", lambda c: cmd(rt, "create", "--bundle", SLEEP, c)),
                           ("delete", lambda c: cmd(rt, "delete", c))):
        open(ERR, "w").close()
        t0 = time.perf_counter()
        pids = [spawn(argv_of(c)) for c in ids]
        cpu, rss, bad = 0.0, 0, 0
        for pid in pids:
            _, st, ru = os.wait4(pid, 0)
            cpu += ru.ru_utime + ru.ru_stime
            rss = max(rss, ru.ru_maxrss)
            bad += os.waitstatus_to_exitcode(st) != 0
        r[phase] = {"wall": time.perf_counter() - t0, "cpu": cpu, "rss": rss}
        if bad:
            err = open(ERR).read().strip().splitlines()
            raise BenchError("%s: %d of %d concurrent %ss failed: %s" % (rt, bad, n, phase, err[:1]))
    for cid in ids:
        if os.path.exists(os.path.join(ROOT[rt], cid)):
            raise BenchError("%s: concurrent delete left %s" % (rt, cid))
    return r


# --- rounds ---------------------------------------------------------------------
RESULTS = {}   # op name -> runtime -> {"wall": [...], "cpu": [...], "rss": [...], "syscalls": n, "steps": {...}}


def measure(name, op, rounds, sc=None, runtimes=None, warmup=None):
    runtimes = runtimes or RT
    warmup = K["warmup"] if warmup is None else warmup
    res = RESULTS.setdefault(name, {})
    for rt in runtimes:
        res[rt] = {"wall": [], "cpu": [], "rss": []}
    for i in range(warmup + rounds):
        k = i % len(runtimes)
        for rt in runtimes[k:] + runtimes[:k]:
            r = op(rt)
            if i < warmup:
                continue
            for key in ("wall", "cpu", "rss"):
                res[rt][key].append(r[key])
            for step, w in r.get("steps", {}).items():
                res[rt].setdefault("steps", {}).setdefault(step, []).append(w)
    for rt in runtimes:
        if sc:
            res[rt]["syscalls"], res[rt]["peak_rss_kb"] = sc(rt), sc(rt, peak_rss)
        else:
            res[rt]["syscalls"], res[rt]["peak_rss_kb"] = syscalls(op_argv[name](rt)), peak_rss(op_argv[name](rt))
    log("%-28s %s" % (name, "  ".join("%s %.2f ms" % (rt, 1000 * quantile(res[rt]["wall"], 0.5)) for rt in runtimes)))


op_argv = {}


def populate(target):
    """Grow every runtime's root to `target` stopped containers (interleaved,
    4 at a time); returns the number reached by all (time-bounded)."""
    have = min(len(POP[rt]) for rt in MAIN)
    end = time.monotonic() + POPULATE_BUDGET
    while have < target and time.monotonic() < end:
        batch = min(4, target - have)
        for rt in MAIN:
            ids = ["%s-%s-o%d" % (A.prefix, rt, have + j) for j in range(batch)]
            pids = [spawn(cmd(rt, "create", "--bundle", SLEEP, c)) for c in ids]
            for pid in pids:
                _, st, _ = os.wait4(pid, 0)
                if st != 0:
                    raise BenchError("%s: create of a filler container failed: %s" % (rt, open(ERR).read().strip()))
            pids = [spawn(cmd(rt, "kill", c, "KILL")) for c in ids]
            for pid in pids:
                os.wait4(pid, 0)
            POP[rt].extend(ids)
        have += batch
    return have


POP = {rt: [] for rt in RT}
# apus-unprotected only where the protection acts (create/run/exec)
MAIN = [rt for rt in RT if rt != "apus-unprotected"]


def drain(rt):
    ids = POP[rt]
    for i in range(0, len(ids), 4):
        pids = [spawn(cmd(rt, "delete", "--force", c)) for c in ids[i:i + 4]]
        for pid in pids:
            os.wait4(pid, 0)
    POP[rt] = []


def main():
    t_start = time.time()
    for rt in RT:
        os.makedirs(ROOT[rt], exist_ok=True)
        run(cmd(rt, "create", "--bundle", SLEEP, sid(rt)))
        run(cmd(rt, "start", sid(rt)))
        wait_status(rt, sid(rt), "running")
    op_argv.update({"version": lambda rt: [BIN[rt], "--version"],
                    "exec": lambda rt: cmd(rt, "exec", sid(rt), "true")})
    op_argv["/bin/true (floor)"] = lambda rt: ["/bin/true"]
    measure("/bin/true (floor)", lambda rt: one(["/bin/true"]), K["fast_rounds"], runtimes=MAIN[:1])
    measure("version", op_version, K["fast_rounds"], runtimes=MAIN)
    measure("exec", op_exec, K["rounds"])
    if "apus" in RT:   # apus's own read-only query of a running container (no runc/crun counterpart)
        op_argv["inspect (apus only)"] = lambda rt: cmd(rt, "inspect", "--format", "json", sid(rt))
        measure("inspect (apus only)", lambda rt: one(op_argv["inspect (apus only)"](rt)), K["fast_rounds"],
                runtimes=["apus"])
    for m in K["mounts"]:
        measure("run (%d mounts)" % m, op_run(m), K["rounds"], sc=sc_run(m))
    if K["load_hogs"] > 0:
        under_load(LOADED, op_run(1), sc_run(1))
    measure("create-start-state-kill-delete", op_lifecycle, K["rounds"], sc=sc_lifecycle)
    measure("%d concurrent creates, deletes" % K["concurrent"], op_concurrent_wrap, K["concurrent_rounds"],
            sc=lambda rt, probe=None: None, warmup=0, runtimes=MAIN)
    reached = []
    for n in K["others"]:
        got = populate(n)
        reached.append(got)
        op_argv["state (%d others)" % got] = lambda rt: cmd(rt, "state", sid(rt))
        op_argv["list (%d others)" % got] = lambda rt: cmd(rt, "list")
        measure("state (%d others)" % got, op_state, K["fast_rounds"], runtimes=MAIN)
        measure("list (%d others)" % got, op_list, K["rounds"], runtimes=MAIN)
        if got < n:
            log("populating stopped at %d containers per runtime (BENCH_POPULATE_SECONDS=%d)" % (got, POPULATE_BUDGET))
            break
    for rt in RT:
        drain(rt)
        gone(rt, sid(rt))
    return time.time() - t_start, reached


def op_concurrent_wrap(rt):
    r = op_concurrent(rt)
    return {"wall": r["create"]["wall"] + r["delete"]["wall"], "cpu": r["create"]["cpu"] + r["delete"]["cpu"],
            "rss": max(r["create"]["rss"], r["delete"]["rss"]),
            "steps": {"create": r["create"]["wall"], "delete": r["delete"]["wall"]}}


# --- report ---------------------------------------------------------------------
def summary():
    out = {}
    for name, res in RESULTS.items():
        row = {}
        for rt, d in res.items():
            if rt.startswith("_"):
                continue
            s = {"median_ms": 1000 * quantile(d["wall"], 0.5), "p95_ms": 1000 * quantile(d["wall"], 0.95),
                 "cpu_ms": 1000 * quantile(d["cpu"], 0.5), "peak_rss_kb": d["peak_rss_kb"],
                 "syscalls": d["syscalls"], "runs": len(d["wall"])}
            if "steps" in d:
                s["steps_median_ms"] = {k: 1000 * quantile(v, 0.5) for k, v in d["steps"].items()}
            row[rt] = s
        for rt in row:
            if rt.startswith("apus"):
                for base in ("crun", "runc"):
                    if base in row:
                        row[rt]["vs_" + base] = row[rt]["median_ms"] / row[base]["median_ms"]
        out[name] = row
    return out


def fmt(x, f):
    return "-" if x is None else f % x


def table(S):
    lines = []
    hdr = "%-32s %-16s %9s %9s %7s %7s %8s %8s %8s" % ("operation", "runtime", "median ms", "p95 ms", "/crun", "/runc",
                                                     "RSS MB", "syscalls", "CPU ms")
    lines += [hdr, "-" * len(hdr)]
    for name, row in S.items():
        first = True
        for rt in RT:
            if rt not in row:
                continue
            s = row[rt]
            lines.append("%-32s %-16s %9.2f %9.2f %7s %7s %8s %8s %8.2f" % (
                name if first else "", rt, s["median_ms"], s["p95_ms"], fmt(s.get("vs_crun"), "%.2fx"),
                fmt(s.get("vs_runc"), "%.2fx"), fmt(s["peak_rss_kb"] and s["peak_rss_kb"] / 1024, "%.1f"), fmt(s["syscalls"], "%d"), s["cpu_ms"]))
            first = False
    return lines


def cve_lines(S):
    if "apus-unprotected" not in RT:
        return []
    lines = ["CVE-2019-5736 protection (re-exec from a sealed copy): apus - apus built with -DAPUS_BENCH_UNPROTECTED"]
    for name in ("run (1 mounts)", "exec", "create-start-state-kill-delete"):
        if name in S and "apus-unprotected" in S[name]:
            p, u = S[name]["apus"]["median_ms"], S[name]["apus-unprotected"]["median_ms"]
            lines.append("  %-32s %+7.2f ms  (%.2f vs %.2f ms median)" % (name, p - u, p, u))
    return lines


LOADED = "run (1 mounts) under load"
TARGETS = [  # op, what, limit
    ("run (1 mounts)", "median vs crun", 0.9),
    (LOADED, "median vs crun", 0.9),
    ("create-start-state-kill-delete", "median vs crun", 1.0),
    ("exec", "median vs crun", 0.9),
    ("state (0 others)", "median vs crun", 0.5),
    ("run (1 mounts)", "peak RSS vs crun", 1.0),
    ("version", "median ms", 1.5),
]


def targets(S):
    lines, out = ["targets (issue #21)"], []
    for name, what, limit in TARGETS:
        a = S.get(name, {}).get("apus")
        if not a:
            continue
        if what == "median ms":
            v = a["median_ms"]
        elif what == "peak RSS vs crun":
            v = a["peak_rss_kb"] / S[name]["crun"]["peak_rss_kb"] if "crun" in S[name] else None
        else:
            v = a.get("vs_crun")
        if v is None:
            continue
        ok = v <= limit
        out.append({"operation": name, "measure": what, "value": v, "limit": limit, "met": ok})
        lines.append("  %-4s %-32s %-17s %6.2f (limit %.2f%s)" % ("met" if ok else "MISS", name, what, v, limit,
                                                               "" if ok else ", %.0f%% over" % (100 * (v / limit - 1))))
    return lines, out


def loadavg():
    return open("/proc/loadavg").read().split()[:3]


if __name__ == "__main__":
    # TERMed when the shell that started this is (bench.sh's cleanup TERMs
    # that one), so the CPU hogs (PR_SET_PDEATHSIG too) go with it
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)
    load0 = loadavg()
    log("runtimes: %s; %s mode; load average %s on %d CPUs" % (", ".join(RT), "quick" if A.quick else "full",
                                                                " ".join(load0), os.cpu_count()))
    try:
        secs, reached = main()
    except BenchError as e:
        log("failed: %s" % e)
        sys.exit(1)
    load1 = loadavg()
    S = summary()
    t, tj = targets(S)
    versions = {rt: output([BIN[rt], "--version"]).splitlines()[0] if output([BIN[rt], "--version"]) else "?" for rt in RT}
    doc = {"schema": "apus-bench/1", "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "quick": A.quick, "prefix": A.prefix, "knobs": K, "cpus": os.cpu_count(), "load_before": load0, "load_after": load1,
           "seconds": secs, "runtimes": {rt: {"binary": BIN[rt], "version": versions[rt]} for rt in RT},
           "others_reached": reached, "hog_pids": HOG_PIDS, "notes": A.note, "summary": S, "targets": tj,
           "samples": {n: {rt: {k: v for k, v in d.items()} for rt, d in r.items() if not rt.startswith("_")}
                       for n, r in RESULTS.items()}}
    os.makedirs(os.path.dirname(os.path.abspath(A.out)), exist_ok=True)
    with open(A.out, "w") as f:
        json.dump(doc, f, indent=1)
    print()
    print("make bench: %s; load average %s before, %s after, %d CPUs; %.0f s" % (
        "QUICK (few runs, small N: a smoke test, not a measurement)" if A.quick else "full", " ".join(load0),
        " ".join(load1), os.cpu_count(), secs))
    print("\n".join(table(S)))
    print("(wall: median and p95 over interleaved runs; /crun, /runc: apus median over theirs, below 1.00x apus is "
          "faster; RSS: /usr/bin/time -f %M of one run (largest process of the tree; /usr/bin/time's own ~1 MB is the floor, see /bin/true); syscalls: "
          "one run under strace -f -c (the sequence: its create without -f, the init it leaves would hold strace); CPU: user+sys of the tree, median"
          + ("; under load: beside %d CPU-bound processes" % K["load_hogs"] if K["load_hogs"] else "") + ")")
    for line in cve_lines(S) + t:
        print(line)
    for n in A.note:
        print(n)
    print("JSON: %s" % A.out)
