"""Remote mode: ``valori serve`` over HTTP (docs/HTTP.md is the contract).

The transport is the standard library's HTTP/1.1 client (``http.client``, the layer under
``urllib.request``; ``urllib.parse`` builds the URLs) with one keep-alive connection per thread, so
a sequence of calls does not pay a TCP handshake each. A connection idle for more than
``KEEPALIVE_IDLE`` seconds is replaced before use (the server cuts idle connections after its
``--header-timeout``). A request whose sending fails on a reused connection is sent again on a new
one (the server cannot have acted on a request it did not receive whole); a request whose answer
is lost after it was sent is repeated only when it is a read (GET); a lost write answer raises
``ECONNECT`` saying the write may or may not have been applied.

Wire formats: u64 values (ids, tags) travel as decimal strings, metadata and labels as base64,
vectors as JSON numbers holding the exact binary32 value the SDK converted (so the server's
double-to-binary32 rounding gives back the same bits). JSON cannot carry NaN or infinity, so the
content checks the core makes are repeated here first, in the core's order (the first bad
component of a vector decides ``ENAN`` / ``EINF`` / ``ERANGE``, then metadata size ``ETOOBIG``),
and a call gets the code embedded mode gives. Batches without metadata use the binary ingest path
(``application/vnd.valori.vectors``), where the server's core makes those checks itself.
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import select
import socket
import struct
import threading
import time
import urllib.parse
from typing import Any, Dict, List, Optional, Tuple

from . import _convert as cv
from ._errors import SDK_CODES, ValoriError, sdk_error
from ._types import CollectionInfo, Edge, Hit, Node, Reach, Record, Stats

#: Seconds a kept-alive connection may sit idle before it is replaced by a new one.
KEEPALIVE_IDLE = 2.0

_JSON = "application/json"
_VECTORS = "application/vnd.valori.vectors"
_EVENT = "application/vnd.valori.event"
_SNAPSHOT_MAGIC = b"VALORSNP"


class _NoLock:
    """Remote calls need no per-object lock (each thread has its own connection)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _b64(b: Optional[bytes]) -> Optional[str]:
    return None if b is None else base64.b64encode(b).decode("ascii")


def _unb64(s: Optional[str]) -> Optional[bytes]:
    if s is None:
        return None
    b = base64.b64decode(s, validate=True)
    return b if b else None


