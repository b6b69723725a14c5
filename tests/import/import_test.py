"""tests/import: `valori import` and `valori search` (docs/IMPORT.md), one ctest per case:

    /usr/bin/python3 tests/import/import_test.py CASE VALORI_BINARY WORK_DIR

Real files written here with NumPy (every format, gzip'd and not), Debian's Fashion-MNIST files with
--limit, a live `valori serve` on 127.0.0.1 port 0, real kill -9 of an import process. Stored
records are read back through the Python SDK (python/valori, ctypes over libvalori.so:
VALORI_LIBRARY), an independent host of the same library, and `valori search` is compared with the
SDK's search. Every wait is bounded. Exit 0 = pass.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "python"))
from valori import Valori  # noqa: E402

FMNIST = Path("/usr/share/datasets/fashion-mnist")
TRAIN_IMG = FMNIST / "train-images-idx3-ubyte.gz"
TRAIN_LAB = FMNIST / "train-labels-idx1-ubyte.gz"
TEST_IMG = FMNIST / "t10k-images-idx3-ubyte.gz"
CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

BIN = ""
WORK = Path(".")


def run(*args: str, want: Optional[int] = 0, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs the valori binary; checks the exit status unless want is None."""
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=timeout)
    if want is not None and p.returncode != want:
        raise AssertionError(f"valori {' '.join(args)} exited {p.returncode}, expected {want}\n"
                             f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def imp(*args: str, want: Optional[int] = 0, timeout: float = 120) -> subprocess.CompletedProcess:
    """Runs `valori import ARGS`."""
    return run("import", *args, want=want, timeout=timeout)


def check(cond: bool, what: str) -> None:
    if not cond:
        raise AssertionError(what)


def open_db(path: Path) -> Valori:
    return Valori(str(path), read_only=True, create=False)


def records(path: Path) -> Tuple[np.ndarray, List[int], List[Optional[bytes]], dict]:
    """Every record of a store (ids 1..next_id-1, all live), through the SDK."""
    db = open_db(path)
    try:
        st = db.stats()
        n = st.next_record_id - 1
        check(st.records == n, f"{path}: {st.records} live records of {n} inserted")
        vecs, tags, metas = [], [], []
        for i in range(1, n + 1):
            r = db.get(i)
            check(r is not None, f"{path}: record {i} missing")
            vecs.append(r.vector)
            tags.append(r.tag)
            metas.append(r.meta)
        return np.array(vecs, dtype=np.float64).reshape(n, -1), tags, metas, {"root": db.state_root(), "height": st.height}
    finally:
        db.close()


def root_of(path: Path) -> str:
    db = open_db(path)
    try:
        return db.state_root()
    finally:
        db.close()


# ---- file writers (values are multiples of 1/256 in [-200, 200]: exact in float32 and in Q16.16)

def sample(n: int, d: int, seed: int, lo: float = -200, hi: float = 200) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.round(rng.uniform(lo, hi, size=(n, d)) * 256) / 256


def write_vecs(path: Path, a: np.ndarray, elem: str) -> None:
    out = bytearray()
    for row in a:
        out += np.int32(len(row)).astype("<i4").tobytes() + row.astype(elem).tobytes()
    path.write_bytes(bytes(out))


def write_idx(path: Path, a: np.ndarray, type_byte: int, dtype: str) -> None:
    hdr = bytes([0, 0, type_byte, a.ndim]) + np.array(a.shape, dtype=">u4").tobytes()
    path.write_bytes(hdr + a.astype(dtype).tobytes())


def write_npy(path: Path, a: np.ndarray, version=(1, 0)) -> None:
    with open(path, "wb") as f:
        np.lib.format.write_array(f, a, version=version)


def gz(path: Path) -> Path:
    out = Path(str(path) + ".gz")
    out.write_bytes(gzip.compress(path.read_bytes()))
    return out


def fmnist_rows(n: int, offset: int = 0) -> Tuple[np.ndarray, np.ndarray]:
    with gzip.open(TRAIN_IMG) as f:
        f.read(16 + offset * 784)
        img = np.frombuffer(f.read(n * 784), dtype=np.uint8).reshape(n, 784).astype(np.float64)
    with gzip.open(TRAIN_LAB) as f:
        f.read(8 + offset)
        lab = np.frombuffer(f.read(n), dtype=np.uint8).astype(np.int64)
    return img, lab


# ---- cases

def case_formats() -> None:
    """Every format (and gzip'd) lands record for record: vectors exact, tags, metadata."""
    a = sample(120, 6, 1)
    files: Dict[str, Tuple[Path, np.ndarray]] = {}
    write_vecs(WORK / "a.fvecs", a, "<f4")
    files["fvecs"] = (WORK / "a.fvecs", a)
    b = np.floor(sample(90, 5, 2, 0, 255)).astype(np.uint8)
    write_vecs(WORK / "b.bvecs", b, "u1")
    files["bvecs"] = (WORK / "b.bvecs", b.astype(np.float64))
    iv = np.floor(sample(70, 4, 3, -256, 256)).astype(np.int32)
    write_vecs(WORK / "c.ivecs", iv, "<i4")
    files["ivecs"] = (WORK / "c.ivecs", iv.astype(np.float64))
    write_npy(WORK / "f4.npy", a.astype("<f4"))
    files["npy_f4"] = (WORK / "f4.npy", a)
    f8 = sample(50, 3, 4)
    write_npy(WORK / "f8.npy", f8.astype(">f8"), version=(2, 0))
    files["npy_f8_big_v2"] = (WORK / "f8.npy", f8)
    i2 = np.floor(sample(40, 7, 5, -256, 256)).astype(">i2")
    write_npy(WORK / "i2.npy", i2, version=(3, 0))
    files["npy_i2_big_v3"] = (WORK / "i2.npy", i2.astype(np.float64))
    u1 = b[:30]
    write_npy(WORK / "u1.npy", u1)
    files["npy_u1"] = (WORK / "u1.npy", u1.astype(np.float64))
    i8 = np.floor(sample(20, 2, 6, -256, 256)).astype("<i8")
    write_npy(WORK / "i8.npy", i8)
    files["npy_i8"] = (WORK / "i8.npy", i8.astype(np.float64))
    cube = sample(33, 8, 7).reshape(33, 4, 2)
    write_idx(WORK / "cube-idx3-float", cube, 0x0D, ">f4")
    files["idx_f32"] = (WORK / "cube-idx3-float", cube.reshape(33, 8))
    pix = b[:25, :4].reshape(25, 2, 2)
    write_idx(WORK / "pix-idx3-ubyte", pix, 0x08, "u1")
    files["idx_u8"] = (WORK / "pix-idx3-ubyte", pix.reshape(25, 4).astype(np.float64))
    for name in list(files):
        p, want = files[name]
        files[name + "_gz"] = (gz(p), want)
    data = WORK / "data"
    for name, (p, want) in files.items():
        out = imp(str(p), "--data", str(data), "--collection", name, "--batch", "16", "-q").stdout
        check(f"imported {len(want)} rows" in out, f"{name}: summary says {out!r}")
        vecs, tags, metas, _ = records(data / name)
        check(vecs.shape == want.shape, f"{name}: shape {vecs.shape}, expected {want.shape}")
        check(np.array_equal(vecs, want), f"{name}: stored vectors differ from the file's")
        check(all(t == 0 for t in tags) and all(m is None for m in metas), f"{name}: tags or metadata without a source")
        print(f"  {name}: {len(want)} rows ok")
    # JSON lines: tags as numbers and strings, metadata as string, object, null and absent, blank lines
    j = sample(45, 4, 8)
    lines, want_tags, want_meta = [], [], []
    for i, row in enumerate(j):
        rec = {"vector": [float(x) for x in row]}
        if i % 3 == 0:
            rec["tag"] = i
            want_tags.append(i)
        elif i % 3 == 1:
            rec["tag"] = str(2**64 - 1 - i)
            want_tags.append(2**64 - 1 - i)
        else:
            want_tags.append(0)
        if i % 4 == 0:
            rec["meta"] = f"note {i} \u00e9"
            want_meta.append(f"note {i} \u00e9".encode())
        elif i % 4 == 1:
            rec["meta"] = {"i": i, "k": [1, 2]}
            want_meta.append(json.dumps({"i": i, "k": [1, 2]}, separators=(",", ":")).encode())
        elif i % 4 == 2:
            rec["meta"] = None
            want_meta.append(None)
        else:
            want_meta.append(None)
        lines.append(json.dumps(rec))
        if i % 10 == 5:
            lines.append("   ")
    (WORK / "r.jsonl").write_text("\n".join(lines) + "\n")
    for name, p in (("jsonl", WORK / "r.jsonl"), ("jsonl_gz", gz(WORK / "r.jsonl"))):
        imp(str(p), "--data", str(data), "--collection", name, "--batch", "7", "-q")
        vecs, tags, metas, _ = records(data / name)
        check(np.array_equal(vecs, j), f"{name}: vectors differ")
        check(tags == want_tags, f"{name}: tags {tags[:6]}..., expected {want_tags[:6]}...")
        check(metas == want_meta, f"{name}: metadata {metas[:4]}, expected {want_meta[:4]}")
        print(f"  {name}: {len(j)} rows with tags and metadata ok")
    # the other idx element types, and labels from a 1-D .npy onto .npy vectors
    for tb, dt, lo, hi in ((0x09, ">i1", -128, 127), (0x0B, ">i2", -256, 256), (0x0C, ">i4", -256, 256), (0x0E, ">f8", -200, 200)):
        arr = sample(12, 6, 9 + tb, lo, hi)
        if dt[1] == "i":
            arr = np.floor(arr)
        write_idx(WORK / f"t{tb}-idx2", arr, tb, dt)
        imp(str(WORK / f"t{tb}-idx2"), "--data", str(data), "--collection", f"idx{tb}", "-q")
        vecs, _, _, _ = records(data / f"idx{tb}")
        check(np.array_equal(vecs, arr), f"idx type {tb:#x}: vectors differ")
    labels = np.array([i % 4 for i in range(120)], dtype="<i8")
    write_npy(WORK / "labels.npy", labels)
    imp(str(WORK / "f4.npy"), "--labels", str(WORK / "labels.npy"), "--classes", "zero,one,two", "--data", str(data),
        "--collection", "npylab", "-q")
    _, tags, metas, _ = records(data / "npylab")
    check(tags == list(labels), "tags from the .npy labels")
    check(metas[1] == b'{"class":"one","index":1}' and metas[3] == b'{"class":"3","index":3}', f"class metadata {metas[:4]}")
    # a JSON lines file with --labels: the label replaces the line's tag, the line's meta stays
    p = imp(str(WORK / "r.jsonl"), "--labels", str(WORK / "labels.npy"), "--data", str(data), "--collection", "jlab", want=3)
    check("holds 120 labels for the 45 rows" in p.stderr and not (data / "jlab").exists(), p.stderr)
    lab45 = np.array([7] * 45, dtype="<u2")
    write_npy(WORK / "lab45.npy", lab45)
    imp(str(WORK / "r.jsonl"), "--labels", str(WORK / "lab45.npy"), "--data", str(data), "--collection", "jlab", "-q")
    _, tags, metas, _ = records(data / "jlab")
    check(tags == [7] * 45 and metas[0] == want_meta[0] and metas[2] == b'{"class":"Sneaker","index":2}', f"{tags[:3]} {metas[:3]}")
    print("  idx i8/i16/i32/f64, .npy labels with --classes, JSON lines with --labels ok")
    # --format for a file whose name says nothing; --store for a plain store path; --offset/--limit
    shutil.copy(WORK / "a.fvecs", WORK / "vectors.bin")
    imp(str(WORK / "vectors.bin"), "--format", "fvecs", "--store", str(WORK / "plain-store"), "--offset", "10", "--limit", "25", "-q")
    vecs, _, _, _ = records(WORK / "plain-store")
    check(np.array_equal(vecs, a[10:35]), "--offset 10 --limit 25: rows 10..34 expected")
    out = imp(str(WORK / "vectors.bin"), "--format", "fvecs", "--store", str(WORK / "plain-store"), "--offset", "10", "--limit", "40",
              "-q").stdout
    check("imported 15 rows" in out and "(resumed: 25 were in already)" in out and "rows 10..49 of the file are records 1..40" in out, out)
    vecs, _, _, _ = records(WORK / "plain-store")
    check(np.array_equal(vecs, a[10:50]), "a resumed --offset 10 --limit 40: rows 10..49 expected")
    p = imp(str(WORK / "vectors.bin"), "--format", "fvecs", "--store", str(WORK / "plain-store"), "--offset", "11", "-q", want=3)
    check("not rows 11.." in p.stderr, p.stderr)
    (WORK / "empty-dir").mkdir()
    imp(str(WORK / "a.fvecs"), "--store", str(WORK / "empty-dir"), "-q")
    check(len(records(WORK / "empty-dir")[0]) == 120, "an import into an empty directory")
    print("  --format, --store (also an empty directory), --offset, --limit ok")


def case_fashion() -> None:
    """The demo's command: Fashion-MNIST with labels, class metadata and the graph (docs/IMPORT.md 4, 6)."""
    n = 1200
    data = WORK / "valori_db"
    p = imp(str(TRAIN_IMG), "--labels", str(TRAIN_LAB), "--data", str(data), "--collection", "fashion",
            "--limit", str(n), "--graph", "--batch", "500")
    out = p.stdout
    check(f"rows 0..{n - 1} of the file are records 1..{n}" in out, f"summary: {out!r}")
    check(re.search(rf"{n} / {n} rows +100\.0% +\d+ rows/s +ETA 0 s", p.stderr) is not None and "created " in p.stderr,
          f"progress: {p.stderr!r}")
    img, lab = fmnist_rows(n)
    vecs, tags, metas, st = records(data / "fashion")
    check(np.array_equal(vecs, img), "stored images differ from the file's")
    check(tags == [int(x) for x in lab], "tags are not the labels")
    for i in (0, 1, 777, n - 1):
        check(metas[i] == json.dumps({"class": CLASSES[lab[i]], "index": i}, separators=(",", ":")).encode(),
              f"record {i + 1} metadata {metas[i]!r}")
    classes = sorted(set(int(x) for x in lab))
    check(st["height"] == 3 + len(classes) + 2 * n, f"height {st['height']}: 3 batches + classes + a node and an edge per record")
    db = open_db(data / "fashion")
    try:
        s = db.stats()
        check(s.nodes == n + len(classes) and s.edges == n, f"{s.nodes} nodes, {s.edges} edges")
        for rid in (1, 2, 600, n):
            node = db.node_of_record(rid)
            check(node is not None, f"record {rid} has no node")
            nd = db.get_node(node)
            check(nd.kind == 2 and nd.label is None, f"record node {node}: {nd}")
            out_edges = db.neighbors(node, "out")
            check(len(out_edges) == 1 and out_edges[0].kind == 1, f"record node {node} edges {out_edges}")
            cls = db.get_node(out_edges[0].to)
            check(cls.kind == 1 and cls.record is None and cls.label == CLASSES[lab[rid - 1]].encode(), f"class node {cls}")
        # search-then-expand reaches the class nodes at depth 1
        res = db.search_expand([float(x) for x in img[5]], k=3, hops=1, dir="out")
        labels = {db.get_node(r.node).label for r in res.nodes if r.depth == 1}
        check(CLASSES[lab[5]].encode() in labels, f"expansion from row 5's hits reached {labels}")
    finally:
        db.close()
    # valori search --expand: the SDK's search_expand, and the same bytes from a server on the data directory
    q = ["--row", f"{TRAIN_IMG}:5", "-k", "3", "--expand", "1"]
    local = json.loads(run("search", str(data), "--collection", "fashion", *q, "--json").stdout)
    db = open_db(data / "fashion")
    try:
        res = db.search_expand([float(x) for x in img[5]], k=3, hops=1, dir="out")
        check([h["id"] for h in local["hits"]] == [str(h.id) for h in res.hits], "--expand: hits differ from the SDK's")
        check([(n["node"], n["via"], n["depth"]) for n in local["nodes"]] == [(str(r.node), str(r.via), r.depth) for r in res.nodes],
              f"--expand: nodes {local['nodes']} differ from the SDK's {res.nodes}")
    finally:
        db.close()
    text = run("search", str(data), "--collection", "fashion", *q).stdout
    check(re.search(rf"\n\d+ +1 +\d+ +1 +0 +{re.escape(CLASSES[lab[5]])}\n", text) is not None, f"--expand text: {text}")
    proc, url = start_server(data)
    try:
        remote = run("search", url, "--collection", "fashion", *q, "--json").stdout
        check(json.loads(remote) == local and remote == run("search", str(data), "--collection", "fashion", *q, "--json").stdout,
              f"--expand through the server: {remote}")
        check(run("search", url, "--collection", "fashion", *q).stdout == text, "--expand text through the server differs")
    finally:
        stop_server(proc)
    v = run("verify", str(data / "fashion"))
    check("ok:" in v.stdout, f"verify: {v.stdout}")
    # a rerun of the complete import adds nothing
    p = imp(str(TRAIN_IMG), "--labels", str(TRAIN_LAB), "--data", str(data), "--collection", "fashion",
              "--limit", str(n), "--graph", "--batch", "500", "-q")
    out = p.stdout
    check(out.startswith("imported 0 rows") and "(resumed:" in out, f"rerun: {out!r}")
    check(p.stderr == "", f"-q printed {p.stderr!r}")
    check(root_of(data / "fashion") == st["root"], "a rerun changed the root")
    # the docs' example command (docs/IMPORT.md section 6) as written, in a fresh directory
    ex = WORK / "example"
    ex.mkdir()
    doc = (REPO / "docs" / "IMPORT.md").read_text()
    m = re.search(r"```sh\n# Fashion-MNIST.*?\n(valori import .*?)\n```", doc, re.S)
    check(m is not None, "docs/IMPORT.md lost its example")
    argv = m.group(1).replace("\\\n", " ").split()[2:]
    p = subprocess.run([BIN, "import", *argv], cwd=ex, capture_output=True, text=True, timeout=300)
    check(p.returncode == 0 and "records 1..5000" in p.stdout, f"docs example: {p.stdout} {p.stderr}")
    print("  fashion: tags, metadata, graph, rerun, docs example ok")


def start_server(data: Path, extra: Optional[List[str]] = None) -> Tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([BIN, "serve", "--data", str(data), "--listen", "127.0.0.1:0", *(extra or [])],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url, ready = [None], threading.Event()
    proc.lines = []  # type: ignore[attr-defined]

    def reader() -> None:
        for line in proc.stdout:
            proc.lines.append(line)  # type: ignore[attr-defined]
            m = re.match(r"valori listening on (http://\S+)", line)
            if m:
                url[0] = m.group(1)
            if line.startswith("ready"):
                ready.set()
        ready.set()

    threading.Thread(target=reader, daemon=True).start()
    if not ready.wait(20) or not url[0]:
        proc.kill()
        raise AssertionError("valori serve did not start")
    return proc, url[0]


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM: the server closes every store and exits 0 (a sanitizer report would make it fail)."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
    time.sleep(0.1)  # the reader thread takes the last lines
    out = "".join(proc.lines)  # type: ignore[attr-defined]
    check(proc.returncode == 0 and "Sanitizer" not in out and "runtime error" not in out,
          f"valori serve exited {proc.returncode}:\n{out[-3000:]}")


def case_server() -> None:
    """--url: the same events as a local import (same root), binary and JSON batches, tokens, errors."""
    a = sample(300, 12, 11)
    write_vecs(WORK / "s.fvecs", a, "<f4")
    lines = [json.dumps({"vector": [float(x) for x in r], "tag": i % 5, "meta": f"m{i}"}) for i, r in enumerate(a[:100])]
    (WORK / "s.jsonl").write_text("\n".join(lines) + "\n")
    local = WORK / "local"
    imp(str(WORK / "s.fvecs"), "--data", str(local), "--collection", "v", "--batch", "64", "-q")
    imp(str(WORK / "s.jsonl"), "--data", str(local), "--collection", "j", "--batch", "30", "-q")
    tokens = WORK / "tokens"
    tokens.write_text("# test tokens\nwrite w-import-test-token-0001\nread r-import-test-token-0001\n")
    srv_data = WORK / "srv"
    proc, url = start_server(srv_data, ["--token-file", str(tokens)])
    try:
        out = imp(str(WORK / "s.fvecs"), "--url", f"{url}/v1/collections/v", "--token-file", str(tokens), "--batch", "64", "-q").stdout
        check("records 1..300" in out, out)
        imp(str(WORK / "s.jsonl"), "--url", f"{url}/v1/collections/j", "--token-file", str(tokens), "--batch", "30", "-q")
        for name in ("v", "j"):
            d = describe(url, name)
            check(d["root"] == root_of(local / name), f"{name}: server root {d['root']} differs from the local import's")
        # search through the server equals search of the local store, byte for byte
        for extra in ([], ["--exact", "--tag", "3"], ["-k", "5", "--ef", "40"]):
            q = ["--row", f"{WORK / 's.fvecs'}:17", "--json", *extra]
            remote = run("search", f"{url}/v1/collections/j", "--token-file", str(tokens), *q).stdout
            here = run("search", str(local), "--collection", "j", *q).stdout
            check(remote == here, f"search {extra}: server {remote!r} local {here!r}")
        # errors: no token, a read token for writing, another dim, a bad URL
        p = imp(str(WORK / "s.fvecs"), "--url", f"{url}/v1/collections/v2", "-q", want=3)
        check("EAUTH" in p.stderr, p.stderr)
        (WORK / "rtok").write_text("read r-import-test-token-0001\n")
        p = imp(str(WORK / "s.fvecs"), "--url", f"{url}/v1/collections/v2", "--token-file", str(WORK / "rtok"), "-q", want=2)
        check("no write token" in p.stderr, p.stderr)
        a3 = sample(10, 3, 12)
        write_vecs(WORK / "d3.fvecs", a3, "<f4")
        p = imp(str(WORK / "d3.fvecs"), "--url", f"{url}/v1/collections/v", "--token-file", str(tokens), "-q", want=3)
        check("EDIM" in p.stderr and "dim 12" in p.stderr, p.stderr)
        p = imp(str(WORK / "s.fvecs"), "--url", f"{url}/nothing", want=2)
        check("want http://HOST:PORT/v1/collections/NAME" in p.stderr, p.stderr)
        p = imp(str(WORK / "s.fvecs"), "--url", f"{url}/v1/collections/g", "--graph", want=2)
        check("--graph needs a local target" in p.stderr, p.stderr)
        # first_id: a batch is applied only at the id it names (what makes a resumed server import safe)
        hdr = struct.pack("<4sIIIII", b"VLVB", 1, 1, 12, 0, 0) + a[0].astype("<f4").tobytes()
        for want, status in (("5", 409), ("301", 201), ("301", 409), ("x", 400)):
            got, _ = http("POST", f"{url}/v1/collections/v/records/batch?first_id={want}", hdr,
                          {"Authorization": "Bearer w-import-test-token-0001", "Content-Type": "application/vnd.valori.vectors"})
            check(got == status, f"first_id={want}: HTTP {got}, expected {status}")
        check(server_records(url, "v") == 301, "first_id: a refused batch was stored")
        p = imp(str(WORK / "s.fvecs"), "--url", f"{url}/v1/collections/v", "--token-file", str(tokens), "-q", want=3)
        check("EEXIST" in p.stderr and "not rows 0.." in p.stderr, p.stderr)
        # a local import into a collection the server holds: the lock says no
        p = imp(str(WORK / "s.fvecs"), "--data", str(srv_data), "--collection", "v", "-q", want=3)
        check("ELOCKED" in p.stderr and "--url" in p.stderr, p.stderr)
        # resume through the server after kill -9 of the import process
        big = sample(6000, 64, 13)
        write_vecs(WORK / "big.fvecs", big, "<f4")
        imp(str(WORK / "big.fvecs"), "--data", str(local), "--collection", "big", "--batch", "50", "-q", timeout=300)
        args = [BIN, "import", str(WORK / "big.fvecs"), "--url", f"{url}/v1/collections/big", "--token-file", str(tokens),
                "--batch", "50", "-q"]
        killed = kill_during(args, lambda: server_records(url, "big"), 6000)
        out = run(*args[1:], timeout=300).stdout
        check("records 1..6000" in out, out)
        d = describe(url, "big")
        check(d["records"] == 6000 and d["next_id"] == "6001", f"after the resume: {d['records']} records, next_id {d['next_id']}")
        check(d["root"] == root_of(local / "big"), "resumed server import: root differs from the uninterrupted local import's")
        print(f"  server: roots equal the local imports', search equal, errors, resume after kill -9 at {killed} rows ok")
    finally:
        stop_server(proc)


def http(method: str, url: str, body: Optional[bytes], headers: Dict[str, str]) -> Tuple[int, bytes]:
    """One request on loopback (standard library); returns (status, body) for any status."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def describe(url: str, name: str) -> dict:
    status, body = http("GET", f"{url}/v1/collections/{name}", None, {"Authorization": "Bearer r-import-test-token-0001"})
    return json.loads(body) if status == 200 else {}


def server_records(url: str, name: str) -> int:
    return int(describe(url, name).get("records", 0))


def kill_during(args: List[str], count, total: int) -> int:
    """Starts the import, waits until some rows (not all) are in, kill -9s it; returns the rows in."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    n = 0
    while time.monotonic() < deadline and proc.poll() is None:
        n = count()
        if n >= total // 10:
            break
        time.sleep(0.02)
    check(proc.poll() is None, f"the import ended before it could be killed ({n} rows in)")
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    n = count()
    check(0 < n < total, f"kill -9 left {n} rows of {total}: not an interruption")
    return n


def store_records(path: Path) -> int:
    try:
        db = open_db(path)
    except Exception:  # not created yet
        return 0
    try:
        return db.stats().records
    finally:
        db.close()


def log_bytes(store: Path) -> int:
    try:
        return sum(p.stat().st_size for p in store.glob("log-*.vlog"))
    except OSError:  # a segment renamed or removed while listing
        return 0


def case_resume() -> None:
    """kill -9 during a local import with --graph, rerun: no gap, no duplicate, the root of an uninterrupted run."""
    n = 3000
    data = WORK / "data"
    base = [str(TRAIN_IMG), "--labels", str(TRAIN_LAB), "--data", str(data), "--limit", str(n), "--graph", "--batch", "100", "-q"]
    imp(*base, "--collection", "clean", timeout=300)
    clean_root = root_of(data / "clean")
    img, lab = fmnist_rows(n)
    log_total = log_bytes(data / "clean")
    trials = int(os.environ.get("VALORI_IMPORT_KILL_TRIALS", "3"))  # the long label runs more
    fracs = (0.1, 0.45, 0.8) if trials == 3 else tuple(0.05 + (i * 0.618034) % 0.9 for i in range(trials))
    for trial, frac in enumerate(fracs):
        name = f"resumed{trial}"
        args = [BIN, "import", *base, "--collection", name]
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        # the log's growth says how far it got (cheap to watch; the kill lands anywhere in a batch)
        while time.monotonic() < deadline and proc.poll() is None and log_bytes(data / name) < log_total * frac:
            time.sleep(0.005)
        check(proc.poll() is None, f"trial {trial}: the import ended before the kill")
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        got = store_records(data / name)
        check(0 < got < n, f"trial {trial}: {got} rows after kill -9")
        p = run(*[a for a in args[1:] if a != "-q"], timeout=300)
        check(f"(resumed: {got} were in already)" in p.stdout and got % 100 == 0, f"trial {trial}: {got} rows in; {p.stdout}")
        m = re.search(r"graph: linked (\d+) records", p.stderr)
        repaired = int(m.group(1)) if m else 0
        vecs, tags, _, st = records(data / name)
        check(len(vecs) == n and np.array_equal(vecs, img), f"trial {trial}: records are not rows 0..{n - 1} once each")
        check(tags == [int(x) for x in lab], f"trial {trial}: tags differ")
        check(st["root"] == clean_root, f"trial {trial}: root {st['root']} differs from the uninterrupted import's {clean_root}")
        print(f"  trial {trial}: killed at {got} rows ({repaired} left without their graph node or edge), resumed, "
              "same root as the uninterrupted import")
    # SIGINT: the batch in progress is committed, exit 130 with how to resume; the rerun ends at the same root
    args = [BIN, "import", *base, "--collection", "sigint"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None and log_bytes(data / "sigint") < log_total * 0.3:
        time.sleep(0.005)
    check(proc.poll() is None, "SIGINT: the import ended first")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    m = re.search(r"continue with row (\d+)", err)
    check(proc.returncode == 130 and m is not None and f"records 1..{m.group(1)}" in out, f"SIGINT: {proc.returncode} {out} {err}")
    check(0 < int(m.group(1)) < n and int(m.group(1)) % 100 == 0, f"SIGINT stopped at row {m.group(1)}")
    imp(*base, "--collection", "sigint", timeout=300)
    check(root_of(data / "sigint") == clean_root, "SIGINT then rerun: another root than the uninterrupted import's")
    print(f"  SIGINT at row {m.group(1)}: committed, exit 130, resumed to the same root")
    # the repair itself, deterministically: records imported without --graph get their nodes and edges
    imp(*[a for a in base if a not in ("--graph",)], "--collection", "late", "--limit", "250")
    p = imp(*[a for a in base if a != "-q"], "--collection", "late", "--limit", "250")
    check("graph: linked 250 records" in p.stderr, p.stderr)
    db = open_db(data / "late")
    try:
        s = db.stats()
        check(s.edges == 250 and s.nodes == 250 + len(set(int(x) for x in lab[:250])), f"{s.nodes} nodes, {s.edges} edges")
        for rid in (1, 125, 250):
            e = db.neighbors(db.node_of_record(rid), "out")
            check(len(e) == 1 and db.get_node(e[0].to).label == CLASSES[lab[rid - 1]].encode(), f"record {rid}: {e}")
    finally:
        db.close()
    # a rerun of another file into a collection of this one is refused, nothing written
    a = sample(10, 784, 21, 0, 255)
    write_npy(WORK / "other.npy", a.astype("<f4"))
    p = imp(str(WORK / "other.npy"), "--data", str(data), "--collection", "clean", "-q", want=3)
    check("EEXIST" in p.stderr and "not rows 0.." in p.stderr, p.stderr)
    check(root_of(data / "clean") == clean_root, "a refused import changed the collection")


def case_search() -> None:
    """valori search prints what the library's search returns (through the Python SDK)."""
    data = WORK / "data"
    imp(str(TRAIN_IMG), "--labels", str(TRAIN_LAB), "--data", str(data), "--collection", "f", "--limit", "2000", "-q", timeout=300)
    with gzip.open(TEST_IMG) as f:
        f.read(16)
        queries = np.frombuffer(f.read(5 * 784), dtype=np.uint8).reshape(5, 784).astype(np.float64)
    db = open_db(data / "f")
    try:
        for qi in range(5):
            for opts, kw in (([], {}), (["-k", "7", "--ef", "40"], {"k": 7, "ef": 40}), (["--exact"], {"mode": "exact"}),
                             (["--tag", "3", "--tag", "8", "-k", "4"], {"tags": [3, 8], "k": 4})):
                out = run("search", str(data), "--collection", "f", "--row", f"{TEST_IMG}:{qi}", "--json", *opts).stdout
                got = json.loads(out)
                hits = db.search([float(x) for x in queries[qi]], **kw)
                check([h["id"] for h in got["hits"]] == [str(h.id) for h in hits], f"query {qi} {opts}: ids differ")
                check([h["distance_raw"] for h in got["hits"]] == [str(h.distance_raw) for h in hits], f"query {qi} {opts}: distances")
                for h in got["hits"]:
                    r = db.get(int(h["id"]))
                    check(h["tag"] == str(r.tag) and base64.b64decode(h["meta"]) == r.meta, f"hit {h['id']}: tag or meta")
                if "tags" in kw:
                    check(all(h["tag"] in ("3", "8") for h in got["hits"]), "a hit outside the tag filter")
        vec = json.dumps([float(x) for x in queries[0]])
        by_vec = run("search", str(data / "f"), "--vector", vec, "--json").stdout
        by_row = run("search", str(data / "f"), "--row", f"{TEST_IMG}:0", "--json").stdout
        check(by_vec == by_row, "--vector and --row of the same query differ")
        text = run("search", str(data), "--collection", "f", "--row", f"{TEST_IMG}:0", "-k", "3").stdout.splitlines()
        check(text[0].split() == ["id", "distance", "tag", "meta"] and len(text) == 4, f"text output {text}")
        first = json.loads(by_row)["hits"][0]
        check(text[1].split()[0] == first["id"] and '{"class":' in text[1], f"text row {text[1]}")
    finally:
        db.close()
    p = run("search", str(data), "--collection", "f", "--vector", "[1, 2]", want=3)
    check("EDIM" in p.stderr, p.stderr)
    p = run("search", str(data), "--collection", "f", "--vector", "[1, x]", want=2)
    p = run("search", str(data), "--collection", "nothing", "--vector", "[1]", want=3)
    check("no store at" in p.stderr, p.stderr)
    print("  search: equal to the SDK's search for 5 queries x 4 option sets; errors ok")


def bad_files() -> List[Tuple[str, bytes, str, str]]:
    """(name, bytes, expected code, expected words) of hostile files."""
    ok = sample(4, 3, 31)
    fv = bytearray()
    for r in ok:
        fv += np.int32(3).tobytes() + r.astype("<f4").tobytes()
    other_dim = bytes(fv[:16]) + np.int32(4).tobytes() + bytes(28)  # a whole number of 16-byte rows, row 1 says dim 4
    huge_dim = np.int32(5000).tobytes() + b"\0" * 20000
    neg_dim = np.int32(-3).tobytes() + b"\0" * 12
    nan = bytes(fv[:16]) + np.int32(3).tobytes() + np.array([1, np.nan, 2], dtype="<f4").tobytes()
    big = bytes(fv[:16]) + np.int32(3).tobytes() + np.array([1, 300, 2], dtype="<f4").tobytes()
    inf = bytes(fv[:16]) + np.int32(3).tobytes() + np.array([1, np.inf, 2], dtype="<f4").tobytes()

    def npy(header: str, body: bytes = b"", major: int = 1) -> bytes:
        h = header.encode()
        pad = (64 - (10 + len(h) + 1) % 64) % 64
        h = h + b" " * pad + b"\n"
        if major == 1:
            return b"\x93NUMPY\x01\x00" + np.uint16(len(h)).tobytes() + h + body
        return b"\x93NUMPY" + bytes([major, 0]) + np.uint32(len(h)).tobytes() + h + body

    f4 = ok.astype("<f4").tobytes()
    idx_hdr = bytes([0, 0, 8, 3]) + np.array([2, 2, 2], dtype=">u4").tobytes()
    return [
        ("trunc.fvecs", bytes(fv[:-3]), "ECORRUPT", "not a whole number of rows"),
        ("otherdim.fvecs", other_dim, "EDIM", "row 1 declares dim 4"),
        ("huge.fvecs", huge_dim, "ETOOBIG", "above the limit 4096"),
        ("neg.fvecs", neg_dim, "ECORRUPT", "declares dim -3"),
        ("nan.fvecs", nan, "ENAN", "row 1 component 1 is NaN"),
        ("inf.fvecs", inf, "EINF", "row 1 component 1 is infinite"),
        ("big.fvecs", big, "ERANGE", "row 1 component 1: 300 is outside"),
        ("short.fvecs", b"\x03\x00", "ECORRUPT", "shorter than one dimension word"),
        ("magic.npy", b"NUMPY" + f4, "EINVAL", "not a .npy file"),
        ("fortran.npy", npy("{'descr': '<f4', 'fortran_order': True, 'shape': (4, 3), }", f4), "EINVAL", "Fortran-order"),
        ("threed.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3), }", f4), "EINVAL", "3-dimensional"),
        ("onedim.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (12,), }", f4), "EINVAL", "1-dimensional"),
        ("complex.npy", npy("{'descr': '<c8', 'fortran_order': False, 'shape': (4, 3), }", f4), "EINVAL", "dtype '<c8'"),
        ("object.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (4, 3), }", f4), "EINVAL", "dtype '|O'"),
        ("badhdr.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3) ", f4), "ECORRUPT", "malformed .npy header"),
        ("extrakey.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), 'x': 1}", f4), "ECORRUPT", "malformed"),
        ("truncnpy.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }", f4[:-1]), "ECORRUPT", "truncated"),
        ("trailnpy.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }", f4 + b"x"), "ECORRUPT", "trailing"),
        ("hugeshape.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904, 3), }", f4), "ECORRUPT", "overflow"),
        ("wide.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1, 5000), }", b"\0" * 20000), "ETOOBIG", "5000 components"),
        ("v9.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4, 3), }", f4, major=9), "EVERSION", "version 9"),
        ("hdrlen.npy", b"\x93NUMPY\x02\x00\xff\xff\xff\x7f{", "ECORRUPT", "header of"),
        ("magic-idx3-ubyte", b"\x01\x02\x08\x03" + bytes(12), "EINVAL", "not an idx file"),
        ("type-idx3-ubyte", b"\x00\x00\x07\x03" + bytes(12), "EINVAL", "unknown type byte"),
        ("labels-idx1-ubyte", bytes([0, 0, 8, 1, 0, 0, 0, 2, 1, 2]), "EINVAL", "pass labels with --labels"),
        ("truncidx-idx3-ubyte", idx_hdr + bytes(7), "ECORRUPT", "truncated"),
        ("zero-idx3-ubyte", bytes([0, 0, 8, 3]) + np.array([2, 0, 2], dtype=">u4").tobytes(), "ECORRUPT", "0 components"),
        ("hugeidx-idx3-ubyte", bytes([0, 0, 8, 3]) + np.array([1, 70000, 70000], dtype=">u4").tobytes(), "ETOOBIG", "more than 4096"),
        ("malformed.jsonl", b'{"vector": [1, 2]}\n{"vector": [1, 2\n', "ECORRUPT", "line 2: malformed JSON"),
        ("nanjson.jsonl", b'{"vector": [1, NaN]}\n', "ECORRUPT", "line 1: malformed JSON"),
        ("rangejson.jsonl", b'{"vector": [1, 1e39]}\n', "ERANGE", "line 1: vector[1]: 1e+39 is outside"),
        ("dimjson.jsonl", b'{"vector": [1, 2]}\n\n{"vector": [1, 2, 3]}\n', "EDIM", "line 3: a vector of 3 components; the first record has 2"),
        ("unknown.jsonl", b'{"vectr": [1, 2]}\n', "EINVAL", "unknown field 'vectr'"),
        ("novector.jsonl", b'{"tag": 1}\n', "EINVAL", "\"vector\" is missing"),
        ("strnum.jsonl", b'{"vector": ["1", 2]}\n', "EINVAL", "vector[0] is not a number"),
        ("badtag.jsonl", b'{"vector": [1, 2], "tag": -1}\n', "EINVAL", "\"tag\" must be"),
        ("tagfrac.jsonl", b'{"vector": [1, 2], "tag": 1.5}\n', "EINVAL", "\"tag\" must be"),
        ("array.jsonl", b'[1, 2]\n', "EINVAL", "expected an object"),
        ("nul.jsonl", b'{"vector": [1], "meta": "a\\u0000b"}\n', "EINVAL", "line 1: a string holding \\u0000"),
        ("two.jsonl", b'{"vector": [1]} {"vector": [2]}\n', "ECORRUPT", "more than one JSON value"),
        ("bigmeta.jsonl", b'{"vector": [1], "meta": "' + b"x" * 70000 + b'"}\n', "ETOOBIG", "\"meta\" is 70000 bytes"),
        ("deep.jsonl", b'{"vector": [1], "meta": ' + b"[" * 5000 + b"]" * 5000 + b"}\n", "ECORRUPT", "malformed JSON"),
        ("trunc.fvecs.gz", gzip.compress(bytes(fv))[:-12], "ECORRUPT", "gzip stream is cut short"),
        ("notgz.npy.gz", b"\x1f\x8b\x08\x00garbage-garbage", "ECORRUPT", ""),
        ("empty.jsonl", b"\n\n", "EEMPTY", "holds no rows"),
        ("unknown.xyz", b"abc", "EINVAL", "cannot tell the format"),
        ("dir.fvecs", b"", "EINVAL", "is a directory"),
        ("missing.fvecs", b"", "EIO", "cannot open: No such file or directory"),
    ]


