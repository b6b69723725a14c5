"""The SDK's behaviour, one body for both modes (``mode`` = embedded | remote, conftest.py).

Every test here runs twice: against the C library in this process and against a live
``valori serve``. Results, ids, error codes and numbers must be the same in both.
"""

from __future__ import annotations

import array
import struct
import threading
from typing import Any, List

import pytest

from conftest import expect_error
from valori import Edge, Hit, Node, Reach, Record, SearchExpandResult, Stats, Valori, ValoriError

try:
    import numpy as np
except ImportError:  # the suite runs without NumPy too; the NumPy cases then fail loudly below
    np = None

HEX64 = set("0123456789abcdef")


def q16(x: float) -> float:
    """What the engine stores for x: binary32, then Q16.16 rounded half to even."""
    f = struct.unpack("<f", struct.pack("<f", x))[0]
    return round(f * 65536) / 65536


def is_root(s: str) -> bool:
    return isinstance(s, str) and len(s) == 64 and set(s) <= HEX64


# ---- records


def test_insert_get_and_ids(make_db: Any) -> None:
    db = make_db(dim=3)
    assert db.dim == 3
    assert db.insert([0.5, -1.25, 3.0], tag=7, meta=b"note") == 1
    assert db.insert((0.1, 0.2, 0.3)) == 2
    r = db.get(1)
    assert r == Record(1, [0.5, -1.25, 3.0], 7, b"note")
    r2 = db.get(2)
    assert r2.vector == [q16(0.1), q16(0.2), q16(0.3)] and r2.tag == 0 and r2.meta is None
    assert db.get(3) is None and db.get(0) is None and db.get(2**64 - 1) is None
    assert db.stats().records == 2 and db.stats().next_record_id == 3


def test_u64_tags_and_binary_metadata(make_db: Any) -> None:
    db = make_db(dim=2)
    big = 2**64 - 1
    a = db.insert([1, 2], tag=big, meta=bytes(range(256)))
    b = db.insert([1, 2], tag=2**53 + 1, meta="été ☃")
    c = db.insert([1, 2], meta=b"")
    assert db.get(a).tag == big and db.get(a).meta == bytes(range(256))
    assert db.get(b).tag == 2**53 + 1 and db.get(b).meta == "été ☃".encode("utf-8")
    assert db.get(c).meta is None
    assert [h.id for h in db.search([1, 2], k=5, tag=big)] == [a]
    assert [h.id for h in db.search([1, 2], k=5, tags=[2**53 + 1, big])] == [a, b]
    m = b"x" * 65536  # exactly the limit
    d = db.insert([0, 0], meta=m)
    assert db.get(d).meta == m


def test_insert_batch_is_atomic(make_db: Any) -> None:
    db = make_db(dim=2)
    ids = db.insert_batch([[0, 0], [1, 1], [2, 2]], tags=[5, 6, 7], metas=[b"a", None, "c"])
    assert ids == [1, 2, 3]
    assert [db.get(i).tag for i in ids] == [5, 6, 7]
    assert [db.get(i).meta for i in ids] == [b"a", None, b"c"]
    assert db.insert_batch([[3, 3], [4, 4]]) == [4, 5]  # no tags, no metas: the binary path remotely
    assert db.get(5) == Record(5, [4.0, 4.0], 0, None)
    # one bad record rejects the whole batch; the ids are not consumed
    expect_error(db, "ENAN", lambda: db.insert_batch([[1, 1], [float("nan"), 0], [2, 2]]))
    expect_error(db, "ENAN", lambda: db.insert_batch([[1, 1], [float("nan"), 0]], metas=[b"m", None]))
    expect_error(db, "ERANGE", lambda: db.insert_batch([[1, 1], [0, 300]], tags=[1, 2]))
    expect_error(db, "ETOOBIG", lambda: db.insert_batch([[1, 1], [0, 0]], metas=[None, b"x" * 65537]))
    expect_error(db, "EDIM", lambda: db.insert_batch([[1, 1], [0, 0, 0]]))
    expect_error(db, "EEMPTY", lambda: db.insert_batch([]))
    expect_error(db, "EINVAL", lambda: db.insert_batch([[1, 1]], tags=[1, 2]))
    expect_error(db, "EINVAL", lambda: db.insert_batch([[1, 1]], metas=[]))
    expect_error(db, "EINVAL", lambda: db.insert_batch([[1, 1]], tags=[-1]))
    expect_error(db, "ETOOBIG", lambda: db.insert_batch([[0.0, 0.0]] * 100001))
    assert db.insert([9, 9]) == 6
    assert db.stats().records == 6


