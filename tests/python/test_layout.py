"""Every structure the SDK declares with ctypes (python/valori/_lib.py) has exactly the C layout of
valori.h: a C program generated from the ctypes declarations, compiled with the system compiler
against core/include/valori.h, prints sizeof and offsetof of every field, and they must match
ctypes' sizeof and offsets. (A field added to valori.h changes the C sizeof and fails here.)"""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
from pathlib import Path

from conftest import REPO
from valori import _lib

STRUCTS = {
    "valori_options": _lib.Options,
    "valori_search_params": _lib.SearchParams,
    "valori_hit": _lib.HitC,
    "valori_node": _lib.NodeC,
    "valori_edge": _lib.EdgeC,
    "valori_reach": _lib.ReachC,
    "valori_stats": _lib.StatsC,
    "valori_store_status": _lib.StoreStatusC,
    "valori_recovery": _lib.RecoveryC,
    "valori_update_fields": _lib.UpdateFieldsC,
}


def c_name(field: str) -> str:
    return "from" if field == "from_" else field


def test_struct_layouts_match_valori_h(tmp_path: Path) -> None:
    cc = shutil.which("cc") or shutil.which("gcc")
    assert cc, "no C compiler (build-essential)"
    lines = ["#include <stddef.h>", "#include <stdio.h>", '#include "valori.h"', "int main(void) {", 'printf("{");']
    first = True
    for cname, cls in STRUCTS.items():
        parts = ['\\"size\\": %zu'] + [f'\\"{f}\\": %zu' for f, _ in cls._fields_]
        args = [f"sizeof({cname})"] + [f"offsetof({cname}, {c_name(f)})" for f, _ in cls._fields_]
        sep = "" if first else ", "
        first = False
        lines.append(f'printf("{sep}\\"{cname}\\": {{{", ".join(parts)}}}", {", ".join(args)});')
    lines += ['printf("}\\n");', "return 0;", "}"]
    src = tmp_path / "layout.c"
    src.write_text("\n".join(lines) + "\n")
    exe = tmp_path / "layout"
    r = subprocess.run([cc, "-std=c11", "-I", str(REPO / "core" / "include"), str(src), "-o", str(exe)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    c = json.loads(subprocess.run([str(exe)], capture_output=True, text=True, timeout=60, check=True).stdout)
    for cname, cls in STRUCTS.items():
        want = c[cname]
        assert ctypes.sizeof(cls) == want["size"], f"{cname}: ctypes {ctypes.sizeof(cls)} bytes, C {want['size']}"
        for f, _ in cls._fields_:
            assert getattr(cls, f).offset == want[f], f"{cname}.{f}: ctypes offset {getattr(cls, f).offset}, C {want[f]}"


def test_range_limit_matches_the_library() -> None:
    """python/valori/_convert.py checks |x| <= MAX_ABS before rounding: it must be the core's limit."""
    from valori import _convert

    assert _convert.MAX_ABS == _lib.load().constants["limits"]["MAX_ABS"]