class Server:
    """Connection settings, per-thread keep-alive connections, and the server's constants."""

    def __init__(self, url: str, token: Optional[str], timeout: float) -> None:
        u = urllib.parse.urlsplit(url)
        if u.scheme not in ("http", "https") or not u.hostname:
            raise sdk_error("ECONNECT", f"remote must be an http:// or https:// URL, not {url!r}")
        if u.query or u.fragment:
            raise sdk_error("ECONNECT", f"remote URL {url!r} must not have a query or fragment")
        self.url = url.rstrip("/")
        self.scheme = u.scheme
        self.host = u.hostname
        self.port = u.port or (443 if u.scheme == "https" else 80)
        self.prefix = u.path.rstrip("/")
        self.token = token
        self.timeout = float(timeout)
        self.local = threading.local()
        self.all_lock = threading.Lock()
        self.conns: List[http.client.HTTPConnection] = []
        self.closed = False
        self.users = 0  # Remote objects sharing this server (Valori.use); the last close closes it
        self.C: Dict[str, Any] = {}
        self.codes: Dict[str, int] = dict(SDK_CODES)

    # ---- errors

    def named(self, code: str, detail: str = "") -> ValoriError:
        """A ValoriError with the server's number for ``code`` (the C message when it is a core code)."""
        num = self.codes.get(code, -1)
        return ValoriError(code, num, detail or code)

    # ---- transport

    def _new_conn(self) -> http.client.HTTPConnection:
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        c = cls(self.host, self.port, timeout=self.timeout)
        with self.all_lock:
            self.conns.append(c)
        return c

    def _drop(self) -> None:
        c = getattr(self.local, "conn", None)
        self.local.conn = None
        if c is not None:
            c.close()
            with self.all_lock:
                if c in self.conns:
                    self.conns.remove(c)

    def _conn(self) -> Tuple[http.client.HTTPConnection, bool]:
        c = getattr(self.local, "conn", None)
        if c is not None and (time.monotonic() - self.local.used > KEEPALIVE_IDLE or _dropped(c)):
            self._drop()
            c = None
        if c is None:
            c = self._new_conn()
            self.local.conn = c
            return c, False
        return c, True

    def request(self, method: str, path: str, body: Any = None, ctype: str = _JSON,
                query: Optional[Dict[str, Any]] = None) -> Tuple[int, Dict[str, str], bytes]:
        """Sends one request; returns (status, headers, body). Raises ECONNECT on transport failure."""
        if self.closed:
            raise self.named("ECLOSED", "the connection to the server is closed")
        target = self.prefix + path
        if query:
            target += "?" + urllib.parse.urlencode(query)
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data: Optional[bytes] = None
        if body is not None:
            data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body, separators=(",", ":"),
                                                                                allow_nan=False).encode("utf-8")
            headers["Content-Type"] = ctype
        for attempt in (0, 1):
            conn, reused = self._conn()
            sent = False
            try:
                conn.request(method, target, body=data, headers=headers)
                sent = True
                resp = conn.getresponse()
                raw = resp.read()
            except socket.timeout:
                self._drop()
                raise sdk_error("ECONNECT", f"{method} {self.url}{path}: no answer within {self.timeout:g} s") from None
            except (http.client.HTTPException, OSError) as e:
                self._drop()
                if reused and attempt == 0 and (not sent or method in ("GET", "HEAD")):
                    continue  # the kept-alive connection was gone; the request had no effect
                what = "" if method in ("GET", "HEAD") or not sent else " (the write may or may not have been applied)"
                raise sdk_error("ECONNECT", f"{method} {self.url}{path}: {type(e).__name__}: {e}{what}") from None
            self.local.used = time.monotonic()
            if resp.will_close:
                self._drop()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, raw
        raise AssertionError("unreachable")

    def call(self, method: str, path: str, body: Any = None, ctype: str = _JSON,
             query: Optional[Dict[str, Any]] = None, binary: bool = False) -> Any:
        """A request whose success is 2xx; errors become ValoriError with the server's code."""
        status, headers, raw = self.request(method, path, body, ctype, query)
        if 200 <= status < 300:
            if binary:
                return headers, raw
            try:
                return json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise sdk_error("EPROTOCOL", f"{method} {path}: status {status} with a body that is not JSON") from None
        try:
            e = json.loads(raw.decode("utf-8"))["error"]
            code, msg = str(e["code"]), str(e["message"])
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            raise sdk_error("EPROTOCOL", f"{method} {path}: status {status} without the documented error body") from None
        raise ValoriError(code, self.codes.get(code, -1), msg, status)

    def close(self) -> None:
        self.closed = True
        with self.all_lock:
            conns, self.conns = self.conns, []
        for c in conns:
            c.close()

    # ---- server-wide calls

    def load_constants(self) -> None:
        try:
            c = self.call("GET", "/v1/constants")
        except ValoriError as e:
            if e.code == "ENOROUTE":
                raise sdk_error("EPROTOCOL", f"{self.url} has no GET /v1/constants: not a valori serve of this "
                                             "version") from None
            raise
        if not isinstance(c, dict) or "codes" not in c or "server_codes" not in c:
            raise sdk_error("EPROTOCOL", f"{self.url}/v1/constants is not the documented object")
        self.C = c
        self.codes = {k: v for k, v in c["codes"].items() if not k.startswith("_")}
        self.codes.update(c["server_codes"])
        self.codes.update(SDK_CODES)

    def list_collections(self) -> List[CollectionInfo]:
        out: List[CollectionInfo] = []
        after: Optional[str] = None
        while True:
            q = {"limit": 1000}
            if after is not None:
                q["after"] = after  # type: ignore[assignment]
            r = self.call("GET", "/v1/collections", query=q)
            out.extend(_info(x) for x in r["collections"])
            after = r.get("next")
            if after is None:
                return out

    def create_collection(self, name: str, cfg: Dict[str, Any]) -> CollectionInfo:
        check_name(self, name)
        body: Dict[str, Any] = {"name": name, "dim": cfg["dim"]}
        if cfg["metric"]:
            body["metric"] = cfg["metric"].lower()
        if cfg["index"]:
            body["index"] = cfg["index"].lower()
        if cfg["hnsw"]:
            body["hnsw"] = dict(cfg["hnsw"])
        t = cfg.get("traversal")
        if t is not None:
            if cv.traversal_word(t[0], t[1]) is None:  # refused by valori_traversal_int8 (NaN and inf have no JSON)
                raise self.named("EINVAL", f"traversal {{'int8': ({t[0]!r}, {t[1]!r})}}: the bounds must be finite, "
                                           "lo <= hi, within [-256, 256]")
            body["traversal"] = {"int8": [t[0], t[1]]}
        return _info(self.call("POST", "/v1/collections", body))

    def delete_collection(self, name: str) -> None:
        self.call("DELETE", "/v1/collections/" + _name(name))

    def collection(self, name: str, cfg: Dict[str, Any]) -> "Remote":
        check_name(self, name)
        return Remote(self, name, cfg)


