"""The int8 compact traversal copy (``traversal={"int8": (lo, hi)}``, python/README.md "Int8
traversal copy") in both modes: Stats.traversal, the state root and search results equal to an
in-memory embedded store with the same option, ECONFIG for another copy on reopen, EINVAL for every
bad shape or value with nothing created; and the SDK's word rule (used to compare a remote
collection's copy) equal to valori_traversal_int8 over many ranges."""

from __future__ import annotations

import math
import os
import random
from ctypes import byref, c_float, c_uint32
from typing import Any, Callable, List

import pytest

from conftest import Opener
from valori import Valori, ValoriError
from valori import _convert as cv
from valori import _lib

DIM = 8
N = 300


def vectors() -> List[List[float]]:
    r = random.Random(7)
    return [[r.randint(-1024, 1024) / 1024 for _ in range(DIM)] for _ in range(N)]


VECS = vectors()
QUERIES = [[x * 0.75 + 0.125 for x in VECS[i]] for i in (0, 17, 123, 299)]


def results(db: Valori) -> List[Any]:
    out = []
    for q in QUERIES:
        for mode in ("hnsw", "exact"):
            out.append([(h.id, h.distance_raw) for h in db.search(q, k=10, ef=40, mode=mode)])
    return out


def fill(db: Valori) -> None:
    for i in range(0, N, 100):
        db.insert_batch(VECS[i:i + 100], tags=[j % 7 for j in range(i, i + 100)])


def test_traversal_store_matches_embedded_reference(make_db: Callable[..., Valori], opener: Opener) -> None:
    db = make_db(dim=DIM, traversal={"int8": (-1, 1)})
    fill(db)
    st = db.stats()
    assert st.traversal is not None and st.traversal["shift"] == 10 and st.traversal["center"] == 64
    assert st.traversal["int8"] == [(64 - 128) * 2.0 ** -6, (64 + 127) * 2.0 ** -6]
    with Valori(dim=DIM, traversal={"int8": [-1, 1]}) as ref, Valori(dim=DIM) as plain:
        fill(ref)
        fill(plain)
        assert db.state_root() == ref.state_root() != plain.state_root()
        assert ref.stats().traversal == st.traversal and plain.stats().traversal is None
        assert st.vector_bytes == ref.stats().vector_bytes > plain.stats().vector_bytes
        got = results(db)
        assert got == results(ref) and all(len(h) == 10 for h in got)
    # reopening keeps the copy; the same option again is accepted, another one is ECONFIG
    db = opener.reopen(db)
    assert db.stats().traversal == st.traversal and results(db) == got
    db = opener.reopen(db, traversal={"int8": (-1, 1)})
    assert db.stats().traversal == st.traversal
    where = opener.where(db)
    db.close()
    db = opener.open(where, traversal={"int8": (-1, 2)})  # another range with the same word (s 10, c 64)
    assert db.stats().traversal == st.traversal
    db.close()
    for other, code in (({"int8": (0, 255)}, "ECONFIG"), ({"int8": (-2, 2)}, "ECONFIG"), ({"int8": (1, 0)}, "EINVAL")):
        with pytest.raises(ValoriError) as e:
            opener.open(where, traversal=other)
        assert e.value.code == code, e.value
    if opener.mode == "embedded":  # dim= asks for the whole configuration: without the copy, the core's ECONFIG
        with pytest.raises(ValoriError) as e:
            opener.open(where, dim=DIM)
        assert e.value.code == "ECONFIG"
    plain_where = opener.new_location()  # a store without a copy, opened asking for one
    p = opener.open(plain_where, dim=DIM)
    p.insert([0.0] * DIM)
    p.close()
    with pytest.raises(ValoriError) as e:
        opener.open(plain_where, traversal={"int8": (-1, 1)})
    assert e.value.code == "ECONFIG"


BAD_SHAPES = [(0, 255), [0, 255], "int8", {"int8": (0,)}, {"int8": (0, 1, 2)}, {"int8": ("0", 1)},
              {"int8": (True, 1)}, {"int8": (0, None)}, {"int8": "ab"}, {"uint8": (0, 255)},
              {"int8": (0, 1), "x": 1}, {}]
