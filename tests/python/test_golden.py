"""The golden workload (tests/unit/test_golden.c, ported in golden_workload.py) through the SDK in
both modes: its state root, index digest and snapshot must be the committed values of
tests/golden/core.txt (HNSW) and core-flat.txt (index-less), and the snapshot the committed bytes
of core.vsnap / core-flat.vsnap."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from golden_workload import GOLDEN_DIR, GOLDEN_FLAT_OPTIONS, GOLDEN_OPTIONS, golden_workload, read_golden
from valori import Valori


@pytest.mark.parametrize("kind", ["hnsw", "flat"])
def test_golden_root_digest_snapshot(make_db: Any, kind: str) -> None:
    opts, txt, vsnap = ((GOLDEN_OPTIONS, "core.txt", "core.vsnap") if kind == "hnsw"
                        else (GOLDEN_FLAT_OPTIONS, "core-flat.txt", "core-flat.vsnap"))
    want = read_golden(txt)
    db = make_db(**opts)
    golden_workload(db)
    db.check()
    assert db.state_root() == want["root"]
    assert db.index_digest() == want["index"]
    snap = db.snapshot()
    assert hashlib.sha256(snap).hexdigest() == want["snapshot"]
    assert snap == (GOLDEN_DIR / vsnap).read_bytes()


def test_committed_snapshot_loads() -> None:
    want = read_golden("core.txt")
    db = Valori.from_snapshot((GOLDEN_DIR / "core.vsnap").read_bytes())
    with db:
        db.check()
        assert db.state_root() == want["root"] and db.index_digest() == want["index"]
