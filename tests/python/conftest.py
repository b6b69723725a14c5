"""pytest fixtures of the Python SDK tests (tests/python/, run by `scripts/test.sh` step "python").

One test body, two modes, as the JS suite does: the ``mode`` fixture is ``"embedded"`` (the C
library in this process, a real store directory with real fsync) or ``"remote"`` (a real
``valori serve`` from the build tree, started once per session on 127.0.0.1 port 0, one fresh
collection per database). ``make_db(**options)`` opens a new, empty database in the current mode.

The package is imported from python/ in this repository (or from wherever VALORI_PYTHON_PATH
points, to test an installed copy); the library and server binary from the build tree
(VALORI_LIBRARY and VALORI_SERVER_BIN override them).
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, os.environ.get("VALORI_PYTHON_PATH", str(REPO / "python")))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from valori import Valori, ValoriError  # noqa: E402

SERVER_BIN = Path(os.environ.get("VALORI_SERVER_BIN", str(REPO / "build" / "native" / "valori")))


class ServerProcess:
    """A `valori serve` child on 127.0.0.1 port 0 with its own data directory."""

    def __init__(self, data: Path, extra: Optional[List[str]] = None, env: Optional[Dict[str, str]] = None) -> None:
        if not SERVER_BIN.is_file():
            raise RuntimeError(f"{SERVER_BIN} is missing: build the tree first (cmake --build build)")
        self.data = data
        self.args = [str(SERVER_BIN), "serve", "--listen", "127.0.0.1:0", "--data", str(data)] + (extra or [])
        self.env = dict(os.environ, **(env or {}))
        self.proc: Optional[subprocess.Popen] = None
        self.url = ""
        self.lines: List[str] = []
        self.start()

    def start(self, timeout: float = 20.0) -> None:
        self.lines = []
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     env=self.env)
        ready = threading.Event()
        url: List[str] = []

        def reader() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                m = re.match(r"valori listening on (http://\S+)", line)
                if m:
                    url.append(m.group(1))
                if line.startswith("ready"):
                    ready.set()
            ready.set()

        threading.Thread(target=reader, daemon=True).start()
        if not ready.wait(timeout) or not url or self.proc.poll() is not None:
            self.stop()
            raise RuntimeError("valori serve did not start: " + " | ".join(self.lines))
        self.url = url[0]

    def stop(self, timeout: float = 20.0) -> int:
        """SIGTERM, then waits (bounded); returns the exit status."""
        if self.proc is None:
            return 0
        p, self.proc = self.proc, None
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                return p.wait(timeout)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout)
                raise RuntimeError("valori serve did not stop within the timeout after SIGTERM")
        return p.returncode

    def kill9(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(20)
            self.proc = None


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    s = ServerProcess(tmp_path_factory.mktemp("server-data"))
    try:
        yield s
    finally:
        assert s.stop() == 0, "valori serve exited non-zero after SIGTERM: " + " | ".join(s.lines[-5:])


_names = itertools.count(1)


def _collection_name(request: pytest.FixtureRequest) -> str:
    base = re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name)[:40].strip("-") or "t"
    return f"{base}-{next(_names)}"


@pytest.fixture(params=["embedded", "remote"])
def mode(request: pytest.FixtureRequest) -> str:
    return request.param


class Opener:
    """Opens databases of one mode; remembers them to close them after the test."""

    def __init__(self, mode: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.mode = mode
        self.tmp = tmp_path
        self.request = request
        self.opened: List[Valori] = []
        self.n = 0
        self.server: Optional[ServerProcess] = request.getfixturevalue("server") if mode == "remote" else None

    def new_location(self) -> Dict[str, Any]:
        self.n += 1
        if self.mode == "remote":
            assert self.server is not None
            return {"remote": self.server.url, "collection": _collection_name(self.request)}
        return {"path": str(self.tmp / f"db{self.n}")}

    def open(self, where: Optional[Dict[str, Any]] = None, **options: Any) -> Valori:
        db = Valori(**(where or self.new_location()), **options)
        self.opened.append(db)
        return db

    def reopen(self, db: Valori, **options: Any) -> Valori:
        """Closes db and opens the same store or collection again."""
        where = self.where(db)
        db.close()
        return self.open(where, **options)

    def where(self, db: Valori) -> Dict[str, Any]:
        if self.mode == "remote":
            assert self.server is not None
            return {"remote": self.server.url, "collection": db.collection}
        return {"path": db.path}

    def close_all(self) -> None:
        for db in self.opened:
            try:
                db.close()
            except ValoriError:
                pass


@pytest.fixture
def opener(mode: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Opener]:
    o = Opener(mode, tmp_path, request)
    try:
        yield o
    finally:
        o.close_all()


@pytest.fixture
def make_db(opener: Opener) -> Callable[..., Valori]:
    """make_db(**options): a new, empty database in the current mode."""
    return lambda **options: opener.open(None, **options)


def expect_error(db: Valori, code: str, fn: Callable[[], Any]) -> ValoriError:
    """fn() must raise ValoriError `code` and leave the height, root and record count unchanged."""
    before = (db.stats().height, db.stats().records, db.state_root() if db.dim else None)
    with pytest.raises(ValoriError) as ei:
        fn()
    e = ei.value
    assert e.code == code, f"expected {code}, got {e.code}: {e}"
    assert e.errno == db.constants()["codes"].get(code, e.errno), f"{code} has number {e.errno}"
    after = (db.stats().height, db.stats().records, db.state_root() if db.dim else None)
    assert after == before, f"{code} changed the state: {before} -> {after}"
    return e


def wait_for(pred: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
