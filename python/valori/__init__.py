"""Valori for Python: a deterministic memory engine for AI agents (vector database + knowledge graph).

Embedded (the C engine in this process, through ctypes)::

    from valori import Valori
    db = Valori(path="./valori_db")
    id = db.insert([0.5, -1.25, 3.0], tag=7)
    hits = db.search([0.5, -1.25, 3.0], k=5)
    snap = db.snapshot()

Remote (``valori serve`` over HTTP)::

    db = Valori(remote="http://localhost:3000")

Standard library only; NumPy arrays are accepted when NumPy is installed. The manual is
python/README.md in the repository.
"""

from ._client import Valori
from ._errors import SDK_CODES, ValoriError
from ._types import CollectionInfo, Edge, Hit, Node, Reach, Record, SearchExpandResult, Stats

__all__ = [
    "Valori",
    "ValoriError",
    "SDK_CODES",
    "Hit",
    "Record",
    "Node",
    "Edge",
    "Reach",
    "SearchExpandResult",
    "Stats",
    "CollectionInfo",
]

__version__ = "0.1.0"
