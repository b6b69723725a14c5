"""The Valori class: one surface over two modes.

``Valori(path=...)`` runs the C engine in this process (embedded mode, :mod:`valori._embedded`);
``Valori(remote=url)`` talks to ``valori serve`` over HTTP (remote mode, :mod:`valori._remote`).
Every method converts and checks its arguments here, once, for both modes (types, u64 ranges,
vector lengths, k and ef, filter sizes), then hands them to the mode's backend; what the C core
decides (content of vectors and metadata, unknown ids...) it decides in both modes, through the
library or through the server. python/README.md is the user's manual.

A database that has no dimension yet (a new store or collection and no ``dim=`` given) is created
by the first insert, with that vector's length; until then it reads as empty (README, "Where the
dimension comes from").
"""

from __future__ import annotations

import array
import os
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Union

from . import _convert as cv
from ._types import CollectionInfo, Edge, Hit, Node, Reach, Record, SearchExpandResult, Stats

PathLike = Union[str, "os.PathLike[str]"]


class _Unset:
    def __repr__(self) -> str:
        return "<unset>"


_UNSET: Any = _Unset()

_NO_STORE = "the database has no dimension yet: it is created by the first insert (or pass dim=...)"


class Valori:
    """A Valori database, embedded (C engine in this process) or remote (``valori serve``).

    Embedded::

        db = Valori(path="./valori_db")        # a directory (created when missing), or ":memory:"
        Valori()                               # in memory, nothing persisted

    Remote::

        db = Valori(remote="http://localhost:3000")                     # collection "default"
        db = Valori(remote="http://host:3000", collection="notes", token="...")

    Both modes have the same methods, results and error codes. Use it as a context manager
    (``with Valori(...) as db:``) or call :meth:`close`.

    Args:
        path: embedded mode: a store directory, or ``":memory:"`` / None for an in-memory database.
        remote: remote mode: the server's base URL (``http://`` or ``https://``).
        collection: remote mode: the collection to use (default ``"default"``).
        token: remote mode: bearer token (default: the ``VALORI_TOKEN`` environment variable).
        timeout: remote mode: seconds to wait for the server on each request.
        dim: the vector dimension (1..4096). Needed only to create a store or collection before
            its first insert; an existing one keeps its recorded dimension.
        metric: ``"l2"`` (squared Euclidean, the default for new stores) or ``"ip"`` (negated
            inner product). For an existing store, a metric given here must match (``ECONFIG``).
        index: ``"hnsw"`` (default) or ``"none"`` (index-less: exact search only).
        hnsw: HNSW parameters for a new store, any of ``{"m": 16, "ef_construction": 200,
            "ef_search": 64}``; not allowed with ``index="none"``.
        traversal: ``{"int8": (lo, hi)}`` for a new store: an int8 compact traversal copy of the
            vectors for components in ``[lo, hi]`` (the npm package's ``traversal: {int8: [lo,
            hi]}``, the server's create field; python/README.md "Int8 traversal copy"). HNSW
            searches walk the copies and re-rank exactly; needs ``index="hnsw"``. For an existing
            store a value given here must match its copy (``ECONFIG``).
        durability: embedded mode: ``"full"`` (default: a write returns once it is durable, fsync)
            or ``"relaxed"`` (returns once applied; :meth:`flush` or :meth:`close` makes it
            durable; a crash can lose the last writes, never mix states). Remote writes are always
            acknowledged after the server's fsync.
        create: create the store / collection when it does not exist (default True).
        read_only: embedded mode: open without the writer lock; writes raise ``EREADONLY``.
        snapshot_every: embedded mode: events between automatic store snapshots (default: the
            core's).
        segment_bytes: embedded mode: log segment size in bytes (default 4 MiB).
        library: embedded mode: path of ``libvalori.so`` (default: the search order in
            python/README.md, "Finding the library").

    Raises:
        ValoriError: ``ENOLIB`` (no library), ``ECONNECT`` (no server), ``ELOCKED`` (another
            writer holds the store), ``ECONFIG``, ``ENOTFOUND`` (``create=False`` and no store),
            ``EINVAL`` (bad arguments), or the error the open met (``ECORRUPT`` with the file and
            offset, ``EIO``...).
    """

    def __init__(
        self,
        path: Optional[PathLike] = None,
        *,
        remote: Optional[str] = None,
        collection: Optional[str] = None,
        token: Optional[str] = None,
        timeout: float = 60.0,
        dim: Optional[int] = None,
        metric: Optional[str] = None,
        index: Optional[str] = None,
        hnsw: Optional[Mapping[str, int]] = None,
        traversal: Optional[Mapping[str, Sequence[float]]] = None,
        durability: str = "full",
        create: bool = True,
        read_only: bool = False,
        snapshot_every: Optional[int] = None,
        segment_bytes: Optional[int] = None,
        library: Optional[PathLike] = None,
    ) -> None:
        self._b: Any = None
        if remote is not None:
            from ._remote import Remote

            if path is not None or library is not None:
                from . import _lib

                raise _lib.load(os.fspath(library) if library is not None else None).named(
                    "EINVAL", "pass either path= and library= (embedded) or remote= (remote), not both")
            connection = Remote.connect(remote, token if token is not None else os.environ.get("VALORI_TOKEN"), timeout)
            self._err = connection.named
            self._C = connection.C
            config = self._config(dim, metric, index, hnsw, durability, create, read_only, snapshot_every, segment_bytes,
                                  traversal)
            if read_only or snapshot_every is not None or segment_bytes is not None or durability != "full":
                raise self._err("EINVAL", "read_only, durability, snapshot_every and segment_bytes are embedded-mode "
                                          "options (the server decides them for its collections)")
            name = "default" if collection is None else collection
            if not isinstance(name, str):
                raise self._err("EINVAL", "collection must be a str")
            self._b = connection.collection(name, config)
        else:
            from . import _lib
            from ._embedded import Embedded

            lib = _lib.load(os.fspath(library) if library is not None else None)
            self._err = lib.named
            self._C = lib.constants
            if collection is not None or token is not None:
                raise self._err("EINVAL", "collection= and token= belong to remote mode (remote=URL)")
            config = self._config(dim, metric, index, hnsw, durability, create, read_only, snapshot_every, segment_bytes,
                                  traversal)
            if path is not None and not isinstance(path, (str, os.PathLike)):
                raise self._err("EINVAL", f"path must be a str or os.PathLike, not {type(path).__name__}")
            if path is not None and os.fspath(path) == "":
                raise self._err("EINVAL", "path is empty (None or ':memory:' for an in-memory database)")
            p = None if path is None or os.fspath(path) == ":memory:" else os.fspath(path)
            if p is None and read_only:
                raise self._err("EINVAL", "read_only needs a store directory")
            if p is not None and not create and not os.path.isdir(p):
                raise self._err("ENOTFOUND", f"no store at {p} (create=False)")
            self._b = Embedded(lib, p, config)
            if p is not None and not create and not self._b.configured:
                self._b.close()
                raise self._err("ENOTFOUND", f"no store at {p} (create=False)")

    def _config(self, dim: Any, metric: Any, index: Any, hnsw: Any, durability: Any, create: Any, read_only: Any,
                snapshot_every: Any, segment_bytes: Any, traversal: Any = None) -> Dict[str, Any]:
        err = self._err
        lim = self._limits()
        if dim is not None:
            dim = cv.u32(dim, err, "dim")
            if dim < 1 or dim > lim["MAX_DIM"]:  # the core's code for a dimension it cannot take
                raise err("EDIM", f"dim = {dim}: expected 1..{lim['MAX_DIM']}")
        m = None if metric is None else self._enum_name("metric", metric, "metric")
        ix = None if index is None else self._enum_name("index", index, "index")
        h: Dict[str, int] = {}
        if hnsw is not None:
            if not isinstance(hnsw, Mapping):
                raise err("EINVAL", "hnsw must be a dict with any of m, ef_construction, ef_search")
            for k, v in hnsw.items():
                if k not in ("m", "ef_construction", "ef_search"):
                    raise err("EINVAL", f"unknown hnsw parameter {k!r} (m, ef_construction, ef_search)")
                h[k] = cv.u32(v, err, f"hnsw[{k!r}]")
            if ix == "NONE" and h:
                raise err("EINVAL", "hnsw parameters given for an index-less store (index='none')")
        trav = cv.traversal(traversal, err)
        if trav is not None and ix == "NONE":
            raise err("EINVAL", "traversal needs an HNSW index (index='hnsw'); this store is index-less (index='none')")
        if durability not in ("full", "relaxed"):
            raise err("EINVAL", f"durability must be 'full' or 'relaxed', not {durability!r}")
        return {
            "dim": dim, "metric": m, "index": ix, "hnsw": h or None, "traversal": trav, "durability": durability,
            "create": bool(create), "read_only": bool(read_only),
            "snapshot_every": None if snapshot_every is None else cv.u64(snapshot_every, err, "snapshot_every"),
            "segment_bytes": None if segment_bytes is None else cv.u64(segment_bytes, err, "segment_bytes"),
        }

    def _limits(self) -> Dict[str, int]:
        return self._C["limits"]

    # ---- construction from a snapshot, constants

    @classmethod
    def from_snapshot(cls, data: bytes, *, library: Optional[PathLike] = None) -> "Valori":
        """A new in-memory (embedded) database decoded from snapshot bytes (:meth:`snapshot`).

        Raises:
            ValoriError: ``ECORRUPT`` / ``EVERSION`` for damaged or foreign bytes.
        """
        from . import _lib
        from ._embedded import Embedded

        lib = _lib.load(os.fspath(library) if library is not None else None)
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise lib.named("EINVAL", "snapshot data must be bytes")
        self = cls.__new__(cls)
        self._err = lib.named
        self._C = lib.constants
        config = {"dim": None, "metric": None, "index": None, "hnsw": None, "traversal": None, "durability": "full",
                  "create": True,
                  "read_only": False, "snapshot_every": None, "segment_bytes": None}
        self._b = Embedded.from_snapshot(lib, bytes(data), config)
        return self

    def constants(self) -> Dict[str, Any]:
        """Every public constant: result codes (and in remote mode the server's), limits, enums."""
        return self._C

    # ---- properties

    @property
    def mode(self) -> str:
        """``"embedded"`` or ``"remote"``."""
        return self._b.mode

    @property
    def path(self) -> Optional[str]:
        """Embedded: the store directory (None in memory). Remote: the collection's URL."""
        return self._b.path

    @property
    def library(self) -> Optional[str]:
        """Embedded: the file of the ``libvalori.so`` in use. Remote: None."""
        lib = getattr(self._b, "lib", None)
        return lib.path if lib is not None else None

    @property
    def collection(self) -> Optional[str]:
        """Remote: the collection's name. Embedded: None."""
        return getattr(self._b, "name", None)

    @property
    def dim(self) -> Optional[int]:
        """The vector dimension, or None while the database has none yet."""
        return self._b.dim if self._b.configured else None

    @property
    def closed(self) -> bool:
        return self._b is None or self._b.closed

    # ---- helpers

    def _live(self) -> None:
        if self._b is None or self._b.closed:
            raise self._err("ECLOSED", "the database is closed")

    def _ready(self, dim: Optional[int] = None) -> bool:
        """Whether the database exists (opening or creating it with ``dim`` when needed)."""
        if self._b.configured:
            return True
        if dim is not None and not self._b.config["create"]:
            return self._b.ensure(None)
        return self._b.ensure(dim)

    def _vec(self, v: Any, what: str = "vector") -> Any:
        return cv.vector(v, self._b.dim if self._b.configured else None, self._err, what)

    def _redim(self, buf: Any, what: str) -> None:
        """After an open found an existing store: the vector must have its dimension."""
        n = len(buf)
        if n != self._b.dim:
            raise self._err("EDIM", f"{what} has {n} components, the database has dim {self._b.dim}")

    def _id(self, v: Any, what: str = "id") -> int:
        return cv.u64(v, self._err, what)

    def _enum_name(self, table: str, v: Any, what: str) -> str:
        """The constants' name (upper case) for a lower-case choice like "l2" or "both"."""
        t = self._C[table]
        if isinstance(v, str) and v.upper() in t:
            return v.upper()
        raise self._err("EINVAL", f"{what} must be one of {', '.join(repr(k.lower()) for k in t)}, not {v!r}")

    def _enum(self, table: str, v: Any, what: str) -> int:
        return self._C[table][self._enum_name(table, v, what)]

    def _search_args(self, query: Any, k: Any, ef: Any, tag: Any, tags: Any, mode: Any) -> Any:
        err, lim = self._err, self._limits()
        if isinstance(k, bool) or not isinstance(k, int):
            raise err("EINVAL", f"k must be an int, not {type(k).__name__}")
        if k < 1 or k > lim["MAX_K"]:
            raise err("EK", f"k = {k}: expected 1..{lim['MAX_K']}")
        if isinstance(ef, bool) or not isinstance(ef, int):
            raise err("EINVAL", f"ef must be an int, not {type(ef).__name__}")
        if ef < 0 or ef > lim["MAX_EF"]:
            raise err("EK", f"ef = {ef}: expected 0..{lim['MAX_EF']}")
        m = self._enum("search", mode, "mode")
        t = cv.tag_list(tag, tags, err)
        if t is not None and len(t) > lim["MAX_TAGS"]:
            raise err("ETOOBIG", f"{len(t)} tags in one filter (at most {lim['MAX_TAGS']})")
        q = self._vec(query, "query")
        return q, k, ef, m, t

    def _empty_content(self, buf: Any, what: str) -> None:
        """For a database that has no store yet: the content checks C would make."""
        bad = cv.first_bad_component(buf, self._limits()["MAX_ABS"])
        if bad is not None:
            raise self._err(bad[1], f"{what}[{bad[0]}]")

    def _tags_array(self, tags: Any, n: int) -> Any:
        err = self._err
        if cv.is_ndarray(tags):
            import numpy as np

            if tags.ndim != 1 or tags.shape[0] != n:
                raise err("EINVAL", f"tags has shape {tags.shape} for {n} vectors")
            if tags.dtype.kind not in "iu":
                raise err("EINVAL", f"tags has dtype {tags.dtype}; expected integers")
            if tags.dtype.kind == "i" and n and int(tags.min()) < 0:
                raise err("EINVAL", f"tags[{int(np.argmax(tags < 0))}] is negative")
            return np.ascontiguousarray(tags, dtype=np.uint64)
        if isinstance(tags, (str, bytes, dict)) or not hasattr(tags, "__len__"):
            raise err("EINVAL", "tags must be a sequence of ints (one per vector)")
        if len(tags) != n:
            raise err("EINVAL", f"tags has {len(tags)} entries for {n} vectors")
        return array.array("Q", [cv.u64(t, err, f"tags[{i}]") for i, t in enumerate(tags)])

    # ---- records

    def insert(self, vector: Any, tag: int = 0, meta: Union[bytes, str, None] = None) -> int:
        """Inserts one record and returns its id (assigned: 1, 2, 3, ...; never reused).

        Args:
            vector: the database's dimension of real numbers (list, tuple, ``array.array`` or a
                NumPy array); each finite with ``|x| <= 256``. A new database takes its length.
            tag: a u64 (default 0), used by search filters.
            meta: optional metadata, up to 65536 bytes (``str`` is stored as UTF-8).

        Raises:
            ValoriError: ``EDIM``, ``ENAN``, ``EINF``, ``ERANGE``, ``ETOOBIG``, ``EINVAL``,
                ``EREADONLY``, ``EPOISONED``, ``EIO``, ``ENOSPC``... Nothing is stored on error.
        """
        self._live()
        t = cv.u64(tag, self._err, "tag")
        m = cv.as_bytes(meta, self._err, "meta")
        v = self._vec(vector)
        with self._b.lock:
            if not self._b.configured:
                self._ready(len(v))
                if not self._b.configured:
                    raise self._err("ENOTFOUND", "no store and create=False")
                self._redim(v, "vector")
            return self._b.insert(v, t, m)

    def insert_batch(self, vectors: Any, tags: Any = None, metas: Optional[Sequence[Union[bytes, str, None]]] = None
                     ) -> List[int]:
        """Inserts records atomically (one event: all or nothing) and returns their ids, which
        are consecutive.

        Args:
            vectors: a 2-D NumPy array (n, dim) or a sequence of vectors.
            tags: None (all 0) or one u64 per vector (a sequence or an integer NumPy array).
            metas: None or one metadata value (bytes, str or None) per vector.

        Raises:
            ValoriError: ``EEMPTY`` (no vectors), ``ETOOBIG`` (more than 100000 records, or
                metadata over 65536 bytes), ``EDIM``, and the content codes of :meth:`insert`:
                the first bad record decides.
        """
        self._live()
        err = self._err
        if not cv.is_ndarray(vectors) and hasattr(vectors, "__len__") and not isinstance(vectors, (str, bytes, dict)):
            if len(vectors) > self._limits()["MAX_BATCH"]:
                raise err("ETOOBIG", f"{len(vectors)} records in one batch (at most {self._limits()['MAX_BATCH']})")
        elif cv.is_ndarray(vectors) and vectors.ndim >= 1 and vectors.shape[0] > self._limits()["MAX_BATCH"]:
            raise err("ETOOBIG", f"{vectors.shape[0]} records in one batch (at most {self._limits()['MAX_BATCH']})")
        flat, n, d = cv.rows(vectors, self._b.dim if self._b.configured else None, err)
        tarr = None if tags is None else self._tags_array(tags, n)
        mlist: Optional[List[Optional[bytes]]] = None
        if metas is not None:
            if isinstance(metas, (str, bytes, dict)) or not hasattr(metas, "__len__"):
                raise err("EINVAL", "metas must be a sequence (one entry per vector)")
            if len(metas) != n:
                raise err("EINVAL", f"metas has {len(metas)} entries for {n} vectors")
            mlist = [cv.as_bytes(m, err, f"metas[{i}]") for i, m in enumerate(metas)]
        with self._b.lock:
            if not self._b.configured:
                self._ready(d)
                if not self._b.configured:
                    raise self._err("ENOTFOUND", "no store and create=False")
                if d != self._b.dim:
                    raise err("EDIM", f"vectors have {d} components, the database has dim {self._b.dim}")
            first = self._b.insert_batch(flat, n, tarr, mlist)
        return list(range(first, first + n))

    def get(self, id: int) -> Optional[Record]:
        """The record with this id, or None when there is none (never inserted, or deleted)."""
        self._live()
        rid = self._id(id)
        with self._b.lock:
            if not self._ready():
                return None
            return self._b.get(rid)

    def update(self, id: int, *, vector: Any = None, tag: Optional[int] = None, meta: Any = _UNSET) -> None:
        """Changes any of a record's vector, tag and metadata as one event (all or nothing).

        Args:
            id: the record.
            vector: the new vector (None: keep).
            tag: the new tag (None: keep).
            meta: the new metadata; ``None`` or ``b""`` clears it; omitted: keep.

        Raises:
            ValoriError: ``EINVAL`` (nothing to change), ``ENOTFOUND``, and the content codes of
                :meth:`insert`.
        """
        self._live()
        rid = self._id(id)
        t = None if tag is None else cv.u64(tag, self._err, "tag")
        has_meta = meta is not _UNSET
        m = cv.as_bytes(meta, self._err, "meta") if has_meta else None
        if vector is None and t is None and not has_meta:
            raise self._err("EINVAL", "update needs vector, tag or meta")
        v = None if vector is None else self._vec(vector)
        with self._b.lock:
            if not self._ready():
                if v is not None:
                    self._empty_content(v, "vector")
                raise self._err("ENOTFOUND", f"no record {rid}")
            if v is not None:
                self._redim(v, "vector")
            self._b.update(rid, v, t, has_meta, m)

    def set_meta(self, id: int, meta: Union[bytes, str, None]) -> None:
        """Replaces a record's metadata (``None`` or ``b""`` clears it)."""
        self._live()
        rid = self._id(id)
        m = cv.as_bytes(meta, self._err, "meta")
        with self._b.lock:
            if not self._ready():
                raise self._err("ENOTFOUND", f"no record {rid}")
            self._b.set_meta(rid, m)

    def delete(self, id: int) -> None:
        """Deletes a record and the graph node linked to it (with its edges).

        Raises:
            ValoriError: ``ENOTFOUND`` when there is no such record.
        """
        self._live()
        rid = self._id(id)
        with self._b.lock:
            if not self._ready():
                raise self._err("ENOTFOUND", f"no record {rid}")
            self._b.delete(rid)

    # ---- search

    def search(self, query: Any, k: int = 10, *, ef: int = 0, tag: Optional[int] = None,
               tags: Optional[Iterable[int]] = None, mode: str = "auto") -> List[Hit]:
        """The k nearest records, ordered by (distance, id).

        Args:
            query: a vector of the database's dimension.
            k: results wanted, 1..10000 (a server may allow fewer: its ``--max-k``).
            ef: HNSW beam width; 0 = the store's default (raised to k).
            tag: only records with this tag.
            tags: only records whose tag is one of these (with ``tag``: the union); at most 256.
            mode: ``"auto"`` (plan by filter selectivity), ``"exact"`` (brute force) or
                ``"hnsw"`` (index only; may return fewer than k with narrow filters; ``EINVAL``
                on an index-less store). With a filter, every hit matches it.

        Raises:
            ValoriError: ``EK`` (k or ef out of range), ``EDIM``, ``ENAN``, ``EINF``,
                ``ERANGE``, ``ETOOBIG`` (too many tags), ``EINVAL``.
        """
        self._live()
        q, k, ef, m, t = self._search_args(query, k, ef, tag, tags, mode)
        with self._b.lock:
            if not self._ready():
                self._empty_content(q, "query")
                return []
            self._redim(q, "query")
            return self._b.search(q, k, ef, m, t)

    def search_expand(self, query: Any, k: int = 10, *, ef: int = 0, tag: Optional[int] = None,
                      tags: Optional[Iterable[int]] = None, mode: str = "auto", hops: int = 1, dir: str = "out",
                      max_nodes: int = 1000) -> SearchExpandResult:
        """Search, then expand the knowledge graph from the nodes linked to the hits (agent
        retrieval: the nearest memories plus what they are connected to).

        Args:
            query, k, ef, tag, tags, mode: as in :meth:`search`.
            hops: expansion depth, 0..16.
            dir: follow edges ``"out"`` (default), ``"in"`` or ``"both"``.
            max_nodes: visit at most this many nodes, 1..1048576 (seeds included).

        Returns:
            ``SearchExpandResult(hits, nodes)``: hits as :meth:`search`; nodes in breadth-first
            order (by depth, then id). Hits without a linked node are still hits.
        """
        self._live()
        # valori.h: hops, dir and max_nodes are checked before the search's own arguments
        h = cv.u32(hops, self._err, "hops")
        if h > self._limits()["MAX_HOPS"]:
            raise self._err("EINVAL", f"hops = {h}: at most {self._limits()['MAX_HOPS']}")
        d = self._enum("dir", dir, "dir")
        mx = cv.u32(max_nodes, self._err, "max_nodes")
        if mx == 0:
            raise self._err("EINVAL", "max_nodes = 0: at least 1")
        q, k, ef, m, t = self._search_args(query, k, ef, tag, tags, mode)
        with self._b.lock:
            if not self._ready():
                self._empty_content(q, "query")
                return SearchExpandResult([], [])
            self._redim(q, "query")
            hits, nodes = self._b.search_expand(q, k, ef, m, t, h, d, mx)
            return SearchExpandResult(hits, nodes)

    # ---- knowledge graph

    def create_node(self, kind: int = 0, record: Optional[int] = None, label: Union[bytes, str, None] = None) -> int:
        """Creates a graph node and returns its id.

        Args:
            kind: a u32 the application gives meaning to.
            record: link the node to this record (a record has at most one node: ``EEXIST``).
            label: optional bytes (or str, stored as UTF-8), up to 65536.
        """
        self._live()
        kd = cv.u32(kind, self._err, "kind")
        rec = 0 if record is None else self._id(record, "record")
        lb = cv.as_bytes(label, self._err, "label")
        with self._b.lock:
            if not self._ready():
                if rec:
                    raise self._err("ENOTFOUND", f"no record {rec}")
                raise self._err("EINVAL", _NO_STORE)
            return self._b.node_create(kd, rec, lb)

    def delete_node(self, id: int) -> None:
        """Deletes a node and every edge into or out of it (``ENOTFOUND`` if there is none)."""
        self._live()
        nid = self._id(id, "node id")
        with self._b.lock:
            if not self._ready():
                raise self._err("ENOTFOUND", f"no node {nid}")
            self._b.node_delete(nid)

    def create_edge(self, src: int, dst: int, kind: int = 0, weight: Optional[float] = None) -> int:
        """Creates a directed edge ``src -> dst`` between existing nodes and returns its id.

        Args:
            kind: a u32 edge type.
            weight: optional real weight in [-256, 256], stored as Q16.16.
        """
        self._live()
        a, b = self._id(src, "src"), self._id(dst, "dst")
        kd = cv.u32(kind, self._err, "kind")
        w = None if weight is None else cv.number(weight, self._err, "weight")
        with self._b.lock:
            if not self._ready():
                if w is not None:
                    self._empty_content(array.array("f", [w]), "weight")
                raise self._err("ENOTFOUND", f"no node {a}")
            return self._b.edge_create(a, b, kd, w)

    def delete_edge(self, id: int) -> None:
        """Deletes an edge (``ENOTFOUND`` if there is none)."""
        self._live()
        eid = self._id(id, "edge id")
        with self._b.lock:
            if not self._ready():
                raise self._err("ENOTFOUND", f"no edge {eid}")
            self._b.edge_delete(eid)

    def get_node(self, id: int) -> Optional[Node]:
        """The node with this id, or None."""
        self._live()
        nid = self._id(id, "node id")
        with self._b.lock:
            if not self._ready():
                return None
            return self._b.node_get(nid)

    def node_of_record(self, record: int) -> Optional[int]:
        """The id of the node linked to a record, or None."""
        self._live()
        rid = self._id(record, "record")
        with self._b.lock:
            if not self._ready():
                return None
            return self._b.node_of_record(rid)

    def neighbors(self, node: int, dir: str = "out", kind: Optional[int] = None) -> List[Edge]:
        """Edges out of (``"out"``), into (``"in"``) or both ways of a node, in creation order,
        optionally only of one ``kind``.

        Raises:
            ValoriError: ``ENOTFOUND`` for an unknown node.
        """
        self._live()
        nid = self._id(node, "node id")
        d = self._enum("dir", dir, "dir")
        kd = None if kind is None else cv.u32(kind, self._err, "kind")
        with self._b.lock:
            if not self._ready():
                raise self._err("ENOTFOUND", f"no node {nid}")
            return self._b.neighbors(nid, d, kd)

    def expand(self, seeds: Iterable[int], hops: int = 1, dir: str = "out", max_nodes: int = 1000) -> List[Reach]:
        """Breadth-first expansion from seed nodes up to ``hops`` (0..16), visiting at most
        ``max_nodes`` (1..1048576) nodes; ordered by depth, then node id.

        Raises:
            ValoriError: ``ENOTFOUND`` for an unknown seed, ``EINVAL`` for bad bounds.
        """
        self._live()
        if isinstance(seeds, (str, bytes, dict)) or not hasattr(seeds, "__iter__"):
            raise self._err("EINVAL", "seeds must be a sequence of node ids")
        s = [self._id(x, f"seeds[{i}]") for i, x in enumerate(seeds)]
        h = cv.u32(hops, self._err, "hops")
        d = self._enum("dir", dir, "dir")
        mx = cv.u32(max_nodes, self._err, "max_nodes")
        with self._b.lock:
            if not self._ready():
                if s:
                    raise self._err("ENOTFOUND", f"no node {s[0]}")
                return []
            return self._b.expand(s, h, d, mx)

    # ---- state

    def stats(self) -> Stats:
        """Counters, configuration and sizes (see :class:`valori.Stats`)."""
        self._live()
        with self._b.lock:
            if not self._ready():
                cfg = self._b.config
                return Stats(height=0, records=0, nodes=0, edges=0, next_record_id=1, dim=0,
                             metric=(cfg["metric"] or "L2").lower(), index=(cfg["index"] or "HNSW").lower(),
                             hnsw_m=0, hnsw_ef_construction=0, hnsw_ef_search=0, durable_height=0, snapshot_height=0)
            return self._b.stats()

    def state_root(self) -> str:
        """The state root: SHA-256 of the canonical logical state, 64 lowercase hex digits; the
        same on every target and in every host (C, JS, Python, server) for the same events."""
        self._live()
        with self._b.lock:
            if not self._ready():
                raise self._err("EINVAL", _NO_STORE)
            return self._b.state_root()

    def index_digest(self) -> str:
        """SHA-256 over the HNSW graph, 64 hex digits (the identity suite's second hash)."""
        self._live()
        with self._b.lock:
            if not self._ready():
                raise self._err("EINVAL", _NO_STORE)
            return self._b.index_digest()

    def check(self) -> None:
        """Recomputes the state root from scratch and checks every internal invariant
        (remote: the server's verify, which also checks the collection's files).

        Raises:
            ValoriError: ``ECORRUPT`` on damage.
        """
        self._live()
        with self._b.lock:
            if self._ready():
                self._b.check_db()

    def snapshot(self) -> bytes:
        """The whole state as snapshot bytes (docs/FORMAT.md), loadable with
        :meth:`from_snapshot` and by the JS ``Valori.fromSnapshot``. Remote: the payload of the
        collection's newest snapshot file, after a checkpoint when that snapshot is older than
        the current height."""
        self._live()
        with self._b.lock:
            if not self._ready():
                raise self._err("EINVAL", _NO_STORE)
            return self._b.snapshot()

    def checkpoint(self) -> None:
        """Writes a store snapshot now, so that reopening replays less log (nothing to do for an
        in-memory database)."""
        self._live()
        with self._b.lock:
            if self._ready():
                self._b.checkpoint()

    def apply(self, event: bytes) -> int:
        """Applies one canonically encoded event (docs/FORMAT.md, "Events"); returns the first
        id it created, or 0.

        Raises:
            ValoriError: what the core says of the event (``EOPCODE``, ``ECORRUPT`` for bytes that
                do not decode; in remote mode the server calls those ``EBINARY``, docs/HTTP.md).
        """
        self._live()
        if not isinstance(event, (bytes, bytearray, memoryview)):
            raise self._err("EINVAL", f"event must be bytes, not {type(event).__name__}")
        with self._b.lock:
            if not self._ready():
                raise self._err("EINVAL", _NO_STORE)
            return self._b.apply(bytes(event))

    def flush(self) -> None:
        """Makes every write so far durable (needed only with ``durability="relaxed"``; remote
        writes are durable when acknowledged)."""
        self._live()
        with self._b.lock:
            if self._b.configured:
                self._b.flush()

    def close(self) -> None:
        """Makes pending writes durable, releases the store (its lock) or the connections. Safe
        to call twice.

        Raises:
            ValoriError: the error met while syncing (the handle is released regardless).
        """
        if self._b is None or self._b.closed:
            return
        with self._b.lock:
            self._b.close()

    def __enter__(self) -> "Valori":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            if getattr(self, "_b", None) is not None and not self._b.closed:
                self._b.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        if self._b is None:
            return "<Valori (not open)>"
        state = "closed" if self._b.closed else f"dim {self.dim}" if self.dim else "no dimension yet"
        return f"<Valori {self.mode} {self.path or ':memory:'} {state}>"

    # ---- collections (remote mode)

    def _remote(self) -> Any:
        self._live()
        if self._b.mode != "remote":
            raise self._err("EINVAL", "collections exist in remote mode only (Valori(remote=URL))")
        return self._b

    def collections(self) -> List[CollectionInfo]:
        """Every collection on the server, sorted by name (remote mode)."""
        return self._remote().server.list_collections()

    def describe(self) -> Optional[CollectionInfo]:
        """This collection's configuration and counters, or None before it exists (remote)."""
        return self._remote().describe()

    def create_collection(self, name: str, dim: int, *, metric: str = "l2", index: str = "hnsw",
                          hnsw: Optional[Mapping[str, int]] = None,
                          traversal: Optional[Mapping[str, Sequence[float]]] = None) -> CollectionInfo:
        """Creates a collection on the server (remote mode); ``traversal`` as for the constructor.

        Raises:
            ValoriError: ``EEXIST`` (a collection with that name exists), ``EINVAL`` (bad name:
                1 to 64 characters from ``A-Z a-z 0-9 _ -``, starting with a letter or digit;
                a traversal range the server refuses).
        """
        b = self._remote()
        cfg = self._config(dim, metric, index, hnsw, "full", True, False, None, None, traversal)
        if not isinstance(name, str):
            raise self._err("EINVAL", "name must be a str")
        return b.server.create_collection(name, cfg)

    def delete_collection(self, name: str) -> None:
        """Deletes a collection and its files on the server (remote mode)."""
        b = self._remote()
        if not isinstance(name, str):
            raise self._err("EINVAL", "name must be a str")
        b.server.delete_collection(name)

    def use(self, collection: str, **options: Any) -> "Valori":
        """Another collection of the same server, sharing this object's connection settings
        (remote mode). ``options``: ``dim``, ``metric``, ``index``, ``hnsw``, ``traversal``, ``create``."""
        b = self._remote()
        if not isinstance(collection, str):
            raise self._err("EINVAL", "collection must be a str")
        allowed = {"dim", "metric", "index", "hnsw", "traversal", "create"}
        bad = set(options) - allowed
        if bad:
            raise self._err("EINVAL", f"unknown options {sorted(bad)} (allowed: {sorted(allowed)})")
        cfg = self._config(options.get("dim"), options.get("metric"), options.get("index"), options.get("hnsw"),
                           "full", options.get("create", True), False, None, None, options.get("traversal"))
        other = Valori.__new__(Valori)
        other._err = self._err
        other._C = self._C
        other._b = b.server.collection(collection, cfg)
        return other
