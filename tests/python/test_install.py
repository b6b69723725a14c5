"""The package installs the ordinary way, offline, with Debian's setuptools (python/README.md,
"Install"): `pip install --no-build-isolation ./python` (a copy in site-packages, which then finds
libvalori.so through VALORI_LIBRARY or the system) and `pip install --no-build-isolation -e
./python` (development: imports python/ of this repository, which finds the build tree). Both in a
fresh virtual environment (`python3 -m venv --system-site-packages`, so Debian's setuptools and
wheel are visible and nothing is downloaded)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Dict

import pytest

from conftest import REPO

USE = r"""
import json, valori
from valori import Valori, ValoriError
try:
    with Valori(dim=3) as db:
        db.insert([1.0, 2.0, 3.0], tag=7)
        print(json.dumps({"file": valori.__file__, "library": db.library, "hits": [h.id for h in db.search([1, 2, 3])]}))
except ValoriError as e:
    print(json.dumps({"file": valori.__file__, "code": e.code}))
"""


def run(cmd: list, env: Dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    assert r.returncode == 0, f"{cmd}: {r.stdout[-2000:]} {r.stderr[-2000:]}"
    return r


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    v = tmp_path / "venv"
    env = {k: x for k, x in os.environ.items() if k != "PYTHONPATH"}
    run([sys.executable, "-m", "venv", "--system-site-packages", str(v)], env, tmp_path)
    return v


def _env() -> Dict[str, str]:
    env = {k: x for k, x in os.environ.items() if k not in ("PYTHONPATH", "VALORI_LIBRARY", "LD_LIBRARY_PATH")}
    env["PIP_NO_INDEX"] = "1"  # prove that nothing is downloaded
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def test_pip_install_copy(venv: Path, tmp_path: Path) -> None:
    py = str(venv / "bin" / "python")
    env = _env()
    src = tmp_path / "src"  # a copy, so that setuptools' build/ folder is not written into the repository
    shutil.copytree(REPO / "python", src, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    run([py, "-m", "pip", "install", "--no-build-isolation", str(src)], env, tmp_path)
    shown = run([py, "-m", "pip", "show", "-f", "valori"], env, tmp_path).stdout
    assert "Version: 0.1.0" in shown and "valori/py.typed" in shown
    env["VALORI_LIBRARY"] = str(REPO / "build" / "libvalori.so")
    out = json.loads(run([py, "-c", USE], env, tmp_path).stdout)
    assert out["file"].startswith(str(venv)) and out["hits"] == [1]
    assert out["library"] == os.path.realpath(REPO / "build" / "libvalori.so")


def test_pip_install_editable(venv: Path, tmp_path: Path) -> None:
    py = str(venv / "bin" / "python")
    env = _env()
    run([py, "-m", "pip", "install", "--no-build-isolation", "-e", str(REPO / "python")], env, tmp_path)
    out = json.loads(run([py, "-c", USE], env, tmp_path).stdout)
    assert out["file"] == str(REPO / "python" / "valori" / "__init__.py") and out["hits"] == [1]
    assert out["library"] == os.path.realpath(REPO / "build" / "libvalori.so")  # the build tree, no variable
