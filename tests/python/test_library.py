"""Where embedded mode finds libvalori.so (python/README.md, "Finding the library"), in order:
the library= argument, VALORI_LIBRARY, the repository's build trees, then the system (the dynamic
loader's search, ctypes.util.find_library, pkg-config). A library found nowhere is ValoriError
ENOLIB naming every place tried. Each case runs in a fresh interpreter with a controlled
environment; "outside the repository" is a copy of the package in a temporary folder, and "the
system" is `cmake --install build --prefix TMP` (the native helper's install)."""

from __future__ import annotations

import ctypes.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from conftest import REPO

BUILD = REPO / "build"
PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from valori import Valori, ValoriError
kw = json.loads(sys.argv[2])
try:
    db = Valori(**kw)
    db.insert([1.0, 2.0])
    print(json.dumps({"library": db.library, "root": db.state_root()}))
except ValoriError as e:
    print(json.dumps({"code": e.code, "errno": e.errno, "message": e.message}))
"""


def probe(pkg_parent: Path, env_extra: Dict[str, str], **kw: Any) -> Dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if k not in ("VALORI_LIBRARY", "LD_LIBRARY_PATH", "PKG_CONFIG_PATH")}
    env.update(env_extra)
    r = subprocess.run([sys.executable, "-c", PROBE, str(pkg_parent), json.dumps(kw)], capture_output=True,
                       text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the package outside the repository (no build tree to find)."""
    d = tmp_path_factory.mktemp("outside")
    shutil.copytree(REPO / "python" / "valori", d / "valori", ignore=shutil.ignore_patterns("__pycache__"))
    return d


@pytest.fixture(scope="module")
def prefix(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """libvalori installed by `cmake --install` into a temporary prefix."""
    d = tmp_path_factory.mktemp("prefix")
    r = subprocess.run(["cmake", "--install", str(BUILD), "--prefix", str(d)], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    libs = list(d.glob("lib*/libvalori.so"))
    assert libs, f"cmake --install put no libvalori.so under {d}"
    return d


def _libdir(prefix: Path) -> Path:
    return next(prefix.glob("lib*/libvalori.so")).parent


def real(p: Path) -> str:
    return os.path.realpath(p)


def test_explicit_argument_first(tmp_path: Path) -> None:
    copy = tmp_path / "custom" / "libvalori.so"
    copy.parent.mkdir()
    shutil.copy2(real(BUILD / "libvalori.so"), copy)
    out = probe(REPO / "python", {"VALORI_LIBRARY": str(BUILD / "libvalori.so")}, dim=2, library=str(copy))
    assert out["library"] == real(copy)


def test_environment_variable_second(tmp_path: Path) -> None:
    copy = tmp_path / "env" / "libvalori.so"
    copy.parent.mkdir()
    shutil.copy2(real(BUILD / "libvalori.so"), copy)
    out = probe(REPO / "python", {"VALORI_LIBRARY": str(copy)}, dim=2)
    assert out["library"] == real(copy)


def test_explicit_choice_that_fails_does_not_fall_back(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "libvalori.so"
    out = probe(REPO / "python", {"VALORI_LIBRARY": str(missing)}, dim=2)
    assert out["code"] == "ENOLIB" and out["errno"] == 200
    assert f"VALORI_LIBRARY: {missing} (no such file)" in out["message"]
    junk = tmp_path / "junk.so"
    junk.write_bytes(b"not an ELF file")
    out = probe(REPO / "python", {}, dim=2, library=str(junk))
    assert out["code"] == "ENOLIB" and "library= argument" in out["message"] and str(junk) in out["message"]


def test_build_tree_third() -> None:
    out = probe(REPO / "python", {}, dim=2)
    assert out["library"] == real(BUILD / "libvalori.so")


def test_system_by_dynamic_loader_and_pkg_config(outside: Path, prefix: Path) -> None:
    lib = real(_libdir(prefix) / "libvalori.so")
    out = probe(outside, {"LD_LIBRARY_PATH": str(_libdir(prefix))}, dim=2)
    assert out["library"] == lib
    out = probe(outside, {"PKG_CONFIG_PATH": str(_libdir(prefix) / "pkgconfig")}, dim=2)
    assert out["library"] == lib
    # the same state from the installed library as from the build tree
    assert out["root"] == probe(REPO / "python", {}, dim=2)["root"]


def test_nowhere_is_enolib_naming_what_was_tried(outside: Path) -> None:
    system = ctypes.util.find_library("valori")
    out = probe(outside, {}, dim=2)
    if system is None and "library" not in out:
        assert out["code"] == "ENOLIB" and out["errno"] == 200
        for where in ("dynamic loader search: libvalori.so.0", "VALORI_LIBRARY", "cmake --install"):
            assert where in out["message"], out["message"]
    else:  # this machine has a libvalori installed system-wide: then that one is what was found
        assert "library" in out and out["library"], out
