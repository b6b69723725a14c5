"""examples/python/ runs as documented, the SDK works without NumPy, and on every Python 3
interpreter this machine has on its PATH (the first `python3` may not be Debian's)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

from conftest import REPO

EX = REPO / "examples" / "python"


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO / "python")
    return env


def _run(cmd: List[str], cwd: Path) -> str:
    r = subprocess.run(cmd, capture_output=True, text=True, env=_env(), cwd=cwd, timeout=300)
    assert r.returncode == 0, f"{cmd}: {r.stdout}\n{r.stderr}"
    return r.stdout


def test_quickstart_embedded_twice(tmp_path: Path) -> None:
    out = _run([sys.executable, str(EX / "quickstart.py")], tmp_path)  # default ./valori_db
    assert "memory: the user prefers tea" in out and "rejected: ENAN 2" in out and "first id: 1" in out
    assert (tmp_path / "valori_db").is_dir()
    out = _run([sys.executable, str(EX / "quickstart.py")], tmp_path)  # reopens: ids continue
    assert "first id: 5" in out and "records: 8" in out


def test_remote_example(server: Any, tmp_path: Path) -> None:
    out = _run([sys.executable, str(EX / "remote.py"), server.url, f"example-{os.getpid()}"], tmp_path)
    assert "rejected: ENOTFOUND 7 HTTP 404" in out and "first id: 1" in out


NO_NUMPY = r"""
import sys
sys.modules["numpy"] = None  # import numpy now raises ImportError
import runpy
from valori import _convert
assert not _convert.have_numpy()
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_without_numpy(tmp_path: Path) -> None:
    out = _run([sys.executable, "-c", NO_NUMPY, str(EX / "quickstart.py"), str(tmp_path / "db")], tmp_path)
    assert "memory: the user prefers tea" in out


def test_every_python3_on_path(tmp_path: Path) -> None:
    seen = set()
    for exe in [sys.executable, shutil.which("python3"), "/usr/bin/python3"] + [
            shutil.which(f"python3.{m}") for m in range(9, 15)]:
        if not exe or not os.path.exists(exe):
            continue
        real = os.path.realpath(exe)
        if real in seen:
            continue
        seen.add(real)
        ver = subprocess.run([exe, "-c", "import sys; print(sys.version_info >= (3, 9))"], capture_output=True,
                             text=True, timeout=60).stdout.strip()
        if ver != "True":
            continue
        out = _run([exe, str(EX / "quickstart.py"), str(tmp_path / f"db-{len(seen)}")], tmp_path)
        assert "rejected: ENAN 2" in out, exe
    assert seen
