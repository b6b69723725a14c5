#!/usr/bin/python3
"""report.py: turns the benchmark drivers' JSON lines into a markdown report with PNG plots.

Usage: report.py --results results.jsonl --report REPORT.md --plots DIR [--mode quick|full]

Input: one JSON object per line, as written by bench/{hnswlib,valori,kernel}_bench and described in
bench/common.h. Every line has engine, kind, mode, dataset, metric, n, nq, dim, M, efc; per kind:
  meta      version, compiler, flags (core_flags for Valori)
  build     build_s, vectors_per_s, vector_bytes, graph_bytes, other_bytes, total_bytes,
            bytes_per_vector, rss_delta_bytes, peak_rss_delta_bytes
  search    ef, k, qps, recall (tie-aware recall@k, see data.h), runs, median_s, cpu_s; from
            bench/pair_bench also paired (true), min_s, max_s: Valori and hnswlib searched in one
            process, passes alternating. Paired rows are kept apart from the drivers' own rows (of()
            leaves them out unless asked): they make goal 1's ratio and their own table, nothing else.
  exact     k, exact_nq, qps, recall
  filter    variant (functor | auto | hnsw), selectivity, matching, ef, filter_nq, qps, recall,
            avg_returned, min_returned, short_queries, violations
  ingest    records, batch, api, records_per_s
  snapshot  bytes, bytes_per_record, save_s, load_s; index (hnsw | none), storage (memory | file:
            save = valori_snapshot publish incl. fsyncs, load = the reopen that recovers from it)
  append    index (none = raw append into an index-less store | hnsw), batch, api, records,
            vectors_per_s, bytes_per_vector, median_s, cpu_s (in memory)
  profile, profile-summary, profile-error  bench/search_profile.py's perf samples of pair_bench's search
            rounds (its docstring lists the fields)
  append_cost  part (f32_to_q16 | record_digest_sha256 | lthash_add_chacha20 | rest), ns_per_record
            (CPU), share of the whole raw append
  durable   index, batch, api, records, vectors_per_s, fsyncs, fsyncs_per_s, fs (a real store
            directory, VALORI_SYNC_FULL)
  check     check_s
  kernel    impl, build (project | native), kernel_metric, ns_per_distance, ns_per_component
The JS driver (bench/js/bench.mjs) writes its own kinds, each line with "runtime" (wasm | node-addon):
  js-meta     version, package, node, v8, ef_mode (query | set | reload | rebuild | none), notes
  js-build    build_s, cpu_s, vectors_per_s, batch, api, engine_bytes (+ engine_bytes_what),
              bytes_per_vector, wasm_memory_bytes, rss_delta_bytes, builds; Valori: state_root, index_digest
  js-search   ef (null: the engine has no ef), k, qps, recall, avg_returned, runs, median_s, cpu_s
  js-error    stage (install | load | build | search | crash | timeout), error, engine_output
  js-identity state roots, index digests and result ids of Valori wasm vs native on the same data
The "WebAssembly and Node peers" section joins Valori wasm's rows with valori_bench's rows of the same
dataset, n, nq, k, M, efc (and ef) for the wasm / native ratios.
The server driver (bench/server/server_bench: kinds server-*) and the Python SDK benchmark
(bench/python/bench.py: kinds python-*) have their sections in report_server.py, which lists their fields.
Plots need matplotlib (Debian python3-matplotlib, Agg backend); without it the report has tables
only and says so. Peer ratios are Valori / hnswlib measured in the same run.

--merge-into FILE --parts LIST: instead of writing a report, replaces the rows of those parts (core,
server, python; see report_server.row_part) in FILE by those of --results (bench/run.sh --only).
"""
import argparse
import datetime
import json
import statistics
import math
import os
import platform
import subprocess
import sys
from collections import defaultdict

from report_server import ServerSections, merge

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    HAVE_MPL = True
except Exception:  # noqa: BLE001 - any import problem means "no plots"
    HAVE_MPL = False

DATASET_NOTES = {
    "fmnist-l2": "raw pixels 0..255, 784-d, squared L2 (the ann-benchmarks fashion-mnist-784-euclidean set)",
    "fmnist-pm1-l2": "pixels scaled to [-1,1] (x/127.5-1, fractional values), 784-d, squared L2",
    "fmnist-ip": "rows L2-normalized, 784-d, inner product",
    "fmnist-p128-l2": "[-1,1] variant projected to 128-d (fixed seeded Rademacher matrix), squared L2",
}
RECALL_TARGETS = (0.90, 0.95, 0.99)


def load(path):
    rows = []
    with open(path) as f:
        for i, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"report.py: {path}:{i}: not JSON ({e})")
            if r.get("engine") in ("valori", "valori-wasm") and r.get("traversal"):
                # a store with a compact traversal copy: its own curve (valori-int8, valori-wasm-int8)
                r["engine"] = f"{r['engine']}-{r['traversal']}"
            rows.append(r)
    return rows


def fmt(v):
    """Numbers for tables: recalls and ratios below 1 with 4 decimals, large counts with separators."""
    if v is None:
        return "-"
    if isinstance(v, bool) or not isinstance(v, float):
        return str(v)
    a = abs(v)
    if a == 0:
        return "0"
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}" if v != 1.0 else "1.0000"
    if a >= 0.001:
        return f"{v:.4f}"
    return f"{v:.2g}"


def table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(fmt(c) for c in r) + " |")
    return "\n".join(out) + "\n"


def qps_at_recall(points, target):
    """QPS at a recall target on a recall/QPS curve: log-linear interpolation between the two
    measured points that bracket it; None when the curve never reaches the target."""
    pts = sorted((p["recall"], p["qps"]) for p in points)
    best = None
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1 and r1 > r0:
            t = (target - r0) / (r1 - r0)
            q = math.exp(math.log(q0) + t * (math.log(q1) - math.log(q0)))
            best = q if best is None else max(best, q)
    for r, q in pts:  # a measured point at or above target is an upper bound too
        if r >= target:
            best = q if best is None else max(best, q)
    return best


def machine_info():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            mem = f"{int(f.readline().split()[1]) / 1048576:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    rev = "unknown"
    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        rev = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=5).stdout.strip() or "no commits"
    except (OSError, subprocess.SubprocessError):
        pass
    return cpu, os.cpu_count(), mem, platform.release(), rev


