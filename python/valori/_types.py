"""The values the SDK returns (the same in embedded and remote mode)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, NamedTuple, Optional

TWO32 = 4294967296.0


class Hit(NamedTuple):
    """One search result (a named tuple: cheap to make by the thousand).

    Attributes:
        id: the record id.
        distance: ``distance_raw / 2**32`` as a float (exact while below 2^21; compare
            ``distance_raw`` for exact ties).
        distance_raw: the exact int64 distance from C in units of 2^-32 (L2: sum of squared
            differences; IP: minus the dot product).
    """

    id: int
    distance: float
    distance_raw: int

    @staticmethod
    def of(id: int, raw: int) -> "Hit":
        """The hit for a record id and its exact distance."""
        return Hit(id, raw / TWO32, raw)


@dataclass(frozen=True)
class Record:
    """A stored record: its vector holds the exact stored (Q16.16) values as floats."""

    id: int
    vector: List[float]
    tag: int
    meta: Optional[bytes]


@dataclass(frozen=True)
class Node:
    """A knowledge-graph node; ``record`` is the linked record id or None."""

    id: int
    kind: int
    record: Optional[int]
    label: Optional[bytes]


@dataclass(frozen=True)
class Edge:
    """A directed, typed edge; ``weight`` is the stored Q16.16 weight as a float, or None."""

    id: int
    from_: int
    to: int
    kind: int
    weight: Optional[float]


class Reach(NamedTuple):
    """A node reached by an expansion: ``via`` is the edge that first reached it (0 for seeds)."""

    node: int
    via: int
    depth: int


@dataclass(frozen=True)
class SearchExpandResult:
    """What :meth:`Valori.search_expand` returns: the hits, then the graph around them."""

    hits: List[Hit]
    nodes: List[Reach]


@dataclass(frozen=True)
class Stats:
    """Counters and configuration of a database.

    The byte counts, tombstones and node/edge id counters come from the C engine, embedded or
    through the server's describe (None from an older server that does not report them);
    ``disk_bytes`` is measured in both modes for persistent stores (None in memory).
    """

    height: int
    records: int
    nodes: int
    edges: int
    next_record_id: int
    dim: int
    metric: str
    index: str
    hnsw_m: int
    hnsw_ef_construction: int
    hnsw_ef_search: int
    durable_height: int
    snapshot_height: int
    disk_bytes: Optional[int] = None
    next_node_id: Optional[int] = None
    next_edge_id: Optional[int] = None
    index_tombstones: Optional[int] = None
    vector_bytes: Optional[int] = None
    index_bytes: Optional[int] = None
    other_bytes: Optional[int] = None
    #: the int8 compact traversal copy (option ``traversal``): None without one, else
    #: ``{"int8": [lo, hi], "shift": s, "center": c, "word": w}`` as the npm package's
    #: ``stats().traversal`` and the server's describe give it (``[lo, hi]``: the components the
    #: codes -128..127 stand for, ``(c - 128) * 2^(s-16)`` .. ``(c + 127) * 2^(s-16)``)
    traversal: Optional[dict] = None


@dataclass(frozen=True)
class CollectionInfo:
    """A server collection (remote mode): ``GET /v1/collections/{name}`` or a list entry."""

    name: str
    dim: int
    metric: str
    index: str
    records: int
    height: int
    root: str
    hnsw: Optional[dict] = None
    nodes: Optional[int] = None
    edges: Optional[int] = None
    next_id: Optional[int] = None
    durable_height: Optional[int] = None
    snapshot_height: Optional[int] = None
    disk_bytes: Optional[int] = None
    traversal: Optional[dict] = None  # as Stats.traversal (None: no compact copy)
    extra: dict = field(default_factory=dict, compare=False, repr=False)