def test_content_order_first_bad_record_decides(make_db: Any) -> None:
    """valori.h "Records": records in order, within a record the vector before the metadata."""
    db = make_db(dim=2)
    expect_error(db, "ENAN", lambda: db.insert_batch([[float("nan"), 0], [0, 0]], metas=[None, b"x" * 70000]))
    expect_error(db, "ETOOBIG", lambda: db.insert_batch([[0, 0], [float("nan"), 0]], metas=[b"x" * 70000, None]))
    expect_error(db, "ENAN", lambda: db.insert([float("nan"), 0], meta=b"x" * 70000))
    expect_error(db, "ERANGE", lambda: db.insert([300, float("nan")]))
    expect_error(db, "EINF", lambda: db.insert([float("-inf"), 300]))


def test_update_set_meta_delete(make_db: Any) -> None:
    db = make_db(dim=2)
    a, b = db.insert_batch([[1, 1], [2, 2]], tags=[1, 2], metas=[b"one", b"two"])
    db.update(a, vector=[5, 5], tag=50, meta=b"five")
    assert db.get(a) == Record(a, [5.0, 5.0], 50, b"five")
    db.update(a, tag=51)
    assert db.get(a) == Record(a, [5.0, 5.0], 51, b"five")
    db.update(a, meta=None)
    assert db.get(a).meta is None
    db.set_meta(b, "deux")
    assert db.get(b).meta == b"deux"
    db.set_meta(b, None)
    assert db.get(b).meta is None
    expect_error(db, "EINVAL", lambda: db.update(a))
    expect_error(db, "ENOTFOUND", lambda: db.update(99, tag=1))
    expect_error(db, "ENAN", lambda: db.update(a, vector=[float("nan"), 1], tag=7))
    expect_error(db, "ETOOBIG", lambda: db.update(a, tag=7, meta=b"x" * 65537))
    expect_error(db, "EDIM", lambda: db.update(a, vector=[1, 2, 3]))
    assert db.get(a).tag == 51  # the rejected multi-field updates changed nothing
    db.delete(a)
    assert db.get(a) is None
    expect_error(db, "ENOTFOUND", lambda: db.delete(a))
    expect_error(db, "ENOTFOUND", lambda: db.set_meta(a, b"x"))
    assert db.stats().records == 1


# ---- search


def test_search_order_filters_and_modes(make_db: Any) -> None:
    db = make_db(dim=2)
    pts = [[0, 0], [1, 0], [0, 1], [1, 1], [2, 0], [0, 2], [-1, 0], [3, 3]]
    ids = db.insert_batch(pts, tags=[i % 3 for i in range(len(pts))])
    hits = db.search([0, 0], k=4)
    assert all(isinstance(h, Hit) for h in hits)
    assert [h.id for h in hits] == [1, 2, 3, 7]  # (distance, id): three ties at 1.0 ordered by id
    assert [h.distance for h in hits] == [0.0, 1.0, 1.0, 1.0]
    assert [h.distance_raw for h in hits] == [0, 2**32, 2**32, 2**32]
    assert db.search([0, 0], k=4, mode="exact") == hits
    assert db.search([0, 0], k=4, mode="hnsw", ef=50) == hits
    assert len(db.search([0, 0], k=100)) == len(pts)
    f = db.search([0, 0], k=10, tag=1)
    assert [h.id for h in f] == [i for i in ids if (i - 1) % 3 == 1] and len(f) == 3
    f2 = db.search([0, 0], k=10, tag=1, tags=[2])
    assert sorted(h.id for h in f2) == sorted(i for i in ids if (i - 1) % 3 in (1, 2))
    assert db.search([0, 0], k=10, tags=[77]) == []
    assert db.search(array.array("f", [0, 0]), k=1)[0].id == 1