_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def check_name(server: Server, name: str) -> None:
    """docs/HTTP.md section 2: 1 to 64 characters from A-Z a-z 0-9 _ -, starting with a letter or
    digit (checked here too, so that a bad name fails when it is given, not at the first write)."""
    if not _NAME.fullmatch(name):
        raise server.named("EINVAL", f"collection name {name!r}: 1 to 64 characters from A-Z a-z 0-9 _ -, "
                                     "starting with a letter or digit")


def _dropped(c: http.client.HTTPConnection) -> bool:
    """Whether the server closed an idle kept-alive connection (it is readable: EOF), so that no
    request is sent into a connection that is already gone (after a server restart, say)."""
    sock = c.sock
    if sock is None:
        return True
    try:
        r, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(r)


def _name(name: str) -> str:
    return urllib.parse.quote(name, safe="")


# valori_stats' counters the describe reports besides CollectionInfo's fields (docs/HTTP.md section
# 5); None from an older server without them.
_ENGINE_COUNTERS = ("next_node_id", "next_edge_id", "index_tombstones", "vector_bytes", "index_bytes", "other_bytes")


def _opt_int(j: Dict[str, Any], k: str) -> Optional[int]:
    v = j.get(k)
    return None if v is None else int(v)


def _info(j: Dict[str, Any]) -> CollectionInfo:
    def opt_int(k: str) -> Optional[int]:
        v = j.get(k)
        return None if v is None else int(v)

    known = {"name", "dim", "metric", "index", "records", "height", "root", "hnsw", "nodes", "edges", "next_id",
             "durable_height", "snapshot_height", "disk_bytes", "traversal"}
    return CollectionInfo(
        name=j["name"], dim=int(j["dim"]), metric=j["metric"], index=j["index"], records=int(j["records"]),
        height=int(j["height"]), root=j["root"], hnsw=j.get("hnsw"), nodes=opt_int("nodes"), edges=opt_int("edges"),
        next_id=opt_int("next_id"), durable_height=opt_int("durable_height"),
        snapshot_height=opt_int("snapshot_height"), disk_bytes=opt_int("disk_bytes"), traversal=j.get("traversal"),
        extra={k: v for k, v in j.items() if k not in known},
    )


