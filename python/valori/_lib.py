"""Finding and binding ``libvalori.so`` through :mod:`ctypes` (embedded mode).

The shared library is the C core plus the POSIX VFS, built by this repository's CMake
(``cmake --build build`` puts ``build/libvalori.so`` in place) and installed by ``cmake --install``.
It exports exactly the ``valori_*`` functions of ``valori.h`` and ``valori_native.h``; every
structure below mirrors its declaration there field for field (ctypes applies the same C layout
rules as the compiler; ``tests/python/test_layout.py`` compiles a C program that prints the real
offsets and compares them). Constants (result codes, limits, enums) are never written here: they
are read from ``valori_constants_json()``.

Where the library is looked for, in order (python/README.md, "Finding the library"):

1. the ``library=`` argument of :class:`valori.Valori` (a file path);
2. the ``VALORI_LIBRARY`` environment variable (a file path);
3. the build trees of the repository this package sits in (``<repo>/build*/libvalori.so``;
   found when the package is used from a checkout, ``PYTHONPATH=python`` or ``pip install -e``);
4. the system: ``ctypes.util.find_library("valori")``, then the dynamic loader's own search
   (``libvalori.so.0``: ``LD_LIBRARY_PATH``, the ld.so cache, ``/usr/lib``...), then the
   ``libdir`` that ``pkg-config`` reports for ``valori.pc``.

A library that is found nowhere raises :class:`valori.ValoriError` with code ``ENOLIB`` and a
message listing every place tried.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import subprocess
import threading
from ctypes import (
    POINTER,
    byref,
    Structure,
    c_char,
    c_char_p,
    c_float,
    c_int,
    c_int32,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ._errors import ValoriError, sdk_error

# ---- structures of valori.h (field order and types exactly as declared there)


class Options(Structure):
    """``valori_options``."""

    _fields_ = [
        ("dim", c_uint32),
        ("metric", c_uint32),
        ("hnsw_m", c_uint32),
        ("hnsw_ef_construction", c_uint32),
        ("hnsw_ef_search", c_uint32),
        ("flags", c_uint32),
        ("sync_mode", c_uint32),
        ("index", c_uint32),
        ("snapshot_every", c_uint64),
        ("segment_bytes", c_uint64),
        ("allocator", c_void_p),
        ("vfs", c_void_p),
        ("traversal", c_uint32),
        ("reserved", c_uint32),
    ]


class SearchParams(Structure):
    """``valori_search_params``."""

    _fields_ = [
        ("k", c_uint32),
        ("ef", c_uint32),
        ("mode", c_uint32),
        ("ntags", c_uint32),
        ("tags", POINTER(c_uint64)),
    ]


class HitC(Structure):
    """``valori_hit``."""

    _fields_ = [("id", c_uint64), ("distance", c_int64)]


class NodeC(Structure):
    """``valori_node``."""

    _fields_ = [("id", c_uint64), ("record_id", c_uint64), ("kind", c_uint32), ("label_len", c_uint32)]


class EdgeC(Structure):
    """``valori_edge``."""

    _fields_ = [
        ("id", c_uint64),
        ("from_", c_uint64),
        ("to", c_uint64),
        ("kind", c_uint32),
        ("has_weight", c_uint32),
        ("weight_q16", c_int32),
        ("reserved", c_uint32),
    ]


class ReachC(Structure):
    """``valori_reach``."""

    _fields_ = [("node_id", c_uint64), ("via_edge", c_uint64), ("depth", c_uint32), ("reserved", c_uint32)]


class StatsC(Structure):
    """``valori_stats``."""

    _fields_ = [
        ("height", c_uint64),
        ("records", c_uint64),
        ("nodes", c_uint64),
        ("edges", c_uint64),
        ("next_record_id", c_uint64),
        ("next_node_id", c_uint64),
        ("next_edge_id", c_uint64),
        ("index_tombstones", c_uint64),
        ("vector_bytes", c_uint64),
        ("index_bytes", c_uint64),
        ("other_bytes", c_uint64),
        ("dim", c_uint32),
        ("metric", c_uint32),
        ("hnsw_m", c_uint32),
        ("hnsw_ef_construction", c_uint32),
        ("hnsw_ef_search", c_uint32),
        ("index", c_uint32),
        ("traversal", c_uint32),
        ("traversal_shift", c_uint32),
        ("traversal_center", c_int32),
    ]


class StoreStatusC(Structure):
    """``valori_store_status``."""

    _fields_ = [
        ("durable_height", c_uint64),
        ("appended_height", c_uint64),
        ("snapshot_height", c_uint64),
        ("tail_segment_first", c_uint64),
        ("tail_segment_bytes", c_uint64),
        ("snapshot_failures", c_uint64),
        ("snapshots", c_uint32),
        ("segments", c_uint32),
        ("poisoned", c_int),
        ("readonly", c_int),
        ("last_snapshot_error", c_int),
        ("skipped", c_uint32),
        ("skipped_kind", c_uint32),
        ("skipped_file", c_char * 64),
        ("skipped_offset", c_uint64),
        ("skipped_detail", c_char_p),
        ("trimmed_bytes", c_uint64),
        ("proven_height", c_uint64),
        ("proven_by", c_uint32),
        ("last_head_error", c_int),
        ("head_failures", c_uint64),
        ("log_first_height", c_uint64),
    ]


class RecoveryC(Structure):
    """``valori_recovery``."""

    _fields_ = [
        ("code", c_int),
        ("file", c_char * 64),
        ("offset", c_uint64),
        ("height", c_uint64),
        ("detail", c_char_p),
        ("snapshot_height", c_uint64),
        ("replayed", c_uint64),
        ("height_recovered", c_uint64),
        ("log_first_height", c_uint64),
        ("trimmed_bytes", c_uint64),
        ("trimmed_file", c_char * 64),
        ("trimmed_offset", c_uint64),
        ("snapshots_skipped", c_uint32),
        ("segments", c_uint32),
        ("skipped_file", c_char * 64),
        ("skipped_offset", c_uint64),
        ("skipped_detail", c_char_p),
        ("log_end_height", c_uint64),
        ("proven_height", c_uint64),
        ("proven_by", c_uint32),
        ("head", c_uint32),
    ]


class UpdateFieldsC(Structure):
    """``valori_update_fields``."""

    _fields_ = [
        ("fields", c_uint32),
        ("reserved", c_uint32),
        ("vec", c_void_p),
        ("tag", c_uint64),
        ("meta", c_void_p),
        ("meta_len", c_size_t),
    ]


# (name, restype, argtypes) of every function the SDK calls. Pointers to caller buffers are passed
# as c_void_p (addresses from ctypes arrays, array.array or NumPy), handles as c_void_p.
_P = c_void_p
_PROTOTYPES: List[Tuple[str, Any, List[Any]]] = [
    ("valori_strerror", c_char_p, [c_int]),
    ("valori_code_name", c_char_p, [c_int]),
    ("valori_constants_json", c_char_p, []),
    ("valori_options_init", None, [POINTER(Options)]),
    ("valori_traversal_int8", c_int, [c_float, c_float, POINTER(c_uint32)]),
    ("valori_open_report", c_int, [c_char_p, POINTER(Options), POINTER(_P), POINTER(RecoveryC)]),
    ("valori_close", c_int, [_P]),
    ("valori_flush", c_int, [_P]),
    ("valori_insert", c_int, [_P, _P, c_uint64, _P, c_size_t, POINTER(c_uint64)]),
    ("valori_insert_batch", c_int, [_P, c_size_t, _P, _P, _P, _P, POINTER(c_uint64)]),
    ("valori_delete", c_int, [_P, c_uint64]),
    ("valori_update_record", c_int, [_P, c_uint64, POINTER(UpdateFieldsC)]),
    ("valori_set_meta", c_int, [_P, c_uint64, _P, c_size_t]),
    ("valori_get", c_int, [_P, c_uint64, _P, POINTER(c_uint64), _P, c_size_t, POINTER(c_size_t)]),
    ("valori_searcher_create", c_int, [_P, POINTER(_P)]),
    ("valori_searcher_free", None, [_P]),
    ("valori_search", c_int, [_P, _P, _P, POINTER(SearchParams), _P, POINTER(c_size_t)]),
    ("valori_node_create", c_int, [_P, c_uint32, c_uint64, _P, c_size_t, POINTER(c_uint64)]),
    ("valori_node_delete", c_int, [_P, c_uint64]),
    ("valori_edge_create", c_int, [_P, c_uint64, c_uint64, c_uint32, POINTER(c_float), POINTER(c_uint64)]),
    ("valori_edge_delete", c_int, [_P, c_uint64]),
    ("valori_node_get", c_int, [_P, c_uint64, POINTER(NodeC), _P, c_size_t, POINTER(c_size_t)]),
    ("valori_node_of_record", c_int, [_P, c_uint64, POINTER(c_uint64)]),
    ("valori_neighbors", c_int, [_P, c_uint64, c_uint32, POINTER(c_uint32), _P, c_size_t, POINTER(c_size_t)]),
    ("valori_expand", c_int, [_P, _P, c_size_t, c_uint32, c_uint32, c_uint32, _P, c_size_t, POINTER(c_size_t)]),
    (
        "valori_search_expand",
        c_int,
        [_P, _P, _P, POINTER(SearchParams), c_uint32, c_uint32, c_uint32, _P, POINTER(c_size_t), _P, c_size_t,
         POINTER(c_size_t)],
    ),
    ("valori_stats_get", c_int, [_P, POINTER(StatsC)]),
    ("valori_state_root", c_int, [_P, POINTER(c_uint8 * 32)]),
    ("valori_index_digest", c_int, [_P, POINTER(c_uint8 * 32)]),
    ("valori_check", c_int, [_P]),
    ("valori_snapshot_save", c_int, [_P, POINTER(POINTER(c_uint8)), POINTER(c_size_t)]),
    ("valori_buffer_free", None, [_P, _P, c_size_t]),
    ("valori_snapshot_load", c_int, [_P, c_size_t, POINTER(Options), POINTER(_P)]),
    ("valori_apply", c_int, [_P, _P, c_size_t, POINTER(c_uint64)]),
    ("valori_store_status_get", c_int, [_P, POINTER(StoreStatusC)]),
    ("valori_snapshot", c_int, [_P]),
    ("valori_posix_vfs_open", c_int, [c_char_p, c_int, POINTER(_P)]),
    ("valori_posix_vfs_close", None, [_P]),
]


class _DlInfo(Structure):
    _fields_ = [("dli_fname", c_char_p), ("dli_fbase", c_void_p), ("dli_sname", c_char_p), ("dli_saddr", c_void_p)]


def _file_of(cdll: ctypes.CDLL, fallback: str) -> str:
    """The file the dynamic loader really mapped for cdll (dladdr), else fallback."""
    try:
        libc = ctypes.CDLL(None)
        dladdr = libc.dladdr
        dladdr.argtypes = [c_void_p, POINTER(_DlInfo)]
        dladdr.restype = c_int
        info = _DlInfo()
        addr = ctypes.cast(cdll.valori_strerror, c_void_p).value
        if dladdr(addr, byref(info)) and info.dli_fname:
            return os.path.realpath(os.fsdecode(info.dli_fname))
    except (AttributeError, OSError):
        pass
    return fallback


class Library:
    """A loaded ``libvalori.so`` with its prototypes declared and its constants read.

    ``path`` is the file the dynamic loader mapped; ``found_by`` says which step of the search
    order found it.
    """

    def __init__(self, path: str, cdll: ctypes.CDLL, found_by: str = "") -> None:
        self.path = _file_of(cdll, path)
        self.found_by = found_by
        self.c = cdll
        for name, restype, argtypes in _PROTOTYPES:
            try:
                fn = getattr(cdll, name)
            except AttributeError as e:
                raise sdk_error("ENOLIB", f"{path} has no function {name}: not a Valori library of this version") from e
            fn.restype = restype
            fn.argtypes = argtypes
        raw = cdll.valori_constants_json()
        self.constants: Dict[str, Any] = json.loads(raw.decode("utf-8"))
        self.codes: Dict[str, int] = {k: v for k, v in self.constants["codes"].items() if not k.startswith("_")}
        self.names: Dict[int, str] = {v: k for k, v in self.codes.items()}
        self.version: str = self.constants["version"]

    def strerror(self, rc: int) -> str:
        """The C library's English message for a result code."""
        return self.c.valori_strerror(rc).decode("utf-8", "replace")

    def error(self, rc: int, context: str = "") -> ValoriError:
        """A ValoriError for a code the C library returned."""
        name = self.c.valori_code_name(rc).decode("ascii", "replace")
        msg = self.strerror(rc)
        return ValoriError(name, rc, f"{context}: {msg}" if context else msg)

    def named(self, code: str, detail: str = "") -> ValoriError:
        """A ValoriError for a check the SDK makes before calling C (same names and numbers)."""
        rc = self.codes[code]
        msg = self.strerror(rc)
        return ValoriError(code, rc, f"{msg}: {detail}" if detail else msg)


