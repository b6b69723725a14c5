"""The Python SDK's quick start, embedded: the C engine in this process, a durable store on disk.

    PYTHONPATH=python python3 examples/python/quickstart.py [STORE_DIR]      (default ./valori_db)

(or, after `python3 -m pip install --no-build-isolation -e ./python`, without PYTHONPATH). The same
code runs against a server by changing one line: Valori(remote="http://localhost:3000"), see
remote.py next to this file.
"""

import sys

from valori import Valori, ValoriError

path = sys.argv[1] if len(sys.argv) > 1 else "./valori_db"

with Valori(path=path) as db:  # a new store gets its dimension from the first insert
    # the seed's quick start
    first = db.insert([0.1] * 16, tag=0)
    db.insert_batch([[0.2] * 16, [0.3] * 16], tags=[1, 1])
    print("search:", [(h.id, h.distance) for h in db.search([0.1] * 16, k=5)])
    snap = db.snapshot()
    print(f"snapshot: {len(snap)} bytes; state root {db.state_root()}")

    # agent memory: memories as records, facts as a small graph, retrieval as search-then-expand
    note = db.insert([0.9] * 16, tag=2, meta="the user prefers tea")
    person = db.create_node(kind=1, record=note, label="user")
    drink = db.create_node(kind=2, label="tea")
    db.create_edge(person, drink, kind=7, weight=1.0)
    found = db.search_expand([0.88] * 16, k=1, hops=1)
    for hit in found.hits:
        print("memory:", db.get(hit.id).meta.decode())
    print("related nodes:", [(r.node, db.get_node(r.node).label.decode()) for r in found.nodes])

    # bad input raises ValoriError with the stable code of the C library
    try:
        db.insert([float("nan")] * 16)
    except ValoriError as e:
        print("rejected:", e.code, e.errno)
    print("records:", db.stats().records, "height:", db.stats().height, "first id:", first)
