"""bench/import/bench.py: `valori import` throughput (docs/IMPORT.md) on Debian's Fashion-MNIST
(train-images-idx3-ubyte.gz, 784-d), real processes: the import into a local store and through a
live `valori serve` on 127.0.0.1 port 0 (binary ingest without metadata, the JSON batch with
--labels' metadata).

    /usr/bin/python3 bench/import/bench.py --quick [VALORI_BINARY]   ~20 s, 2,000 rows (ctest bench_import_quick)
    /usr/bin/python3 bench/import/bench.py --full  [VALORI_BINARY]   60,000 rows: run on a quiet machine

Rows: each target with `--index none` (no HNSW build: what the import pipeline itself costs:
gunzip, decode, batches, fsync per batch, HTTP) and with the default HNSW index (M 16,
ef_construction 200: the index build dominates; compare bench/REPORT.md's in-process build rows),
plus the demo's `--labels --graph`. Rows/s is rows / wall seconds of the whole command. Prints a
markdown table and writes JSON lines to bench/out/import-MODE.jsonl. Standard library only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FMNIST = Path("/usr/share/datasets/fashion-mnist")
IMG = FMNIST / "train-images-idx3-ubyte.gz"
LAB = FMNIST / "train-labels-idx1-ubyte.gz"


def start_server(binary: str, data: Path):
    proc = subprocess.Popen([binary, "serve", "--data", str(data), "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url, ready = [None], threading.Event()

    def reader() -> None:
        for line in proc.stdout:
            m = re.match(r"valori listening on (http://\S+)", line)
            if m:
                url[0] = m.group(1)
            if line.startswith("ready"):
                ready.set()
        ready.set()

    threading.Thread(target=reader, daemon=True).start()
    if not ready.wait(30) or not url[0]:
        proc.kill()
        raise SystemExit("bench/import: valori serve did not start")
    return proc, url[0]


def main() -> int:
    args = sys.argv[1:]
    mode = "full" if "--full" in args else "quick"
    rest = [a for a in args if not a.startswith("--")]
    binary = rest[0] if rest else str(ROOT / "build" / "native" / "valori")
    rows = 60000 if mode == "full" else 2000
    if not IMG.exists():
        print(f"bench/import: {IMG} is missing (Debian's dataset-fashion-mnist; scripts/setup.sh)", file=sys.stderr)
        return 1
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    jsonl = out_dir / f"import-{mode}.jsonl"
    work = Path(tempfile.mkdtemp(prefix="valori-import-bench-"))
    results = []
    proc = None
    try:
        proc, url = start_server(binary, work / "srv")
        cases = [
            ("local", "none", [], ["--data", str(work / "local"), "--collection", "none", "--index", "none"]),
            ("server, binary ingest", "none", [], ["--url", f"{url}/v1/collections/none", "--index", "none"]),
            ("server, JSON batch (--labels)", "none", ["--labels", str(LAB)],
             ["--url", f"{url}/v1/collections/nonelab", "--index", "none"]),
            ("local", "hnsw", [], ["--data", str(work / "local"), "--collection", "hnsw"]),
            ("server, binary ingest", "hnsw", [], ["--url", f"{url}/v1/collections/hnsw"]),
            ("local, --labels --graph (the demo)", "hnsw", ["--labels", str(LAB), "--graph"],
             ["--data", str(work / "local"), "--collection", "graph"]),
        ]
        print(f"valori import of {IMG.name}, --limit {rows}, batches of 1000 ({mode})\n")
        print("| target | index | rows | seconds | rows/s |")
        print("|---|---|---|---|---|")
        for name, index, extra, target in cases:
            cmd = [binary, "import", str(IMG), *extra, *target, "--limit", str(rows), "-q"]
            t0 = time.monotonic()
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
            secs = time.monotonic() - t0
            if p.returncode != 0 or f"records 1..{rows}" not in p.stdout:
                print(f"bench/import: {' '.join(cmd)} failed:\n{p.stdout}{p.stderr}", file=sys.stderr)
                return 1
            row = {"bench": "import", "mode": mode, "target": name, "index": index, "rows": rows, "seconds": round(secs, 3),
                   "rows_per_s": round(rows / secs, 1), "load_avg_1m": os.getloadavg()[0], "command": " ".join(cmd)}
            results.append(row)
            print(f"| {name} | {index} | {rows} | {secs:.1f} | {rows / secs:,.0f} |", flush=True)
        print(f"(load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs at the end)")
    finally:
        if proc:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in results))
    print(f"wrote {jsonl}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
