#!/usr/bin/python3
"""search_profile.py: where the search time goes, Valori against hnswlib, sampled by perf in one process.

Usage: search_profile.py --bin DIR [--hz 1999] [--mode full] -- PAIR_BENCH_ARGS...

Runs DIR/pair_bench PAIR_BENCH_ARGS under `perf record -e cpu-clock` with sampling switched on only
for the search rounds (pair_bench calls bench_perf_mark around them; the FIFOs come through
BENCH_PERF_CTL), then reads `perf report` and prints JSON lines (the protocol of bench/common.h):

  kind "profile"          one per (engine, symbol): engine (valori | hnswlib | harness | system),
                          symbol, role (see ROLES), samples, share (of the engine's samples)
  kind "profile-summary"  one per engine: samples, share (of all the rounds' samples), hz, and the
                          pair_bench arguments
  kind "profile-error"    perf is missing or cannot sample here: reason (the report says so)

Both engines run the same queries in the same rounds (passes alternating), so the engines' sample
counts stand in the ratio of their CPU times, and within an engine the roles say where its time
goes: the distance kernel, the level-0 beam, the greedy descent of the upper levels, heaps, the
query's conversion. pair_bench's own JSON rows are dropped (a sampled run is not a timing).
Exit status: 0 (also when perf is unavailable: one profile-error row), 2 on usage errors, 1 if
pair_bench or perf report fails.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# (role, pattern on the symbol): the first match names the part of a search a symbol does.
ROLES = (
    ("distance kernel", re.compile(r"l2sq|ip_|dot|L2Sqr|InnerProduct|dist_q|kernel", re.I)),
    ("level-0 beam", re.compile(r"search_layer|searchBaseLayer")),
    ("greedy descent", re.compile(r"greedy|searchKnn")),
    ("heaps and result order", re.compile(r"heap|priority_queue|take_results|sort", re.I)),
    ("query conversion", re.compile(r"cvt|vec_from|vec_whole|to_q16", re.I)),
    ("visited marks", re.compile(r"visited|VisitedList|next_epoch", re.I)),
)


def engine_of(dso, sym):
    """Which engine a sample belongs to. Valori's core is C; everything C++ in pair_bench is hnswlib's
    (its templates and the std containers it uses); bench_* and the pass loops are the harness."""
    if dso.startswith("[kernel") or sym.startswith("[k]"):
        return "system"
    name = sym[4:] if sym[:4] in ("[.] ", "[k] ") else sym
    if "hnswlib" in name or "std::" in name or "__gnu_cxx" in name:
        return "hnswlib"
    if re.match(r"(bench_|mean_recall|main$|median_of|valori_pass|hnswlib_pass)", name):
        return "harness"
    if re.match(r"(lib(c|m|stdc\+\+|gcc_s)[.-]|ld-linux)", dso):
        return "system"
    return "valori"


def role_of(sym):
    for role, pat in ROLES:
        if pat.search(sym):
            return role
    return "other"


LINE = re.compile(r"^\s*([0-9.]+)%\s+(\d+)\s+(\S+)\s+(\[[.k]\]\s+.*?)\s*$")


def parse_report(text):
    """`perf report --stdio --no-children --sort dso,sym -F overhead,sample,dso,sym` -> [(dso, sym, samples)]."""
    out = []
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = LINE.match(line)
        if m:
            out.append((m.group(3), m.group(4), int(m.group(2))))
    return out


def rows_of(entries, head, hz):
    """JSON rows from parsed (dso, sym, samples) entries."""
    by_engine = {}
    for dso, sym, n in entries:
        e = engine_of(dso, sym)
        name = sym[4:]
        by_engine.setdefault(e, {}).setdefault(name, 0)
        by_engine[e][name] += n
    total = sum(sum(v.values()) for v in by_engine.values())
    rows = []
    for e, syms in sorted(by_engine.items()):
        es = sum(syms.values())
        rows.append(dict(head, engine=e, kind="profile-summary", samples=es, share=es / total if total else 0.0, hz=hz))
        for name, n in sorted(syms.items(), key=lambda kv: -kv[1]):
            rows.append(dict(head, engine=e, kind="profile", symbol=name, role=role_of(name), samples=n,
                             share=n / es if es else 0.0))
    return rows


def perf_usable(perf, tmp):
    """None if perf can sample a process here, else the reason."""
    if not perf:
        return "perf is not installed (Debian package linux-perf)"
    probe = subprocess.run([perf, "record", "-q", "-e", "cpu-clock", "-o", os.path.join(tmp, "probe.data"), "--", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        return "perf record cannot sample here: " + (probe.stderr.strip().splitlines() or ["exit %d" % probe.returncode])[-1]
    return None


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="directory holding pair_bench")
    ap.add_argument("--hz", type=int, default=1999)
    ap.add_argument("--mode", default="full")
    ap.add_argument("args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    args = a.args[1:] if a.args[:1] == ["--"] else a.args
    exe = os.path.join(a.bin, "pair_bench")
    if not os.access(exe, os.X_OK):
        print(f"search_profile.py: no pair_bench in {a.bin}", file=sys.stderr)
        return 2
    dataset = args[args.index("--dataset") + 1] if "--dataset" in args[:-1] else "fmnist-l2"
    head = {"mode": a.mode, "dataset": dataset, "driver": "pair_bench", "args": " ".join(args)}
    with tempfile.TemporaryDirectory(prefix="valori-profile-") as tmp:
        why = perf_usable(shutil.which("perf"), tmp)
        if why:
            print(f"search_profile.py: {why}; no profile", file=sys.stderr)
            print(json.dumps(dict(head, engine="env", kind="profile-error", reason=why)), flush=True)
            return 0
        ctl, ack, data = (os.path.join(tmp, x) for x in ("ctl", "ack", "perf.data"))
        os.mkfifo(ctl)
        os.mkfifo(ack)
        env = dict(os.environ, BENCH_PERF_CTL=f"{ctl},{ack}")
        cmd = ["perf", "record", "-q", "-e", "cpu-clock", "-F", str(a.hz), "-D", "-1", "--control",
               f"fifo:{ctl},{ack}", "-o", data, "--", exe, *args]
        print("search_profile.py: " + " ".join(cmd), file=sys.stderr)
        run = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL)
        if run.returncode != 0:
            print(f"search_profile.py: perf record of pair_bench failed (exit {run.returncode})", file=sys.stderr)
            return 1
        rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,sym",
                              "-F", "overhead,sample,dso,sym"], capture_output=True, text=True)
        if rep.returncode != 0:
            print("search_profile.py: perf report failed: " + rep.stderr, file=sys.stderr)
            return 1
    entries = parse_report(rep.stdout)
    if not entries:
        print("search_profile.py: perf recorded no samples of the search rounds", file=sys.stderr)
        return 1
    for r in rows_of(entries, head, a.hz):
        print(json.dumps(r), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
