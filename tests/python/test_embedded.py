"""Embedded-mode behaviours that have no remote counterpart: the store's writer lock, read-only
opens, relaxed durability, create=False, in-memory databases, damaged stores, log options."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO, wait_for
from valori import Valori, ValoriError


def code_of(fn) -> str:
    with pytest.raises(ValoriError) as e:
        fn()
    return e.value.code


def test_one_writer_per_store(tmp_path: Path) -> None:
    p = str(tmp_path / "s")
    a = Valori(path=p, dim=2)
    a.insert([1, 1])
    assert code_of(lambda: Valori(path=p)) == "ELOCKED"
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]);"
                               "from valori import Valori; db = Valori(path=sys.argv[2]); print('held', flush=True);"
                               "time.sleep(60)", str(REPO / "python"), p],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _, err = holder.communicate(timeout=60)  # it must fail at once: this process holds the store
        assert holder.returncode != 0 and "ELOCKED" in err, err
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.wait(30)
    a.close()
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; sys.path.insert(0, sys.argv[1]);"
                               "from valori import Valori; db = Valori(path=sys.argv[2]); print('held', flush=True);"
                               "time.sleep(60)", str(REPO / "python"), p],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert code_of(lambda: Valori(path=p)) == "ELOCKED"
        with Valori(path=p, read_only=True) as ro:  # readers take no lock
            assert ro.get(1).vector == [1.0, 1.0]
            assert code_of(lambda: ro.insert([2, 2])) == "EREADONLY"
    finally:
        holder.kill()
        holder.wait(30)
    with Valori(path=p) as b:  # the kernel released the dead holder's lock
        assert b.insert([3, 3]) == 2


def test_read_only_and_create_false_need_a_store(tmp_path: Path) -> None:
    p = str(tmp_path / "none")
    assert code_of(lambda: Valori(path=p, read_only=True)) == "ENOTFOUND"
    assert code_of(lambda: Valori(path=p, create=False)) == "ENOTFOUND"
    assert code_of(lambda: Valori(path=p, create=False, dim=3)) == "ENOTFOUND"
    assert not os.path.exists(p)
    Valori(path=p, dim=3).close()
    with Valori(path=p, create=False) as db:
        assert db.dim == 3


def test_relaxed_durability_flush_and_close(tmp_path: Path) -> None:
    p = str(tmp_path / "r")
    db = Valori(path=p, dim=2, durability="relaxed")
    ids = [db.insert([i, i]) for i in range(50)]
    db.flush()
    assert db.stats().durable_height == 50
    db.insert([9, 9])
    db.close()
    with Valori(path=p) as again:
        assert again.stats().records == 51 and again.get(ids[-1]) is not None


def test_in_memory(tmp_path: Path) -> None:
    for db in (Valori(), Valori(":memory:"), Valori(path=":memory:", dim=2)):
        with db:
            db.insert([1, 2])
            db.checkpoint()  # nothing to do in memory
            s = db.stats()
            assert s.disk_bytes is None and s.durable_height == s.height == 1 and db.path is None
    assert code_of(lambda: Valori(read_only=True)) == "EINVAL"


def test_damaged_store_names_the_file(tmp_path: Path) -> None:
    p = tmp_path / "d"
    with Valori(path=str(p), dim=4) as db:
        for i in range(30):
            db.insert([i, i, i, i], meta=b"m" * 100)
    seg = next(p.glob("log-*.vlog"))
    data = bytearray(seg.read_bytes())
    data[len(data) // 2] ^= 0xFF  # damage in the middle of the log: never silently truncated
    seg.write_bytes(bytes(data))
    with pytest.raises(ValoriError) as e:
        Valori(path=str(p))
    assert e.value.code == "ECORRUPT" and seg.name in e.value.message
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValoriError) as e:
        Valori(path=str(f))
    assert "not a directory" in e.value.message


def test_log_options(tmp_path: Path) -> None:
    p = tmp_path / "o"
    with Valori(path=str(p), dim=8, segment_bytes=4096, snapshot_every=40) as db:
        for i in range(120):
            db.insert([i % 7] * 8, meta=b"x" * 200)
        wait_for(lambda: db.stats().snapshot_height > 0, what="an automatic snapshot")
    assert len(list(p.glob("log-*.vlog"))) > 1
    with Valori(path=str(p)) as db:
        assert db.stats().records == 120


def test_mixed_modes_are_refused() -> None:
    assert code_of(lambda: Valori(path="/tmp/x", remote="http://127.0.0.1:1")) == "EINVAL"
    assert code_of(lambda: Valori(collection="c")) == "EINVAL"
    assert code_of(lambda: Valori(dim=2, durability="sometimes")) == "EINVAL"
    assert code_of(lambda: Valori(dim=0)) == "EDIM"
    assert code_of(lambda: Valori(dim=5000)) == "EDIM"
    assert code_of(lambda: Valori(dim=2, metric="cosine")) == "EINVAL"
    assert code_of(lambda: Valori(dim=2, hnsw={"M": 4})) == "EINVAL"
    assert code_of(lambda: Valori(dim=2, hnsw={"m": 1000})) == "EINVAL"
    assert code_of(lambda: Valori(path=42)) == "EINVAL"