def case_bad_files() -> None:
    """Every hostile file: a clear message with its code, exit 3 (2 for an unknown format), nothing created."""
    data = WORK / "data"
    bad = WORK / "bad"
    bad.mkdir()
    for name, content, code, words in bad_files():
        p = bad / name
        if name == "dir.fvecs":
            p.mkdir()
        elif name != "missing.fvecs":
            p.write_bytes(content)
        want = 2 if name == "unknown.xyz" else 3
        r = imp(str(p), "--data", str(data), "--collection", "c", "-q", want=want)
        check(f"({code})" in r.stderr and words in r.stderr, f"{name}: expected {code} and '{words}', got: {r.stderr.strip()}")
        check(not (data / "c").exists(), f"{name}: a refused file created the collection")
        print(f"  {name}: {r.stderr.strip()[:110]}")
    # labels that do not fit
    (bad / "labels-idx1-ubyte").write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3]))
    r = imp(str(TRAIN_IMG), "--labels", str(bad / "labels-idx1-ubyte"), "--data", str(data), "--collection", "c", want=3)
    check("holds 3 labels for the 60000 rows" in r.stderr and not (data / "c").exists(), r.stderr)
    # a bad row in the middle: the whole batches before it stay, its batch is not written; fixed file resumes
    rows = sample(50, 4, 41)
    lines = [json.dumps({"vector": [float(x) for x in r]}) for r in rows]
    broken = lines[:]
    broken[33] = '{"vector": [1, 2, 3, "x"]}'
    (bad / "mid.jsonl").write_text("\n".join(broken) + "\n")
    r = imp(str(bad / "mid.jsonl"), "--data", str(data), "--collection", "mid", "--batch", "10", "-q", want=3)
    check("line 34: vector[3] is not a number" in r.stderr, r.stderr)
    vecs, _, _, _ = records(data / "mid")
    check(len(vecs) == 30 and np.array_equal(vecs, rows[:30]), f"{len(vecs)} rows after a bad row 33 with batches of 10")
    (bad / "mid.jsonl").write_text("\n".join(lines) + "\n")
    r = imp(str(bad / "mid.jsonl"), "--data", str(data), "--collection", "mid", "--batch", "10", "-q")
    vecs, _, _, _ = records(data / "mid")
    check(len(vecs) == 50 and np.array_equal(vecs, rows), "the fixed file did not resume to 50 rows")
    print("  a bad row mid-file: 3 whole batches kept, fixed file resumed ok")


