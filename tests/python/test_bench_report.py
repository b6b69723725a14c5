"""bench/report.py's goal 1 rows: with bench/pair_bench's rows ("paired": true) present, the Issue 15
goals table reads the paired ratio and says so, the per-dataset recall/QPS table keeps the separate
drivers' ratio, and both come from the same recall interpolation (report.qps_at_recall). Without
paired rows the goal reads the drivers' rows as before. Goals 2 (the int8 store) and 3 (build speed)
prefer paired rows the same way; build memory stays with the drivers' rows. Synthetic result lines;
no driver runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List

from conftest import REPO

sys.path.insert(0, str(REPO / "bench"))
import report  # noqa: E402

HEAD = {"mode": "custom", "dataset": "fmnist-l2", "metric": "l2", "n": 1000, "nq": 100, "dim": 784, "M": 16,
        "efc": 200}


def build(engine: str) -> Dict:
    return dict(HEAD, engine=engine, kind="build", build_s=1.0, cpu_s=1.0, vectors_per_s=1000.0,
                vector_bytes=3136000, graph_bytes=100000, other_bytes=10000, total_bytes=3246000,
                bytes_per_vector=3246.0, rss_delta_bytes=3300000, peak_rss_delta_bytes=3300000)


def search(engine: str, ef: int, recall: float, qps: float, paired: bool = False) -> Dict:
    r = dict(HEAD, engine=engine, kind="search", ef=ef, k=10, qps=qps, recall=recall, runs=4,
             median_s=100 / qps, cpu_s=100 / qps)
    if paired:
        r.update(paired=True, min_s=0.9 * 100 / qps, max_s=1.2 * 100 / qps)
    return r


# Separate drivers: Valori at 0.5x hnswlib. Paired: Valori at 0.9x (different recalls too, so a
# mix-up of the two curves changes the interpolated numbers).
UNPAIRED = [search("valori", 10, 0.93, 5000.0), search("valori", 20, 0.98, 3000.0), search("valori", 40, 0.995, 2000.0),
            search("hnswlib", 10, 0.93, 10000.0), search("hnswlib", 20, 0.98, 6000.0),
            search("hnswlib", 40, 0.995, 4000.0)]
PAIRED = [search("valori", 10, 0.94, 9000.0, True), search("valori", 20, 0.97, 5400.0, True),
          search("valori", 40, 0.996, 3600.0, True), search("hnswlib", 10, 0.94, 10000.0, True),
          search("hnswlib", 20, 0.97, 6000.0, True), search("hnswlib", 40, 0.996, 4000.0, True)]


def run_report(tmp_path: Path, rows: List[Dict]) -> str:
    res = tmp_path / "results.jsonl"
    res.write_text("".join(json.dumps(r) + "\n" for r in [build("valori"), build("hnswlib")] + rows))
    out = tmp_path / "REPORT.md"
    p = subprocess.run(["/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable,
                        str(REPO / "bench" / "report.py"), "--results", str(res), "--report", str(out), "--plots",
                        str(tmp_path / "plots")], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return out.read_text()


def goal1_rows(md: str) -> List[List[str]]:
    return [[c.strip() for c in line.strip("|").split("|")] for line in md.splitlines()
            if line.startswith("| 1 search |")]


def expected(rows: List[Dict], engine: str, t: float) -> float:
    return report.qps_at_recall([r for r in rows if r["engine"] == engine], t)


def test_goal1_reads_the_paired_rows_when_present(tmp_path: Path) -> None:
    md = run_report(tmp_path, UNPAIRED + PAIRED)
    g = goal1_rows(md)
    assert len(g) == 2, g
    for row, t in zip(g, (0.95, 0.99)):
        assert row[2] == f"QPS at recall@10 >= {t} / hnswlib (paired, same process)"
        qv, qh = expected(PAIRED, "valori", t), expected(PAIRED, "hnswlib", t)
        assert row[3] == report.fmt(qv) and row[4] == report.fmt(qh)
        assert row[5] == report.fmt(qv / qh) and row[7] == "**not met**"
        assert qv / qh != expected(UNPAIRED, "valori", t) / expected(UNPAIRED, "hnswlib", t)
    # The dataset's recall/QPS table is the drivers' (ratio 0.5 at every ef); the paired table follows.
    table = md.split("### Recall@10 vs queries/s")[1].split("###")[0]
    assert "| 10 | 0.9300 | 10,000 | 0.9300 | 5,000 | 0.5000 |" in table
    assert "0.9400" not in table
    paired = md.split("### Paired run: Valori and hnswlib in one process")[1].split("##")[0]
    assert "| 10 | 0.9400 | 0.9400 | 9,000 | 10,000 | 0.9000 |" in paired
    assert "Paired run (bench/pair_bench" in md  # the run conditions say how goal 1 was measured


def test_goal1_reads_the_drivers_rows_without_paired_rows(tmp_path: Path) -> None:
    md = run_report(tmp_path, UNPAIRED)
    g = goal1_rows(md)
    assert [r[2] for r in g] == ["QPS at recall@10 >= 0.95 / hnswlib", "QPS at recall@10 >= 0.99 / hnswlib"]
    for row, t in zip(g, (0.95, 0.99)):
        assert row[5] == report.fmt(expected(UNPAIRED, "valori", t) / expected(UNPAIRED, "hnswlib", t))
    assert "### Paired run" not in md and "Paired run (bench/pair_bench" not in md


def test_paired_rows_of_one_engine_only_leave_goal1_to_the_drivers(tmp_path: Path) -> None:
    md = run_report(tmp_path, UNPAIRED + [r for r in PAIRED if r["engine"] == "valori"])
    assert all("(paired" not in r[2] for r in goal1_rows(md))
    assert "### Paired run" not in md


def int8(r: Dict) -> Dict:
    return dict(r, engine="valori", traversal="int8")


def pbuild(engine: str, vps: float, traversal: str = "") -> Dict:
    r = dict(HEAD, engine=engine, kind="build", build_s=1000 / vps, cpu_s=1000 / vps, vectors_per_s=vps, paired=True)
    if traversal:
        r["traversal"] = traversal
    return r


def test_goals_2_and_3_read_the_paired_rows_when_present(tmp_path: Path) -> None:
    # drivers: the int8 store at 1.2x hnswlib, builds equal (build() rows); paired: 1.8x, build 1.1x
    un8 = [int8(search("valori", e, r, 1.2 * q)) for e, r, q in ((10, 0.93, 10000.0), (20, 0.98, 6000.0))]
    p8 = [int8(search("valori", e, r, 1.8 * q, True)) for e, r, q in ((10, 0.94, 10000.0), (20, 0.97, 6000.0))]
    md = run_report(tmp_path, UNPAIRED + PAIRED + un8 + p8 +
                    [pbuild("valori", 1100.0), pbuild("hnswlib", 1000.0), pbuild("valori", 1050.0, "int8")])
    g2 = [line for line in md.splitlines() if line.startswith("| 2 compact traversal |") and "QPS" in line]
    assert len(g2) == 1 and "(paired, same process)" in g2[0] and "| 1.80 |" in g2[0] and "| met |" in g2[0], g2
    g3 = [line for line in md.splitlines() if line.startswith("| 3 build |")]
    assert len(g3) == 1 and "(paired, same process)" in g3[0] and "| 1.10 |" in g3[0] and "| met |" in g3[0], g3
    mem = [line for line in md.splitlines() if line.startswith("| 3 build memory |")]
    assert len(mem) == 1  # memory still from the drivers' build rows
    # without the paired rows, the drivers' ratios (1.2x, not met; build 1.0x, met)
    md = run_report(tmp_path, UNPAIRED + un8)
    g2 = [line for line in md.splitlines() if line.startswith("| 2 compact traversal |") and "QPS" in line]
    assert len(g2) == 1 and "(paired" not in g2[0] and "| 1.20 |" in g2[0] and "**not met**" in g2[0], g2


def probe_rows(hashes: Dict[str, str], roots: Dict[str, str]) -> List[Dict]:
    """search_probe --label lines (bench/run.sh run_probe): two rounds of three builds at ef 10 and 20."""
    kern = {"native": "avx512", "native-sse2": "sse2", "wasm": "wasm-simd128"}
    qps = {"native": 20000, "native-sse2": 10000, "wasm": 9000}
    rows: List[Dict] = []
    for rnd in (0, 1):
        for b in ("native", "native-sse2", "wasm"):
            rows.append({"engine": "probe", "build": b, "kind": "probe-root", "kernel": kern[b], "load_s": 1.0,
                         "nq": 2000, "root": roots[b]})
            for ef in (10, 20):
                rows.append({"engine": "probe", "build": b, "kind": "probe", "kernel": kern[b], "k": 10, "ef": ef,
                             "qps": qps[b] // (ef // 10) + rnd * 100, "qps_cpu": qps[b] // (ef // 10) + 500 + rnd * 50,
                             "hash": hashes[b] + str(ef)})
    return rows


def probe_table(md: str) -> List[List[str]]:
    sec = md.split("## Where the wasm / native search gap lies (goal 5: why)", 1)
    assert len(sec) == 2, "no probe section"
    lines = [ln for ln in sec[1].split("\n## ", 1)[0].splitlines() if ln.startswith("| ") and not ln.startswith("| ef")]
    return [[c.strip() for c in ln.strip("|").split("|")] for ln in lines]


def test_probe_section_ratios_and_identity(tmp_path: Path) -> None:
    same = {"native": "h", "native-sse2": "h", "wasm": "h"}
    md = run_report(tmp_path, UNPAIRED + probe_rows(same, same))
    rows = probe_table(md)
    assert [r[0] for r in rows] == ["10", "20"]
    # ef 10: medians of 20000/20100, 10000/10100, 9000/9100 -> 20,050, 10,050, 9,050
    assert rows[0][1:4] == ["20,050", "10,050", "9,050"]
    assert abs(float(rows[0][4]) - 9050 / 20050) < 1e-3 and abs(float(rows[0][6]) - 9050 / 10050) < 1e-3
    assert abs(float(rows[0][5]) - 10050 / 20050) < 1e-3
    # per CPU-second: the best round (each line's qps_cpu is already its best pass): 20,550, 10,550, 9,550
    assert rows[0][7:10] == ["20,550", "10,550", "9,550"] and abs(float(rows[0][10]) - 9550 / 20550) < 1e-3
    # ef 20: medians of 10000/10100, 5000/5100, 4500/4600
    assert rows[1][1:4] == ["10,050", "5,050", "4,550"]
    assert "2 rounds with the order" in md


def test_probe_section_says_when_rows_are_missing(tmp_path: Path) -> None:
    same = {"native": "h", "native-sse2": "h", "wasm": "h"}
    rows = [r for r in probe_rows(same, same) if not (r["build"] == "wasm" and r.get("ef") == 20)]
    md = run_report(tmp_path, UNPAIRED + rows)
    assert "unequal: some build or ef is missing rows" in md
    assert [r[0] for r in probe_table(md)] == ["10", "20"]
    assert "Every build returned the same state root" in md and "differ" not in md.split("goal 5: why")[1][:2000]


def test_probe_section_flags_differing_results(tmp_path: Path) -> None:
    same = {"native": "h", "native-sse2": "h", "wasm": "h"}
    md = run_report(tmp_path, UNPAIRED + probe_rows(dict(same, wasm="x"), same))
    assert "**The builds' roots or results differ.**" in md
    md = run_report(tmp_path, UNPAIRED + probe_rows(same, dict(same, wasm="r2")))
    assert "**The builds' roots or results differ.**" in md
