"""The Python SDK against a server: the same calls as quickstart.py, over HTTP.

    build/native/valori serve &                      (127.0.0.1:3000, data in ./valori_db)
    PYTHONPATH=python python3 examples/python/remote.py [URL] [COLLECTION]

URL defaults to $VALORI_URL or http://localhost:3000, COLLECTION to "default"; $VALORI_TOKEN is sent
as the bearer token when the server wants one.
"""

import os
import sys

from valori import Valori, ValoriError

url = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("VALORI_URL", "http://localhost:3000")
name = sys.argv[2] if len(sys.argv) > 2 else "default"

with Valori(remote=url, collection=name) as db:  # created by the first insert, with its dimension
    first = db.insert([0.1] * 16, tag=0)
    db.insert_batch([[0.2] * 16, [0.3] * 16])
    print("search:", [(h.id, h.distance) for h in db.search([0.1] * 16, k=5)])
    print(f"snapshot: {len(db.snapshot())} bytes; state root {db.state_root()}")
    print("collections:", [(c.name, c.dim, c.records) for c in db.collections()])
    try:
        db.delete(999999)
    except ValoriError as e:  # the server's answer: code, number and HTTP status
        print("rejected:", e.code, e.errno, "HTTP", e.status)
    print("first id:", first)