def test_search_bad_arguments(make_db: Any) -> None:
    db = make_db(dim=2)
    db.insert_batch([[0, 0], [1, 1]])
    expect_error(db, "EK", lambda: db.search([0, 0], k=0))
    expect_error(db, "EK", lambda: db.search([0, 0], k=10001))
    expect_error(db, "EK", lambda: db.search([0, 0], k=1, ef=10001))
    expect_error(db, "EK", lambda: db.search([float("nan"), 0], k=0))  # k is checked before the query
    expect_error(db, "EINVAL", lambda: db.search([0, 0], k="5"))
    expect_error(db, "EINVAL", lambda: db.search([0, 0], mode="fast"))
    expect_error(db, "ETOOBIG", lambda: db.search([0, 0], tags=list(range(257))))
    expect_error(db, "EINVAL", lambda: db.search([0, 0], tags=[]))
    expect_error(db, "EINVAL", lambda: db.search([0, 0], tag=-1))
    expect_error(db, "EDIM", lambda: db.search([0, 0, 0]))
    expect_error(db, "ENAN", lambda: db.search([0, float("nan")]))
    expect_error(db, "EINF", lambda: db.search([float("inf"), 0]))
    expect_error(db, "ERANGE", lambda: db.search([1e39, 0]))  # out of range before rounding, as in JS
    expect_error(db, "EINVAL", lambda: db.search("ab"))
    expect_error(db, "EINVAL", lambda: db.search([0, "x"]))


def test_index_less_store(make_db: Any) -> None:
    db = make_db(dim=2, index="none")
    db.insert_batch([[0, 0], [1, 1], [2, 2]])
    s = db.stats()
    assert s.index == "none" and s.hnsw_m == 0
    assert [h.id for h in db.search([1, 1], k=2)] == [2, 1]
    expect_error(db, "EINVAL", lambda: db.search([1, 1], mode="hnsw"))
    expect_error(db, "EINVAL", lambda: db.search([float("nan"), 1], mode="hnsw"))  # the mode before the query
    expect_error(db, "ENAN", lambda: db.search([float("nan"), 1], mode="exact"))
    with pytest.raises(ValoriError) as e:
        make_db(dim=2, index="none", hnsw={"m": 8})
    assert e.value.code == "EINVAL"


def test_inner_product_metric(make_db: Any) -> None:
    db = make_db(dim=2, metric="ip")
    db.insert_batch([[1, 0], [0, 2], [3, 3]])
    hits = db.search([1, 1], k=3)
    assert [h.id for h in hits] == [3, 2, 1] and hits[0].distance == -6.0 and hits[0].distance_raw == -6 * 2**32
    assert db.stats().metric == "ip"


# ---- knowledge graph