class Report(ServerSections):
    def __init__(self, rows, mode, plots_dir, report_path):
        self.rows = rows
        self.mode = mode
        self.plots_dir = plots_dir
        self.report_path = report_path
        self.md = []
        self.by = defaultdict(list)
        for r in rows:
            self.by[(r["kind"], r.get("dataset"))].append(r)
        self.datasets = []
        for r in rows:
            if r["kind"] in ("build", "search") and r["dataset"] not in self.datasets:
                self.datasets.append(r["dataset"])
        self.engines = sorted({r["engine"] for r in rows if r["kind"] == "build"})
        self.has_valori = "valori" in self.engines

    table = staticmethod(table)  # for the sections of report_server.py

    def of(self, kind, dataset=None, engine=None, paired=False):
        """Rows of a kind (and dataset, engine). paired=True: only bench/pair_bench's rows (both engines
        in one process), paired=False (default): only the others, so no table mixes the two."""
        rows = [r for (k, d), rs in self.by.items() if k == kind and (dataset is None or d == dataset) for r in rs]
        return [r for r in rows if (engine is None or r["engine"] == engine) and bool(r.get("paired")) == paired]

    def goal_rows(self, kind, ds, engine, ref="hnswlib"):
        """The rows of engine and of ref that a goal's ratio is read from, and how they were measured:
        pair_bench's rows when both engines have some (one process; searches with passes alternating),
        else the separate drivers' rows."""
        pv, ph = self.of(kind, ds, engine, paired=True), self.of(kind, ds, ref, paired=True)
        if pv and ph:
            return pv, ph, True
        return self.of(kind, ds, engine), self.of(kind, ds, ref), False

    def goal1_curves(self, ds):
        """The Valori and hnswlib search rows goal 1's ratio is read from (goal_rows)."""
        return self.goal_rows("search", ds, "valori")

    def plot_path(self, name):
        return os.path.join(self.plots_dir, name)

    def link(self, name):
        rel = os.path.relpath(self.plot_path(name), os.path.dirname(os.path.abspath(self.report_path)))
        return f"![{name}]({rel})\n"

    # ---- sections
    def header(self):
        cpu, ncpu, mem, kernel, rev = machine_info()
        self.md.append(f"# Valori benchmark report ({self.mode} mode)\n")
        rerun = any(r["kind"] == "rerun" for r in self.rows)
        how = (f"from `bench/results-full.jsonl` at commit `{rev}` (some parts re-run with `bench/run.sh --full --only`, "
               f"listed below; the other rows come from an earlier whole `bench/run.sh --full`)" if rerun else
               f"by `bench/run.sh --{self.mode}` at commit `{rev}`")
        self.md.append(
            f"Generated {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} {how} on {cpu}, {ncpu} cores, {mem} RAM, "
            f"Linux {kernel}. Every engine runs on one thread unless a table says otherwise; timings are the median "
            f"of the runs listed per table.\n")
        thp = "unknown"
        try:
            with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
                t = f.read()
            thp = t[t.index("[") + 1:t.index("]")]
        except (OSError, ValueError):
            pass
        self.md.append(f"Memory pages: transparent huge pages `{thp}` on this machine. Valori's default allocator "
                       "advises its blocks of 8 MiB and more for huge pages (docs/DETERMINISM.md, \"Memory\"; off with "
                       "`VALORI_NO_HUGEPAGES=1`); hnswlib allocates with plain malloc, so under `madvise` its arrays stay "
                       "on 4 KiB pages (bench/README.md, \"Huge pages\", measures both ways).\n")
        if self.mode == "quick":
            self.md.append("**Quick mode**: a small subset that checks the pipeline end to end; the numbers "
                           "are not the benchmark. See bench/REPORT.md for the full run.\n")
        if not self.has_valori and any(r["kind"] == "build" for r in self.rows):
            self.md.append("**Valori results are absent from this run**: the Valori driver was not built "
                           "(valori_core was not part of the build). Peer numbers only.\n")
        metas = [r for r in self.rows if r["kind"] == "meta"]
        seen = set()
        lines = []
        for m in metas:
            key = (m["engine"], m.get("version"), m.get("flags"))
            if key in seen:
                continue
            seen.add(key)
            extra = f"; core flags `{m['core_flags']}`" if m.get("core_flags") else ""
            lines.append(f"- {m['engine']} {m.get('version', '')}: {m.get('compiler', '')}, flags `{m.get('flags', '')}`{extra}")
        if lines:
            self.md.append("Builds:\n\n" + "\n".join(lines) + "\n")

    def summary(self):
        if not self.has_valori:
            return
        out = []
        for ds in self.datasets:
            vb, hb = self.of("build", ds, "valori"), self.of("build", ds, "hnswlib")
            if vb and hb:
                out.append([ds, "build vectors/s", vb[0]["vectors_per_s"], hb[0]["vectors_per_s"],
                            vb[0]["vectors_per_s"] / hb[0]["vectors_per_s"]])
                out.append([ds, "bytes/vector", vb[0]["bytes_per_vector"], hb[0]["bytes_per_vector"],
                            vb[0]["bytes_per_vector"] / hb[0]["bytes_per_vector"]])
            vs, hs = self.of("search", ds, "valori"), self.of("search", ds, "hnswlib")
            for t in RECALL_TARGETS:
                qv, qh = qps_at_recall(vs, t), qps_at_recall(hs, t)
                if qv or qh:
                    out.append([ds, f"QPS at recall@10 >= {t}", qv, qh, qv / qh if qv and qh else None])
            ve, he = self.of("exact", ds, "valori"), self.of("exact", ds, "bruteforce-float")
            if ve and he:
                out.append([ds, "exact search QPS (vs float brute force)", ve[0]["qps"], he[0]["qps"],
                            ve[0]["qps"] / he[0]["qps"]])
        if out:
            self.md.append("## Summary: Valori / hnswlib, same machine, same run\n")
            self.md.append(table(["dataset", "measure", "Valori", "hnswlib", "ratio"], out))
            self.md.append("QPS at a recall target is interpolated (log QPS, linear in recall) between the "
                           "measured ef points; '-' means the curve never reached the target.\n")

    def goals(self):
        """Issue 15: each performance goal, its measured ratio and whether it is met, in one table.
        Every number is read from rows of this run; a goal without rows says so."""
        if not self.has_valori:
            return
        out = []

        def row(goal, data, measure, mine, ref, ratio, target, ok):
            out.append([goal, data, measure, mine, ref, ratio, target,
                        "-" if ok is None else ("met" if ok else "**not met**")])

        for ds in self.datasets:
            vs, hs, paired = self.goal1_curves(ds)
            how = " (paired, same process)" if paired else ""
            for t in (0.95, 0.99):
                qv, qh = qps_at_recall(vs, t), qps_at_recall(hs, t)
                if qv and qh:
                    row("1 search", ds, f"QPS at recall@10 >= {t} / hnswlib{how}", qv, qh, qv / qh, ">= 1.0", qv >= qh)
            engines = {r["engine"] for r in self.of("search", ds) + self.of("search", ds, paired=True)}
            for e in sorted(engines - {"valori", "hnswlib"}):
                if not e.startswith("valori-"):
                    continue
                cs, hs2, p2 = self.goal_rows("search", ds, e)
                qc, qh = qps_at_recall(cs, 0.95), qps_at_recall(hs2, 0.95)
                if qc and qh:
                    row("2 compact traversal", ds, f"{e}: QPS at recall@10 >= 0.95 / hnswlib"
                        f"{' (paired, same process)' if p2 else ''}", qc, qh, qc / qh, ">= 1.5", qc >= 1.5 * qh)
                cb = self.of("build", ds, e)
                if cb:
                    row("2 compact traversal", ds, f"{e}: bytes/vector (hnswlib's for reference)",
                        cb[0]["bytes_per_vector"], (self.of("build", ds, "hnswlib") or [{}])[0].get("bytes_per_vector"),
                        None, "report", None)
            pvb, phb, p3 = self.goal_rows("build", ds, "valori")
            if pvb and phb:
                v, h = pvb[0], phb[0]
                row("3 build", ds, f"build vectors/s / hnswlib{' (paired, same process)' if p3 else ''}",
                    v["vectors_per_s"], h["vectors_per_s"], v["vectors_per_s"] / h["vectors_per_s"], ">= 1.0",
                    v["vectors_per_s"] >= h["vectors_per_s"])
            vb, hb = self.of("build", ds, "valori"), self.of("build", ds, "hnswlib")  # memory: the drivers' rows
            if vb and hb:
                v, h = vb[0], hb[0]
                if v.get("peak_rss_delta_bytes") and v.get("rss_delta_bytes"):
                    pr = v["peak_rss_delta_bytes"] / v["rss_delta_bytes"]
                    row("3 build memory", ds, "peak RSS delta / RSS delta after the build (MB)",
                        v["peak_rss_delta_bytes"] / 1e6, v["rss_delta_bytes"] / 1e6, pr, "<= 1.2", pr <= 1.2)
        raw = [r for r in self.of("append") if r["index"] == "none" and r["batch"] == 1000]
        for r in raw:
            th = r.get("threads", 1)
            row("4 raw append", f"{r['dataset']} ({r['dim']}-d)",
                f"vectors/s, batches of 1,000, index-less, memory, {th} thread{'s' if th > 1 else ''}",
                r["vectors_per_s"], 1.24e6, r["vectors_per_s"] / 1.24e6, ">= 1.24M/s", r["vectors_per_s"] >= 1.24e6)
        for g in self.js_groups():
            for eng, nat_eng, prefix in self.JS_VALORI:  # default store, then the int8 traversal copy
                native, _, _ = self.js_ratio_rows(g, eng, nat_eng)
                for name, w, nat, _ in native:
                    if name in ("QPS at recall@10 >= 0.95", "QPS at recall@10 >= 0.99") and w and nat:
                        row("5 wasm", f"{g[0]} ({g[1]:,})", f"{prefix}wasm (Node) {name} / native", w, nat, w / nat,
                            ">= 0.6", w >= 0.6 * nat)
        out.sort(key=lambda r: r[0].split()[0])  # by goal number, data order kept within a goal
        if out:
            self.md.append("## Issue 15 goals: measured against their targets, same run\n")
            self.md.append(table(["goal", "data", "measure", "Valori", "reference", "ratio", "target", "status"], out))
            self.md.append("Goal numbers as in the issue: 1 search >= 1.0x hnswlib at recall 0.95 and 0.99; 2 a compact "
                           "traversal copy >= 1.5x hnswlib at recall 0.95 (engines named `valori-<traversal>`); 3 build "
                           ">= 1.0x hnswlib's vectors/s and peak <= 1.2x the memory after the build; 4 raw append >= "
                           "1.24M vectors/s; 5 wasm search >= 0.6x native in Node (also with the int8 traversal copy: wasm int8 / "
                           "native int8). Each row's numbers come from the "
                           "sections below. Rows marked '(paired, same process)' (goals 1, 2 and 3's build speed) come from "
                           "bench/pair_bench (the engines built one after the other and searched in one process, "
                           "timed passes alternating, see the 'Paired run' table of the dataset); the separate "
                           "drivers' ratios stay in the dataset's tables, and build memory comes from them.\n")

    def profile(self):
        """Goal 1's why: bench/search_profile.py's perf samples of pair_bench's search rounds, by role and by symbol."""
        summ = [r for r in self.rows if r["kind"] == "profile-summary"]
        errs = [r for r in self.rows if r["kind"] == "profile-error"]
        if not summ and not errs:
            return
        self.md.append("## Where the search time goes (goal 1: why)\n")
        if errs and not summ:
            self.md.append(f"Not profiled in this run: {errs[0]['reason']}.\n")
            return
        prof = [r for r in self.rows if r["kind"] == "profile"]
        n = {r["engine"]: r["samples"] for r in summ}
        v, h = n.get("valori", 0), n.get("hnswlib", 0)
        self.md.append(
            f"`bench/search_profile.py` ran `pair_bench {summ[0]['args']}` under `perf record -e cpu-clock -F {summ[0]['hz']}` "
            f"with sampling on only during the search rounds (both engines, the same queries, passes alternating). "
            f"Samples: Valori {v:,}, hnswlib {h:,}" + (f" (hnswlib / Valori {h / v:.3f}: the engines' CPU-time ratio, "
                                                      f"which is Valori's QPS ratio)" if v and h else "") +
            ", harness and system " + f"{sum(c for e, c in n.items() if e not in ('valori', 'hnswlib')):,}. "
            "Roles group the symbols by what they do (search_profile.py's ROLES); shares are of each engine's own samples, "
            "and 'per query' is the engine's samples as a fraction of Valori's, so the rows add up to each engine's "
            "total time relative to Valori's.\n")
        roles = sorted({r["role"] for r in prof if r["engine"] in ("valori", "hnswlib")})
        out = []
        for role in roles:
            sv = sum(r["samples"] for r in prof if r["engine"] == "valori" and r["role"] == role)
            sh = sum(r["samples"] for r in prof if r["engine"] == "hnswlib" and r["role"] == role)
            out.append([role, sv / v if v else None, sh / h if h else None, sv / v if v else None,
                        sh / v if v else None])
        out.sort(key=lambda r: -(r[3] or 0))
        self.md.append(self.table(["role", "Valori share", "hnswlib share", "Valori per query (x Valori total)",
                                   "hnswlib per query (x Valori total)"], out))
        top = []
        for e in ("valori", "hnswlib"):
            for r in [r for r in prof if r["engine"] == e][:8]:
                top.append([e, f"`{r['symbol'][:90]}`", r["role"], r["samples"], r["share"]])
        self.md.append(self.table(["engine", "symbol", "role", "samples", "share"], top))

    def probe(self):
        """Goal 5's why: bench/js/search_probe.c's rounds (bench/run.sh run_probe), the same search loop on
        one snapshot natively (run-time kernel choice), natively with only the SSE2 kernels, and in wasm."""
        pr = [r for r in self.rows if r["kind"] == "probe"]
        if not pr:
            return
        roots = {r["root"] for r in self.rows if r["kind"] == "probe-root"}
        builds = [b for b in ("native", "native-sse2", "wasm") if any(r["build"] == b for r in pr)]
        kern = {b: next(r["kernel"] for r in pr if r["build"] == b) for b in builds}
        efs = sorted({r["ef"] for r in pr})
        same = all(len({r["hash"] for r in pr if r["ef"] == ef}) == 1 for ef in efs) and len(roots) == 1
        counts = {sum(1 for r in pr if r["build"] == b and r["ef"] == ef) for b in builds for ef in efs}
        rounds = (f"{max(counts)} rounds" if len(counts) == 1 else
                  f"{min(counts)}-{max(counts)} rounds (**unequal: some build or ef is missing rows**)")
        nq = next((r["nq"] for r in self.rows if r["kind"] == "probe-root"), None)
        nq = f"{nq:,}" if nq else "?"
        self.md.append("## Where the wasm / native search gap lies (goal 5: why)\n")
        self.md.append(
            f"`bench/js/search_probe.c` (bench/run.sh `run_probe`): one fmnist-l2 snapshot (60,000 x 784), {nq} "
            f"queries, k {pr[0]['k']}, searched by the same C loop built three ways, {rounds} with the order of the "
            f"builds rotating: native with the run-time kernel choice ({kern.get('native', '-')}), native built with "
            f"`-DVALORI_NO_CPU_DISPATCH` ({kern.get('native-sse2', '-')} kernels: 128-bit vectors, the width wasm "
            f"SIMD128 has) and the emcc build under Node ({kern.get('wasm', '-')}). QPS is the median over the "
            f"rounds of each round's median pass; 'per CPU-second' is the best pass (steadier on a shared machine). "
            + ("Every build returned the same state root and the same hash of every (id, distance) at every ef."
               if same else "**The builds' roots or results differ.**") + "\n")
        out = []
        for ef in efs:
            at = {b: [r for r in pr if r["build"] == b and r["ef"] == ef] for b in builds}
            q = {b: float(statistics.median([r["qps"] for r in rs])) for b, rs in at.items() if rs}
            c = {b: float(max(r["qps_cpu"] for r in rs)) for b, rs in at.items() if rs}
            nat, sse, w = q.get("native"), q.get("native-sse2"), q.get("wasm")
            out.append([ef, nat, sse, w, w / nat if w and nat else None, sse / nat if sse and nat else None,
                        w / sse if w and sse else None, c.get("native"), c.get("native-sse2"), c.get("wasm"),
                        c["wasm"] / c["native"] if c.get("wasm") and c.get("native") else None])
        self.md.append(self.table(["ef", f"native QPS ({kern.get('native', '-')})", "native SSE2 QPS", "wasm QPS",
                                   "wasm / native", "SSE2 / native", "wasm / SSE2", "native per CPU-s",
                                   "SSE2 per CPU-s", "wasm per CPU-s", "wasm / native per CPU-s"], out))
        self.md.append("Read: where *wasm / SSE2* is near 1 and *SSE2 / native* well below it, the wasm build's gap "
                       "is the width of the distance kernels, not the JS engine or the binding (bench/README.md, "
                       "'Where Valori is behind').\n")

    def build_section(self, ds):
        builds = self.of("build", ds)
        if not builds:
            return
        rows = []
        for b in builds:
            rows.append([b["engine"], b["n"], b["build_s"], b["vectors_per_s"], b["bytes_per_vector"],
                         b["vector_bytes"] / 1e6, b["graph_bytes"] / 1e6, b["other_bytes"] / 1e6,
                         b["rss_delta_bytes"] / 1e6,
                         b["peak_rss_delta_bytes"] / 1e6 if "peak_rss_delta_bytes" in b else None,
                         b["peak_rss_delta_bytes"] / b["rss_delta_bytes"]
                         if b.get("peak_rss_delta_bytes") and b.get("rss_delta_bytes") else None])
        self.md.append(f"### Build (M={builds[0]['M']}, ef_construction={builds[0]['efc']})\n")
        self.md.append(table(["engine", "vectors", "seconds", "vectors/s", "bytes/vector", "vectors MB",
                              "graph MB", "other MB", "RSS delta MB", "peak RSS delta MB", "peak / after"], rows))
        self.md.append("Peak RSS delta: the most the process held above its size before the build, at any "
                       "moment of the build (VmHWM, reset before it); 'peak / after' is its ratio to the RSS "
                       "delta after the build.\n")
        checks = self.of("check", ds)
        if checks:
            self.md.append(f"`valori_check` (full invariant and state-root recomputation) after the build: "
                           f"{checks[0]['check_s']:.2f} s.\n")

    def search_section(self, ds):
        rows = self.of("search", ds)
        if not rows:
            return
        engines = sorted({r["engine"] for r in rows})
        efs = sorted({r["ef"] for r in rows})
        k = rows[0]["k"]
        idx = {(r["engine"], r["ef"]): r for r in rows}
        hdr = ["ef"]
        for e in engines:
            hdr += [f"{e} recall@{k}", f"{e} QPS"]
        if "valori" in engines and "hnswlib" in engines:
            hdr.append("QPS ratio V/h")
        trows = []
        for ef in efs:
            tr = [ef]
            for e in engines:
                r = idx.get((e, ef))
                tr += [r["recall"] if r else None, r["qps"] if r else None]
            if "valori" in engines and "hnswlib" in engines:
                v, h = idx.get(("valori", ef)), idx.get(("hnswlib", ef))
                tr.append(v["qps"] / h["qps"] if v and h else None)
            trows.append(tr)
        self.md.append(f"### Recall@{k} vs queries/s ({rows[0]['nq']} queries, median of {rows[0]['runs']} runs)\n")
        self.md.append(table(hdr, trows))
        if HAVE_MPL:
            name = f"recall-qps-{ds}.png"
            fig, ax = plt.subplots(figsize=(6.4, 4.4))
            for e in engines:
                pts = sorted((r["recall"], r["qps"], r["ef"]) for r in rows if r["engine"] == e)
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=e)
                for p in pts:
                    ax.annotate(str(p[2]), (p[0], p[1]), textcoords="offset points", xytext=(3, 3), fontsize=7)
            for ex in self.of("exact", ds):
                ax.axhline(ex["qps"], linestyle=":", linewidth=1, color="grey")
                ax.annotate(f"exact: {ex['engine']}", (ax.get_xlim()[0], ex["qps"]), fontsize=7, color="grey",
                            xytext=(2, 2), textcoords="offset points")
            ax.set_yscale("log")
            ax.set_xlabel(f"recall@{k}")
            ax.set_ylabel("queries / second (1 thread)")
            ax.set_title(f"{ds}: recall vs throughput (labels: ef)")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend()
            fig.tight_layout()
            fig.savefig(self.plot_path(name), dpi=110)
            plt.close(fig)
            self.md.append(self.link(name))

    def paired_section(self, ds):
        """bench/pair_bench's rows of ds: per ef both engines' recall and median QPS from one process
        with passes alternating, the ratio of the medians, of CPU seconds, and each engine's spread
        (slowest / fastest pass); then QPS at the recall targets from the same interpolation as
        everywhere else (qps_at_recall)."""
        pv, ph = self.of("search", ds, "valori", paired=True), self.of("search", ds, "hnswlib", paired=True)
        if not pv or not ph:
            return
        hb = {r["ef"]: r for r in ph}
        rows = []
        for v in sorted(pv, key=lambda r: r["ef"]):
            h = hb.get(v["ef"])
            if not h:
                continue
            spread = lambda r: r["max_s"] / r["min_s"] if r.get("min_s") and r.get("max_s") else None  # noqa: E731
            rows.append([v["ef"], v["recall"], h["recall"], v["qps"], h["qps"], v["qps"] / h["qps"],
                         h["cpu_s"] / v["cpu_s"] if v.get("cpu_s") and h.get("cpu_s") else None,
                         spread(v), spread(h)])
        self.md.append(f"### Paired run: Valori and hnswlib in one process ({pv[0]['nq']} queries, "
                       f"{pv[0]['runs']} rounds, passes alternating)\n")
        self.md.append(table(["ef", "Valori recall@10", "hnswlib recall@10", "Valori QPS", "hnswlib QPS",
                              "QPS ratio V/h", "CPU-second ratio V/h", "Valori slowest/fastest pass",
                              "hnswlib slowest/fastest pass"], rows))
        tr = []
        p8 = self.of("search", ds, "valori-int8", paired=True)
        for t in RECALL_TARGETS:
            qv, qh = qps_at_recall(pv, t), qps_at_recall(ph, t)
            q8 = qps_at_recall(p8, t) if p8 else None
            if qv or qh:
                tr.append([f"QPS at recall@10 >= {t}", qv, qh, qv / qh if qv and qh else None]
                          + ([q8, q8 / qh if q8 and qh else None] if p8 else []))
        builds = [(e, self.of("build", ds, e, paired=True)) for e in ("valori", "hnswlib", "valori-int8")]
        if any(b for _, b in builds):
            tr.append(["build vectors/s (one build each, one after the other)"]
                      + [b[0]["vectors_per_s"] if b else None for _, b in builds[:2]]
                      + [builds[0][1][0]["vectors_per_s"] / builds[1][1][0]["vectors_per_s"]
                         if builds[0][1] and builds[1][1] else None]
                      + ([builds[2][1][0]["vectors_per_s"] if builds[2][1] else None,
                          builds[2][1][0]["vectors_per_s"] / builds[1][1][0]["vectors_per_s"]
                          if builds[2][1] and builds[1][1] else None] if p8 else []))
        if tr:
            self.md.append(table(["measure", "Valori", "hnswlib", "ratio"]
                                 + (["Valori int8 copy", "int8 / hnswlib"] if p8 else []), tr))
        self.md.append("bench/pair_bench loads the data once, builds both indexes from the same rows (same M and "
                       "ef_construction), then per ef runs rounds of one timed pass of every query per engine, the "
                       "order swapped every round (V H, H V, ...); QPS is from each engine's median pass. The "
                       "ratio is the one goal 1 reads; the table above, from the separate drivers run minutes "
                       "apart, can differ from it by the machine's drift between those runs.\n")

    def exact_section(self, ds):
        rows = self.of("exact", ds)
        if not rows:
            return
        self.md.append("### Exact search\n")
        self.md.append(table(["engine", "queries", f"recall@{rows[0]['k']}", "QPS"],
                             [[r["engine"], r["exact_nq"], r["recall"], r["qps"]] for r in rows]))
        self.md.append("`bruteforce-float` is hnswlib's BruteforceSearch (SIMD float32 distances): its "
                       "recall can fall short of 1 where float32 rounding reorders near-ties. Valori's exact "
                       "search uses exact integer distances on the Q16.16 values.\n")

    def filter_section(self, ds):
        rows = self.of("filter", ds)
        if not rows:
            return
        rows.sort(key=lambda r: (-r["selectivity"], r["engine"], r["variant"], r["ef"]))
        self.md.append(f"### Filtered search ({rows[0]['filter_nq']} queries, k={rows[0]['k']})\n")
        self.md.append(table(
            ["selectivity", "matching", "engine", "variant", "ef", "recall", "avg returned", "short queries",
             "violations", "QPS"],
            [[r["selectivity"], r["matching"], r["engine"], r["variant"], r["ef"], r["recall"], r["avg_returned"],
              r["short_queries"], r["violations"], r["qps"]] for r in rows]))
        self.md.append("*short queries*: queries that got fewer than min(k, matching) results. hnswlib's "
                       "`functor` is its 0.7 filtered search (see hnswlib_bench.cpp); Valori `auto` is its "
                       "planner, `hnsw` the index alone.\n")
        if HAVE_MPL:
            name = f"filter-{ds}.png"
            fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 4))
            series = sorted({(r["engine"], r["variant"], r["ef"]) for r in rows})
            for s in series:
                pts = sorted((r["selectivity"], r["qps"], r["recall"]) for r in rows
                             if (r["engine"], r["variant"], r["ef"]) == s)
                lbl = f"{s[0]} {s[1]} ef={s[2]}"
                a1.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=lbl)
                a2.plot([p[0] for p in pts], [p[2] for p in pts], marker="o", label=lbl)
            for a, yl in ((a1, "queries / second"), (a2, "recall@10")):
                a.set_xscale("log")
                a.set_xlabel("filter selectivity")
                a.set_ylabel(yl)
                a.grid(True, which="both", alpha=0.3)
            a1.set_yscale("log")
            a2.set_ylim(0, 1.02)
            a1.legend(fontsize=7)
            fig.suptitle(f"{ds}: filtered search")
            fig.tight_layout()
            fig.savefig(self.plot_path(name), dpi=110)
            plt.close(fig)
            self.md.append(self.link(name))

    def ingest_snapshot(self):
        ing = self.of("ingest")
        if ing:
            self.md.append("## Ingestion (in memory, fresh database per row)\n")
            self.md.append(table(["dataset", "records", "API", "batch", "records/s"],
                                 [[r["dataset"], r["records"], r["api"], r["batch"], r["records_per_s"]] for r in ing]))
            self.md.append("Every insert builds the HNSW index as it goes (ef_construction as above), so this "
                           "is index build speed by batch size; hnswlib's equivalent is its build row above.\n")
        snaps = self.of("snapshot")
        if snaps:
            self.md.append("## Snapshots\n")
            self.md.append(table(["dataset", "records", "index", "storage", "MB", "bytes/record", "save s", "load s",
                                  "verified"],
                                 [[r["dataset"], r.get("records", r["n"]), r.get("index", "hnsw"),
                                   r.get("storage", "memory"), r["bytes"] / 1e6, r["bytes_per_record"], r["save_s"],
                                   r["load_s"], r["verified"]] for r in snaps]))
            self.md.append("Verified: the loaded copy has the same state root and index digest and answers the "
                           "first 100 queries hit for hit (mode HNSW, or EXACT for an index-less store). `memory`: "
                           "`valori_snapshot_save` / `valori_snapshot_load` of the whole state into / from a buffer "
                           "(load re-checks every structure and re-hashes the content against the root). `file`: "
                           "`valori_snapshot` of a durable store (log sync, temp file, fsync, rename, directory "
                           "fsync), and as load the reopen that recovers from that snapshot (read, CRCs, decode, "
                           "nothing replayed), verified by state root, index digest and `valori_check`.\n")

    def ingestion(self):
        """Issue 6 item 5: raw append into an index-less store vs HNSW ingestion, in memory and
        durable (fsync), by batch size; where the time of a raw append goes."""
        app, dur, cost = self.of("append"), self.of("durable"), self.of("append_cost")
        if not app and not dur:
            return
        self.md.append("## Ingestion: raw append (index-less store) vs HNSW, in memory and durable\n")
        rows = []
        for r in app:
            rows.append([r["dataset"], r["records"], "memory", r["index"], r["batch"], r["api"], r.get("threads", 1),
                         r["vectors_per_s"], r["bytes_per_vector"], None, None])
        for r in dur:
            rows.append([r["dataset"], r["records"], f"file ({r.get('fs', '?')}, fsync)", r["index"], r["batch"],
                         r["api"], 1, r["vectors_per_s"], None, r["fsyncs"], r["fsyncs_per_s"]])
        self.md.append(table(["dataset", "records", "storage", "index", "batch", "API", "threads", "vectors/s",
                              "bytes/vector", "fsyncs", "fsyncs/s"], rows))
        self.md.append("`index none` is a store opened with `VALORI_INDEX_NONE` (exact search only): an insert "
                       "converts, encodes, validates and hashes the record into the state root but builds no graph. "
                       f"`hnsw` builds the index as it goes (M={(app or dur)[0]['M']}, "
                       f"ef_construction={(app or dur)[0]['efc']}). Durable rows write a real store directory with "
                       "`VALORI_SYNC_FULL`: every batch (or single insert) is acknowledged after its fsync; fsyncs "
                       "count file and directory syncs. `threads` 2: opened with `VALORI_OPEN_THREADS` (the state hash of a batch "
                       "in two halves on two threads; same state root, checked by the driver). Medians of the runs "
                       "listed in the JSON lines.\n")
        best = max((r for r in app if r["index"] == "none"), key=lambda r: r["vectors_per_s"], default=None)
        if best:
            th = best.get("threads", 1)
            self.md.append(f"The original project claims 1.24M vectors/s for raw append; this run measured "
                           f"{best['vectors_per_s']:,.0f} vectors/s ({best['vectors_per_s'] / 1.24e6:.2f}x the claim; "
                           f"batches of {best['batch']}, {best['dim']}-d, {th} thread{'s' if th > 1 else ''}).\n")
        if cost:
            total = sum(c["ns_per_record"] for c in cost)
            self.md.append("What one raw append costs (CPU ns per record; the parts are timed alone on the same rows, "
                           "and the state root rebuilt from them must equal the store's; `rest` is the whole append's "
                           "CPU time minus the parts: the log chain's SHA-256 of each event, the API's event encoding, the engine's decoding and validation, "
                           "copies, the id map and tag postings):\n")
            self.md.append(table(["part", "ns/record", "share"],
                                 [[c["part"], c["ns_per_record"], c["share"]] for c in cost] + [["total", total, 1.0]]))
            if any(c["part"] == "rest" and c["ns_per_record"] < 0 for c in cost):
                self.md.append("**`rest` is negative**: the parts timed alone took longer than the whole append "
                               "(a disturbed or very short run); the shares are not reliable here.\n")
            top = sorted((c for c in cost if c["part"] != "rest"), key=lambda c: -c["share"])
            rest = sum(c["share"] for c in cost if c["part"] == "rest")
            self.md.append("Of the parts timed alone, the largest are " + ", then ".join(
                f"`{c['part']}` ({c['share']:.0%})" for c in top) +
                f"; the untimed `rest` is {rest:.0%}.\n")
        if HAVE_MPL:
            name = "ingestion.png"
            fig, ax = plt.subplots(figsize=(6.4, 4.4))
            series = sorted({("memory", r["index"]) for r in app} | {("durable", r["index"]) for r in dur})
            for st, ix in series:
                src = app if st == "memory" else dur
                pts = sorted((r["batch"], r["vectors_per_s"]) for r in src if r["index"] == ix and r.get("threads", 1) == 1)
                ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", color="C3" if ix == "none" else "C0",
                        linestyle="-" if st == "memory" else "--",
                        label=f"{'raw append (no index)' if ix == 'none' else 'HNSW'}, {st}")
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("records per insert call (batch size)")
            ax.set_ylabel("vectors / second (1 thread)")
            ax.set_title(f"{(app or dur)[0]['dataset']}: ingestion by batch size")
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=8)
            fig.tight_layout()
            fig.savefig(self.plot_path(name), dpi=110)
            plt.close(fig)
            self.md.append(self.link(name))

    def kernels(self):
        ks = self.of("kernel")
        if not ks:
            return
        self.md.append("## Distance kernels (ns per distance, vectors in cache)\n")
        rows = []
        ks = [k for k in ks if k["impl"] != "f32-to-q16"]
        ks.sort(key=lambda r: (r["dim"], r.get("kernel_metric", ""), r.get("build", ""), r["impl"]))
        for k in ks:
            rows.append([k["dim"], k.get("kernel_metric"), k["impl"], k.get("build", "native"),
                         k["ns_per_distance"], k["ns_per_component"], k.get("max_rel_err")])
        self.md.append(table(["dim", "metric", "kernel", "build", "ns/distance", "ns/component", "max rel err"], rows))
        conv = [k for k in self.of("kernel") if k["impl"] == "f32-to-q16"]
        if conv:
            self.md.append("float32 -> Q16.16 conversion at the API boundary: " + ", ".join(
                f"{c['ns_per_component']:.2f} ns/component ({c['converter']}, {c['build']} build, {c['dim']}-d)"
                for c in conv) + ".\n")
        self.md.append("`float-plain` and `fixed-q16-int64` are plain C loops (kernel_bench.c). Built with "
                       "`project` flags (those of valori_core: no -march, -ffp-contract=off) the compiler may "
                       "vectorize the integer loop but never the float one (that would reassociate the sum); "
                       "`native` adds -march=native. `hnswlib-simd-float` is hnswlib's hand-written SIMD "
                       "distance. max rel err: fixed-point result vs the float64 distance of the original floats.\n")
        if HAVE_MPL:
            name = "kernels.png"
            fig, ax = plt.subplots(figsize=(8, 4))
            labels = [f"{k['dim']}d {k.get('kernel_metric')} {k['impl']} ({k.get('build', 'native')})" for k in ks]
            ax.barh(range(len(ks)), [k["ns_per_distance"] for k in ks])
            ax.set_yticks(range(len(ks)))
            ax.set_yticklabels(labels, fontsize=7)
            ax.set_xlabel("ns per distance")
            ax.set_xscale("log")
            ax.grid(True, axis="x", which="both", alpha=0.3)
            fig.tight_layout()
            fig.savefig(self.plot_path(name), dpi=110)
            plt.close(fig)
            self.md.append(self.link(name))

    def conditions(self):
        """How undisturbed the run was: load average around each driver and, per driver run, the
        lowest CPU/wall ratio of its timed loops (1.0 = the single thread had a core to itself)."""
        loads = [r for r in self.rows if r["kind"] == "load"]
        # Durable rows wait for fsync by design (CPU/wall well below 1 on an idle machine): they say
        # nothing about other load, so they are left out.
        timed = [r for r in self.rows if r.get("cpu_s") is not None and (r.get("median_s") or r.get("build_s"))
                 and r["kind"] != "durable"]
        if not loads and not timed:
            return
        share = defaultdict(list)
        for r in timed:
            wall = r.get("median_s") or r.get("build_s")
            if wall and wall > 0.05:  # very short loops are all noise
                # pair_bench's rows under their own key: its load line is theirs, not the drivers'
                share[("pair" if r.get("paired") else r["engine"], r["dataset"])].append(r["cpu_s"] / wall)
        rows = []
        for l in loads:
            args = l.get("args", "")
            ds = args.split("--dataset ")[1].split()[0] if "--dataset " in args else "fmnist-l2"
            eng = {"hnswlib_bench": "hnswlib", "valori_bench": "valori", "pair_bench": "pair"}.get(l["driver"])
            sh = share.get((eng, ds), []) + (share.get(("bruteforce-float", ds), []) if eng == "hnswlib" else [])
            rows.append([l["driver"], ds, l["wall_s"], l["load_before"], l["load_after"], min(sh) if sh else None])
        if not loads:  # drivers run by hand: no load lines, only the CPU/wall shares
            rows = [[e, d, None, None, None, min(v)] for (e, d), v in sorted(share.items())]
        self.md.append("## Run conditions\n")
        self.md.append(table(["driver", "dataset", "seconds", "load avg before", "load avg after",
                              "min CPU/wall of timed loops"], rows))
        ncpu = loads[0]["ncpu"] if loads else os.cpu_count()
        worst = min((x for v in share.values() for x in v), default=1.0)
        busy = max((max(l["load_before"], l["load_after"]) for l in loads), default=0.0)
        if worst < 0.9 or busy > ncpu:
            load_txt = f"load average up to {busy:.1f} on {ncpu} cores" if loads else ""
            share_txt = f"a timed single-threaded loop got as little as {worst:.0%} of a core" if worst < 0.9 else ""
            hit = sorted({l["driver"] for l in loads if max(l["load_before"], l["load_after"]) > ncpu})
            hit_txt = f"; loaded above the core count while running: {', '.join(hit)}" if hit else ""
            self.md.append(f"**Warning: the machine was busy during this run** "
                           f"({'; '.join(t for t in (load_txt, share_txt) if t)}{hit_txt}). "
                           "Throughputs are lower than on a quiet machine and ratios between engines measured "
                           "at different moments are less reliable.\n")
        else:
            self.md.append("Every timed loop had a core to itself (CPU/wall >= 0.9).\n")
        pds = sorted({r["dataset"] for r in self.rows if r.get("paired") and r["kind"] == "search"})
        if pds:
            self.md.append(f"Paired run (bench/pair_bench, driver `pair_bench` above) on {', '.join(pds)}: Valori and "
                           "hnswlib in one process, one timed pass each per round and the order swapped every round, "
                           "so a slow change of the machine's load between the separate drivers' runs does not enter "
                           "goal 1's ratio; load that changes within a round still does (each engine's slowest / "
                           "fastest pass is in the dataset's paired table).\n")

    def method(self):
        self.md.append("## Method\n")
        self.md.append(
            "- Data: Debian `dataset-fashion-mnist`; base = first n of the 60,000 training images, queries = first "
            "nq of the 10,000 test images. Variants: " + "; ".join(f"`{k}` {v}" for k, v in DATASET_NOTES.items()) + ".\n"
            "- Ground truth: exact top-100 in float64 from the float32 inputs, ties by index, cached in "
            "bench/data/ and re-checked by bench_prepare against an independent sort.\n"
            "- Recall@k is tie-aware: a returned id counts when its exact distance is <= the k-th true distance "
            "(raw pixels give many exactly equal distances).\n"
            "- Filters: record i passes selectivity 1/m when splitmix64(i ^ salt) % m == 0 (m = 2, 10, 100, 1000); "
            "the sets are nested, so Valori stores one tag per record and filters by a tag set (common.h). "
            "Filtered ground truth is exact over the passing records for the first filter_nq queries.\n"
            "- hnswlib 0.6.2 (Debian) has no filter functor; its 0.7 filtered search is reimplemented over the "
            "0.6.2 index in hnswlib_bench.cpp.\n"
            "- Memory: hnswlib counted from its own parameters (level-0 block, upper link lists, lookup table, "
            "locks); Valori from valori_stats_get. RSS delta is the growth of the resident set during the build.\n")

    # ---- WebAssembly and Node peers (bench/js/bench.mjs)
    JS_ORDER = ("valori-wasm", "valori-wasm-int8", "hnswlib-wasm", "edgevec", "voy", "hnswlib-node", "usearch")
    # Valori wasm engines and the valori_bench engine each is compared with (same store options)
    JS_VALORI = (("valori-wasm", "valori", ""), ("valori-wasm-int8", "valori-int8", "int8 traversal: "))
    RUNTIME_LABEL = {"wasm": "wasm", "node-addon": "Node native addon", "native": "native (C/C++)"}

    def js_groups(self):
        """(dataset, n, nq) of every JS measurement, in order of appearance. Also makes the measured
        numbers of the JS lines floats (JSON.stringify writes 4890.0 as 4890), for fmt()."""
        out = []
        for r in self.rows:
            if r["kind"].startswith("js-"):
                for key in ("qps", "recall", "vectors_per_s", "build_s", "cpu_s", "median_s", "bytes_per_vector"):
                    if isinstance(r.get(key), int) and not isinstance(r.get(key), bool):
                        r[key] = float(r[key])
            if r["kind"] in ("js-meta", "js-build", "js-search", "js-error"):
                g = (r["dataset"], r["n"], r["nq"])
                if g not in out:
                    out.append(g)
        return out

    def js_of(self, kind, g, engine=None):
        return [r for r in self.rows if r["kind"] == kind and (r["dataset"], r["n"], r["nq"]) == g
                and (engine is None or r["engine"] == engine)]

    def js_engines(self, g):
        names = {r["engine"] for r in self.rows if r["kind"].startswith("js-") and r["kind"] != "js-identity"
                 and (r["dataset"], r["n"], r["nq"]) == g}
        return sorted(names, key=lambda e: (self.JS_ORDER.index(e) if e in self.JS_ORDER else 99, e))

    def js_native(self, g, engine, k=None, M=None, efc=None):
        """valori_bench / hnswlib_bench rows of the same data and parameters as a JS group."""
        ds, n, nq = g
        ok = lambda r: r["n"] == n and (M is None or r["M"] == M) and (efc is None or r["efc"] == efc)
        build = [r for r in self.of("build", ds, engine) if ok(r)]
        search = [r for r in self.of("search", ds, engine) if ok(r) and r["nq"] == nq and (k is None or r["k"] == k)]
        return (build[0] if build else None), search

    @staticmethod
    def js_at(points, t):
        """(QPS at recall t, exact): exact when the curve has a point at or below t, so the value is
        interpolated (or measured), or when the engine has no ef at all (nothing to trade recall
        for speed with); otherwise every point has higher recall and the value is only a lower bound
        of what the engine would do at t (a smaller ef might be faster)."""
        q = qps_at_recall(points, t)
        return q, q is not None and (any(p["recall"] <= t for p in points) or all(p["ef"] is None for p in points))

    @classmethod
    def js_ratio(cls, mine, theirs, t):
        """Valori wasm / peer at recall t, as a number, or a string marked <=, >= or ~ when one or both
        sides are only lower bounds."""
        (qm, em), (qt, et) = cls.js_at(mine, t), cls.js_at(theirs, t)
        if not qm or not qt:
            return None
        r = qm / qt
        if em and et:
            return r
        return ("~" if not em and not et else ">=" if not em else "<=") + " " + fmt(r)

    def js_ratio_rows(self, g, engine="valori-wasm", native_engine="valori"):
        """A Valori wasm engine against the valori_bench engine of the same store options and against
        each peer: [(label, wasm, other, ratio, kind)]."""
        vb = self.js_of("js-build", g, engine)
        vs = self.js_of("js-search", g, engine)
        if not vb or not vs:
            return [], [], None
        vb = vb[0]
        nb, ns = self.js_native(g, native_engine, vs[0]["k"], vb["M"], vb["efc"])
        native = []
        if ns:  # the search ratios; the build's only when valori_bench wrote a build row for that store
            if nb:  # (--traversal ab writes the int8 store's search rows only)
                note = None if nb.get("batch") in (None, vb["batch"]) else f"batch {vb['batch']} vs {nb.get('batch')}"
                native.append(("build vectors/s", vb["vectors_per_s"], nb["vectors_per_s"], note))
            nidx = {r["ef"]: r for r in ns}
            for r in sorted(vs, key=lambda r: r["ef"] or 0):
                if r["ef"] in nidx:
                    native.append((f"QPS at ef {r['ef']} (recall {r['recall']:.4f} wasm, "
                                   f"{nidx[r['ef']]['recall']:.4f} native)", r["qps"], nidx[r["ef"]]["qps"], None))
            for t in RECALL_TARGETS:
                qw, qn = qps_at_recall(vs, t), qps_at_recall(ns, t)
                if qw or qn:
                    native.append((f"QPS at recall@10 >= {t}", qw, qn, None))
        peers = []
        for e in self.js_engines(g):
            if e.startswith("valori-wasm"):
                continue
            pb, ps = self.js_of("js-build", g, e), self.js_of("js-search", g, e)
            if not ps:
                continue
            rt = ps[0]["runtime"]
            row = [e, self.RUNTIME_LABEL.get(rt, rt)]
            row.append(vb["vectors_per_s"] / pb[0]["vectors_per_s"] if pb else None)
            for t in RECALL_TARGETS:
                row.append(self.js_ratio(vs, ps, t))
            peers.append(row)
        return native, peers, vb

    def js_summary(self):
        groups = self.js_groups()
        if not groups:
            return
        out = []
        for g in groups:
            label = f"{g[0]} ({g[1]:,} x {g[2]:,} q)"
            for eng, nat_eng, prefix in self.JS_VALORI[1:]:  # the int8 store: wasm int8 / native int8
                for name, w, nat, note in self.js_ratio_rows(g, eng, nat_eng)[0]:
                    if name == "build vectors/s" or name.startswith("QPS at recall"):
                        out.append([label, f"{prefix}{name}: wasm / native", w, nat, w / nat if w and nat else None,
                                    "target >= 0.5" + (f"; {note}" if note else "")])
            native, peers, vb = self.js_ratio_rows(g)
            for name, w, nat, note in native:
                if name == "build vectors/s" or name.startswith("QPS at recall"):
                    out.append([label, f"{name}: wasm / native", w, nat, w / nat if w and nat else None,
                                "target >= 0.5" + (f"; {note}" if note else "")])
            wasm_peers = [p for p in peers if p[1] == "wasm"]
            vs = self.js_of("js-search", g, "valori-wasm")
            for t in RECALL_TARGETS:
                best = None
                for p in wasm_peers:
                    ps = self.js_of("js-search", g, p[0])
                    qp = qps_at_recall(ps, t)
                    if qp and (best is None or qp > best[1]):
                        best = (p[0], qp, ps)
                qv = qps_at_recall(vs, t)
                if best and qv:
                    out.append([label, f"QPS at recall@10 >= {t}: wasm / best wasm peer ({best[0]})", qv, best[1],
                                self.js_ratio(vs, best[2], t), "target > 1"])
            if vb:
                bp = max(((p[0], self.js_of("js-build", g, p[0])) for p in wasm_peers), default=None,
                         key=lambda x: x[1][0]["vectors_per_s"] if x[1] else 0)
                if bp and bp[1]:
                    out.append([label, f"build vectors/s: wasm / fastest wasm peer ({bp[0]})", vb["vectors_per_s"],
                                bp[1][0]["vectors_per_s"], vb["vectors_per_s"] / bp[1][0]["vectors_per_s"], "target > 1"])
            for idn in self.js_of_identity(g):
                out.append([label, ("int8 traversal: " if idn.get("traversal") else "") +
                            "wasm vs native: same state root, index digest and results", None, None, None,
                            "identical" if idn["identical"] else "**DIFFERENT**"])
        if out:
            self.md.append("## Summary: Valori in WebAssembly (Node), same machine, same run\n")
            self.md.append(table(["data", "measure", "Valori wasm", "reference", "ratio", "note"], out))
            self.md.append("Details, all peers and the plot: section *WebAssembly and Node peers*.\n")

    def js_of_identity(self, g):
        return [r for r in self.rows if r["kind"] == "js-identity" and (r["dataset"], r["n"]) == g[:2]
                and r["nq"] == g[2]]

    @staticmethod
    def md_cell(text):
        return " ".join(str(text).split()).replace("|", "\\|")

    def js_section(self):
        groups = self.js_groups()
        if not groups:
            return
        metas = [r for r in self.rows if r["kind"] == "js-meta"]
        node = metas[0] if metas else None
        self.md.append("## WebAssembly and Node peers\n")
        self.md.append(
            "Valori's WebAssembly build (`build-wasm/valori.wasm` through the npm package's public API) in Node, "
            "against the JavaScript/WebAssembly vector-search packages a user would pick instead, driven by "
            "`bench/js/bench.mjs` on the same data and queries as the C drivers: `bench_prepare --export` writes the "
            "float32 matrices and the exact ground truth, and recall@10 is computed as `bench_recall` does "
            "(tie-aware, the same float64 distance to the last bit). Every engine runs in its own Node process, "
            "on one thread; QPS is the median of the runs over the same queries. `wasm` rows are WebAssembly; "
            "`Node native addon` rows are C++ compiled for the host (not wasm), shown for context. Valori native "
            "rows are valori_bench's from this same run."
            + (f" Node {node['node']} (V8 {node['v8']}), {node['platform']}." if node else "") + "\n")
        for g in groups:
            self.js_group(g)

    def js_group(self, g):
        ds, n, nq = g
        engines = self.js_engines(g)
        self.md.append(f"### {ds}: {n:,} base vectors, {nq:,} queries\n")
        if ds in DATASET_NOTES:
            self.md.append(DATASET_NOTES[ds] + ".\n")
        # engines, builds, memory
        rows = []
        for e in engines:
            m = self.js_of("js-meta", g, e)
            b = self.js_of("js-build", g, e)
            rt = (m or b or self.js_of("js-error", g, e) or [{}])[0].get("runtime", "?")
            loops = [r for r in b + self.js_of("js-search", g, e) if (r.get("median_s") or r.get("build_s") or 0) > 0.05]
            share = min((r["cpu_s"] / (r.get("median_s") or r["build_s"]) for r in loops), default=None)
            if b:
                b = b[0]
                rows.append([e, self.RUNTIME_LABEL.get(rt, rt), m[0]["version"] if m else "-", b["vectors_per_s"],
                             f"{b['api']} ({b['batch']})", b["bytes_per_vector"],
                             b["wasm_memory_bytes"] / 1e6 if b.get("wasm_memory_bytes") else None,
                             b["rss_delta_bytes"] / 1e6, share])
            else:
                rows.append([e, self.RUNTIME_LABEL.get(rt, rt), m[0]["version"] if m else "-", "failed", "-", None,
                             None, None, None])
        nb, ns = self.js_native(g, "valori")
        n8b, n8s = self.js_native(g, "valori-int8") if self.js_of("js-search", g, "valori-wasm-int8") else (None, [])
        hb, hs = self.js_native(g, "hnswlib")
        for name, b in (("valori (native)", nb), ("valori-int8 (native)", n8b), ("hnswlib (native C++)", hb)):
            if b:
                rows.append([name, self.RUNTIME_LABEL["native"], "this run", b["vectors_per_s"],
                             f"{'valori_insert_batch' if name.startswith('valori') else 'addPoint'} ({b.get('batch', 1)})",
                             b.get("bytes_per_vector"), None, b["rss_delta_bytes"] / 1e6, None])
        self.md.append(f"#### Engines and build (M={self.js_of('js-build', g)[0]['M'] if self.js_of('js-build', g) else '?'}, "
                       "ef_construction=200 where it can be set)\n")
        self.md.append(table(["engine", "runtime", "version", "build vectors/s", "insert API (batch)",
                              "engine bytes/vector", "wasm memory MB", "RSS delta MB", "min CPU/wall"], rows))
        self.md.append("*engine bytes/vector*: the engine's own accounting where its API reports one (Valori: "
                       "`stats()`; edgevec: `memoryUsage()`); *wasm memory*: the size of the engine's whole WebAssembly "
                       "linear memory after the build (Valori: `Valori.memoryBytes()`), where the package exposes it; *RSS delta*: growth of the process's resident set during the "
                       "build (each engine has its own process). *min CPU/wall* below 0.9 means the machine was busy "
                       "during a timed loop of that engine.\n")
        # recall / QPS
        efs = sorted({r["ef"] for r in self.rows if r["kind"] == "js-search" and (r["dataset"], r["n"], r["nq"]) == g
                      and r["ef"] is not None})
        has_none = any(r["ef"] is None for r in self.js_of("js-search", g))
        cols = [f"ef {e}" for e in efs] + (["(no ef)"] if has_none else [])
        srows = []
        runs = None
        series = [(e, self.js_of("js-search", g, e)) for e in engines] + [
            ("valori (native)", ns), ("valori-int8 (native)", n8s), ("hnswlib (native C++)", hs)]
        for name, pts in series:
            if not pts:
                continue
            runs = runs or pts[0]["runs"]
            idx = {r["ef"]: r for r in pts}
            cells = []
            for e in efs + ([None] if has_none else []):
                r = idx.get(e)
                cells.append(f"{r['recall']:.4f} / {r['qps']:,.0f}" if r else "-")
            srows.append([name] + cells)
        if srows:
            self.md.append(f"#### Recall@10 / queries per second ({nq:,} queries, median of {runs} runs, one thread)\n")
            self.md.append(table(["engine"] + cols, srows))
        # failures
        errs = self.js_of("js-error", g)
        if errs:
            self.md.append("#### Engines that could not be measured\n")
            self.md.append(table(["engine", "runtime", "stage", "error", "engine output"],
                                 [[r["engine"], self.RUNTIME_LABEL.get(r["runtime"], r["runtime"]), r["stage"],
                                   self.md_cell(r["error"].split("\n")[0])[:300],
                                   self.md_cell(r.get("engine_output") or "")[:400]] for r in errs]))
        # ratios
        for eng, nat_eng, _ in self.JS_VALORI[1:]:  # the int8 store first: its own wasm / native table
            n8, _, v8 = self.js_ratio_rows(g, eng, nat_eng)
            if n8:
                self.md.append(f"#### {eng} / {nat_eng} (native): the int8 compact traversal copy in both (same "
                               "data, parameters and run)\n")
                self.md.append(table(["measure", "wasm int8", "native int8", "wasm / native"],
                                     [[nm + (f" ({note})" if note else ""), w, nat, w / nat if w and nat else None]
                                      for nm, w, nat, note in n8]))
            elif v8:
                self.md.append(f"No valori_bench rows of {nat_eng} with the same dataset, n, queries and parameters "
                               f"in this run: no {eng} / native ratio.\n")
        native, peers, vb = self.js_ratio_rows(g)
        if native:
            self.md.append("#### Valori wasm / Valori native (same data, parameters and run)\n")
            self.md.append(table(["measure", "wasm", "native", "wasm / native"],
                                 [[nm + (f" ({note})" if note else ""), w, nat, w / nat if w and nat else None]
                                  for nm, w, nat, note in native]))
        elif vb:
            self.md.append("No valori_bench rows with the same dataset, n, queries and parameters in this run: no "
                           "wasm / native ratio.\n")
        if peers:
            self.md.append("#### Valori wasm / each peer (> 1: Valori wasm ahead)\n")
            self.md.append(table(["peer", "runtime", "build vectors/s ratio"] +
                                 [f"QPS ratio at recall@10 >= {t}" for t in RECALL_TARGETS], peers))
            self.md.append("QPS at a recall target is interpolated between measured ef points as in the summary. "
                           "When every measured point of a curve has a higher recall than the target, its QPS there "
                           "is only a lower bound (a smaller ef might be faster), so the ratio is marked: `<=` "
                           "(the peer's side is the bound), `>=` (Valori's side), `~` (both). '-': a curve never "
                           "reached the target.\n")
        self.js_behind(g, native, peers, errs)
        for idn in self.js_of_identity(g):
            self.md.append(
                f"**Determinism, wasm vs native{' (int8 traversal copy)' if idn.get('traversal') else ''}** "
                f"(`valori_native_check` builds the same store natively from the same "
                f"export): state root {'identical' if idn['same_state_root'] else '**DIFFERENT**'} "
                f"(`{idn['state_root_wasm'][:16]}...`), index digest "
                f"{'identical' if idn['same_index_digest'] else '**DIFFERENT**'} (`{idn['index_digest_wasm'][:16]}...`), "
                f"result ids of the first {idn['queries_compared']:,} queries at ef {', '.join(map(str, idn['efs']))}: "
                + ("identical." if idn["same_results"] else f"**differ** ({idn['differing_queries']}).") + "\n")
        # plot
        if HAVE_MPL and srows:
            name = f"js-recall-qps-{ds}-n{n}.png"
            fig, ax = plt.subplots(figsize=(7.2, 4.8))
            for label, pts in series:
                pts = [p for p in pts if p["ef"] is not None] or pts
                if not pts:
                    continue
                pts = sorted(pts, key=lambda r: (r["recall"], r["qps"]))
                native_run = "native" in label
                rt = pts[0].get("runtime", "native")
                style = "--" if native_run else ("-" if rt == "wasm" else ":")
                ax.plot([p["recall"] for p in pts], [p["qps"] for p in pts], style,
                        marker="*" if len(pts) == 1 else "o", markersize=8 if len(pts) == 1 else 4,
                        label=f"{label} [{self.RUNTIME_LABEL.get(rt, rt)}]" if not native_run else label)
                for p in pts:
                    if p["ef"] is not None:
                        ax.annotate(str(p["ef"]), (p["recall"], p["qps"]), textcoords="offset points",
                                    xytext=(3, 3), fontsize=6)
            ax.set_yscale("log")
            ax.set_xlabel("recall@10")
            ax.set_ylabel("queries / second (1 thread)")
            ax.set_title(f"{ds}, n={n:,}: WebAssembly and Node peers (labels: ef)", fontsize=10)
            ax.grid(True, which="both", alpha=0.3)
            ax.legend(fontsize=7)
            fig.tight_layout()
            fig.savefig(self.plot_path(name), dpi=110)
            plt.close(fig)
            self.md.append(self.link(name))
        # versions and how each engine was configured
        notes = []
        for e in engines:
            m = self.js_of("js-meta", g, e)
            if m:
                m = m[0]
                size = ""
                if m.get("wasm_bytes"):
                    size = (f" Download: valori.wasm {m['wasm_bytes'] / 1e3:.0f} kB ({m['wasm_gz_bytes'] / 1e3:.0f} kB "
                            f"gzipped), valori.mjs {m['mjs_bytes'] / 1e3:.0f} kB ({m['mjs_gz_bytes'] / 1e3:.0f} kB "
                            f"gzipped), package JS {m['package_js_bytes'] / 1e3:.0f} kB "
                            f"({m['package_js_gz_bytes'] / 1e3:.0f} kB gzipped).")
                notes.append(f"- **{e}** {m['version']} ({m['package']}, {self.RUNTIME_LABEL.get(m['runtime'], m['runtime'])}): "
                             f"{m['notes']}.{size}")
        if notes:
            self.md.append("How each engine was driven (versions as installed from `bench/js/package-lock.json`):\n\n"
                           + "\n".join(notes) + "\n")

    def js_behind(self, g, native, peers, errs):
        """Plain statements of where Valori wasm is behind, from the ratios above: one line per
        engine that beats it somewhere, and one for the wasm / native target."""
        said = []
        low = [f"{nm[len('QPS at '):] if nm.startswith('QPS at ') else nm} {w / nat:.2f}x" for nm, w, nat, _ in native
               if w and nat and w / nat < 0.5 and not nm.startswith("QPS at ef")]
        if low:
            said.append("against Valori native, below the 0.5x target: " + ", ".join(low))
        for p in peers:
            parts = []
            if p[2] is not None and p[2] < 1:
                parts.append(f"builds {1 / p[2]:.2f}x as fast")
            for t, r in zip(RECALL_TARGETS, p[3:]):
                if isinstance(r, float) and r < 1:
                    parts.append(f"{1 / r:.2f}x the queries/s at recall@10 >= {t}")
                elif isinstance(r, str) and not r.startswith(">=") and float(r.split()[-1].replace(",", "")) < 1:
                    parts.append(f"more queries/s at recall@10 >= {t} at the nearest measured points (ratio {r})")
            if parts:
                said.append(f"{p[0]} ({p[1]}): " + "; ".join(parts))
        failed = sorted({r["engine"] for r in errs})
        if said:
            self.md.append("**Where Valori wasm is behind** (from the tables above):\n\n" +
                           "\n".join(f"- {x}" for x in said) + "\n")
        elif peers or native:
            self.md.append("Valori wasm is not behind any measured engine here, and at or above 0.5x of native, in "
                           "every ratio above.\n")
        if failed:
            self.md.append(f"Not compared (could not be measured on this data, see above): {', '.join(failed)}.\n")

    def write(self):
        self.header()
        self.reruns()
        self.summary()
        self.goals()
        self.profile()
        self.js_summary()
        self.probe()
        self.server_summary()
        self.python_summary()
        for ds in self.datasets:
            self.md.append(f"## {ds}\n")
            if ds in DATASET_NOTES:
                self.md.append(DATASET_NOTES[ds] + ".\n")
            self.build_section(ds)
            self.search_section(ds)
            self.paired_section(ds)
            self.exact_section(ds)
            self.filter_section(ds)
        self.js_section()
        self.server_section()
        self.python_section()
        self.repl_section()
        self.ingest_snapshot()
        self.ingestion()
        self.kernels()
        self.conditions()
        self.method()
        if not HAVE_MPL:
            self.md.append("\n*(matplotlib not available: no plots. Install python3-matplotlib.)*\n")
        with open(self.report_path, "w") as f:
            f.write("\n".join(self.md))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", required=True)
    ap.add_argument("--report")
    ap.add_argument("--plots")
    ap.add_argument("--mode", default="custom")
    ap.add_argument("--merge-into", help="results file whose rows of --parts are replaced by --results")
    ap.add_argument("--parts", default="", help="with --merge-into: comma list of core, server, python, repl")
    a = ap.parse_args()
    rows = load(a.results)
    if not rows:
        sys.exit("report.py: no results")
    if a.merge_into:
        parts = {p for p in a.parts.split(",") if p}
        if not parts or parts - {"core", "server", "python", "repl"}:
            sys.exit("report.py: --parts: a comma list of core, server, python, repl")
        when = datetime.datetime.now().strftime("%Y-%m-%d %H:%M")
        with open(a.merge_into) as f:
            old = [t.rstrip("\n") for t in f]
        with open(a.results) as f:
            new = [t.rstrip("\n") for t in f]
        merged = merge(old, new, parts, when, machine_info()[4])
        tmp = a.merge_into + ".tmp"
        with open(tmp, "w") as f:
            for t in merged:
                f.write(t + "\n")
        os.replace(tmp, a.merge_into)
        print(f"report.py: replaced the {','.join(sorted(parts))} rows of {a.merge_into}", file=sys.stderr)
        return
    if not a.report or not a.plots:
        sys.exit("report.py: --report and --plots are required (unless --merge-into)")
    os.makedirs(a.plots, exist_ok=True)
    Report(rows, a.mode, a.plots, a.report).write()
    print(f"report.py: wrote {a.report}" + ("" if HAVE_MPL else " (no plots: matplotlib missing)"), file=sys.stderr)


if __name__ == "__main__":
    main()
