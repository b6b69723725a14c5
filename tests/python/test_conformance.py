"""The Python SDK, the C API and the npm package agree on tests/conformance/bad_calls.json (the
table js/test/conformance.node.test.js and tests/conformance/conformance.c run): every bad call
gets the table's code (the same as C's) and leaves the state root unchanged, and the script of good
calls gives C's results and final root, in both modes. The conventions for values are the
table's own (its "about"); the result encodings are conformance.c's describe_*.

Remote differences, documented in docs/HTTP.md: an event that does not decode is EBINARY from the
server (the core says ECORRUPT)."""

from __future__ import annotations

import array
import struct
import warnings

import json
import os
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from conftest import REPO
from valori import Valori, ValoriError

try:
    import numpy as np
except ImportError:
    np = None

TABLE_FILE = REPO / "tests" / "conformance" / "bad_calls.json"
RUNNER = Path(os.environ.get("VALORI_BUILD_DIR", str(REPO / "build"))) / "tests" / "conformance"
REMOTE_DIFFERS = {"apply: truncated insert": "EBINARY", "apply: empty event": "EBINARY"}
SPECIAL = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def table() -> Dict[str, Any]:
    return json.loads(TABLE_FILE.read_text())


def run_c(mode: str) -> Tuple[List[Tuple[str, str]], str]:
    assert RUNNER.is_file(), f"{RUNNER} missing: build the native tree (cmake --build build)"
    r = subprocess.run([str(RUNNER), str(TABLE_FILE), mode], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    calls: List[Tuple[str, str]] = []
    root = ""
    for line in r.stdout.splitlines():
        if line.startswith("root "):
            root = line[5:]
            continue
        i, code, *rest = line.split(" ", 2)
        assert int(i) == len(calls), line
        calls.append((code, rest[0] if rest else ""))
    return calls, root


def f(x: Any) -> float:
    return SPECIAL[x] if isinstance(x, str) else float(x)


def vec(t: Dict[str, Any], c: Dict[str, Any]) -> "array.array[float]":
    """The table's vector as binary32, as C and JS (Float32Array.from) receive it: the table is about
    the core's rules on binary32 input (a number list would be range-checked before rounding)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return array.array("f", [_f32(f(x)) for x in c.get("vector", [0] * t["dim"])])


def _f32(x: float) -> float:
    """x rounded to binary32 as C's (float)x does (overflow becomes an infinity)."""
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return float("inf") if x > 0 else float("-inf")


def meta(m: Any) -> Optional[bytes]:
    if m is None:
        return None
    if isinstance(m, str):
        return m.encode("utf-8")
    return bytes(m["zeros"])


def ids(v: Any) -> List[int]:
    if isinstance(v, list):
        return [int(x) for x in v]
    return list(range(1, v["count"] + 1))


def rows(r: Any) -> List[Dict[str, Any]]:
    return r if isinstance(r, list) else [r["row"]] * r["repeat"]


def hits(hs: Any) -> str:
    return "h=" + ";".join(f"{h.id}:{h.distance_raw}" for h in hs)


def reach(rs: Any) -> str:
    return "n=" + ";".join(f"{r.node}:{r.via}:{r.depth}" for r in rs)


def call(t: Dict[str, Any], db: Valori, c: Dict[str, Any], opener: Any) -> str:
    op = c["op"]
    if op == "insert":
        kw: Dict[str, Any] = {}
        if "tag" in c:
            kw["tag"] = int(c["tag"])
        if "meta" in c:
            kw["meta"] = meta(c["meta"])
        return f"id={db.insert(vec(t, c), **kw)}"
    if op in ("batch", "batch_flat"):
        rs = rows(c["rows"])
        tags = [int(r.get("tag", 0)) for r in rs] if any("tag" in r for r in rs) else None
        metas = [meta(r.get("meta")) for r in rs] if any("meta" in r for r in rs) else None
        vs: Any = [vec(t, r) for r in rs]
        if op == "batch_flat":
            assert np is not None, "NumPy is needed for the batch_flat call (a 2-D array)"
            vs = np.array(vs, dtype=np.float32).reshape(len(rs), t["dim"])
        return f"id={db.insert_batch(vs, tags=tags, metas=metas)[0]}"
    if op == "update":
        kw = {}
        if "vector" in c:
            kw["vector"] = vec(t, c)
        if "tag" in c:
            kw["tag"] = int(c["tag"])
        if "meta" in c:
            kw["meta"] = meta(c["meta"])
        db.update(int(c["id"]), **kw)
        return ""
    if op == "set_meta":
        db.set_meta(int(c["id"]), meta(c["meta"]))
        return ""
    if op == "delete":
        db.delete(int(c["id"]))
        return ""
    if op in ("search", "search_expand"):
        kw = {"k": c.get("k", 10), "ef": c.get("ef", 0)}
        if "mode" in c:
            kw["mode"] = c["mode"]
        if "tags" in c:
            kw["tags"] = ids(c["tags"])
        if op == "search":
            return hits(db.search(vec(t, c), **kw))
        kw["hops"] = c.get("hops", 1)
        kw["max_nodes"] = c.get("max_nodes", 1000)
        if "dir" in c:
            kw["dir"] = c["dir"]
        r = db.search_expand(vec(t, c), **kw)
        return f"{hits(r.hits)} {reach(r.nodes)}"
    if op == "expand":
        kw = {"hops": c.get("hops", 1), "max_nodes": c.get("max_nodes", 1000)}
        if "dir" in c:
            kw["dir"] = c["dir"]
        return reach(db.expand(ids(c["seeds"]), **kw))
    if op == "neighbors":
        kw = {}
        if "dir" in c:
            kw["dir"] = c["dir"]
        if "kind" in c:
            kw["kind"] = c["kind"]
        es = db.neighbors(int(c["node"]), **kw)
        return "e=" + ";".join(f"{e.id}:{e.from_}:{e.to}:{e.kind}:{'-' if e.weight is None else round(e.weight * 65536)}"
                               for e in es)
    if op == "node_create":
        return f"id={db.create_node(kind=c.get('kind', 0), record=int(c['record']) if 'record' in c else None, label=meta(c.get('meta')))}"
    if op == "node_delete":
        db.delete_node(int(c["id"]))
        return ""
    if op == "edge_create":
        w = _f32(f(c["weight"])) if "weight" in c else None
        return f"id={db.create_edge(int(c['from']), int(c['to']), kind=c.get('kind', 0), weight=w)}"
    if op == "edge_delete":
        db.delete_edge(int(c["id"]))
        return ""
    if op == "get":
        r = db.get(int(c["id"]))
        if r is None:
            raise ValoriError("ENOTFOUND", -1, "no record")
        return f"r={r.tag}:{len(r.meta) if r.meta else 0}:" + ",".join(str(round(x * 65536)) for x in r.vector)
    if op == "open":
        hnsw = {k: c[j] for j, k in (("m", "m"), ("efc", "ef_construction"), ("efs", "ef_search")) if j in c}
        kw = {"dim": c["dim"], "hnsw": hnsw}
        if "metric" in c:
            kw["metric"] = c["metric"]
        if "index" in c:
            kw["index"] = c["index"]
        opener.open(**kw).close()
        return ""
    if op == "apply":
        db.apply(bytes.fromhex(c["event"]))
        return ""
    raise AssertionError(f"unknown op {op}")


def run(t: Dict[str, Any], db: Valori, c: Dict[str, Any], opener: Any) -> Tuple[str, str]:
    try:
        return "OK", call(t, db, c, opener)
    except ValoriError as e:
        return e.code, ""


class _Opener:
    """Databases for the table's "open" calls: in memory, or a fresh server collection."""

    def __init__(self, mode: str, server: Any) -> None:
        self.mode, self.server, self.n = mode, server, 0

    def open(self, **kw: Any) -> Valori:
        self.n += 1
        if self.mode == "remote":
            return Valori(remote=self.server.url, collection=f"conf-{os.getpid()}-{self.n}", **kw)
        return Valori(**kw)


def new_db(mode: str, server: Any, t: Dict[str, Any], tag: str) -> Valori:
    if mode == "remote":
        return Valori(remote=server.url, collection=f"conf-{tag}-{os.getpid()}", dim=t["dim"])
    return Valori(dim=t["dim"])


def prepare(mode: str, request: Any, part: str) -> Tuple[Dict[str, Any], List[Tuple[str, str]], str, _Opener, Valori]:
    """The table, C's answers for `part`, an opener and a fresh database of the table's dim."""
    t = table()
    server = request.getfixturevalue("server") if mode == "remote" else None
    c_calls, c_root = run_c(part)
    return t, c_calls, c_root, _Opener(mode, server), new_db(mode, server, t, part)


def test_bad_calls_same_codes_as_c(mode: str, request: Any) -> None:
    t, c_calls, c_root, opener, db = prepare(mode, request, "bad")
    with db:
        for s in t["setup"]:
            code, _ = run(t, db, s, opener)
            assert code == "OK", (s, code)
        root = db.state_root()
        assert root == c_root
        got, want = [], []
        for i, c in enumerate(t["bad"]):
            code, _ = run(t, db, c, opener)
            got.append(f"{c['name']}: {code}")
            expect = REMOTE_DIFFERS.get(c["name"], c["expect"]) if mode == "remote" else c["expect"]
            want.append(f"{c['name']}: {expect}")
            assert c_calls[i][0] == c["expect"], c["name"]
            assert db.state_root() == root, f"{c['name']} changed the state"
        assert got == want


def test_script_same_results_as_c(mode: str, request: Any) -> None:
    t, c_calls, c_root, opener, db = prepare(mode, request, "script")
    with db:
        got = [run(t, db, c, opener) for c in t["script"]]
        assert [f"{i} {code} {res}" for i, (code, res) in enumerate(got)] == \
               [f"{i} {code} {res}" for i, (code, res) in enumerate(c_calls)]
        assert db.state_root() == c_root
