"""kill -9 of a Python writer process loses no acknowledged write (RELIABILITY.md scenario 2, from
the SDK's side). crash_writer.py writes through the SDK and prints each acknowledgement; it is
SIGKILLed after a random number of them. Then: every acknowledged id holds exactly what was
written, nothing is there that was never sent (at most the one write in flight), no id twice,
the state root equals a fresh recomputation (check) and the store or collection verifies; a new
writer takes over at once (the kernel released the store lock)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, List, Tuple

import pytest

from conftest import SERVER_BIN
from crash_writer import DIM, meta, vec
from valori import Valori

HERE = Path(__file__).resolve().parent


def run_and_kill(args: List[str], acks_before_kill: int, timeout: float = 60.0) -> List[Tuple[int, int]]:
    """Starts the writer, SIGKILLs it after `acks_before_kill` acknowledgements (plus a random
    sub-write delay), returns every acknowledgement it printed."""
    p = subprocess.Popen([sys.executable, str(HERE / "crash_writer.py")] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    acks: List[Tuple[int, int]] = []
    enough = threading.Event()

    def reader() -> None:
        assert p.stdout is not None
        for line in p.stdout:
            if line.startswith("ack "):
                _, first, n = line.split()
                acks.append((int(first), int(n)))
                if len(acks) >= acks_before_kill:
                    enough.set()
        enough.set()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        assert enough.wait(timeout), "the writer made too few writes in time"
        time.sleep(random.random() * 0.01)  # land anywhere inside the next write
        assert p.poll() is None, "the writer died by itself: " + (p.stderr.read() if p.stderr else "")
        os.kill(p.pid, signal.SIGKILL)
        p.wait(30)
        t.join(30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(30)
    assert p.returncode == -signal.SIGKILL
    return list(acks)


def check_after_crash(db: Valori, acks: List[Tuple[int, int]]) -> None:
    acked = [first + i for first, n in acks for i in range(n)]
    assert acked == list(range(1, len(acked) + 1)), "acknowledged ids are not 1..n in order"
    for rid in acked:
        r = db.get(rid)
        assert r is not None, f"acknowledged record {rid} is missing"
        j = rid - 1
        assert (r.vector, r.tag, r.meta) == (vec(j), j % 7, meta(j)), f"record {rid} holds other content"
    s = db.stats()
    extra = s.records - len(acked)
    assert 0 <= extra <= 20, f"{extra} records that were never acknowledged (at most one write of <= 20 in flight)"
    for rid in range(len(acked) + 1, len(acked) + extra + 1):  # the write in flight, whole (batches are atomic)
        r = db.get(rid)
        assert r is not None and (r.vector, r.meta) == (vec(rid - 1), meta(rid - 1)), f"phantom record {rid}"
    assert db.get(len(acked) + extra + 1) is None
    db.check()


@pytest.mark.parametrize("trial", range(4))
def test_kill9_embedded_writer(tmp_path: Path, trial: int) -> None:
    store = tmp_path / "store"
    acks = run_and_kill([str(trial), "--path", str(store)], acks_before_kill=random.randint(3, 40))
    with Valori(path=str(store)) as db:  # a new writer gets the lock at once
        assert db.dim == DIM
        check_after_crash(db, acks)
        db.insert(vec(0))
    r = subprocess.run([str(SERVER_BIN), "verify", str(store)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("trial", range(2))
def test_kill9_remote_writer(server: Any, trial: int) -> None:
    name = f"crash-{trial}-{os.getpid()}"
    acks = run_and_kill([str(trial), "--remote", server.url, "--collection", name],
                        acks_before_kill=random.randint(3, 30))
    with Valori(remote=server.url, collection=name) as db:
        check_after_crash(db, acks)  # check() is the server's verify: memory, files and replay