def test_graph_nodes_edges_neighbors_expand(make_db: Any) -> None:
    db = make_db(dim=2)
    r1, r2, r3 = db.insert_batch([[0, 0], [5, 5], [9, 9]])
    n1 = db.create_node(kind=1, record=r1, label=b"paris")
    n2 = db.create_node(kind=2, label="france")
    n3 = db.create_node(kind=3, record=r3)
    assert (n1, n2, n3) == (1, 2, 3)
    assert db.get_node(n1) == Node(n1, 1, r1, b"paris")
    assert db.get_node(n2) == Node(n2, 2, None, b"france")
    assert db.get_node(99) is None
    assert db.node_of_record(r1) == n1 and db.node_of_record(r2) is None and db.node_of_record(999) is None
    e1 = db.create_edge(n1, n2, kind=5, weight=0.75)
    e2 = db.create_edge(n2, n3, kind=6)
    e3 = db.create_edge(n3, n1, kind=5, weight=-2.5)
    assert db.neighbors(n1) == [Edge(e1, n1, n2, 5, 0.75)]
    assert db.neighbors(n1, dir="in") == [Edge(e3, n3, n1, 5, -2.5)]
    assert db.neighbors(n1, dir="both") == [Edge(e1, n1, n2, 5, 0.75), Edge(e3, n3, n1, 5, -2.5)]
    assert db.neighbors(n2, dir="both", kind=6) == [Edge(e2, n2, n3, 6, None)]
    assert db.expand([n1], hops=2) == [Reach(n1, 0, 0), Reach(n2, e1, 1), Reach(n3, e2, 2)]
    assert db.expand([n1], hops=0) == [Reach(n1, 0, 0)]
    assert db.expand([], hops=2) == []  # no seeds: no expansion (remote: the server answers an empty list)
    assert db.expand([n1], hops=5, max_nodes=2) == [Reach(n1, 0, 0), Reach(n2, e1, 1)]
    res = db.search_expand([0.1, 0.1], k=1, hops=1)
    assert isinstance(res, SearchExpandResult)
    assert [h.id for h in res.hits] == [r1] and res.nodes == [Reach(n1, 0, 0), Reach(n2, e1, 1)]
    res2 = db.search_expand([5, 5], k=1, hops=3, dir="in")
    assert [h.id for h in res2.hits] == [r2] and res2.nodes == []  # a hit without a node is still a hit
    expect_error(db, "EEXIST", lambda: db.create_node(kind=1, record=r1))
    expect_error(db, "ENOTFOUND", lambda: db.create_node(kind=1, record=777))
    expect_error(db, "ENOTFOUND", lambda: db.create_edge(n1, 77))
    expect_error(db, "ENAN", lambda: db.create_edge(n1, n2, weight=float("nan")))
    expect_error(db, "ERANGE", lambda: db.create_edge(n1, n2, weight=300.0))
    expect_error(db, "ETOOBIG", lambda: db.create_node(label=b"x" * 65537))
    expect_error(db, "ENOTFOUND", lambda: db.neighbors(77))
    expect_error(db, "ENOTFOUND", lambda: db.expand([77]))
    expect_error(db, "EINVAL", lambda: db.expand([n1], hops=17))
    expect_error(db, "EINVAL", lambda: db.search_expand([float("nan"), 0], hops=17))  # expansion args first
    expect_error(db, "EINVAL", lambda: db.search_expand([0, 0], k=0, max_nodes=0))
    expect_error(db, "EK", lambda: db.search_expand([float("nan"), 0], k=0))
    expect_error(db, "EINVAL", lambda: db.neighbors(n1, dir="up"))
    # deleting a record deletes its node and the node's edges
    db.delete(r1)
    assert db.get_node(n1) is None and db.neighbors(n2, dir="both") == [Edge(e2, n2, n3, 6, None)]
    db.delete_edge(e2)
    assert db.neighbors(n2, dir="both") == []
    expect_error(db, "ENOTFOUND", lambda: db.delete_edge(e2))
    db.delete_node(n2)
    expect_error(db, "ENOTFOUND", lambda: db.delete_node(n2))
    s = db.stats()
    assert (s.nodes, s.edges, s.records) == (1, 0, 2)


# ---- state, snapshots, persistence


def test_state_root_index_digest_stats(make_db: Any) -> None:
    db = make_db(dim=3, hnsw={"m": 8, "ef_construction": 50, "ef_search": 20})
    r0 = db.state_root()
    assert is_root(r0) and is_root(db.index_digest())
    db.insert([1, 2, 3])
    r1 = db.state_root()
    assert r1 != r0
    s = db.stats()
    assert isinstance(s, Stats)
    assert (s.height, s.records, s.dim, s.metric, s.index) == (1, 1, 3, "l2", "hnsw")
    assert (s.hnsw_m, s.hnsw_ef_construction, s.hnsw_ef_search) == (8, 50, 20)
    assert s.durable_height == 1 and s.disk_bytes and s.disk_bytes > 0
    # the engine's counters, in both modes (remote: the server's describe)
    assert (s.next_node_id, s.next_edge_id, s.index_tombstones) == (1, 1, 0)
    assert s.vector_bytes and s.index_bytes and s.other_bytes
    db.check()
    # the root depends on the logical state only: delete + reinsert elsewhere gives a new root,
    # the same events in another database the same root
    other = make_db(dim=3, hnsw={"m": 8, "ef_construction": 50, "ef_search": 20})
    other.insert([1, 2, 3])
    assert other.state_root() == r1 and other.index_digest() == db.index_digest()


