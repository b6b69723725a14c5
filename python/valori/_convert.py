"""Argument conversion shared by both modes: vectors to binary32, ids and tags to u64, bytes.

Vectors cross the C API as IEEE-754 binary32 (docs/DETERMINISM.md). A vector may be a NumPy array
(any real dtype; used without a copy when it is already contiguous float32), an ``array.array``,
or any sequence of real numbers (``int`` or ``float``). Each component is rounded to binary32 the
way C's ``(float)x`` and JavaScript's ``Float32Array`` / ``Math.fround`` round (to nearest, ties to
even). The range applies to the value the caller gave, before rounding, exactly as in the npm
package (js/README.md): a finite |x| > 256 (``256.00001``, ``1e39``, ``1e300``, a huge int) is
``ERANGE``, never rounded into range or to an infinity; to keep the core's order of checks (the first
bad component decides) such a component is handed to the core as 512.0, which it refuses with
``ERANGE``. NaN is ``ENAN``, an infinity ``EINF``. A float32 NumPy array or ``array('f')`` is
binary32 already and goes to the core as it is (there ``1e39`` cannot occur: it is an infinity).
Nothing is ever clamped into range.

The content checks the core makes (first bad component: ``ENAN`` / ``EINF`` / ``ERANGE``; then
metadata size: ``ETOOBIG``) are repeated in Python by :func:`first_bad_component` for remote mode
only, where JSON cannot carry NaN or infinity.
"""

from __future__ import annotations

import array
import math
import struct
import sys
from fractions import Fraction
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

try:  # NumPy is optional: accepted when importable, never required
    import numpy as _np
except ImportError:  # pragma: no cover - exercised by the no-NumPy interpreter runs
    _np = None

ErrFn = Callable[[str, str], Exception]

U64_MAX = (1 << 64) - 1
U32_MAX = (1 << 32) - 1
_INF = float("inf")
#: VALORI_MAX_ABS_INT: |component| <= 256 (tests/python/test_layout.py checks it against the library).
MAX_ABS = 256.0
#: What an out-of-range component becomes before rounding: still out of range, never infinite.
_OUT_OF_RANGE = 2 * MAX_ABS
LITTLE = sys.byteorder == "little"

#: A buffer of binary32 values in native byte order: array.array('f') or a float32 ndarray.
F32 = Any


def have_numpy() -> bool:
    """Whether NumPy arrays are accepted (NumPy importable)."""
    return _np is not None


def is_ndarray(v: Any) -> bool:
    return _np is not None and isinstance(v, _np.ndarray)


def _np_f32(x: Any, err: ErrFn, what: str) -> Any:
    """A contiguous float32 ndarray from any real ndarray (overflow becomes infinity, as in C)."""
    if x.dtype == _np.float32:
        return _np.ascontiguousarray(x)
    if x.dtype.kind not in "fiub":
        raise err("EINVAL", f"{what} has dtype {x.dtype}; expected real numbers")
    d = _np.asarray(x, dtype=_np.float64)
    far = _np.isfinite(d) & (_np.abs(d) > MAX_ABS)
    if far.any():  # out of range before rounding: ERANGE, not rounded into range or to infinity
        d = _np.where(far, _np.copysign(_OUT_OF_RANGE, d), d)
    return _np.ascontiguousarray(d, dtype=_np.float32)


def _list_f32(v: Sequence[Any], err: ErrFn, what: str) -> "array.array[float]":
    """array.array('f') from a sequence of real numbers (range checked before rounding)."""
    try:
        d = array.array("d", v)
    except (TypeError, OverflowError):
        d = array.array("d")
        for i, x in enumerate(v):
            if isinstance(x, (str, bytes)) or not hasattr(x, "__float__"):
                raise err("EINVAL", f"{what}[{i}] is not a number ({type(x).__name__})")
            try:
                f = float(x)
            except OverflowError:  # an int beyond the double range: finite, far out of range
                f = _OUT_OF_RANGE if x > 0 else -_OUT_OF_RANGE
            except (TypeError, ValueError):
                raise err("EINVAL", f"{what}[{i}] is not a number ({type(x).__name__})") from None
            d.append(f)
    if any(not (-MAX_ABS <= f <= MAX_ABS) for f in d):  # NaN included: then look closer
        for i, f in enumerate(d):
            if f != _INF and f != -_INF and abs(f) > MAX_ABS:
                d[i] = _OUT_OF_RANGE if f > 0 else -_OUT_OF_RANGE
    return array.array("f", d)


