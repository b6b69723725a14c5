"""bench/search_profile.py's reading of `perf report` and bench/report.py's section built from it: samples
are split by engine (hnswlib's C++ symbols, Valori's C symbols, the harness, the system) and by role,
shares are of each engine's own samples, and the report states the engines' sample ratio. A missing
perf gives one profile-error row that the report names. A perf report text written here stands in
for perf (the real perf run is bench/run.sh --quick's, in ctest bench_quick)."""

from __future__ import annotations

import json
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import search_profile as vprofile  # noqa: E402
import report  # noqa: E402


PERF_TEXT = """# To display the perf.data header info, please use --header/--header-only options.
#
# Samples: 1K of event 'cpu-clock'
#
# Overhead       Samples  Shared Object      Symbol
# ........  ............  .................  ......
#
    30.00%           300  pair_bench         [.] hnswlib::L2SqrSIMD16ExtAVX512
    25.00%           250  pair_bench         [.] l2sq_whole_avx512
    20.00%           200  pair_bench         [.] search_layer.isra.0
    10.00%           100  pair_bench         [.] hnswlib::HierarchicalNSW<float>::searchBaseLayerST<false, true>
     5.00%            50  pair_bench         [.] greedy.constprop.0
     4.00%            40  pair_bench         [.] bench_dist
     3.00%            30  libc.so.6          [.] _int_malloc
     2.00%            20  [kernel.kallsyms]  [k] exc_page_fault
     1.00%            10  pair_bench         [.] std::__adjust_heap<__gnu_cxx::__normal_iterator<std::pair<float, unsigned long>*>, long>

#
# (Tip: use --stdio)
"""


def rows():
    entries = vprofile.parse_report(PERF_TEXT)
    assert len(entries) == 9
    return vprofile.rows_of(entries, {"mode": "quick", "dataset": "fmnist-l2", "driver": "pair_bench",
                                      "args": "--ef 20"}, 1999)


def test_engines_roles_and_shares():
    rs = rows()
    summ = {r["engine"]: r for r in rs if r["kind"] == "profile-summary"}
    assert {e: r["samples"] for e, r in summ.items()} == {"valori": 500, "hnswlib": 410, "harness": 40, "system": 50}
    assert abs(sum(r["share"] for r in summ.values()) - 1.0) < 1e-12
    prof = {(r["engine"], r["symbol"]): r for r in rs if r["kind"] == "profile"}
    assert prof[("valori", "l2sq_whole_avx512")]["role"] == "distance kernel"
    assert prof[("valori", "l2sq_whole_avx512")]["share"] == 250 / 500
    assert prof[("valori", "search_layer.isra.0")]["role"] == "level-0 beam"
    assert prof[("valori", "greedy.constprop.0")]["role"] == "greedy descent"
    assert prof[("hnswlib", "hnswlib::L2SqrSIMD16ExtAVX512")]["role"] == "distance kernel"
    assert prof[("hnswlib", "hnswlib::HierarchicalNSW<float>::searchBaseLayerST<false, true>")]["role"] == "level-0 beam"
    heap = [r for (e, s), r in prof.items() if s.startswith("std::__adjust_heap")]
    assert heap and heap[0]["engine"] == "hnswlib" and heap[0]["role"] == "heaps and result order"
    assert prof[("system", "_int_malloc")]["engine"] == "system"
    assert prof[("system", "exc_page_fault")]["engine"] == "system"
    assert prof[("harness", "bench_dist")]["engine"] == "harness"
    # within an engine the symbols come largest first
    vs = [r["samples"] for r in rs if r["kind"] == "profile" and r["engine"] == "valori"]
    assert vs == sorted(vs, reverse=True)


def test_report_section(tmp_path):
    res = tmp_path / "r.jsonl"
    res.write_text("".join(json.dumps(r) + "\n" for r in rows()))
    out = tmp_path / "R.md"
    report.Report(report.load(str(res)), "quick", str(tmp_path), str(out)).write()
    md = out.read_text()
    assert "## Where the search time goes (goal 1: why)" in md
    assert "Samples: Valori 500, hnswlib 410 (hnswlib / Valori 0.820" in md
    # the beam row: Valori 200/500 of its samples, hnswlib 100/410 of its, per query 0.4 and 0.2 of Valori's total
    assert "| level-0 beam | 0.4000 | 0.2439 | 0.4000 | 0.2000 |" in md
    assert "| valori | `l2sq_whole_avx512` | distance kernel | 250 | 0.5000 |" in md


def test_no_perf(tmp_path):
    res = tmp_path / "r.jsonl"
    res.write_text(json.dumps({"mode": "quick", "dataset": "fmnist-l2", "engine": "env", "kind": "profile-error",
                               "reason": "perf is not installed (Debian package linux-perf)"}) + "\n")
    out = tmp_path / "R.md"
    report.Report(report.load(str(res)), "quick", str(tmp_path), str(out)).write()
    assert "Not profiled in this run: perf is not installed (Debian package linux-perf)." in out.read_text()
    assert vprofile.perf_usable(None, str(tmp_path)).startswith("perf is not installed")