def case_usage() -> None:
    """Option errors are usage errors (exit 2) that create nothing."""
    data = WORK / "data"
    f = WORK / "a.fvecs"
    write_vecs(f, sample(3, 2, 51), "<f4")
    for args, words in (
        ([str(f)], "name one target"),
        ([str(f), "--collection", "a", "--store", str(WORK / "s")], "name one target"),
        ([str(f), "--collection", ".hidden"], "--collection: 1 to 64 characters"),
        ([str(f), "--collection", "a", "--batch", "0"], "--batch must be a whole number from 1 to 100000"),
        ([str(f), "--collection", "a", "--limit", "x"], "--limit must be a whole number"),
        ([str(f), "--collection", "a", "--metric", "cos"], "--metric must be l2 or ip"),
        ([str(f), "--collection", "a", "--index", "none", "--m", "8"], "not with --index none"),
        ([str(f), "--collection", "a", "--format", "csv"], "--format must be"),
        ([str(f), "--collection", "a", "--classes", "a,b"], "give --labels FILE"),
        ([str(f), "--store", str(WORK / "s"), "--data", str(data)], "--store DIR is a store path of its own"),
        ([str(f), str(f), "--collection", "a"], "unexpected argument"),
        (["--collection", "a"], "which file?"),
    ):
        r = imp(*args, "--data", str(data), want=2) if "--data" not in args and "--store" not in args else imp(*args, want=2)
        check(words in r.stderr, f"{args}: expected '{words}', got {r.stderr}")
    check(not data.exists() or not any(data.iterdir()), "a usage error created something")
    r = imp(str(f), "--data", str(data), "--collection", "a", "--offset", "3", want=2)
    check("--offset 3" in r.stderr, r.stderr)
    # an existing collection of another configuration
    imp(str(f), "--data", str(data), "--collection", "a", "-q")
    r = imp(str(f), "--data", str(data), "--collection", "a", "--metric", "ip", want=3)
    check("ECONFIG" in r.stderr, r.stderr)
    r = imp(str(f), "--data", str(data), "--collection", "a", "--dim", "5", want=3)
    check("not --dim 5" in r.stderr, r.stderr)
    print("  usage errors ok")