def _repo_root() -> Optional[Path]:
    """The repository this package sits in (python/valori/ -> repo), if it is one."""
    here = Path(__file__).resolve().parent
    root = here.parent.parent
    if (root / "core" / "include" / "valori.h").is_file() and (root / "CMakeLists.txt").is_file():
        return root
    return None


def _build_tree_candidates(root: Path) -> List[Path]:
    """libvalori.so in the repository's build trees: build/ first, then the others by name."""
    dirs = sorted((d for d in root.glob("build*") if d.is_dir()), key=lambda d: (d.name != "build", d.name))
    return [d / "libvalori.so" for d in dirs if (d / "libvalori.so").is_file()]


def _pkg_config_libdir() -> Optional[str]:
    exe = shutil.which("pkg-config")
    if not exe:
        return None
    try:
        out = subprocess.run([exe, "--variable=libdir", "valori"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    d = out.stdout.strip()
    return d if out.returncode == 0 and d else None


def candidates(explicit: Optional[str] = None) -> List[Tuple[str, str]]:
    """Every place the library is looked for, in order, as (where, path-or-name) pairs."""
    out: List[Tuple[str, str]] = []
    if explicit:
        out.append(("library= argument", os.fspath(explicit)))
        return out
    env = os.environ.get("VALORI_LIBRARY")
    if env:
        out.append(("VALORI_LIBRARY", env))
        return out
    root = _repo_root()
    if root is not None:
        found = _build_tree_candidates(root)
        if found:
            out.extend(("repository build tree", str(p)) for p in found)
        else:
            out.append(("repository build tree", str(root / "build*" / "libvalori.so") + " (none built)"))
    name = ctypes.util.find_library("valori")
    if name:
        out.append(("ctypes.util.find_library('valori')", name))
    out.append(("dynamic loader search", "libvalori.so.0"))
    libdir = _pkg_config_libdir()
    if libdir:
        out.append(("pkg-config --variable=libdir valori", os.path.join(libdir, "libvalori.so")))
    return out


_lock = threading.Lock()
_loaded: Dict[str, Library] = {}


def load(explicit: Optional[str] = None) -> Library:
    """Loads (once per process and path) the first library found in the documented order.

    An explicit path or ``VALORI_LIBRARY`` that cannot be loaded is an error: the search does not
    fall back to another library the caller did not ask for.
    """
    tried: List[str] = []
    with _lock:
        for where, target in candidates(explicit):
            if target.endswith("(none built)"):
                tried.append(f"{where}: {target}")
                continue
            key = os.path.realpath(target) if os.sep in target else target
            if key in _loaded:
                return _loaded[key]
            if os.sep in target and not os.path.exists(target):
                tried.append(f"{where}: {target} (no such file)")
                continue
            try:
                cdll = ctypes.CDLL(target)
            except OSError as e:
                tried.append(f"{where}: {target} ({e})")
                continue
            lib = Library(target, cdll, where)
            _loaded[key] = lib
            return lib
    raise sdk_error(
        "ENOLIB",
        "libvalori.so not found; build it (cmake -S . -B build && cmake --build build), install it "
        "(cmake --install build), or set VALORI_LIBRARY. Tried: " + "; ".join(tried),
    )