def vector(v: Any, dim: Optional[int], err: ErrFn, what: str = "vector") -> F32:
    """One vector as a native-order binary32 buffer of ``dim`` components (EDIM otherwise).

    ``dim`` None: any length >= 1 (a store that gets its dimension from this vector).
    """
    if is_ndarray(v):
        if v.ndim != 1:
            raise err("EINVAL", f"{what} must be one-dimensional, got shape {v.shape}")
        a = _np_f32(v, err, what)
        n = a.shape[0]
    elif isinstance(v, array.array) and v.typecode == "f":
        a, n = v, len(v)
    elif isinstance(v, (str, bytes, bytearray, dict)) or not hasattr(v, "__len__"):
        raise err("EINVAL", f"{what} must be a sequence of numbers or a NumPy array, not {type(v).__name__}")
    else:
        a = _list_f32(v, err, what)
        n = len(a)
    if dim is None:
        if n == 0:
            raise err("EDIM", f"{what} is empty")
    elif n != dim:
        raise err("EDIM", f"{what} has {n} components, the database has dim {dim}")
    return a


def rows(vs: Any, dim: Optional[int], err: ErrFn, what: str = "vectors") -> Tuple[F32, int, int]:
    """A batch as one row-major binary32 buffer: (buffer, n, dim).

    ``vs``: a 2-D NumPy array (n, dim), or a sequence of vectors (each as accepted by
    :func:`vector`). With ``dim`` None the first row's length decides.
    """
    if is_ndarray(vs):
        if vs.ndim != 2:
            raise err("EINVAL", f"{what} must be a 2-D array (n, dim) or a sequence of vectors, got shape {vs.shape}")
        n, d = vs.shape
        if n == 0:
            raise err("EEMPTY", f"{what} is empty")
        if dim is not None and d != dim:
            raise err("EDIM", f"{what} rows have {d} components, the database has dim {dim}")
        if d == 0:
            raise err("EDIM", f"{what} rows are empty")
        return _np_f32(vs, err, what).reshape(-1), n, d
    if isinstance(vs, (str, bytes, bytearray, dict)) or not hasattr(vs, "__len__"):
        raise err("EINVAL", f"{what} must be a 2-D NumPy array or a sequence of vectors, not {type(vs).__name__}")
    n = len(vs)
    if n == 0:
        raise err("EEMPTY", f"{what} is empty")
    if _np is not None and any(is_ndarray(r) for r in vs):
        parts = [vector(r, dim, err, f"{what}[{i}]") for i, r in enumerate(vs)]
        d = len(parts[0])
        for i, p in enumerate(parts):
            if len(p) != d:
                raise err("EDIM", f"{what}[{i}] has {len(p)} components, {what}[0] has {d}")
        flat = _np.concatenate([p if is_ndarray(p) else _np.frombuffer(p, dtype=_np.float32) for p in parts])
        return flat, n, d
    out = array.array("f")
    d = dim
    for i, r in enumerate(vs):
        a = vector(r, d, err, f"{what}[{i}]")
        if d is None:
            d = len(a)
        out.extend(a if isinstance(a, array.array) else array.array("f", a.tobytes()))
    assert d is not None
    return out, n, d


def address(buf: F32) -> int:
    """The address of a binary32 buffer's first element (the buffer must stay alive)."""
    if is_ndarray(buf):
        return buf.ctypes.data
    return buf.buffer_info()[0]


def to_le_bytes(buf: F32) -> bytes:
    """The buffer's binary32 values as little-endian bytes (remote binary ingest)."""
    if is_ndarray(buf):
        return buf.astype("<f4", copy=False).tobytes()
    if LITTLE:
        return buf.tobytes()
    b = array.array("f", buf)
    b.byteswap()
    return b.tobytes()


def to_floats(buf: F32) -> List[float]:
    """The buffer's values as Python floats (each exactly the binary32 value)."""
    return buf.tolist()


def first_bad_component(buf: F32, limit: float) -> Optional[Tuple[int, str]]:
    """(index, code) of the first component the core would reject: NaN ``ENAN``, infinite
    ``EINF``, |x| > limit ``ERANGE``; None when every component is acceptable."""
    if is_ndarray(buf):
        bad = ~_np.isfinite(buf) | (_np.abs(buf) > limit)
        if not bad.any():
            return None
        i = int(_np.argmax(bad))
        x = float(buf[i])
    else:
        i, x = -1, 0.0
        for j, y in enumerate(buf):
            if not (-limit <= y <= limit):
                i, x = j, y
                break
        if i < 0:
            return None
    if x != x:
        return i, "ENAN"
    if math.isinf(x):
        return i, "EINF"
    return i, "ERANGE"