def test_snapshot_round_trip_and_checkpoint(make_db: Any) -> None:
    db = make_db(dim=2)
    db.insert_batch([[1, 2], [3, 4]], tags=[1, 2], metas=[b"a", b"b"])
    n = db.create_node(kind=4, record=1)
    db.create_edge(n, db.create_node(), weight=1.5)
    snap = db.snapshot()
    assert isinstance(snap, bytes) and len(snap) > 64
    copy = Valori.from_snapshot(snap)
    try:
        assert copy.mode == "embedded" and copy.dim == 2
        assert copy.state_root() == db.state_root() and copy.index_digest() == db.index_digest()
        assert copy.get(1) == db.get(1) and copy.neighbors(n) == db.neighbors(n)
        assert copy.snapshot() == snap
    finally:
        copy.close()
    db.checkpoint()
    s = db.stats()
    assert s.snapshot_height == s.height == 4  # batch, node, node, edge
    with pytest.raises(ValoriError) as e:
        Valori.from_snapshot(snap[:-7])
    assert e.value.code == "ECORRUPT"


def test_reopen_keeps_everything(opener: Any) -> None:
    db = opener.open(dim=4, metric="ip")
    ids = db.insert_batch([[1, 2, 3, 4], [4, 3, 2, 1]], tags=[3, 4], metas=[b"x", None])
    node = db.create_node(kind=9, record=ids[0], label=b"L")
    root, digest = db.state_root(), db.index_digest()
    db2 = opener.reopen(db)
    assert db.closed and not db2.closed
    assert db2.dim == 4 and db2.stats().metric == "ip"
    assert (db2.state_root(), db2.index_digest()) == (root, digest)
    assert db2.get(ids[0]) == Record(ids[0], [1.0, 2.0, 3.0, 4.0], 3, b"x")
    assert db2.get_node(node) == Node(node, 9, ids[0], b"L")
    assert db2.insert([0, 0, 0, 1]) == 3
    # options given explicitly must match the recorded configuration
    where = opener.where(db2)
    db2.close()
    for bad in ({"dim": 5}, {"metric": "l2"}, {"index": "none"}):
        with pytest.raises(ValoriError) as e:
            opener.open(where, **bad)
        assert e.value.code == "ECONFIG", bad


def test_apply_events(make_db: Any) -> None:
    db = make_db(dim=2)
    db.insert_batch([[1, 1], [2, 2], [3, 3], [4, 4]])
    # DELETE (opcode 3) of record 4: docs/HTTP.md section 11, docs/FORMAT.md "Events"
    assert db.apply(bytes.fromhex("0300 0000 08000000 0400000000000000")) == 0
    assert db.get(4) is None and db.stats().records == 3
    expect_error(db, "EOPCODE", lambda: db.apply(bytes.fromhex("6300 0000 00000000")))
    # bytes that do not decode: the core says ECORRUPT, the server EBINARY (docs/HTTP.md section 11)
    bad = "EBINARY" if db.mode == "remote" else "ECORRUPT"
    expect_error(db, bad, lambda: db.apply(b""))
    expect_error(db, bad, lambda: db.apply(bytes.fromhex("0100000014000000")))
    expect_error(db, "EINVAL", lambda: db.apply("03000000"))


# ---- inputs: NumPy and lists