BAD_VALUES = [{"int8": (1, 0)}, {"int8": (-300, 0)}, {"int8": (0, 257)}, {"int8": (0, math.inf)},
              {"int8": (math.nan, 1)}, {"int8": (0, 1e300)}]


def test_bad_traversal_is_einval_and_creates_nothing(mode: str, opener: Opener) -> None:
    cases = [dict(traversal=t) for t in BAD_SHAPES + BAD_VALUES]
    cases.append(dict(traversal={"int8": (0, 255)}, index="none"))
    cases.append(dict(traversal={"int8": (0, 255)}, metric="ip"))  # centre 128: an ip store refuses it
    cases.append(dict(traversal={"int8": (-1, 1)}, metric="ip"))  # centre 64
    for options in cases:
        where = opener.new_location()
        with pytest.raises(ValoriError) as e:
            opener.open(where, dim=4, **options)
        assert e.value.code == "EINVAL", (options, e.value)
        with pytest.raises(ValoriError) as e2:  # no store / collection was created
            opener.open(where, create=False)
        assert e2.value.code == ("ENOTFOUND" if mode == "embedded" else "ENOCOLLECTION"), options
    ip = opener.open(None, dim=4, metric="ip", traversal={"int8": (-1, 0.9921875)})
    assert ip.stats().traversal == {"int8": [-1.0, 0.9921875], "shift": 9, "center": 0, "word": cv.traversal_word(-1, 0.9921875)}
    assert opener.open(None, dim=4, traversal=None).stats().traversal is None


def test_create_collection_traversal(server: Any) -> None:
    tag = f"trav-{os.getpid()}"
    with Valori(remote=server.url, collection=f"{tag}-a") as db:
        info = db.create_collection(f"{tag}-b", DIM, traversal={"int8": (0, 255)})
        assert info.traversal == {"int8": [0.0, 255.0], "shift": 16, "center": 128, "word": cv.traversal_word(0, 255)}
        assert db.use(f"{tag}-b").stats().traversal == info.traversal
        with pytest.raises(ValoriError) as e:
            db.use(f"{tag}-b", traversal={"int8": (0, 127)})
        assert e.value.code == "ECONFIG"
        with pytest.raises(ValoriError) as e:
            db.create_collection(f"{tag}-c", DIM, traversal={"int8": (255, 0)})
        assert e.value.code == "EINVAL" and f"{tag}-c" not in [c.name for c in db.collections()]
        with pytest.raises(ValoriError) as e:
            db.create_collection(f"{tag}-c", DIM, traversal=[0, 255])
        assert e.value.code == "EINVAL"
        db.delete_collection(f"{tag}-b")


def test_word_rule_matches_the_library() -> None:
    lib = _lib.load(os.environ.get("VALORI_LIBRARY"))
    r = random.Random(3)
    ranges = [(0, 255), (-1, 1), (-128, 127), (-256, 256), (0, 0), (5, 5), (-1e-9, 1e-9), (0.5, 0.5000001),
              (-256, -255.99), (1, 0), (0, 256.0001), (math.nan, 0), (-math.inf, 0), (0, 1e300), (-3.3, 1e-7)]
    for _ in range(3000):
        a, b = r.uniform(-260, 260) * r.choice([1, 1e-2, 1e-4, 1e-6]), r.uniform(-260, 260) * r.choice([1, 1e-3, 1])
        ranges.append((min(a, b), max(a, b)) if r.random() < 0.95 else (a, b))
    for lo, hi in ranges:
        w = c_uint32()
        try:
            flo, fhi = c_float(lo), c_float(hi)
        except OverflowError:
            assert cv.traversal_word(lo, hi) is None
            continue
        rc = lib.c.valori_traversal_int8(flo, fhi, byref(w))
        assert cv.traversal_word(lo, hi) == (None if rc else w.value), (lo, hi, rc, w.value)
