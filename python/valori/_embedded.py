"""Embedded mode: the C engine in this process, through ctypes (``libvalori.so``).

One object owns one ``valori_db`` (and, for a directory, one POSIX VFS holding the store's writer
lock). Every call takes the object's lock, so one object may be shared between threads; ctypes
releases the GIL during the C call, so other Python threads run meanwhile. Arguments arrive here
already converted by :mod:`valori._client` (vectors as binary32 buffers, ids as ints); every
content check (NaN, range, metadata size, unknown ids...) is the C library's, so a call gets the
same code here as from C.
"""

from __future__ import annotations

import ctypes
import os
import struct
import threading
from ctypes import byref, c_float, c_size_t, c_uint8, c_uint32, c_uint64, c_void_p
from typing import Any, Dict, List, Optional, Tuple

from . import _convert as cv
from ._errors import ValoriError
from ._lib import (
    EdgeC,
    HitC,
    Library,
    NodeC,
    Options,
    ReachC,
    RecoveryC,
    SearchParams,
    StatsC,
    StoreStatusC,
    UpdateFieldsC,
)
from ._types import Edge, Hit, Node, Reach, Record, Stats


class _Grow:
    """A grow-only ctypes array (search hits, expansion results, edges) reused across calls."""

    def __init__(self, ctype: Any) -> None:
        self.ctype = ctype
        self.buf: Any = None
        self.cap = 0

    def get(self, n: int) -> Any:
        n = max(1, n)
        if n > self.cap:
            cap = max(n, 2 * self.cap, 16)
            self.buf = (self.ctype * cap)()
            self.cap = cap
        return self.buf