class Remote:
    """The remote backend of :class:`valori.Valori` for one collection."""

    mode = "remote"

    @staticmethod
    def connect(url: Any, token: Optional[str], timeout: Any) -> Server:
        if not isinstance(url, str):
            raise sdk_error("ECONNECT", f"remote must be a URL string, not {type(url).__name__}")
        if token is not None and not isinstance(token, str):
            raise sdk_error("ECONNECT", "token must be a str")
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
            raise sdk_error("ECONNECT", f"timeout must be a positive number of seconds, not {timeout!r}")
        s = Server(url, token, timeout)
        s.load_constants()
        return s

    def __init__(self, server: Server, name: str, cfg: Dict[str, Any]) -> None:
        self.server = server
        self.C = server.C
        self.name = name
        self.config = cfg
        self.base = "/v1/collections/" + _name(name)
        self.path = server.url + self.base
        self.lock = _NoLock()
        self.state_lock = threading.Lock()
        self.closed = False
        with server.all_lock:
            server.users += 1
        self.dim: Optional[int] = None
        self.index: Optional[str] = None
        self.limits = server.C["limits"]
        try:
            if not self.ensure(cfg.get("dim")) and not cfg["create"]:
                raise server.named("ENOCOLLECTION", f"no collection named {name!r} (create=False)")
        except BaseException:
            self.close()
            raise

    @property
    def configured(self) -> bool:
        return self.dim is not None

    def err(self, code: str, detail: str) -> ValoriError:
        return self.server.named(code, detail)

    def call(self, method: str, sub: str = "", body: Any = None, **kw: Any) -> Any:
        return self.server.call(method, self.base + sub, body, **kw)

    # ---- lifecycle

    def _adopt(self, info: CollectionInfo) -> None:
        cfg = self.config
        want = []
        if cfg["metric"] and cfg["metric"].lower() != info.metric:
            want.append(f"metric {cfg['metric'].lower()}")
        if cfg["index"] and cfg["index"].lower() != info.index:
            want.append(f"index {cfg['index'].lower()}")
        for k, v in (cfg["hnsw"] or {}).items():
            if v and (info.hnsw or {}).get(k) != v:
                want.append(f"hnsw {k} {v}")
        t = cfg.get("traversal")
        w = None if t is None else cv.traversal_word(t[0], t[1])  # valori_traversal_int8's word (None: refused)
        if t is not None and w is None:  # what the embedded mode's valori_traversal_int8 refuses
            raise self.err("EINVAL", f"traversal {{'int8': ({t[0]!r}, {t[1]!r})}}: the bounds must be finite, "
                                     "lo <= hi, within [-256, 256]")
        if t is not None and w != (info.traversal or {}).get("word"):
            want.append(f"traversal int8 ({t[0]!r}, {t[1]!r})")
        if cfg.get("dim") is not None and cfg["dim"] != info.dim:
            want.append(f"dim {cfg['dim']}")
        if want:
            raise self.err("ECONFIG", f"collection {self.name!r} has other options than " + ", ".join(want))
        self.dim = info.dim
        self.index = info.index

    def describe(self) -> Optional[CollectionInfo]:
        try:
            return _info(self.call("GET"))
        except ValoriError as e:
            if e.code == "ENOCOLLECTION":
                return None
            raise

    def ensure(self, dim: Optional[int]) -> bool:
        with self.state_lock:
            if self.dim is not None:
                return True
            info = self.describe()
            if info is None:
                if dim is None or not self.config["create"]:
                    return False
                cfg = dict(self.config, dim=dim)
                try:
                    info = self.server.create_collection(self.name, cfg)
                except ValoriError as e:
                    if e.code != "EEXIST":
                        raise
                    info = self.describe()
                    if info is None:
                        raise
            self._adopt(info)
            return True

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with self.server.all_lock:
            self.server.users -= 1
            last = self.server.users == 0
        if last:
            self.server.close()

    # ---- content checks (what the core would say; JSON cannot carry NaN or infinity)

    def _content(self, buf: Any, what: str) -> None:
        bad = cv.first_bad_component(buf, self.limits["MAX_ABS"])
        if bad is not None:
            i, code = bad
            raise self.err(code, f"{what}[{i}]: {cv.to_floats(buf[i:i + 1])[0]!r} is not accepted ({code})")

    def _meta(self, m: Optional[bytes], what: str) -> None:
        if m is not None and len(m) > self.limits["MAX_META"]:
            raise self.err("ETOOBIG", f"{what}: {len(m)} bytes, at most {self.limits['MAX_META']}")

    # ---- records

    def insert(self, vec: Any, tag: int, meta: Optional[bytes]) -> int:
        self._content(vec, "vector")
        self._meta(meta, "meta")
        body: Dict[str, Any] = {"vector": cv.to_floats(vec), "tag": str(tag)}
        if meta is not None:
            body["meta"] = _b64(meta)
        return int(self.call("POST", "/records", body)["id"])

    def insert_batch(self, flat: Any, n: int, tags: Any, metas: Optional[List[Optional[bytes]]]) -> int:
        d = self.dim
        assert d is not None
        if metas is None:
            head = struct.pack("<4sIIIII", b"VLVB", 1, n, d, 1 if tags is not None else 0, 0)
            body = head + cv.to_le_bytes(flat)
            if tags is not None:
                body += tags.astype("<u8").tobytes() if cv.is_ndarray(tags) else _le_u64(tags)
            return int(self.call("POST", "/records/batch", body, ctype=_VECTORS)["first_id"])
        floats = cv.to_floats(flat)
        recs = []
        for i in range(n):
            row = flat[i * d:(i + 1) * d]
            self._content(row, f"records[{i}].vector")
            self._meta(metas[i], f"records[{i}].meta")
            r: Dict[str, Any] = {"vector": floats[i * d:(i + 1) * d]}
            if tags is not None:
                r["tag"] = str(int(tags[i]))
            if metas[i] is not None:
                r["meta"] = _b64(metas[i])
            recs.append(r)
        return int(self.call("POST", "/records/batch", {"records": recs})["first_id"])

    def delete(self, id: int) -> None:
        self.call("DELETE", f"/records/{id}")

    def update(self, id: int, vec: Any, tag: Optional[int], has_meta: bool, meta: Optional[bytes]) -> None:
        body: Dict[str, Any] = {}
        if vec is not None:
            self._content(vec, "vector")
            body["vector"] = cv.to_floats(vec)
        if tag is not None:
            body["tag"] = str(tag)
        if has_meta:
            self._meta(meta, "meta")
            body["meta"] = _b64(meta)
        self.call("PATCH", f"/records/{id}", body)

    def set_meta(self, id: int, meta: Optional[bytes]) -> None:
        self._meta(meta, "meta")
        self.call("PATCH", f"/records/{id}", {"meta": _b64(meta)})

    def _get_json(self, sub: str) -> Optional[Dict[str, Any]]:
        try:
            return self.call("GET", sub)
        except ValoriError as e:
            if e.code == "ENOTFOUND":
                return None
            raise

    def get(self, id: int) -> Optional[Record]:
        j = self._get_json(f"/records/{id}")
        if j is None:
            return None
        return Record(int(j["id"]), [float(x) for x in j["vector"]], int(j["tag"]), _unb64(j.get("meta")))

    # ---- search

    def _name_of(self, table: str, v: int) -> str:
        return next(k for k, x in self.C[table].items() if x == v).lower()

    def _search_body(self, q: Any, k: int, ef: int, mode: int, tags: Optional[List[int]]) -> Dict[str, Any]:
        if mode == self.C["search"]["HNSW"] and self.index == "none":  # valori.h: before the query's content
            raise self.err("EINVAL", "mode hnsw on an index-less collection (index 'none')")
        self._content(q, "query")
        body: Dict[str, Any] = {"vector": cv.to_floats(q), "k": k, "mode": self._name_of("search", mode)}
        if ef:
            body["ef"] = ef
        if tags is not None:
            body["tags"] = [str(t) for t in tags]
        return body

    @staticmethod
    def _hits(j: Dict[str, Any]) -> List[Hit]:
        return [Hit.of(int(h["id"]), int(h["distance_raw"])) for h in j["hits"]]

    @staticmethod
    def _reach(nodes: List[Dict[str, Any]]) -> List[Reach]:
        return [Reach(int(n["node"]), int(n["via"]), int(n["depth"])) for n in nodes]

    def search(self, q: Any, k: int, ef: int, mode: int, tags: Optional[List[int]]) -> List[Hit]:
        return self._hits(self.call("POST", "/search", self._search_body(q, k, ef, mode, tags)))

    def search_expand(self, q: Any, k: int, ef: int, mode: int, tags: Optional[List[int]], hops: int, dir: int,
                      max_nodes: int) -> Tuple[List[Hit], List[Reach]]:
        body = self._search_body(q, k, ef, mode, tags)
        body["expand"] = {"hops": hops, "dir": self._name_of("dir", dir), "max_nodes": max_nodes}
        j = self.call("POST", "/search", body)
        return self._hits(j), self._reach(j["nodes"])

    # ---- graph

    def node_create(self, kind: int, record: int, label: Optional[bytes]) -> int:
        self._meta(label, "label")
        body: Dict[str, Any] = {"kind": kind}
        if record:
            body["record"] = str(record)
        if label is not None:
            body["label"] = _b64(label)
        return int(self.call("POST", "/nodes", body)["id"])

    def node_delete(self, id: int) -> None:
        self.call("DELETE", f"/nodes/{id}")

    def edge_create(self, a: int, b: int, kind: int, weight: Optional[float]) -> int:
        body: Dict[str, Any] = {"from": str(a), "to": str(b), "kind": kind}
        if weight is not None:
            w = cv.vector([weight], 1, self.err, "weight")
            self._content(w, "weight")
            body["weight"] = cv.to_floats(w)[0]
        return int(self.call("POST", "/edges", body)["id"])

    def edge_delete(self, id: int) -> None:
        self.call("DELETE", f"/edges/{id}")

    def node_get(self, id: int) -> Optional[Node]:
        j = self._get_json(f"/nodes/{id}")
        if j is None:
            return None
        rec = j.get("record")
        return Node(int(j["id"]), int(j["kind"]), None if rec is None else int(rec), _unb64(j.get("label")))

    def node_of_record(self, record: int) -> Optional[int]:
        j = self._get_json(f"/records/{record}")
        if j is None or j.get("node") is None:
            return None
        return int(j["node"])

    def neighbors(self, node: int, dir: int, kind: Optional[int]) -> List[Edge]:
        limit = 100000
        q: Dict[str, Any] = {"dir": self._name_of("dir", dir), "limit": limit}
        if kind is not None:
            q["kind"] = kind
        j = self.call("GET", f"/nodes/{node}/neighbors", query=q)
        if int(j["total"]) > len(j["edges"]):
            raise self.err("ETOOBIG", f"node {node} has {j['total']} such edges; the server lists at most {limit}")
        return [Edge(int(e["id"]), int(e["from"]), int(e["to"]), int(e["kind"]),
                     None if e.get("weight") is None else float(e["weight"])) for e in j["edges"]]

    def expand(self, seeds: List[int], hops: int, dir: int, max_nodes: int) -> List[Reach]:
        body = {"seeds": [str(s) for s in seeds], "hops": hops, "dir": self._name_of("dir", dir),
                "max_nodes": max_nodes}
        return self._reach(self.call("POST", "/expand", body)["nodes"])

    # ---- state

    def stats(self) -> Stats:
        info = _info(self.call("GET"))
        h = info.hnsw or {}
        return Stats(
            height=info.height, records=info.records, nodes=info.nodes or 0, edges=info.edges or 0,
            next_record_id=info.next_id or 0, dim=info.dim, metric=info.metric, index=info.index,
            hnsw_m=int(h.get("m", 0)), hnsw_ef_construction=int(h.get("ef_construction", 0)),
            hnsw_ef_search=int(h.get("ef_search", 0)), durable_height=info.durable_height or 0,
            snapshot_height=info.snapshot_height or 0, disk_bytes=info.disk_bytes, traversal=info.traversal,
            **{k: _opt_int(info.extra, k) for k in _ENGINE_COUNTERS},
        )

    def state_root(self) -> str:
        return str(self.call("GET", "/state")["root"])

    def index_digest(self) -> str:
        return str(self.call("GET", "/state")["index_digest"])

    def check_db(self) -> None:
        self.call("POST", "/verify")

    def snapshot(self) -> bytes:
        st = self.call("GET", "/state")
        if int(st["snapshot_height"]) != int(st["height"]):
            self.call("POST", "/checkpoint")
        headers, raw = self.call("GET", "/snapshot", binary=True)
        if len(raw) < 16 or raw[:8] != _SNAPSHOT_MAGIC:
            raise sdk_error("EPROTOCOL", "the snapshot download does not start with VALORSNP")
        hsize = struct.unpack_from("<I", raw, 12)[0]
        plen = struct.unpack_from("<Q", raw, 48)[0] if len(raw) >= 56 else -1
        if hsize < 56 or hsize + plen != len(raw):
            raise sdk_error("EPROTOCOL", f"snapshot file of {len(raw)} bytes with header {hsize} and payload {plen}")
        return raw[hsize:]

    def checkpoint(self) -> None:
        self.call("POST", "/checkpoint")

    def apply(self, event: bytes) -> int:
        return int(self.call("POST", "/events", event, ctype=_EVENT)["id"])

    def flush(self) -> None:
        """Nothing to do: the server acknowledges a write only after its fsync."""
        return None


def _le_u64(tags: Any) -> bytes:
    """An array.array('Q') as little-endian bytes."""
    if cv.LITTLE:
        return tags.tobytes()
    b = type(tags)("Q", tags)
    b.byteswap()
    return b.tobytes()