def _uint(v: Any, top: int, err: ErrFn, what: str, rng: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        if _np is not None and isinstance(v, _np.integer):
            v = int(v)
        else:
            raise err("EINVAL", f"{what} must be an int, not {type(v).__name__}")
    if v < 0 or v > top:
        raise err("EINVAL", f"{what} = {v} is outside {rng}")
    return v


def u64(v: Any, err: ErrFn, what: str) -> int:
    """A u64 (ids, tags): a Python int in [0, 2^64) (bool is refused)."""
    return _uint(v, U64_MAX, err, what, "the u64 range [0, 2^64)")


def u32(v: Any, err: ErrFn, what: str) -> int:
    """A u32 (kinds, hops, counts): a Python int in [0, 2^32)."""
    return _uint(v, U32_MAX, err, what, "[0, 2^32)")


def tag_list(tag: Any, tags: Any, err: ErrFn) -> Optional[List[int]]:
    """The filter of a search: ``tag`` and ``tags`` combined (None: no filter)."""
    out: Optional[List[int]] = None
    if tag is not None:
        out = [u64(tag, err, "tag")]
    if tags is not None:
        if isinstance(tags, (str, bytes, dict)) or not hasattr(tags, "__iter__"):
            raise err("EINVAL", "tags must be a sequence of ints")
        out = (out or []) + [u64(t, err, f"tags[{i}]") for i, t in enumerate(tags)]
        if not out:
            raise err("EINVAL", "tags is empty: an empty tag set matches nothing (pass tags=None for no filter)")
    return out


def as_bytes(v: Any, err: ErrFn, what: str) -> Optional[bytes]:
    """Metadata or a label: bytes-like, or str (stored as UTF-8); None or b'' means none."""
    if v is None:
        return None
    if isinstance(v, str):
        b = v.encode("utf-8")
    elif isinstance(v, (bytes, bytearray, memoryview)):
        b = bytes(v)
    else:
        raise err("EINVAL", f"{what} must be bytes or str, not {type(v).__name__}")
    return b if b else None


def number(v: Any, err: ErrFn, what: str) -> float:
    """A real number (edge weight); rounded to binary32 by the caller's conversion, as in C."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        if _np is not None and isinstance(v, (_np.floating, _np.integer)):
            return float(v)
        raise err("EINVAL", f"{what} must be a number, not {type(v).__name__}")
    try:
        return float(v)
    except OverflowError:
        return _INF if v > 0 else -_INF


def traversal(t: Any, err: ErrFn) -> Optional[Tuple[float, float]]:
    """The ``traversal`` option: None (no compact copy) or ``{"int8": (lo, hi)}`` (a list or tuple
    of two real numbers) -> (lo, hi). Only the shape is checked here, as in the npm package; the
    values are the C library's (embedded) or the server's (remote) to refuse."""
    if t is None:
        return None
    shape = "traversal must be {'int8': (lo, hi)} with two numbers, or None"
    if not isinstance(t, Mapping) or list(t.keys()) != ["int8"]:
        raise err("EINVAL", shape)
    r = t["int8"]
    if isinstance(r, (str, bytes)) or not isinstance(r, Sequence) or len(r) != 2:
        raise err("EINVAL", shape)
    return (number(r[0], err, "traversal['int8'][0]"), number(r[1], err, "traversal['int8'][1]"))


def _q16(x: float) -> Optional[int]:
    """docs/DETERMINISM.md section 1: x rounded to binary32, then round(x * 65536) half to even;
    None when not finite or |x| > 256."""
    try:
        f = struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return None
    if f != f or abs(f) > 256.0:
        return None
    return round(Fraction(f) * 65536)  # Fraction rounds half to even


def _rha(v: int, s: int) -> int:
    if s == 0:
        return v
    h = 1 << (s - 1)
    return (v + h) >> s if v >= 0 else -((-v + h) >> s)


def traversal_word(lo: float, hi: float) -> Optional[int]:
    """The word ``valori_traversal_int8(lo, hi)`` gives (docs/DETERMINISM.md 4a: the smallest s with
    hi - lo <= 255 * 2^s and c = rha(lo / 2^s) + 128 inside int16; word 1 | s << 8 | (c & 0xffff)
    << 16), or None where it refuses. Remote mode compares it with a collection's recorded word
    (ECONFIG); embedded mode calls the C function itself (tests/python check the two agree)."""
    lq, hq = _q16(lo), _q16(hi)
    if lq is None or hq is None or lq > hq:
        return None
    s = 0
    while s < 31:
        c = _rha(lq, s) + 128
        if hq - lq <= (255 << s) and -32768 <= c <= 32767:
            break
        s += 1
    c = _rha(lq, s) + 128
    return 1 | (s << 8) | ((c & 0xFFFF) << 16)


def traversal_info(word: int, shift: int, center: int) -> Optional[Dict[str, Any]]:
    """Stats.traversal from valori_stats' three fields: None without a copy, else the dict the npm
    package's stats().traversal and the server's describe give: int8 = the components the codes
    -128..127 stand for, (c - 128) * 2^(s-16) .. (c + 127) * 2^(s-16)."""
    if not word:
        return None
    scale = 2.0 ** (shift - 16)
    return {"int8": [(center - 128) * scale, (center + 127) * scale], "shift": shift, "center": center, "word": word}


Vector = Union[Sequence[float], Any]
