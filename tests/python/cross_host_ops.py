"""The operations of the cross-host test (test_cross_host.py) and their Python runner.

File format (JSON lines): the first line is the configuration ``{"dim": D, "hnsw": {"m": M,
"ef_construction": E}}``; every other line one operation:

    {"op": "insert", "vector": [...], "tag": "U64", "meta": BASE64 | null}
    {"op": "batch", "vectors": [[...], ...], "tags": ["U64", ...] | null, "metas": [BASE64 | null, ...] | null}
    {"op": "update", "id": "U64", "vector": [...]?, "tag": "U64"?}      (one UPDATE event)
    {"op": "set_meta", "id": "U64", "meta": BASE64 | null}
    {"op": "delete" | "delete_node" | "delete_edge", "id": "U64"}
    {"op": "node", "kind": K, "record": "U64" ("0": none), "label": BASE64 | null}
    {"op": "edge", "from": "U64", "to": "U64", "kind": K, "weight": number | null}
    {"op": "search", "vector": [...], "k": K, "tags": ["U64", ...] | null, "mode": "auto" | "exact"}

Vector components are JSON numbers exactly representable in binary32, or the strings "NaN",
"Infinity", "-Infinity". Each host prints one line per operation: ``ok``, ``ok ID`` (the id an
insert, batch, node or edge got), ``ok ID,ID,...`` (a search's hits) or ``err CODE``; then
``root``, ``index``, ``height`` and ``records``.
"""

from __future__ import annotations

import base64
import json
import random
from typing import Any, Dict, List, Optional

from valori import Valori, ValoriError

DIM = 6
CONFIG = {"dim": DIM, "hnsw": {"m": 8, "ef_construction": 40}}


def generate(seed: int, n: int) -> List[Dict[str, Any]]:
    rng = random.Random(seed)
    ops: List[Dict[str, Any]] = []
    records = nodes = edges = 0

    def vec(bad: bool = False) -> List[Any]:
        v: List[Any] = [rng.randint(-40000, 40000) / 256 for _ in range(DIM)]
        if bad:
            v[rng.randrange(DIM)] = rng.choice(["NaN", "Infinity", "-Infinity", 300.0, -256.5])
        return v

    def meta() -> Optional[str]:
        r = rng.random()
        if r < 0.5:
            return None
        size = 70000 if r > 0.97 else rng.randint(1, 40)
        return base64.b64encode(bytes(rng.randrange(256) for _ in range(size))).decode()

    def some(count: int) -> str:
        return str(rng.randint(1, count + 3))  # sometimes unknown

    for _ in range(n):
        r = rng.random()
        if r < 0.22:
            ops.append({"op": "insert", "vector": vec(rng.random() < 0.08), "tag": str(rng.randrange(4)), "meta": meta()})
            records += 1
        elif r < 0.32:
            k = rng.randint(1, 12)
            bad = rng.random() < 0.1
            vs = [vec(bad and i == k - 1) for i in range(k)]
            if rng.random() < 0.05:
                vs[0] = vs[0][:-1]  # wrong dimension
            ops.append({"op": "batch", "vectors": vs,
                        "tags": [str(rng.randrange(4)) for _ in range(k)] if rng.random() < 0.7 else None,
                        "metas": [meta() for _ in range(k)] if rng.random() < 0.5 else None})
            records += k
        elif r < 0.42:
            u: Dict[str, Any] = {"op": "update", "id": some(records)}
            if rng.random() < 0.6:
                u["vector"] = vec(rng.random() < 0.1)
            if rng.random() < 0.6 or "vector" not in u:
                u["tag"] = str(rng.choice([0, 1, 2, 3, 2**64 - 1]))
            ops.append(u)
        elif r < 0.48:
            ops.append({"op": "set_meta", "id": some(records), "meta": meta()})
        elif r < 0.55:
            ops.append({"op": "delete", "id": some(records)})
        elif r < 0.66:
            ops.append({"op": "node", "kind": rng.randrange(5),
                        "record": str(rng.randint(1, min(records, 10) + 2 if rng.random() < 0.5 else records + 2))
                        if rng.random() < 0.7 else "0",
                        "label": meta() if rng.random() < 0.5 else None})
            nodes += 1
        elif r < 0.78:
            ops.append({"op": "edge", "from": some(nodes), "to": some(nodes), "kind": rng.randrange(3),
                        "weight": rng.choice([None, rng.randint(-1024, 1024) / 64, 300.0, "NaN"])})
            edges += 1
        elif r < 0.82:
            ops.append({"op": "delete_node" if rng.random() < 0.5 else "delete_edge",
                        "id": some(nodes if rng.random() < 0.5 else edges)})
        else:
            ops.append({"op": "search", "vector": vec(rng.random() < 0.05), "k": rng.choice([0, 1, 5, 10, 20000]),
                        "tags": [str(rng.randrange(4)) for _ in range(rng.randint(1, 2))] if rng.random() < 0.5 else None,
                        "mode": rng.choice(["auto", "exact"])})
    return ops


def write(path: str, ops: List[Dict[str, Any]]) -> None:
    with open(path, "w") as f:
        f.write(json.dumps(CONFIG) + "\n")
        for o in ops:
            f.write(json.dumps(o) + "\n")


def _v(xs: List[Any]) -> List[float]:
    return [float(x) for x in xs]  # float("NaN"), float("Infinity") parse as such


def _m(s: Optional[str]) -> Optional[bytes]:
    return None if s is None else base64.b64decode(s)


def run(db: Valori, ops: List[Dict[str, Any]]) -> List[str]:
    """Applies the operations through the SDK; returns the lines the hosts compare."""
    out: List[str] = []
    for o in ops:
        op = o["op"]
        try:
            if op == "insert":
                out.append(f"ok {db.insert(_v(o['vector']), tag=int(o['tag']), meta=_m(o['meta']))}")
            elif op == "batch":
                ids = db.insert_batch([_v(v) for v in o["vectors"]],
                                      tags=None if o["tags"] is None else [int(t) for t in o["tags"]],
                                      metas=None if o["metas"] is None else [_m(m) for m in o["metas"]])
                out.append(f"ok {ids[0]}")
            elif op == "update":
                db.update(int(o["id"]), vector=_v(o["vector"]) if "vector" in o else None,
                          tag=int(o["tag"]) if "tag" in o else None)
                out.append("ok")
            elif op == "set_meta":
                db.set_meta(int(o["id"]), _m(o["meta"]))
                out.append("ok")
            elif op == "delete":
                db.delete(int(o["id"]))
                out.append("ok")
            elif op == "node":
                rec = int(o["record"])
                out.append(f"ok {db.create_node(kind=o['kind'], record=rec or None, label=_m(o['label']))}")
            elif op == "edge":
                w = o["weight"]
                out.append(f"ok {db.create_edge(int(o['from']), int(o['to']), kind=o['kind'], weight=None if w is None else float(w))}")
            elif op == "delete_node":
                db.delete_node(int(o["id"]))
                out.append("ok")
            elif op == "delete_edge":
                db.delete_edge(int(o["id"]))
                out.append("ok")
            elif op == "search":
                hits = db.search(_v(o["vector"]), k=o["k"], tags=None if o["tags"] is None else [int(t) for t in o["tags"]],
                                 mode=o["mode"])
                out.append("ok " + ",".join(str(h.id) for h in hits) if hits else "ok")
            else:
                raise AssertionError(op)
        except ValoriError as e:
            out.append(f"err {e.code}")
    s = db.stats()
    out += [f"root {db.state_root()}", f"index {db.index_digest()}", f"height {s.height}", f"records {s.records}"]
    return out
