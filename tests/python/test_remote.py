"""Remote-mode behaviours that have no embedded counterpart: collections, bearer tokens, the
server's own codes and limits, unreachable servers, reconnecting after a server restart."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from conftest import ServerProcess
from valori import CollectionInfo, Valori, ValoriError


def err(fn) -> ValoriError:
    with pytest.raises(ValoriError) as e:
        fn()
    return e.value


def test_collections(server: Any) -> None:
    tag = f"coll-{os.getpid()}"
    with Valori(remote=server.url, collection=f"{tag}-a") as db:
        info = db.create_collection(f"{tag}-b", 4, metric="ip", index="none")
        assert isinstance(info, CollectionInfo) and (info.dim, info.metric, info.index, info.records) == (4, "ip", "none", 0)
        e = err(lambda: db.create_collection(f"{tag}-b", 4))
        assert (e.code, e.status, e.errno) == ("EEXIST", 409, 12)
        e = err(lambda: db.create_collection(".hidden", 4))
        assert e.code == "EINVAL"
        assert db.describe() is None  # "-a" exists only after its first insert
        db.insert([1, 2, 3])
        assert db.describe().dim == 3
        names = [c.name for c in db.collections()]
        assert f"{tag}-a" in names and f"{tag}-b" in names and names == sorted(names)
        b = db.use(f"{tag}-b")
        assert b.collection == f"{tag}-b" and b.dim == 4 and b.stats().metric == "ip"
        b.insert_batch([[1, 0, 0, 0], [0, 1, 0, 0]])
        assert [h.id for h in b.search([0, 2, 0, 0], k=1)] == [2]
        c = db.use(f"{tag}-c", dim=2)
        c.close()  # closing one collection's object leaves the others that share the server open
        assert db.describe().dim == 3 and b.stats().records == 2
        db.delete_collection(f"{tag}-b")
        e = err(lambda: b.insert([1, 1, 1, 1]))
        assert (e.code, e.status, e.errno) == ("ENOCOLLECTION", 404, 107)
        e = err(lambda: db.delete_collection(f"{tag}-b"))
        assert e.code == "ENOCOLLECTION"
        e = err(lambda: Valori(remote=server.url, collection=f"{tag}-missing", create=False))
        assert e.code == "ENOCOLLECTION"
        e = err(lambda: db.use(f"{tag}-x", bogus=1))
        assert e.code == "EINVAL"
    with Valori(path=None, dim=2) as local:
        assert err(lambda: local.collections()).code == "EINVAL"


def test_server_limits_and_codes(server: Any) -> None:
    with Valori(remote=server.url, collection=f"limits-{os.getpid()}", dim=2) as db:
        db.insert([1, 1])
        e = err(lambda: db.search([1, 1], k=5000))  # within the C limit, above the server's --max-k 1000
        assert (e.code, e.status, e.errno) == ("EK", 400, 8)
        for bad in ("bad name!", ".hidden", "", "x" * 65, "a/b"):
            assert err(lambda: Valori(remote=server.url, collection=bad)).code == "EINVAL", bad
        assert err(lambda: Valori(remote=server.url, read_only=True)).code == "EINVAL"
        for dim in (0, 5000):  # EDIM as embedded (test_embedded.py); the server's code too (tests/server)
            e = err(lambda: Valori(remote=server.url, collection=f"dim{dim}-{os.getpid()}", dim=dim))
            assert e.code == "EDIM", dim
        assert err(lambda: Valori(remote=server.url, durability="relaxed")).code == "EINVAL"
        codes = db.constants()["server_codes"]
        assert codes["EJSON"] == 100 and codes["EUNAVAILABLE"] == 113


def test_unreachable_server() -> None:
    e = err(lambda: Valori(remote="http://127.0.0.1:1"))
    assert (e.code, e.errno) == ("ECONNECT", 201)
    assert err(lambda: Valori(remote="ftp://127.0.0.1/x")).code == "ECONNECT"
    assert err(lambda: Valori(remote="http://127.0.0.1:1", timeout=0)).code == "ECONNECT"


def test_tokens(tmp_path: Path) -> None:
    tf = tmp_path / "tokens"
    tf.write_text("write w-python-test-token-0001\nread r-python-test-token-0001\n")
    s = ServerProcess(tmp_path / "data", ["--token-file", str(tf)])
    try:
        e = err(lambda: Valori(remote=s.url, collection="t"))
        assert (e.code, e.errno, e.status) == ("EAUTH", 102, 401)
        e = err(lambda: Valori(remote=s.url, collection="t", token="not-a-token-of-this-server"))
        assert e.code == "EAUTH"
        with Valori(remote=s.url, collection="t", token="w-python-test-token-0001") as w:
            w.insert([1, 2])
        with Valori(remote=s.url, collection="t", token="r-python-test-token-0001") as r:
            assert [h.id for h in r.search([1, 2])] == [1] and r.get(1).vector == [1.0, 2.0]
            e = err(lambda: r.insert([3, 4]))
            assert (e.code, e.errno, e.status) == ("EFORBIDDEN", 103, 403)
        os.environ["VALORI_TOKEN"] = "w-python-test-token-0001"
        try:
            with Valori(remote=s.url, collection="t") as w:
                assert w.insert([5, 6]) == 2
        finally:
            del os.environ["VALORI_TOKEN"]
    finally:
        assert s.stop() == 0


def test_reconnects_after_a_server_restart(tmp_path: Path, monkeypatch: Any) -> None:
    from valori import _remote

    monkeypatch.setattr(_remote, "KEEPALIVE_IDLE", 1e9)  # only the dropped-connection check may act
    s = ServerProcess(tmp_path / "data")
    try:
        db = Valori(remote=s.url, collection="r", dim=2)
        db.insert([1, 1])
        root = db.state_root()
        port = s.url.rsplit(":", 1)[1]
        assert s.stop() == 0
        s.args[s.args.index("127.0.0.1:0")] = f"127.0.0.1:{port}"  # the same address again
        s.start()
        # the kept-alive connection is gone and a write is the first request: it succeeds (the dead
        # connection is noticed before sending, or the send fails before the request went out whole,
        # and a new connection carries it)
        assert db.insert([2, 2]) == 2
        assert db.state_root() != root
        s.kill9()
        e = err(lambda: db.insert([3, 3]))
        assert e.code == "ECONNECT"
        s.start()
        assert db.get(2) is not None and db.stats().records == 2
        db.close()
    finally:
        s.stop()
