"""A Python writer for test_crash.py: writes records forever through the SDK and prints one line
per acknowledged write ("ack FIRST_ID COUNT"), flushed, after the call returned. The parent kills
it with SIGKILL at a random moment. Record j (0-based, in write order) has vector vec(j), tag j % 7
and metadata meta(j), so the parent knows what every id must hold.

    python3 crash_writer.py SEED (--path DIR | --remote URL --collection NAME)
"""

from __future__ import annotations

import argparse
import os
import random
import sys

sys.path.insert(0, os.environ.get("VALORI_PYTHON_PATH", os.path.join(os.path.dirname(__file__), "..", "..", "python")))

from valori import Valori  # noqa: E402

DIM = 8


def vec(j: int) -> list:
    return [float((j * 7 + i * 13) % 41 - 20) / 4 for i in range(DIM)]


def meta(j: int) -> bytes:
    return f"record-{j}".encode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("seed", type=int)
    ap.add_argument("--path")
    ap.add_argument("--remote")
    ap.add_argument("--collection")
    a = ap.parse_args()
    rng = random.Random(a.seed)
    db = Valori(path=a.path, dim=DIM) if a.path else Valori(remote=a.remote, collection=a.collection, dim=DIM)
    j = 0
    print("ready", flush=True)
    while True:
        n = rng.choice((1, 1, 5, 20))
        if n == 1:
            first = db.insert(vec(j), tag=j % 7, meta=meta(j))
        else:
            first = db.insert_batch([vec(j + i) for i in range(n)], tags=[(j + i) % 7 for i in range(n)],
                                    metas=[meta(j + i) for i in range(n)])[0]
        print(f"ack {first} {n}", flush=True)
        j += n


if __name__ == "__main__":
    main()
