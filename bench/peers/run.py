#!/usr/bin/env python3
# Copyright 2026 The gort Authors. BSD-style license (see LICENSE).
"""bench/peers driver: run binary-trees 16 and 18, GCBench and ring against
gort, Boehm GC and glibc, each (program, configuration) -count times, the
configurations alternated within each round (their order rotates from one
round to the next), and print one table of medians and the gort/Boehm
ratios. run.sh builds the programs and calls this; see README.md.

Each run is a separate process: wall time from fork to wait4; peak RSS
(VmHWM), collections and pauses from the one line it prints (shim.h)."""

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

USAGE = """usage: run.sh [-count=N] [-quick] [-only=REGEXP] [-v]
  -count=N      runs of each (program, configuration); medians are shown (default 3)
  -quick        smoke sizes: binary-trees 10 and 12, ring 40 ops, GCBench as is, -count=1
  -only=REGEXP  only the programs whose name matches (binarytrees16, binarytrees18, gcbench, ring)
  -v            print every run's line as it finishes"""


def parse_args(argv):
    opts = {"count": 3, "quick": False, "only": None, "verbose": False, "bindir": None}
    count_given = False
    for a in argv:
        a2 = a.lstrip("-")
        if a2.startswith("bindir="):
            opts["bindir"] = a2.split("=", 1)[1]
        elif a2.startswith("count="):
            try:
                opts["count"] = int(a2.split("=", 1)[1])
            except ValueError:
                sys.exit("peers: -count wants a number\n" + USAGE)
            if opts["count"] < 1:
                sys.exit("peers: -count wants a number >= 1")
            count_given = True
        elif a2 == "quick":
            opts["quick"] = True
        elif a2.startswith("only="):
            opts["only"] = re.compile(a2.split("=", 1)[1])
        elif a2 == "v":
            opts["verbose"] = True
        elif a2 in ("h", "help"):
            print(USAGE)
            sys.exit(0)
        else:
            sys.exit("peers: unknown flag %s\n%s" % (a, USAGE))
    if opts["quick"] and not count_given:
        opts["count"] = 1
    if opts["bindir"] is None:
        sys.exit("peers: -bindir=DIR (the build's bench/peers) is required; run.sh passes it")
    return opts


# Configurations: (label, backend, environment). The gort ones set the
# sweep mode explicitly; "stw sweep" is GODEBUG=concurrentsweep=0.
CONFIGS = [
    ("gort P=1", "gort", {"GOMAXPROCS": "1", "GODEBUG": "concurrentsweep=1"}),
    ("gort P=2", "gort", {"GOMAXPROCS": "2", "GODEBUG": "concurrentsweep=1"}),
    ("gort P=1 stw-sweep", "gort", {"GOMAXPROCS": "1", "GODEBUG": "concurrentsweep=0"}),
    ("gort P=2 stw-sweep", "gort", {"GOMAXPROCS": "2", "GODEBUG": "concurrentsweep=0"}),
    ("boehm markers=1", "boehm", {"GC_MARKERS": "1"}),
    ("boehm markers=2", "boehm", {"GC_MARKERS": "2"}),
    ("glibc", "glibc", {}),
]
STW = ("gort P=1 stw-sweep", "gort P=2 stw-sweep")


def programs(quick):
    # (name, executable stem, args, configurations): the stw-sweep modes
    # only for ring (the pause comparison in both sweep modes).
    normal = [c[0] for c in CONFIGS if c[0] not in STW]
    allc = [c[0] for c in CONFIGS]
    if quick:
        return [
            ("binarytrees10", "binarytrees", ["10"], normal),
            ("binarytrees12", "binarytrees", ["12"], normal),
            ("gcbench", "gcbench", [], normal),
            ("ring", "ring", ["40"], allc),
        ]
    return [
        ("binarytrees16", "binarytrees", ["16"], normal),
        ("binarytrees18", "binarytrees", ["18"], normal),
        ("gcbench", "gcbench", [], normal),
        ("ring", "ring", ["2000"], allc),
    ]