def test_numpy_and_list_inputs_give_the_same_state(make_db: Any) -> None:
    assert np is not None, "NumPy is not importable: the test interpreter must have python3-numpy"
    rng = np.random.default_rng(7)
    vecs = (rng.standard_normal((50, 8)) * 10).astype(np.float32)
    tags = rng.integers(0, 4, 50).astype(np.uint64)
    a = make_db(dim=8)
    b = make_db(dim=8)
    a.insert_batch(vecs, tags=tags)
    b.insert_batch(vecs.tolist(), tags=[int(t) for t in tags])
    a.insert(vecs[0].astype(np.float64), tag=np.uint64(3))
    b.insert([float(x) for x in vecs[0]], tag=3)
    a.update(2, vector=np.asarray(vecs[5], dtype=np.float16))
    b.update(2, vector=vecs[5].astype(np.float16).astype(np.float32).tolist())
    assert a.state_root() == b.state_root()
    q = vecs[10]
    assert a.search(q, k=5) == b.search(q.tolist(), k=5) == a.search(q.astype(np.float64), k=5)
    assert a.search(q, k=1)[0].id == 11
    expect_error(a, "EDIM", lambda: a.insert_batch(np.zeros((2, 9), np.float32)))
    expect_error(a, "EINVAL", lambda: a.insert_batch(np.zeros(8, np.float32)))
    expect_error(a, "ENAN", lambda: a.insert(np.full(8, np.nan, np.float32)))
    expect_error(a, "ERANGE", lambda: a.insert(np.full(8, 1e39, np.float64)))
    expect_error(a, "ERANGE", lambda: a.insert(np.full(8, 256.00001, np.float64)))
    with np.errstate(over="ignore"):  # binary32 already: 1e39 is an infinity there
        inf32 = np.full(8, 1e39, np.float64).astype(np.float32)
    expect_error(a, "EINF", lambda: a.insert(inf32))
    expect_error(a, "EINVAL", lambda: a.insert(np.array(["a"] * 8)))
    expect_error(a, "EINVAL", lambda: a.insert_batch(vecs[:2], tags=np.array([1, -1])))


def test_rounding_is_binary32_then_q16(make_db: Any) -> None:
    db = make_db(dim=4)
    xs = [1 / 131072, 3 / 131072, 255.999999999, -255.999999]  # ties to even; 256 - tiny rounds to 256
    i = db.insert(xs)
    assert db.get(i).vector == [q16(x) for x in xs] == [0.0, 2 / 65536, 256.0, -256.0]


# ---- misuse, lifecycle, threads


def test_bad_arguments_change_nothing(make_db: Any) -> None:
    db = make_db(dim=3)
    db.insert([1, 2, 3], tag=1)
    expect_error(db, "ENAN", lambda: db.insert([float("nan"), 0, 0]))
    expect_error(db, "EINF", lambda: db.insert([0, float("inf"), 0]))
    expect_error(db, "ERANGE", lambda: db.insert([0, 0, 256.01]))
    expect_error(db, "ERANGE", lambda: db.insert([0, 0, 10**400]))
    expect_error(db, "ERANGE", lambda: db.insert([1e300, 0, 0]))
    expect_error(db, "ERANGE", lambda: db.insert([256.00001, 0, 0]))
    expect_error(db, "ERANGE", lambda: db.insert([300, float("nan"), 1e300]))  # the first bad component
    expect_error(db, "EDIM", lambda: db.insert([1, 2]))
    expect_error(db, "EDIM", lambda: db.insert([]))
    expect_error(db, "ETOOBIG", lambda: db.insert([1, 2, 3], meta=b"x" * 65537))
    expect_error(db, "ENOTFOUND", lambda: db.delete(42))
    expect_error(db, "EK", lambda: db.search([1, 2, 3], k=0))
    expect_error(db, "EINVAL", lambda: db.insert([1, 2, 3], tag=-1))
    expect_error(db, "EINVAL", lambda: db.insert([1, 2, 3], tag=2**64))
    expect_error(db, "EINVAL", lambda: db.insert([1, 2, 3], tag="7"))
    expect_error(db, "EINVAL", lambda: db.insert([1, 2, 3], tag=True))
    expect_error(db, "EINVAL", lambda: db.insert([1, 2, 3], meta=123))
    expect_error(db, "EINVAL", lambda: db.get("1"))
    expect_error(db, "EINVAL", lambda: db.insert({"a": 1}))
    expect_error(db, "EINVAL", lambda: db.insert(None))
    expect_error(db, "EINVAL", lambda: db.create_node(kind=-1))