class Embedded:
    """The embedded backend of :class:`valori.Valori` (see that class for the public surface)."""

    mode = "embedded"

    def __init__(self, lib: Library, path: Optional[str], config: Dict[str, Any], open: bool = True) -> None:
        self.lib = lib
        self.C = lib.constants
        self.c = lib.c
        self.path = path  # None: in memory
        self.config = config
        self.lock = threading.RLock()
        self.db: Optional[int] = None
        self.vfs: Optional[int] = None
        self.searcher: Optional[int] = None
        self.closed = False
        self.dim: Optional[int] = None
        self.meta_buf = (c_uint8 * self.C["limits"]["MAX_META"])()
        self.hits = _Grow(HitC)
        self.reach = _Grow(ReachC)
        self.edges = _Grow(EdgeC)
        self.vec_out: Any = None
        self._last_report: Optional[RecoveryC] = None
        if not open:
            return
        if config.get("dim") is not None:
            self.create(config["dim"])
        elif not self.try_open_existing() and config["read_only"]:
            raise lib.named("ENOTFOUND", f"no store at {path}" if path else "a read-only in-memory database needs a dim")

    # ---- lifecycle

    def err(self, code: str, detail: str = "") -> ValoriError:
        return self.lib.named(code, detail)

    def check(self, rc: int, ctx: str) -> None:
        if rc:
            raise self.lib.error(rc, ctx)

    def live(self) -> None:
        if self.closed:
            raise self.err("ECLOSED", self.path or ":memory:")

    @property
    def configured(self) -> bool:
        return self.db is not None

    def _options(self, dim: int, create: bool) -> Options:
        o = Options()
        self.c.valori_options_init(byref(o))
        cfg = self.config
        o.dim = dim
        if dim:
            o.metric = self.C["metric"][cfg["metric"] or "L2"]
            o.index = self.C["index"][cfg["index"] or "HNSW"]
            h = cfg["hnsw"] or {}
            o.hnsw_m = h.get("m", 0)
            o.hnsw_ef_construction = h.get("ef_construction", 0)
            o.hnsw_ef_search = h.get("ef_search", 0)
            o.traversal = self._traversal_word()
        flags = 0
        if create:
            flags |= self.C["open"]["CREATE"]
        if cfg["read_only"]:
            flags |= self.C["open"]["READONLY"]
        o.flags = flags
        o.sync_mode = self.C["sync"][cfg["durability"].upper()]
        if cfg["snapshot_every"] is not None:
            o.snapshot_every = cfg["snapshot_every"]
        if cfg["segment_bytes"] is not None:
            o.segment_bytes = cfg["segment_bytes"]
        return o

    def _traversal_word(self) -> int:
        """valori_options.traversal for the configured option: 0 for none, else the word of
        valori_traversal_int8 (its EINVAL raised with the range)."""
        t = self.config.get("traversal")
        if t is None:
            return 0
        w = c_uint32()
        rc = self.c.valori_traversal_int8(c_float(t[0]), c_float(t[1]), byref(w))
        if rc:
            raise self.lib.error(rc, f"traversal {{'int8': ({t[0]!r}, {t[1]!r})}}: the bounds must be finite, "
                                     "lo <= hi, within [-256, 256]")
        return int(w.value)

    def _open(self, dim: int, create: bool) -> int:
        """valori_open_report; returns the result code (the handle is kept on success)."""
        vfs = c_void_p()
        if self.path is not None:
            rc = self.c.valori_posix_vfs_open(os.fsencode(self.path), 1 if create else 0, byref(vfs))
            if rc:
                return rc
        o = self._options(dim, create)
        o.vfs = vfs.value
        db = c_void_p()
        rep = RecoveryC()
        label = os.fsencode(self.path) if self.path is not None else b":memory:"
        rc = self.c.valori_open_report(label, byref(o), byref(db), byref(rep))
        if rc:
            if vfs.value:
                self.c.valori_posix_vfs_close(vfs)
            self._last_report = rep
            return rc
        s = c_void_p()
        src = self.c.valori_searcher_create(db, byref(s))
        if src:
            self.c.valori_close(db)
            if vfs.value:
                self.c.valori_posix_vfs_close(vfs)
            return src
        self._adopt(db.value, vfs.value, s.value)
        return 0

    def _adopt(self, db: int, vfs: Optional[int], searcher: int) -> None:
        self.db, self.vfs, self.searcher = db, vfs, searcher
        st = self._stats_c()
        self.dim = st.dim
        self.vec_out = (c_float * st.dim)()

    def _open_error(self, rc: int, what: str) -> ValoriError:
        e = self.lib.error(rc, f"{what} {self.path}")
        if self.path is not None and os.path.exists(self.path) and not os.path.isdir(self.path):
            return ValoriError(e.code, e.errno, f"{e.message} ({self.path} is not a directory)")
        rep = self._last_report
        if rep is not None and rep.code:
            detail = (rep.detail or b"").decode("utf-8", "replace")
            f = rep.file.decode("utf-8", "replace")
            where = f" ({f} at byte {rep.offset})" if f else ""
            if detail and detail != e.message.split(": ")[-1]:
                e = ValoriError(e.code, e.errno, f"{e.message}: {detail}{where}")
        return e

    def try_open_existing(self) -> bool:
        """Opens the store if it exists (its recorded configuration); False if there is none."""
        if self.path is None:
            return False
        rc = self._open(0, False)
        if rc == self.lib.codes["ENOTFOUND"]:
            return False
        if rc:
            raise self._open_error(rc, "open")
        self._check_config()
        return True

    def _check_config(self) -> None:
        """Options given explicitly must match an existing store's (ECONFIG otherwise)."""
        st = self._stats_c()
        cfg = self.config
        want = []
        if cfg["metric"] and self.C["metric"][cfg["metric"]] != st.metric:
            want.append(f"metric {cfg['metric'].lower()}")
        if cfg["index"] and self.C["index"][cfg["index"]] != st.index:
            want.append(f"index {cfg['index'].lower()}")
        h = cfg["hnsw"] or {}
        for k, f in (("m", "hnsw_m"), ("ef_construction", "hnsw_ef_construction"), ("ef_search", "hnsw_ef_search")):
            if h.get(k) and h[k] != getattr(st, f):
                want.append(f"hnsw {k} {h[k]}")
        if cfg.get("traversal") is not None:
            try:
                word = self._traversal_word()
            except ValoriError:
                self.close()  # refused bounds: EINVAL, and the store is not left open (nor locked)
                raise
        if cfg.get("traversal") is not None and word != st.traversal:
            t = cfg["traversal"]
            want.append(f"traversal int8 ({t[0]!r}, {t[1]!r})")
        if want:
            self.close()
            raise self.err("ECONFIG", f"{self.path} was created with other options than " + ", ".join(want))

    def ensure(self, dim: Optional[int]) -> bool:
        """Reaches a configured state: opens an existing store (created meanwhile by another
        process), or creates one with ``dim`` when given. False: still no store."""
        if self.db is not None:
            return True
        self.live()
        if self.try_open_existing():
            return True
        if dim is None:
            return False
        self.create(dim)
        return True

    def create(self, dim: int) -> None:
        create = self.config["create"] and not self.config["read_only"]
        rc = self._open(dim, create)
        if rc:
            raise self._open_error(rc, "create" if create else "open")
        if self.path is not None:
            self._check_config()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        rc = 0
        if self.searcher:
            self.c.valori_searcher_free(self.searcher)
            self.searcher = None
        if self.db:
            rc = self.c.valori_close(self.db)
            self.db = None
        if self.vfs:
            self.c.valori_posix_vfs_close(self.vfs)
            self.vfs = None
        if rc:
            raise self.lib.error(rc, "close")

    # ---- records

    def insert(self, vec: Any, tag: int, meta: Optional[bytes]) -> int:
        out = c_uint64()
        self.check(self.c.valori_insert(self.db, cv.address(vec), tag, meta, len(meta) if meta else 0, byref(out)), "insert")
        return out.value

    def insert_batch(self, flat: Any, n: int, tags: Any, metas: Optional[List[Optional[bytes]]]) -> int:
        out = c_uint64()
        tp = None
        if tags is not None:
            tp = cv.address(tags)
        mp = lp = None
        keep: Any = None
        if metas is not None:
            joined = b"".join(m or b"" for m in metas)
            keep = ctypes.create_string_buffer(joined, len(joined) or 1)
            base = ctypes.addressof(keep)
            ptrs = (c_void_p * n)()
            lens = (c_size_t * n)()
            off = 0
            for i, m in enumerate(metas):
                ln = len(m) if m else 0
                ptrs[i] = base + off if ln else None
                lens[i] = ln
                off += ln
            mp, lp = ptrs, lens
        self.check(self.c.valori_insert_batch(self.db, n, cv.address(flat), tp, mp, lp, byref(out)), "insert_batch")
        del keep
        return out.value

    def delete(self, id: int) -> None:
        self.check(self.c.valori_delete(self.db, id), "delete")

    def update(self, id: int, vec: Any, tag: Optional[int], has_meta: bool, meta: Optional[bytes]) -> None:
        u = UpdateFieldsC()
        U = self.C["update"]
        if vec is not None:
            u.fields |= U["VECTOR"]
            u.vec = cv.address(vec)
        if tag is not None:
            u.fields |= U["TAG"]
            u.tag = tag
        keep = None
        if has_meta:
            u.fields |= U["META"]
            if meta:
                keep = ctypes.create_string_buffer(meta, len(meta))
                u.meta = ctypes.addressof(keep)
                u.meta_len = len(meta)
        self.check(self.c.valori_update_record(self.db, id, byref(u)), "update")
        del keep

    def set_meta(self, id: int, meta: Optional[bytes]) -> None:
        self.check(self.c.valori_set_meta(self.db, id, meta, len(meta) if meta else 0), "set_meta")

    def get(self, id: int) -> Optional[Record]:
        tag = c_uint64()
        mlen = c_size_t()
        rc = self.c.valori_get(self.db, id, self.vec_out, byref(tag), self.meta_buf, len(self.meta_buf), byref(mlen))
        if rc == self.lib.codes["ENOTFOUND"]:
            return None
        self.check(rc, "get")
        n = mlen.value
        meta = ctypes.string_at(self.meta_buf, n) if n else None
        return Record(id, list(self.vec_out), tag.value, meta)

    # ---- search

    def _params(self, k: int, ef: int, mode: int, tags: Optional[List[int]]) -> Tuple[SearchParams, Any]:
        p = SearchParams()
        p.k, p.ef, p.mode = k, ef, mode
        t = None
        if tags is not None:
            t = (c_uint64 * len(tags))(*tags)
            p.ntags = len(tags)
            p.tags = ctypes.cast(t, ctypes.POINTER(c_uint64))
        return p, t

    def search(self, q: Any, k: int, ef: int, mode: int, tags: Optional[List[int]]) -> List[Hit]:
        p, keep = self._params(k, ef, mode, tags)
        out = self.hits.get(k)
        n = c_size_t()
        self.check(self.c.valori_search(self.db, self.searcher, cv.address(q), byref(p), out, byref(n)), "search")
        return _hits(out, n.value)

    def search_expand(self, q: Any, k: int, ef: int, mode: int, tags: Optional[List[int]], hops: int, dir: int,
                      max_nodes: int) -> Tuple[List[Hit], List[Reach]]:
        p, keep = self._params(k, ef, mode, tags)
        hits = self.hits.get(k)
        cap = min(max_nodes, 1 << 20) if max_nodes else 1
        nodes = self.reach.get(cap)
        nh, nn = c_size_t(), c_size_t()
        self.check(self.c.valori_search_expand(self.db, self.searcher, cv.address(q), byref(p), hops, dir, max_nodes,
                                               hits, byref(nh), nodes, cap, byref(nn)), "search_expand")
        return (_hits(hits, nh.value),
                [Reach(nodes[i].node_id, nodes[i].via_edge, nodes[i].depth) for i in range(min(nn.value, cap))])

    # ---- graph

    def node_create(self, kind: int, record: int, label: Optional[bytes]) -> int:
        out = c_uint64()
        self.check(self.c.valori_node_create(self.db, kind, record, label, len(label) if label else 0, byref(out)),
                   "create_node")
        return out.value

    def node_delete(self, id: int) -> None:
        self.check(self.c.valori_node_delete(self.db, id), "delete_node")

    def edge_create(self, a: int, b: int, kind: int, weight: Optional[float]) -> int:
        out = c_uint64()
        # the same conversion as a vector component (range checked before rounding to binary32)
        w = byref(c_float(cv.vector([weight], 1, self.err, "weight")[0])) if weight is not None else None
        self.check(self.c.valori_edge_create(self.db, a, b, kind, w, byref(out)), "create_edge")
        return out.value

    def edge_delete(self, id: int) -> None:
        self.check(self.c.valori_edge_delete(self.db, id), "delete_edge")

    def node_get(self, id: int) -> Optional[Node]:
        nd = NodeC()
        ln = c_size_t()
        rc = self.c.valori_node_get(self.db, id, byref(nd), self.meta_buf, len(self.meta_buf), byref(ln))
        if rc == self.lib.codes["ENOTFOUND"]:
            return None
        self.check(rc, "get_node")
        label = ctypes.string_at(self.meta_buf, ln.value) if ln.value else None
        return Node(nd.id, nd.kind, nd.record_id or None, label)

    def node_of_record(self, record: int) -> Optional[int]:
        out = c_uint64()
        rc = self.c.valori_node_of_record(self.db, record, byref(out))
        if rc == self.lib.codes["ENOTFOUND"]:
            return None
        self.check(rc, "node_of_record")
        return out.value

    def neighbors(self, node: int, dir: int, kind: Optional[int]) -> List[Edge]:
        kf = byref(c_uint32(kind)) if kind is not None else None
        cap = 64
        while True:
            buf = self.edges.get(cap)
            n = c_size_t()
            self.check(self.c.valori_neighbors(self.db, node, dir, kf, buf, self.edges.cap, byref(n)), "neighbors")
            if n.value <= self.edges.cap:
                one = self.C["limits"]["Q16_ONE"]
                return [Edge(e.id, e.from_, e.to, e.kind, e.weight_q16 / one if e.has_weight else None)
                        for e in (buf[i] for i in range(n.value))]
            cap = n.value

    def expand(self, seeds: List[int], hops: int, dir: int, max_nodes: int) -> List[Reach]:
        sp = (c_uint64 * max(1, len(seeds)))(*seeds)
        cap = min(max_nodes, 1 << 20) if max_nodes else 1
        buf = self.reach.get(cap)
        n = c_size_t()
        self.check(self.c.valori_expand(self.db, sp, len(seeds), hops, dir, max_nodes, buf, cap, byref(n)), "expand")
        return [Reach(buf[i].node_id, buf[i].via_edge, buf[i].depth) for i in range(min(n.value, cap))]

    # ---- state

    def _stats_c(self) -> StatsC:
        st = StatsC()
        self.check(self.c.valori_stats_get(self.db, byref(st)), "stats")
        return st

    def _name(self, table: str, v: int) -> str:
        return next(k for k, x in self.C[table].items() if x == v).lower()

    def stats(self) -> Stats:
        st = self._stats_c()
        durable = st.height
        snap = 0
        disk = None
        if self.path is not None:
            ss = StoreStatusC()
            self.check(self.c.valori_store_status_get(self.db, byref(ss)), "stats")
            durable, snap = ss.durable_height, ss.snapshot_height
            disk = _dir_bytes(self.path)
        return Stats(
            height=st.height, records=st.records, nodes=st.nodes, edges=st.edges, next_record_id=st.next_record_id,
            dim=st.dim, metric=self._name("metric", st.metric), index=self._name("index", st.index),
            hnsw_m=st.hnsw_m, hnsw_ef_construction=st.hnsw_ef_construction, hnsw_ef_search=st.hnsw_ef_search,
            durable_height=durable, snapshot_height=snap, disk_bytes=disk,
            next_node_id=st.next_node_id, next_edge_id=st.next_edge_id, index_tombstones=st.index_tombstones,
            vector_bytes=st.vector_bytes, index_bytes=st.index_bytes, other_bytes=st.other_bytes,
            traversal=cv.traversal_info(st.traversal, st.traversal_shift, st.traversal_center),
        )

    def height(self) -> int:
        return self._stats_c().height

    def _digest(self, fn: Any, ctx: str) -> str:
        out = (c_uint8 * 32)()
        self.check(fn(self.db, byref(out)), ctx)
        return bytes(out).hex()

    def state_root(self) -> str:
        return self._digest(self.c.valori_state_root, "state_root")

    def index_digest(self) -> str:
        return self._digest(self.c.valori_index_digest, "index_digest")

    def check_db(self) -> None:
        self.check(self.c.valori_check(self.db), "check")

    def snapshot(self) -> bytes:
        p = ctypes.POINTER(c_uint8)()
        n = c_size_t()
        self.check(self.c.valori_snapshot_save(self.db, byref(p), byref(n)), "snapshot")
        try:
            return ctypes.string_at(p, n.value)
        finally:
            self.c.valori_buffer_free(self.db, p, n.value)

    def checkpoint(self) -> None:
        if self.path is not None:
            self.check(self.c.valori_snapshot(self.db), "checkpoint")

    def apply(self, event: bytes) -> int:
        out = c_uint64()
        self.check(self.c.valori_apply(self.db, event, len(event), byref(out)), "apply")
        return out.value

    def flush(self) -> None:
        self.check(self.c.valori_flush(self.db), "flush")

    @classmethod
    def from_snapshot(cls, lib: Library, data: bytes, config: Dict[str, Any]) -> "Embedded":
        self = cls(lib, None, config, open=False)
        db = c_void_p()
        self.check(self.c.valori_snapshot_load(data, len(data), None, byref(db)), "from_snapshot")
        s = c_void_p()
        rc = self.c.valori_searcher_create(db, byref(s))
        if rc:
            self.c.valori_close(db)
            self.check(rc, "from_snapshot")
        self._adopt(db.value, None, s.value)
        return self


_HIT = struct.Struct("=Qq")  # valori_hit: u64 id, i64 distance (test_layout checks the 16-byte layout)
_TWO32 = 4294967296.0


def _hits(buf: Any, n: int) -> List[Hit]:
    """The first n valori_hit entries of a ctypes array, read in one pass."""
    raw = memoryview(buf).cast("B")[: n * _HIT.size]
    return [Hit(i, d / _TWO32, d) for i, d in _HIT.iter_unpack(raw)]


def _dir_bytes(path: str) -> int:
    """Bytes of the regular files in a store directory."""
    total = 0
    try:
        with os.scandir(path) as it:
            for e in it:
                try:
                    if e.is_file(follow_symlinks=False):
                        total += e.stat(follow_symlinks=False).st_size
                except OSError:
                    pass
    except OSError:
        return 0
    return total
