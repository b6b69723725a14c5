"""tests/unit/test_golden.c's fixed workload, line for line, through the Python SDK.

Its state root, index digest and snapshot SHA-256 must equal tests/golden/core.txt (HNSW store)
and tests/golden/core-flat.txt (index-less store): the values the native build committed, which
every C target and the npm package (js/test/golden-workload.js) reproduce.
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict

from valori import Valori, ValoriError

M64 = (1 << 64) - 1
GOLDEN_DIR = Path(__file__).resolve().parent.parent / "golden"

#: Options of the golden store (dim 12, M 6, ef_construction 32) and of its index-less twin.
GOLDEN_OPTIONS = {"dim": 12, "hnsw": {"m": 6, "ef_construction": 32}}
GOLDEN_FLAT_OPTIONS = {"dim": 12, "index": "none"}


class SplitMix64:
    """splitmix64, as vt_rand in tests/unit/vt.h."""

    def __init__(self, seed: int) -> None:
        self.s = seed

    def next(self) -> int:
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)


def golden_workload(db: Valori) -> None:
    """Runs the workload on an open database created with GOLDEN_OPTIONS (or the flat ones)."""
    st = SplitMix64(2024)
    n1 = 0
    v = [0.0] * (12 * 40)
    for rnd in range(25):
        for i in range(12 * 40):
            r = st.next() % 2000001 - 1000000
            v[i] = r / 4096
            if i % 97 == 0:
                v[i] = 256.0 if i % 2 else -256.0
            if i % 89 == 0:
                v[i] = 1 / 131072
        tags = [st.next() % 5 for _ in range(40)]
        ids = db.insert_batch([v[12 * j:12 * j + 12] for j in range(40)], tags=tags)
        first = ids[0]
        for i in range(10):
            target = 1 + st.next() % (first + 39)
            meta = f"m{rnd}-{i}"
            try:
                if i % 5 == 0:
                    db.delete(target)
                elif i % 5 == 1:
                    db.update(target, vector=v[12 * i:12 * i + 12])
                elif i % 5 == 2:
                    db.update(target, tag=9)
                elif i % 5 == 3:
                    db.set_meta(target, meta)
                else:
                    n2 = db.create_node(kind=i, record=target, label=meta)
                    if n1:
                        db.create_edge(n1, n2, kind=rnd % 3, weight=rnd / 8 if rnd & 1 else None)
                    n1 = n2
            except ValoriError:
                pass
        db.insert(v[0:12], tag=1234, meta="single")
    # mass delete of the oldest records (index purges, the entry point among them), then a refill
    for rid in range(1, 401):
        try:
            db.delete(rid)
        except ValoriError:
            pass
    db.insert_batch([v[12 * j:12 * j + 12] for j in range(40)])


def read_golden(name: str) -> Dict[str, str]:
    """Parses tests/golden/<name> ("root <hex>\\nindex <hex>\\nsnapshot <hex>")."""
    out = {}
    for line in (GOLDEN_DIR / name).read_text().splitlines():
        parts = line.split()
        if len(parts) == 2:
            out[parts[0]] = parts[1]
    return out
