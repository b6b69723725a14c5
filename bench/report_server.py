"""report_server.py: the report sections of the server (bench/server/server_bench) and of the Python SDK
(bench/python/bench.py), as a mixin of report.Report (which provides self.rows, self.md, self.table,
self.plot_path and self.link).

server_bench kinds (every line also has report.py's common fields; engine "valori" = in-process,
"valori-server" = over HTTP):
  server-meta    server, client, ncpu, fs, ef, k
  server-ingest  api (in-process | binary | json), batch, records, requests, vectors_per_s (HTTP: records /
                 sum of request latencies, one client, so the client's body formatting is not counted),
                 wall_vectors_per_s, wall_s, same_state (root and index digest equal the in-process store's)
  server-search  where (in-process | server), threads | clients, ef, k, queries, qps, p50_ms, p99_ms,
                 wall_s, cpu_s | client_cpu_s, connections, same_answers
  server-floor   endpoint, clients, requests, qps, p50_ms, p99_ms, client_cpu_s, connections
  server-writes  where, clients, writes, writes_per_s, p50_ms, p99_ms, fs
  server-many    collections, rss_before_bytes, rss_after_bytes, rss_per_collection_bytes, fds_before,
                 fds_after, fds_per_collection, creates_per_s, first_writes_per_s
bench.py kinds (engine "python"): python-meta (sizes, load, commands, same_neighbours, same_root) and
python-row (part embedded-vs-c: c, python, ratio, python_cpu_share; part remote-vs-embedded: embedded,
remote, ratio).
"""

import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

try:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    HAVE_MPL = True
except Exception:  # noqa: BLE001 - any import problem means "no plots"
    HAVE_MPL = False

# The goals of issue 12 ("Benchmarks"), as ratios server / in-process.
GOAL_SEARCH_2 = 0.8
GOAL_BINARY_INGEST = 0.7
GOAL_WRITES_64 = 10.0

# Which rows belong to a part of bench/run.sh (for --only and --merge-into).
SERVER_DRIVERS = ("server_bench",)
PYTHON_DRIVERS = ("python_bench",)
REPL_DRIVERS = ("repl_bench",)


def row_part(r):
    """core, server, python or repl: the bench/run.sh part that produced a result line."""
    k = r.get("kind", "")
    if k.startswith("server-") or (k == "load" and r.get("driver") in SERVER_DRIVERS):
        return "server"
    if k.startswith("python-") or (k == "load" and r.get("driver") in PYTHON_DRIVERS):
        return "python"
    if k.startswith("repl-") or (k == "load" and r.get("driver") in REPL_DRIVERS):
        return "repl"
    if k == "rerun":
        return "rerun"
    return "core"


def merge(old_lines, new_lines, parts, when, commit):
    """The committed result lines with those of `parts` replaced by new_lines' (text kept as it was
    written, so that the other rows do not change), plus one "rerun" line per part saying when it was
    measured again (an older rerun line of the same part is dropped)."""
    def rows(lines):
        return [(json.loads(t), t) for t in lines if t.strip()]
    keep = [t for r, t in rows(old_lines) if row_part(r) not in parts and row_part(r) != "rerun" or
            (r.get("kind") == "rerun" and r.get("part") not in parts)]
    reruns = [json.dumps({"engine": "env", "kind": "rerun", "part": p, "date": when, "commit": commit})
              for p in sorted(parts)]
    return keep + [t for r, t in rows(new_lines) if row_part(r) in parts] + reruns


def _ds_order(rows):
    out = []
    for r in rows:
        if r["dataset"] not in out:
            out.append(r["dataset"])
    return out


