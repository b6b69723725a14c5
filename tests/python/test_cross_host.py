"""The same operations give the same results, error codes and state root in every host: the Python
SDK embedded (a durable store), the C library (libvalori.so, tests/python/cross_host.c, in
memory), the npm package (js/, WebAssembly in Node, tests/python/cross_host.mjs) and the server
(`valori serve`, driven by the SDK in remote mode). cross_host_ops.py generates the operations
(good and bad: NaN, infinities, out of range, wrong dimension, oversize metadata, unknown ids,
k = 0, links twice) and describes the file every host reads."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any, List

import pytest

import cross_host_ops as ch
from conftest import REPO
from valori import Valori

C_HOST = Path(os.environ.get("VALORI_CROSS_HOST_C", str(REPO / "build" / "tests" / "python" / "cross_host_c")))
WASM = REPO / "build-wasm" / "valori.mjs"


def _host(cmd: List[str]) -> List[str]:
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=REPO)
    assert r.returncode == 0, f"{cmd[0]} failed ({r.returncode}): {r.stderr[-2000:]}"
    return r.stdout.splitlines()


@pytest.mark.parametrize("seed", [1, 2])
def test_same_results_and_root_in_every_host(seed: int, tmp_path: Path, server: Any) -> None:
    ops = ch.generate(seed, 400)
    f = tmp_path / "ops.jsonl"
    ch.write(str(f), ops)
    assert C_HOST.is_file(), f"{C_HOST} missing: build the tree (cmake --build build)"
    assert WASM.is_file(), f"{WASM} missing: build the npm package's wasm (npm run build:wasm)"
    node = shutil.which("node")
    assert node, "node is not on PATH"
    with Valori(path=str(tmp_path / "store"), dim=ch.DIM, hnsw=ch.CONFIG["hnsw"]) as db:
        py = ch.run(db, ops)
    with Valori(path=str(tmp_path / "store")) as db:  # and after reopening the durable store
        assert db.state_root() == py[-4].split()[1]
    with Valori(remote=server.url, collection=f"cross-{seed}-{os.getpid()}", dim=ch.DIM, hnsw=ch.CONFIG["hnsw"]) as db:
        srv = ch.run(db, ops)
    c = _host([str(C_HOST), str(f)])
    js = _host([node, str(Path(__file__).with_name("cross_host.mjs")), str(f)])
    assert len(py) == len(ops) + 4
    for name, other in (("C library", c), ("npm package", js), ("server", srv)):
        diff = [(i, a, b) for i, (a, b) in enumerate(zip(py, other)) if a != b]
        assert not diff and len(other) == len(py), f"{name} differs from embedded Python: first {diff[:3]}"
    # the workload really exercised the error paths and the graph
    codes = Counter(line.split()[1] for line in py if line.startswith("err "))
    for code in ("ENAN", "ERANGE", "ENOTFOUND", "EK", "EEXIST"):
        assert codes[code] > 0, f"no {code} in the workload: {codes}"
    assert sum(1 for line in py if line.startswith("ok ")) > 100
