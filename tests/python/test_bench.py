"""bench/python/bench.py runs (quick sizes), so the benchmark cannot rot. No speed is asserted:
only that every row is produced and that the three Python databases (memory, durable, remote)
found the same neighbours and the same state root."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import REPO


def test_bench_quick(tmp_path: Path) -> None:
    out = tmp_path / "bench.jsonl"
    r = subprocess.run([sys.executable, str(REPO / "bench" / "python" / "bench.py"), "--quick", "--build",
                        str(REPO / "build"), "--json", str(out)], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout + r.stderr[-3000:]
    assert "| measure | C library | Python embedded | Python / C |" in r.stdout
    assert "| measure | Python embedded, durable store | Python remote" in r.stdout
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    meta = lines[0]
    assert meta["same_neighbours"] and meta["same_root"]
    parts = [x["part"] for x in lines[1:]]
    assert parts.count("embedded-vs-c") == 4 and parts.count("remote-vs-embedded") == 4
    assert all(x["ratio"] > 0 for x in lines[1:])
