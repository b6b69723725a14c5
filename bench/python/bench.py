#!/usr/bin/env python3
"""bench/python/bench.py: the Python SDK's speed against the C library, and remote against embedded.

    cmake --build build-bench --target valori_shared valori valori_bench    (Release, as bench/run.sh)
    /usr/bin/python3 bench/python/bench.py [--build DIR] [--n N] [--nq NQ] [--ef LIST] [--runs R]
                                           [--quick] [--json FILE]

Same data for every engine: the first N Fashion-MNIST training images as base vectors and the first
NQ test images as queries (the `fmnist-l2` set of bench/: raw pixels 0..255 as floats, 784-d, from
Debian's dataset-fashion-mnist), M 16, ef_construction 200, k 10.

Part 1, embedded Python against the C library (both in memory, one thread, the same build):
  - build: the whole base with insert_batch, 1000 records a batch (C: valori_bench's "build");
  - single inserts: --ingest-n records one insert() each into a fresh database (C: "ingest" batch 1);
  - search: NQ queries at each ef, mode "hnsw" (C: "search", VALORI_SEARCH_HNSW), QPS median of
    --runs, and the recall of both against each other's answers (they must be identical: same core).
  The C numbers come from running DIR/bench/valori_bench with the same options (its JSON lines).
Part 2, remote Python (`valori serve` from DIR on 127.0.0.1, every write durable) against embedded
Python on a durable store directory (durability "full"):
  - batch ingest, 1000 records a batch (remote: the binary ingest path), records/s;
  - single inserts, records/s (each one fsync embedded; remote: one request each, group commit);
  - search QPS at each ef (remote: one HTTP request per query, kept-alive connection).

Prints markdown rows ("Python SDK") with the command line, the load average and CPU count; --json
also writes JSON lines (engine "python", kinds python-meta and python-row), which `bench/run.sh
--full` adds to the results and bench/report.py turns into the report's "Python SDK" section.
Numbers are only meaningful on a quiet machine: the report prints the load average before and after,
and the process CPU share of each timed loop.
Needs NumPy (python3-numpy) for loading the data; the SDK itself does not.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))

from valori import Valori  # noqa: E402

FMNIST = Path("/usr/share/datasets/fashion-mnist")


def log(msg: str) -> None:
    print(f"[python-bench {time.monotonic() - T0:6.1f}s] {msg}", file=sys.stderr, flush=True)


T0 = time.monotonic()


def load_idx(path: Path, rows: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        magic, n, h, w = struct.unpack(">IIII", f.read(16))
        if magic != 0x803:
            raise SystemExit(f"{path}: not an idx3 image file")
        rows = min(rows, n) if rows else n
        data = f.read(rows * h * w)
    return np.frombuffer(data, dtype=np.uint8).reshape(rows, h * w).astype(np.float32)


def timed(fn: Any) -> Tuple[float, float, Any]:
    """(wall seconds, process CPU seconds, result)."""
    c0, t0 = time.process_time(), time.perf_counter()
    r = fn()
    return time.perf_counter() - t0, time.process_time() - c0, r


def median_timed(fn: Any, runs: int) -> Tuple[float, float, Any]:
    res = [timed(fn) for _ in range(runs)]
    walls = sorted(res, key=lambda x: x[0])
    mid = walls[len(walls) // 2]
    return mid


def loadavg() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except OSError:
        return -1.0


# ---- the C library's numbers (valori_bench)


def run_c(build: Path, a: argparse.Namespace) -> Dict[str, Any]:
    exe = build / "bench" / "valori_bench"
    if not exe.is_file():
        raise SystemExit(f"{exe} missing: build the bench targets (bench/run.sh builds build-bench/, or cmake --build {build})")
    cmd = [str(exe), "--dataset", "fmnist-l2", "--n", str(a.n), "--nq", str(a.nq), "--ef", a.ef, "--runs", str(a.runs),
           "--tests", "search,ingest", "--ingest-n", str(a.ingest_n), "--batch", "1000", "--mode", "python-ref"]
    log("C library: " + " ".join(cmd[1:]))
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=24 * 3600)
    if r.returncode != 0:
        raise SystemExit(f"valori_bench failed: {r.stderr[-2000:]}")
    out: Dict[str, Any] = {"search": {}, "cmd": " ".join(cmd)}
    for line in r.stdout.splitlines():
        j = json.loads(line)
        if j.get("kind") == "build":
            out["build"] = (j["vectors_per_s"], j["cpu_s"] / j["build_s"] if j["build_s"] else 0)
        elif j.get("kind") == "search":
            out["search"][j["ef"]] = (j["qps"], j["cpu_s"] / j["median_s"] if j["median_s"] else 0)
        elif j.get("kind") == "ingest" and j["batch"] == 1:
            out["single"] = (j["records_per_s"], None)
    return out


# ---- Python measurements (both modes through the same code)


def py_build(db: Valori, base: np.ndarray, batch: int = 1000) -> None:
    for i in range(0, len(base), batch):
        db.insert_batch(base[i:i + batch], tags=np.arange(i, i + min(batch, len(base) - i), dtype=np.uint64) % 5)


def py_single(db: Valori, base: np.ndarray, n: int) -> None:
    for i in range(n):
        db.insert(base[i], tag=i % 5)


def py_search(db: Valori, queries: np.ndarray, ef: int) -> List[List[int]]:
    return [[h.id for h in db.search(q, k=10, ef=ef, mode="hnsw")] for q in queries]


def measure(db_factory: Any, base: np.ndarray, queries: np.ndarray, a: argparse.Namespace, efs: List[int],
            label: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {"search": {}, "answers": {}}
    db = db_factory()
    log(f"{label}: build {len(base)} x {base.shape[1]}, batches of 1000")
    w, c, _ = timed(lambda: py_build(db, base))
    out["build"] = (len(base) / w, c / w)
    out["root"] = db.state_root()
    for ef in efs:
        log(f"{label}: search {len(queries)} queries at ef {ef} ({a.runs} runs)")
        w, c, ans = median_timed(lambda: py_search(db, queries, ef), a.runs)
        out["search"][ef] = (len(queries) / w, c / w)
        out["answers"][ef] = ans
    db.close()
    db = db_factory()
    log(f"{label}: {a.ingest_n} single inserts")
    w, c, _ = timed(lambda: py_single(db, base, a.ingest_n))
    out["single"] = (a.ingest_n / w, c / w)
    db.close()
    return out


class Server:
    def __init__(self, build: Path, data: Path) -> None:
        exe = build / "native" / "valori"
        if not exe.is_file():
            raise SystemExit(f"{exe} missing")
        self.p = subprocess.Popen([str(exe), "serve", "--listen", "127.0.0.1:0", "--data", str(data),
                                   "--max-k", "1000"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.url = ""
        ready = threading.Event()

        def reader() -> None:
            assert self.p.stdout is not None
            for line in self.p.stdout:
                m = re.match(r"valori listening on (http://\S+)", line)
                if m:
                    self.url = m.group(1)
                if line.startswith("ready"):
                    ready.set()
            ready.set()

        threading.Thread(target=reader, daemon=True).start()
        if not ready.wait(60) or not self.url:
            self.stop()
            raise SystemExit("valori serve did not start")

    def stop(self) -> None:
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(60)


def recall(a: List[List[int]], b: List[List[int]]) -> float:
    hit = sum(len(set(x) & set(y)) for x, y in zip(a, b))
    return hit / max(1, sum(len(y) for y in b))


def fmt(x: float) -> str:
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default="", help="build tree with libvalori.so, bench/valori_bench and native/valori "
                                                "(default: build-bench/ when it has them, else build/)")
    ap.add_argument("--n", type=int, default=20000, help="base vectors (default 20000)")
    ap.add_argument("--nq", type=int, default=1000, help="queries (default 1000)")
    ap.add_argument("--ingest-n", type=int, default=1000, help="single inserts (default 1000)")
    ap.add_argument("--ef", default="10,40,80", help="search ef list (default 10,40,80)")
    ap.add_argument("--runs", type=int, default=3, help="timed search repetitions, median reported (default 3)")
    ap.add_argument("--quick", action="store_true", help="seconds: n 2000, nq 100, ingest 100, ef 10,40, runs 1")
    ap.add_argument("--json", help="also write the results as JSON lines to this file")
    a = ap.parse_args()
    if a.quick:
        a.n, a.nq, a.ingest_n, a.ef, a.runs = 2000, 100, 100, "10,40", 1
    efs = [int(x) for x in a.ef.split(",")]
    need = ("libvalori.so", "bench/valori_bench", "native/valori")
    if a.build:
        build = Path(a.build)
    else:
        bb = ROOT / "build-bench"
        build = bb if all((bb / x).is_file() for x in need) else ROOT / "build"
    missing = [x for x in need if not (build / x).is_file()]
    if missing:
        raise SystemExit(f"{build} lacks {', '.join(missing)}: cmake --build {build} --target valori_shared valori "
                         "valori_bench (build-bench/ is the Release tree bench/run.sh configures)")
    lib = build / "libvalori.so"
    os.environ["VALORI_LIBRARY"] = str(lib)
    load0 = loadavg()
    base = load_idx(FMNIST / "train-images-idx3-ubyte.gz", a.n)
    queries = load_idx(FMNIST / "t10k-images-idx3-ubyte.gz", a.nq)
    log(f"data: {base.shape[0]} base x {base.shape[1]}, {queries.shape[0]} queries; library {lib}")

    c = run_c(build, a)
    mem = measure(lambda: Valori(dim=784, hnsw={"m": 16, "ef_construction": 200}), base, queries, a, efs,
                  "Python embedded (memory)")
    tmp = Path(tempfile.mkdtemp(prefix="valori-pybench-"))
    try:
        k = [0]

        def durable() -> Valori:
            k[0] += 1
            return Valori(path=str(tmp / f"store{k[0]}"), dim=784, hnsw={"m": 16, "ef_construction": 200})

        dur = measure(durable, base, queries, a, efs, "Python embedded (durable)")
        srv = Server(build, tmp / "server")
        try:
            def remote() -> Valori:
                k[0] += 1
                return Valori(remote=srv.url, collection=f"bench{k[0]}", dim=784,
                              hnsw={"m": 16, "ef_construction": 200})

            rem = measure(remote, base, queries, a, efs, "Python remote")
        finally:
            srv.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    load1 = loadavg()

    # the same core: Python embedded, durable and remote find exactly the same neighbours
    same = all(mem["answers"][ef] == dur["answers"][ef] == rem["answers"][ef] for ef in efs)
    same_root = mem["root"] == dur["root"] == rem["root"]

    cmdline = "/usr/bin/python3 bench/python/bench.py " + " ".join(sys.argv[1:])
    print(f"### Python SDK (`{cmdline.strip()}`)\n")
    print(f"fmnist-l2, {a.n:,} x 784 base, {a.nq:,} queries, M 16, ef_construction 200, k 10, one thread; "
          f"library and drivers from `{build.relative_to(ROOT) if build.is_relative_to(ROOT) else build}`; "
          f"load average {load0:.2f} before, {load1:.2f} after, {os.cpu_count()} CPUs. "
          f"Same neighbours in all three Python rows: {'yes' if same else 'NO'}; same state root: "
          f"{'yes' if same_root else 'NO'}. CPU share = process CPU time / wall time of the timed loop "
          f"(low values mean the machine was busy; remote rows count the client only).\n")
    print("| measure | C library | Python embedded | Python / C | Python CPU share |")
    print("|---|---|---|---|---|")
    rows = [("build, vectors/s (insert_batch, 1000/batch)", c.get("build"), mem["build"]),
            (f"single inserts, records/s ({a.ingest_n:,} insert calls)", c.get("single"), mem["single"])]
    rows += [(f"search QPS, ef {ef} (mode hnsw)", c["search"].get(ef), mem["search"][ef]) for ef in efs]
    results: List[Dict[str, Any]] = []
    for name, cv, pv in rows:
        cq = cv[0] if cv else float("nan")
        print(f"| {name} | {fmt(cq)} | {fmt(pv[0])} | {pv[0] / cq:.2f} | {pv[1]:.2f} |")
        results.append({"engine": "python", "kind": "python-row", "part": "embedded-vs-c", "measure": name, "c": cq,
                        "python": pv[0], "ratio": pv[0] / cq, "python_cpu_share": pv[1]})
    print()
    print("| measure | Python embedded, durable store | Python remote (`valori serve`) | remote / embedded |")
    print("|---|---|---|---|")
    rows2 = [("batch ingest, records/s (1000/batch; remote: binary ingest)", dur["build"], rem["build"]),
             (f"single inserts, records/s ({a.ingest_n:,}, each durable)", dur["single"], rem["single"])]
    rows2 += [(f"search QPS, ef {ef}", dur["search"][ef], rem["search"][ef]) for ef in efs]
    for name, ev, rv in rows2:
        print(f"| {name} | {fmt(ev[0])} | {fmt(rv[0])} | {rv[0] / ev[0]:.2f} |")
        results.append({"engine": "python", "kind": "python-row", "part": "remote-vs-embedded", "measure": name,
                        "embedded": ev[0], "remote": rv[0], "ratio": rv[0] / ev[0]})
    print(f"\nC reference: `{c['cmd'].replace(str(ROOT) + '/', '')}`; its recall against Python's answers is not "
          f"needed: the three Python rows agree with each other and the cross-host test (tests/python) shows the "
          f"core identical across hosts.")
    if a.json:
        with open(a.json, "w") as f:
            meta = {"engine": "python", "kind": "python-meta", "mode": "quick" if a.quick else "full",
                    "dataset": "fmnist-l2", "n": a.n, "nq": a.nq, "dim": 784, "M": 16, "efc": 200,
                    "ingest_n": a.ingest_n, "efs": efs, "runs": a.runs, "load_before": load0, "load_after": load1,
                    "ncpu": os.cpu_count(), "build": str(build), "cmd": cmdline.strip(),
                    "c_cmd": c["cmd"].replace(str(ROOT) + "/", ""), "same_neighbours": same, "same_root": same_root}
            f.write(json.dumps(meta) + "\n")
            for r in results:
                f.write(json.dumps(r) + "\n")
    if not same or not same_root:
        raise SystemExit("the Python rows disagree (neighbours or state root): not a valid benchmark")


if __name__ == "__main__":
    main()