def case_corpus() -> None:
    """Not a test: writes the fuzz corpus tests/fuzz/corpus/dataset (fuzz_dataset.c: a selector byte,
    then a file) from small valid files of every format and the hostile files above (up to 8 KiB)."""
    sel = {"fvecs": 0, "bvecs": 1, "ivecs": 2, "npy": 3, "idx": 4, "jsonl": 5, "labels": 6}
    a = sample(5, 3, 61)
    files: List[Tuple[str, str, bytes]] = []
    for ext, elem in (("fvecs", "<f4"), ("bvecs", "u1"), ("ivecs", "<i4")):
        write_vecs(WORK / "t", np.abs(np.floor(a)) if ext != "fvecs" else a, elem)
        files.append((f"ok-{ext}", ext, (WORK / "t").read_bytes()))
    for name, arr, ver in (("f4", a.astype("<f4"), (1, 0)), ("f8be", a.astype(">f8"), (2, 0)), ("i2", np.floor(a).astype("<i2"), (3, 0)),
                           ("u8", np.abs(np.floor(a)).astype("<u8"), (1, 0))):
        write_npy(WORK / "t", arr, ver)
        files.append((f"ok-npy-{name}", "npy", (WORK / "t").read_bytes()))
    write_idx(WORK / "t", np.abs(np.floor(a)).reshape(5, 3, 1), 0x08, "u1")
    files.append(("ok-idx-u8", "idx", (WORK / "t").read_bytes()))
    write_idx(WORK / "t", a.reshape(5, 1, 3), 0x0E, ">f8")
    files.append(("ok-idx-f64", "idx", (WORK / "t").read_bytes()))
    lines = [json.dumps({"vector": [float(x) for x in r], "tag": i, "meta": {"i": i} if i % 2 else f"m{i}"}) for i, r in enumerate(a)]
    files.append(("ok-jsonl", "jsonl", ("\n".join(lines) + "\n\n").encode()))
    files.append(("ok-labels-idx1", "labels", bytes([0, 0, 8, 1, 0, 0, 0, 4, 1, 9, 0, 3])))
    write_npy(WORK / "t", np.array([3, 1, 4], dtype="<i4"), (1, 0))
    files.append(("ok-labels-npy", "labels", (WORK / "t").read_bytes()))
    for name, content, _, _ in bad_files():
        kind = "labels" if name.startswith("labels-") else next((k for k in sel if k in name), "idx" if "idx" in name else None)
        if kind and content and len(content) <= 8192 and not name.endswith(".gz"):
            files.append(("bad-" + name.replace(".", "-"), kind, content))
    (WORK / "t").unlink()
    for name, kind, content in files:
        (WORK / name).write_bytes(bytes([sel[kind]]) + content)
    print(f"  {len(files)} corpus files in {WORK}")


CASES = {"formats": case_formats, "fashion": case_fashion, "resume": case_resume, "search": case_search,
         "server": case_server, "bad_files": case_bad_files, "usage": case_usage,
         "corpus": case_corpus}


def main() -> int:
    global BIN, WORK
    if len(sys.argv) != 4 or sys.argv[1] not in CASES:
        print(f"usage: import_test.py {{{'|'.join(CASES)}}} VALORI_BINARY WORK_DIR", file=sys.stderr)
        return 2
    BIN = os.path.abspath(sys.argv[2])
    WORK = Path(sys.argv[3]).resolve()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    t0 = time.monotonic()
    CASES[sys.argv[1]]()
    print(f"ok ({sys.argv[1]}, {time.monotonic() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