def test_error_numbers_are_the_c_library_numbers(make_db: Any) -> None:
    from valori import _lib

    c = _lib.load().codes
    db = make_db(dim=2)
    assert {k: v for k, v in db.constants()["codes"].items() if not k.startswith("_")} == c
    for fn, code in ((lambda: db.insert([1]), "EDIM"), (lambda: db.delete(5), "ENOTFOUND"),
                     (lambda: db.search([0, 0], k=0), "EK"), (lambda: db.insert([float("nan"), 1]), "ENAN")):
        with pytest.raises(ValoriError) as e:
            fn()
        assert (e.value.code, e.value.errno) == (code, c[code])
        assert isinstance(e.value, Exception) and code in str(e.value)


def test_context_manager_and_closed(make_db: Any) -> None:
    db = make_db(dim=2)
    with db as same:
        assert same is db
        same.insert([1, 1])
    assert db.closed
    db.close()  # twice is fine
    for fn in (lambda: db.insert([1, 1]), lambda: db.search([1, 1]), lambda: db.get(1), lambda: db.stats(),
               lambda: db.state_root()):
        with pytest.raises(ValoriError) as e:
            fn()
        assert e.value.code == "ECLOSED"


def test_no_dimension_until_the_first_insert(opener: Any) -> None:
    db = opener.open()
    assert db.dim is None and "no dimension" in repr(db)
    assert db.search([1, 2, 3], k=5) == [] and db.get(1) is None and db.expand([]) == []
    assert db.stats().records == 0 and db.stats().dim == 0
    with pytest.raises(ValoriError) as e:
        db.state_root()
    assert e.value.code == "EINVAL"
    with pytest.raises(ValoriError) as e:
        db.delete(1)
    assert e.value.code == "ENOTFOUND"
    with pytest.raises(ValoriError) as e:
        db.search([float("nan"), 1], k=1)
    assert e.value.code == "ENAN"
    assert db.insert([1, 2, 3]) == 1
    assert db.dim == 3 and db.stats().dim == 3
    with pytest.raises(ValoriError) as e:
        db.insert([1, 2])
    assert e.value.code == "EDIM"
    db2 = opener.reopen(db)
    assert db2.dim == 3 and db2.get(1).vector == [1.0, 2.0, 3.0]


def test_threads_share_one_object(make_db: Any) -> None:
    db = make_db(dim=2)
    got: List[int] = []
    errors: List[BaseException] = []
    lock = threading.Lock()

    def writer(t: int) -> None:
        try:
            for i in range(25):
                rid = db.insert([t, i], tag=t)
                db.search([t, i], k=3)
                with lock:
                    got.append(rid)
        except BaseException as e:  # surfaced below
            errors.append(e)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors and not any(th.is_alive() for th in threads)
    assert sorted(got) == list(range(1, 101))
    assert db.stats().records == 100
    db.check()


def test_quick_start_as_written(mode: str, tmp_path: Any, monkeypatch: Any, request: Any) -> None:
    """The seed's quick start, word for word: no dimension named anywhere."""
    if mode == "embedded":
        monkeypatch.chdir(tmp_path)
        db = Valori(path="./valori_db")
    else:
        srv = request.getfixturevalue("server")
        port = srv.url.rsplit(":", 1)[1]
        db = Valori(remote=f"http://localhost:{port}")  # the seed's URL on this test server's port
    with db:
        vec = [0.1] * 16
        first = db.insert(vec, tag=0)
        db.insert_batch([[0.2] * 16, [0.3] * 16])
        hits = db.search(vec, k=5)
        assert hits[0].id == first and len(hits) >= 3
        snap = db.snapshot()
        assert Valori.from_snapshot(snap).state_root() == db.state_root()
    if mode == "embedded":
        assert (tmp_path / "valori_db").is_dir()