class ServerSections:
    # ---- helpers over self.rows
    def _srv(self, kind, ds=None):
        return [r for r in self.rows if r["kind"] == kind and (ds is None or r.get("dataset") == ds)]

    def _inproc_search(self, ds, threads):
        return next((r for r in self._srv("server-search", ds) if r["where"] == "in-process" and r["threads"] == threads),
                    None)

    def _server_search(self, ds, clients):
        return next((r for r in self._srv("server-search", ds) if r["where"] == "server" and r["clients"] == clients),
                    None)

    def _ingest(self, ds, api):
        return next((r for r in self._srv("server-ingest", ds) if r["api"] == api), None)

    def _writes(self, where, clients=None):
        """The server row with that many clients; for "in-process", the faster of the baselines measured
        before and after the HTTP levels (fsync cost drifts on a shared machine: the ratio is then a
        lower bound)."""
        rs = [r for r in self._srv("server-writes") if r["where"] == where and (clients is None or r["clients"] == clients)]
        return max(rs, key=lambda r: r["writes_per_s"]) if rs else None

    def reruns(self):
        """Header lines for parts measured again after the main run (bench/run.sh --only)."""
        lines = [f"- `{r['part']}` rows: measured again on {r['date']}"
                 + (f" at commit `{r['commit']}`" if r.get("commit") else "")
                 + f" (`bench/run.sh --full --only {r['part']}`)" for r in self.rows if r["kind"] == "rerun"]
        if lines:
            self.md.append("Parts re-run after the main run (their rows replaced the earlier ones; every other row "
                           "is from the main run):\n\n" + "\n".join(lines) + "\n")

    # ---- summary: the goals of issue 12 and the Python ratios
    def server_summary(self):
        out = []
        search = self._srv("server-search")
        for ds in _ds_order(search):
            i1, s2 = self._inproc_search(ds, 1), self._server_search(ds, 2)
            if i1 and s2:
                out.append([f"{ds} ({i1['n']:,} x {i1['dim']})", f"search QPS at ef {s2['ef']}, 2 clients / in-process 1 thread",
                            s2["qps"], i1["qps"], s2["qps"] / i1["qps"], f">= {GOAL_SEARCH_2}"])
            i2 = self._inproc_search(ds, 2)
            if i2 and s2:
                out.append([f"{ds} ({i2['n']:,} x {i2['dim']})", f"search QPS at ef {s2['ef']}, 2 clients / in-process 2 threads",
                            s2["qps"], i2["qps"], s2["qps"] / i2["qps"], "-"])
        for ds in _ds_order(self._srv("server-ingest")):
            ip = self._ingest(ds, "in-process")
            for api, goal in (("binary", f">= {GOAL_BINARY_INGEST}"), ("json", "-")):
                h = self._ingest(ds, api)
                if ip and h:
                    out.append([f"{ds} ({h['records']:,} x {h['dim']})",
                                f"bulk ingest vectors/s, {api} batches of {h['batch']} / in-process durable batches",
                                h["vectors_per_s"], ip["vectors_per_s"], h["vectors_per_s"] / ip["vectors_per_s"], goal])
        one = self._writes("in-process")
        for c, goal in ((8, "-"), (64, f">= {GOAL_WRITES_64:g}")):
            w = self._writes("server", c)
            if one and w:
                out.append([f"{w['dataset']} ({w['dim']}-d)", f"durable single-record writes/s, {c} clients / one fsync per write",
                            w["writes_per_s"], one["writes_per_s"], w["writes_per_s"] / one["writes_per_s"], goal])
        if not out:
            return
        self.md.append("## Summary: server / in-process, same machine, same run (issue 12 goals)\n")
        self.md.append(self.table(["data", "measure", "server", "in-process", "ratio", "goal"], out))
        missed = [r[1] for r in out if r[5].startswith(">=") and r[4] < float(r[5][3:])]
        if missed:
            self.md.append("Below the goal: " + "; ".join(missed) + ". See \"Server\" below for the whole picture "
                           "(the load generator runs on the same 2 cores as the server).\n")
        else:
            self.md.append("Every goal above is met in this run.\n")

    def python_summary(self):
        rows = self._srv("python-row")
        if not rows:
            return
        self.md.append("## Summary: Python SDK (bench/python/bench.py)\n")
        out = [[r["part"], r["measure"], r["ratio"]] for r in rows]
        self.md.append(self.table(["comparison", "measure", "ratio"], out))
        self.md.append("`embedded-vs-c`: Python embedded / the C library (valori_bench); `remote-vs-embedded`: "
                       "Python remote (`valori serve`) / Python embedded on a durable store. Details in "
                       "\"Python SDK\" below.\n")

    # ---- the sections
    def server_section(self):
        metas = self._srv("server-meta")
        if not metas:
            return
        m = metas[0]
        self.md.append("## Server: `valori serve` over HTTP against in-process\n")
        self.md.append(
            f"`bench/server/server_bench` starts the build's own `valori serve` ({m['server']}) on 127.0.0.1 port 0 in a "
            f"temporary data directory ({m['fs']}) and drives it with a closed-loop load generator ({m['client']}: N "
            f"clients, each with one kept-alive connection, each sending its next request as soon as the previous answer "
            f"arrived), next to the same work done in-process through the C API in the same run. The load generator "
            f"shares the machine's {m['ncpu']} cores with the server (its CPU time is listed). HNSW M={m['M']}, "
            f"ef_construction={m['efc']}; search k={m['k']}, ef={m['ef']}, mode hnsw. Every server answer is checked: "
            f"each search must return exactly the in-process ids in order, each ingested collection must end with the "
            f"in-process store's state root and index digest, each write must be acknowledged (201) and counted in the "
            f"collection's durable height.\n")
        self._server_search_tables()
        self._server_floor()
        self._server_ingest()
        self._server_writes()
        self._server_many()

    def _server_search_tables(self):
        rows = self._srv("server-search")
        for ds in _ds_order(rows):
            rs = [r for r in rows if r["dataset"] == ds]
            i1 = self._inproc_search(ds, 1)
            r0 = rs[0]
            self.md.append(f"### Search, {ds} ({r0['n']:,} x {r0['dim']}, {r0['queries']:,} queries, ef {r0['ef']})\n")
            out = []
            for r in rs:
                who = f"{r['threads']} thread(s)" if r["where"] == "in-process" else f"{r['clients']} client(s)"
                cpu = r.get("client_cpu_s")
                out.append([r["where"], who, r["qps"], r["p50_ms"], r["p99_ms"], r["qps"] / i1["qps"] if i1 else None,
                            (cpu / r["wall_s"]) if cpu is not None and r["wall_s"] else None])
            self.md.append(self.table(["where", "concurrency", "QPS", "p50 ms", "p99 ms", "QPS / in-process 1 thread",
                                       "client CPU share"], out))
            self._clients_plot(f"server-search-{ds}.png", "valori serve (HTTP)",
                               [(r["clients"], r["qps"]) for r in rs if r["where"] == "server"],
                               [(f"in-process, {r['threads']} thread(s)", r["qps"]) for r in rs if r["where"] == "in-process"],
                               "queries / second", f"{ds}: server search QPS at ef {r0['ef']}", False)

    def _clients_plot(self, name, label, points, lines, ylabel, title, logy):
        """A measure against the number of concurrent clients, with in-process levels as dashed lines."""
        if not HAVE_MPL:
            return
        fig, ax = plt.subplots(figsize=(6.4, 4.0))
        pts = sorted(points)
        ax.plot([c for c, _ in pts], [v for _, v in pts], marker="o", label=label)
        for i, (lab, v) in enumerate(lines):
            ax.axhline(v, linestyle="--", linewidth=1, color=("grey", "black")[i % 2], label=lab)
        ax.set_xscale("log", base=2)
        ax.set_xticks([c for c, _ in pts])
        ax.set_xticklabels([str(c) for c, _ in pts])
        if logy:
            ax.set_yscale("log")
        ax.set_xlabel("concurrent clients")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(self.plot_path(name), dpi=110)
        plt.close(fig)
        self.md.append(self.link(name))

    def _server_floor(self):
        rows = self._srv("server-floor")
        if not rows:
            return
        self.md.append(f"### Per-request floor: `{rows[0]['endpoint']}` ({rows[0]['requests']:,} requests per row)\n")
        self.md.append(self.table(["clients", "QPS", "p50 ms", "p99 ms", "client CPU share"],
                                  [[r["clients"], r["qps"], r["p50_ms"], r["p99_ms"], r["client_cpu_s"] / r["wall_s"]]
                                   for r in rows]))
        self.md.append("What a request costs at least (parsing, routing, Host check, the answer), with the client on the "
                       "same machine: an upper bound for the QPS of any endpoint at that concurrency.\n")

    def _server_ingest(self):
        rows = self._srv("server-ingest")
        if not rows:
            return
        self.md.append("### Bulk ingest (durable; batches are one atomic event each)\n")
        out = []
        for ds in _ds_order(rows):
            ip = self._ingest(ds, "in-process")
            for r in (x for x in rows if x["dataset"] == ds):
                out.append([f"{ds} ({r['dim']}-d)", r["api"], r["batch"], r["records"], r["vectors_per_s"],
                            r["wall_vectors_per_s"], r["vectors_per_s"] / ip["vectors_per_s"] if ip else None])
        self.md.append(self.table(["data", "api", "batch", "records", "vectors/s", "wall vectors/s", "/ in-process"], out))
        self.md.append("`in-process`: `valori_insert_batch` into a durable store (POSIX VFS, `VALORI_SYNC_FULL`, one "
                       "fsync per batch). `binary`: `POST .../records/batch` with `application/vnd.valori.vectors` "
                       "(docs/HTTP.md section 7); `json`: the same batches as JSON. One client; HTTP vectors/s = records / "
                       "the sum of the request latencies (the client's body formatting excluded), wall vectors/s includes "
                       "it. Every collection ends with the in-process store's state root and index digest.\n")

    def _server_writes(self):
        rows = self._srv("server-writes")
        if not rows:
            return
        one = self._writes("in-process")
        self.md.append(f"### Durable single-record writes ({rows[0]['dataset']}, {rows[0]['dim']}-d, HNSW; {rows[0]['fs']})\n")
        out = [[r["where"] + (f" ({r['phase']})" if r.get("phase") else ""), r["clients"], r["writes"],
                r["writes_per_s"], r["p50_ms"], r["p99_ms"], r["writes_per_s"] / one["writes_per_s"] if one else None]
               for r in rows]
        self.md.append(self.table(["where", "clients", "writes", "writes/s", "p50 ms", "p99 ms", "/ one fsync per write"],
                                  out))
        self.md.append("`in-process`: one `valori_insert` after the other into a durable store (`VALORI_SYNC_FULL`: each "
                       "returns after its fsync), measured before and after the HTTP rows; the ratios use the faster "
                       "of the two. `server`: `POST .../records`, one record each, each answered only once "
                       "durable; concurrent writers share fsyncs (group commit, docs/HTTP.md section 14).\n")
        self._clients_plot("server-writes.png", "valori serve (group commit)",
                           [(r["clients"], r["writes_per_s"]) for r in rows if r["where"] == "server"],
                           [("in-process, one fsync per write", one["writes_per_s"])] if one else [],
                           "durable writes / second", f"{rows[0]['dataset']}: durable single-record writes", True)

    def _server_many(self):
        rows = self._srv("server-many")
        if not rows:
            return
        r = rows[0]
        self.md.append(f"### {r['collections']:,} collections open\n")
        self.md.append(self.table(
            ["collections", "RSS before MB", "RSS after MB", "RSS per collection KiB", "fds before", "fds after",
             "fds per collection", "creates/s", "first writes/s"],
            [[x["collections"], x["rss_before_bytes"] / 1e6, x["rss_after_bytes"] / 1e6,
              x["rss_per_collection_bytes"] / 1024, x["fds_before"], x["fds_after"], x["fds_per_collection"],
              x["creates_per_s"], x["first_writes_per_s"]] for x in rows]))
        self.md.append(f"A server started with `--max-open {r['collections']}`: the collections are created "
                       f"({r['dim']}-d, HNSW) and written (one record each, so each is open) by 16 clients; resident "
                       f"memory (VmRSS) and open descriptors of the server process before and after; `/metrics` "
                       f"confirms all of them open.\n")

    def repl_section(self):
        rows = self._srv("repl-row")
        if not rows:
            return
        loads = [r for r in self.rows if r.get("kind") == "load" and r.get("driver") in REPL_DRIVERS]
        self.md.append("## Replication: followers against the leader (bench/repl/bench.mjs)\n")
        cond = ""
        if loads:
            l = loads[-1]
            cond = (f" Load average {l['load_before']:.2f} before, {l['load_after']:.2f} after, {l['ncpu']} CPUs, "
                    f"{l['wall_s']} s.")
        self.md.append("`node bench/repl/bench.mjs --full` (from `bench/run.sh --full`): real `valori serve` and "
                       "`valori follow` processes on loopback and the npm package's follower (wasm) in Node and in "
                       "headless Chromium; every follower must reach the leader's state root before its time counts "
                       "(docs/REPLICATION.md section 13)." + cond + "\n")
        sections = []
        for r in rows:
            if r.get("section", "") not in sections:
                sections.append(r.get("section", ""))
        for sec in sections:
            if sec:
                self.md.append(f"### {sec}\n")
            self.md.append(self.table(["measure", "value", "unit", "note"],
                                      [[r["measure"], r["value"], r["unit"], r.get("note", "")]
                                       for r in rows if r.get("section", "") == sec]))

    def python_section(self):
        metas = self._srv("python-meta")
        rows = self._srv("python-row")
        if not metas or not rows:
            return
        m = metas[0]
        cmd = m["cmd"].replace(ROOT + "/", "")
        self.md.append("## Python SDK: embedded against the C library, remote against embedded\n")
        self.md.append(
            f"`{cmd}` (from `bench/run.sh --full`): {m['dataset']}, {m['n']:,} x {m['dim']} base, {m['nq']:,} "
            f"queries, M {m['M']}, ef_construction {m['efc']}, k 10, one thread; load average {m['load_before']:.2f} "
            f"before, {m['load_after']:.2f} after, {m['ncpu']} CPUs. Same neighbours in the three Python databases "
            f"(memory, durable, remote): {'yes' if m['same_neighbours'] else 'NO'}; same state root: "
            f"{'yes' if m['same_root'] else 'NO'}. C reference: `{m['c_cmd']}`.\n")
        e = [r for r in rows if r["part"] == "embedded-vs-c"]
        if e:
            self.md.append(self.table(["measure", "C library", "Python embedded", "Python / C", "Python CPU share"],
                                      [[r["measure"], r["c"], r["python"], r["ratio"], r["python_cpu_share"]] for r in e]))
        rv = [r for r in rows if r["part"] == "remote-vs-embedded"]
        if rv:
            self.md.append(self.table(["measure", "Python embedded, durable store", "Python remote (`valori serve`)",
                                       "remote / embedded"],
                                      [[r["measure"], r["embedded"], r["remote"], r["ratio"]] for r in rv]))
        self.md.append("CPU share = process CPU time / wall time of the timed loop (low values mean the machine was "
                       "busy). Remote search is one HTTP request per query (the SDK's `http.client` transport, standard library "
                       "only, one kept-alive connection).\n")