LINE = re.compile(r"^peers: (.*)$", re.M)


def run_child(path, args, env_extra):
    """Fork/exec path with args; return (ok, wall s, maxrss KB, fields, stderr, wait status)."""
    env = dict(os.environ)
    env.update(env_extra)
    rfd, wfd = os.pipe()
    errf = tempfile.TemporaryFile()
    t0 = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            os.dup2(wfd, 1)
            os.dup2(errf.fileno(), 2)
            os.execve(path, [path] + args, env)
        finally:
            os._exit(127)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as f:
        out = f.read()
    _, status, ru = os.wait4(pid, 0)
    t1 = time.monotonic()
    fields = {}
    m = LINE.search(out.decode(errors="replace"))
    if m:
        for kv in m.group(1).split():
            k, _, v = kv.partition("=")
            fields[k] = v
    errf.seek(0)
    err = errf.read()[-4000:]
    errf.close()
    ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and m is not None
    return ok, t1 - t0, ru.ru_maxrss, fields, err.decode(errors="replace"), status


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def main():
    opts = parse_args(sys.argv[1:])
    bindir = opts["bindir"]
    progs = programs(opts["quick"])
    if opts["only"] is not None:
        progs = [p for p in progs if opts["only"].search(p[0])]
        if not progs:
            sys.exit("peers: no program matches -only")
    haveboehm = os.path.exists(os.path.join(bindir, "peer_binarytrees_boehm"))
    configs = [c for c in CONFIGS if haveboehm or c[1] != "boehm"]
    cfgenv = {c[0]: c for c in configs}
    if not haveboehm:
        print("# Boehm GC (libgc-dev, pkg-config bdw-gc) not found: its configurations and the ratios are skipped")

    ncpu = os.cpu_count()
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    print("# bench/peers: %d CPUs (%s); -count=%d, medians; configurations alternated in each round, their order rotating"
          % (ncpu, cpu, opts["count"]))
    print("# GOGC=%s; gort: GOMAXPROCS=P (P mark workers), GODEBUG=concurrentsweep=1 (stw-sweep: =0);"
          " Boehm: GC_MARKERS, interior pointers off; glibc: malloc/free, trees freed explicitly"
          % os.environ.get("GOGC", "100"))
    sys.stdout.flush()

    results = {}   # (prog, config) -> list of dicts
    failures = []
    start = time.monotonic()
    for rnd in range(opts["count"]):
        for (name, stem, args, cfgs) in progs:
            cfgs = [c for c in cfgs if c in cfgenv]
            k = rnd % len(cfgs)
            order = cfgs[k:] + cfgs[:k]
            for label in order:
                _, backend, env = cfgenv[label]
                path = os.path.join(bindir, "peer_%s_%s" % (stem, backend))
                ok, wall, rss, fields, err, status = run_child(path, args, env)
                if not ok:
                    failures.append("%s / %s: status %d: %s" % (name, label, status, err.strip()[-400:]))
                    print("# FAILED %s / %s (wait status %d): %s" % (name, label, status, err.strip()[-400:]))
                    sys.stdout.flush()
                    continue
                gcs = int(fields.get("gcs", 0))
                tot = int(fields.get("pause_total_ns", 0))
                r = {
                    "wall": wall,
                    # VmHWM from the child (ru_maxrss carries the driver's
                    # own high-water mark across the fork and exec).
                    "rss": int(fields.get("vmhwm_kb", rss)) / 1024.0,
                    "gcs": gcs,
                    "mean": (tot / gcs / 1e6) if gcs else None,
                    "max": (int(fields.get("pause_max_ns", 0)) / 1e6) if gcs else None,
                    "exact": fields.get("pause_max_exact", "1") == "1",
                    "check": fields.get("check"),
                }
                results.setdefault((name, label), []).append(r)
                if opts["verbose"]:
                    print("# round %d %-14s %-20s wall %.3f s  rss %.1f MB  gcs %d  mean %s ms  max %s ms  check %s"
                          % (rnd + 1, name, label, r["wall"], r["rss"], gcs, fmt(r["mean"], ".2f"),
                             fmt(r["max"], ".2f"), r["check"]))
                    sys.stdout.flush()

    def med(name, label, key):
        rs = results.get((name, label))
        if not rs:
            return None
        vals = [r[key] for r in rs if r[key] is not None]
        return statistics.median(vals) if vals else None

    print()
    hdr = "%-14s %-20s %8s %12s %6s %14s %13s" % ("program", "config", "wall s", "peak RSS MB", "GCs",
                                                 "mean pause ms", "max pause ms")
    print(hdr)
    print("-" * len(hdr))
    inexact = False
    checks_differ = []
    for (name, stem, args, cfgs) in progs:
        seen = set()
        for label in [c for c in cfgs if c in cfgenv]:
            rs = results.get((name, label))
            if not rs:
                print("%-14s %-20s %8s" % (name, label, "failed"))
                continue
            seen.update(r["check"] for r in rs)
            gcs = med(name, label, "gcs")
            mx = med(name, label, "max")
            star = "" if all(r["exact"] for r in rs) else "*"
            if star:
                inexact = True
            print("%-14s %-20s %8.3f %12.1f %6s %14s %13s" % (
                name, label, med(name, label, "wall"), med(name, label, "rss"),
                "%d" % gcs if label != "glibc" else "-",
                fmt(med(name, label, "mean"), ".2f"), fmt(mx, ".2f") + star))
        if len(seen) > 1:
            checks_differ.append(name)
    if inexact:
        print("* max of the last 256 pauses only (MemStats.PauseNs holds 256)")
    # Runs of one configuration that collected very differently (a
    # bimodal program): each column's median is taken on its own.
    for (name, stem, args, cfgs) in progs:
        for label in cfgs:
            rs = results.get((name, label)) or []
            g = [r["gcs"] for r in rs if r["gcs"]]
            if len(g) > 1 and max(g) > 1.25 * min(g):
                print("# note: %s / %s: collections differ between runs (%s); each column is its own median"
                      % (name, label, " ".join(str(r["gcs"]) for r in rs)))
    for name in checks_differ:
        print("# WARNING: %s: the backends' checksums differ" % name)

    if haveboehm:
        print()
        print("gort/Boehm (< 1: gort better)      wall P=1/m=1  wall P=2/m=2   RSS P=1/m=1   RSS P=2/m=2")

        def ratio(name, a, b, key):
            x, y = med(name, a, key), med(name, b, key)
            if x is None or y is None or y == 0:
                return "-"
            return "%.2fx" % (x / y)

        for (name, stem, args, cfgs) in progs:
            print("%-34s %12s  %12s  %12s  %12s" % (
                name,
                ratio(name, "gort P=1", "boehm markers=1", "wall"),
                ratio(name, "gort P=2", "boehm markers=2", "wall"),
                ratio(name, "gort P=1", "boehm markers=1", "rss"),
                ratio(name, "gort P=2", "boehm markers=2", "rss")))
        ring = [p for p in progs if p[0] == "ring"]
        if ring:
            print()
            print("ring mean pause, gort/Boehm at equal markers (target <= 1)")
            for (a, b) in [("gort P=1", "boehm markers=1"), ("gort P=1 stw-sweep", "boehm markers=1"),
                           ("gort P=2", "boehm markers=2"), ("gort P=2 stw-sweep", "boehm markers=2")]:
                x, y = med("ring", a, "mean"), med("ring", b, "mean")
                if x is None or y is None:
                    continue
                print("  %-20s %8.2f ms  vs %-16s %8.2f ms   = %.2fx" % (a, x, b, y, x / y))
    print()
    print("# total %.1f s%s" % (time.monotonic() - start, ", %d FAILED runs" % len(failures) if failures else ""))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
