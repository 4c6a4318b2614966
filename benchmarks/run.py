"""Speed benchmark at city-to-province scale (a script, not a test).

    python benchmarks/run.py [--sizes 10000,100000,1000000] [--out benchmarks/results.json] [--workdir DIR]

For each size N it generates N synthetic firm profiles (seeded, ~210 characters of name + 经营范围 + 简介 each,
see ``benchmarks/synth.py``), and in a fresh subprocess (so that peak memory is that size's alone) measures:

- ingest + analysis: ``ingest_files`` of the CSV into an empty SQLite store, firms/s (reading, validation,
  de-duplication, tokens, industry codes, one transaction; worker processes when N > 20,000);
- analysis alone: tokens of the N profiles with the engine's backend (rjieba), in this process and with worker
  processes, beside pure jieba on a sample of 5,000 profiles (its rate extrapolated to N), and whether the
  tokens of that sample are identical;
- index build (from the cached tokens, saved) and index load (a new process reading the saved files);
- ranking all default parks (``rank_leads`` top 50, not saved): the first pass after loading the index and a
  second one, beside bm25s (Lucene BM25, same k1/b) indexing the same tokens and retrieving the top 50 for the
  same query terms, and our BM25 alone for those terms;
- single-profile score latency (``score_profile`` of 100 other synthetic profiles, warm): p50 and p95;
- peak memory (max RSS of the benchmark process, measured before the bm25s baseline runs, and of the
  analysis worker processes).

Results go to a JSON file; a Markdown table for the README is printed. CPU load from other processes is
recorded (``loadavg``): figures taken on a busy machine are slower.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

JIEBA_SAMPLE = 5_000
SCORE_SAMPLE = 100
TOP = 50


def _rss_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # KiB on Linux


def _timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - t


def run_one(n: int, workdir: Path) -> dict:
    """All measurements for one size, in this process (called in a subprocess by :func:`main`)."""
    import numpy as np
    import synth

    from matcher.analyze import ChunkPool, firm_token_strings, get_analyzer, parallel_map
    from matcher.index import load_index
    from matcher.industry import knowledge_base
    from matcher.ingest import ingest_files
    from matcher.parks import ensure_default_parks, list_parks
    from matcher.rank import _park_query_of, rank_leads, score_profile
    from matcher.store import Enterprise, open_store

    out: dict = {"firms": n, "loadavg_start": os.getloadavg()}
    csv_path = workdir / f"firms_{n}.csv"
    if not csv_path.exists():
        synth.write_csv(csv_path, n)
    home = workdir / f"home_{n}"
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    os.environ["MATCHER_HOME"] = str(home)
    store = open_store(f"sqlite:///{home / 'matcher.db'}")
    sample = synth.texts(min(n, JIEBA_SAMPLE))
    out["chars_per_firm"] = round(sum(len(a) + len(b) + len(c) for a, b, c in sample) / len(sample), 1)

    # -- ingest + analysis, end to end (the engine's peak memory is measured before the benchmark's own
    #    copies of the texts and the bm25s baseline are made)
    (report,), secs = _timed(ingest_files, store, [csv_path], progress=False)
    assert report.inserted == n, report.counts()
    out["ingest"] = {"seconds": round(secs, 2), "firms_per_s": round(n / secs)}

    # -- index build (from the store's cached tokens) and load (as a new process would)
    import matcher.index

    matcher.index._CACHE.clear()
    shutil.rmtree(store.index_dir, ignore_errors=True)
    idx, build = _timed(load_index, store)
    matcher.index._CACHE.clear()
    idx, load = _timed(load_index, store)
    out["index"] = {"build_seconds": round(build, 2), "load_seconds": round(load, 3), "rows": idx.n_rows,
                    "terms": len(idx.terms), "postings": int(idx.x_rows.size)}

    # -- ranking all default parks
    ensure_default_parks(store)
    parks = list_parks(store)
    _, first = _timed(lambda: [rank_leads(p, store=store, top=TOP, save=False) for p in parks])
    _, second = _timed(lambda: [rank_leads(p, store=store, top=TOP, save=False) for p in parks])
    from matcher.config import MatchConfig

    config = MatchConfig()
    queries = [list(_park_query_of(p, config, store).terms) for p in parks]

    def ours_bm25() -> list:
        tops = []
        for q in queries:
            s = idx.bm25(dict.fromkeys(q, 1.0), k1=config.k1, b=config.b)
            tops.append(np.argpartition(-s, TOP)[:TOP])
        return tops

    ours_bm25()
    _, bm25_time = _timed(ours_bm25)
    out["rank_all_parks"] = {"parks": len(parks), "top": TOP, "first_seconds": round(first, 3),
                             "warm_seconds": round(second, 3), "bm25_only_seconds": round(bm25_time, 3)}

    # -- single-profile score latency (warm)
    profiles = [{"企业名称": a, "经营范围": b, "企业简介": c} for a, b, c in synth.texts(SCORE_SAMPLE + 1, seed=99)]
    score_profile(profiles[0], store=store)
    lat = []
    for p in profiles[1:]:
        _, secs = _timed(score_profile, p, store=store)
        lat.append(secs * 1000)
    q = statistics.quantiles(lat, n=20)
    out["score_ms"] = {"p50": round(statistics.median(lat), 2), "p95": round(q[18], 2), "n": len(lat)}
    out["peak_rss_mb"] = round(_rss_mb(), 1)
    out["peak_rss_workers_mb"] = round(_rss_mb(resource.RUSAGE_CHILDREN), 1)

    # -- analysis alone: tokens, the engine's backend (serial and workers) vs pure jieba on a sample
    texts = synth.texts(n)
    fast = get_analyzer()
    ours_sample = firm_token_strings(sample)
    serial_n = min(n, 100_000)
    _, secs = _timed(firm_token_strings, texts[:serial_n])
    serial_rate = serial_n / secs
    with ChunkPool() as pool:
        _, secs = _timed(lambda: sum(1 for _ in pool.map(firm_token_strings, texts)))
        workers = pool.workers
    parallel_rate = n / secs
    jieba = get_analyzer("jieba")
    jieba_tokens, secs = _timed(lambda: [" ".join(jieba.firm_tokens(*t)) for t in sample])
    jieba_rate = len(sample) / secs
    mismatches = sum(a != b for a, b in zip(ours_sample, jieba_tokens, strict=True))
    knowledge_base()
    from matcher.ingest import _analyze_chunk

    rows = [{"name": a, "scope": b, "intro": c, "industry": None} for a, b, c in texts[:serial_n]]
    _, secs = _timed(parallel_map, _analyze_chunk, rows)
    out["analysis"] = {
        "backend": fast.backend, "workers": workers,
        "serial_firms_per_s": round(serial_rate), "parallel_firms_per_s": round(parallel_rate),
        "jieba_firms_per_s": round(jieba_rate), "jieba_sample": len(sample),
        "jieba_seconds_extrapolated": round(n / jieba_rate, 1), "ours_seconds": round(n / parallel_rate, 1),
        "speedup_vs_jieba": round(parallel_rate / jieba_rate, 1),
        "serial_speedup_vs_jieba": round(serial_rate / jieba_rate, 1),
        "tokens_identical_on_sample": mismatches == 0, "mismatches": mismatches,
        "with_industry_codes_firms_per_s": round(serial_n / secs),
    }
    rows, texts = [], []  # free them before the baseline

    # -- baseline: bm25s over the same tokens and query terms
    import bm25s
    from sqlalchemy import select

    canon: dict[str, str] = {}  # one string object per term: 10^6 documents of token lists fit in memory
    with store.engine.connect() as conn:
        corpus = [[canon.setdefault(t, t) for t in (r.tokens or "").split()]
                  for r in conn.execute(select(Enterprise.tokens).order_by(Enterprise.id))]
    retriever = bm25s.BM25(k1=config.k1, b=config.b, method="lucene")
    _, bm25s_build = _timed(retriever.index, corpus, show_progress=False)
    del corpus
    _, bm25s_query = _timed(retriever.retrieve, queries, k=TOP, show_progress=False, n_threads=1)
    out["bm25s"] = {"build_seconds": round(bm25s_build, 2), "retrieve_all_parks_seconds": round(bm25s_query, 3)}
    out["loadavg_end"] = os.getloadavg()
    return out


def table(results: list[dict]) -> str:
    lines = [
        "| firms | ingest + analysis | analysis (tokens) vs pure jieba | index build / load | rank all 9 parks, "
        "top 50 (first / warm) | BM25 top 50, all parks: ours vs bm25s | score one firm p50 / p95 | peak RSS |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        a, ix, rk, b = r["analysis"], r["index"], r["rank_all_parks"], r["bm25s"]
        lines.append(
            f"| {r['firms']:,} | {r['ingest']['firms_per_s']:,} firms/s ({r['ingest']['seconds']:.0f} s) "
            f"| {a['parallel_firms_per_s']:,} vs {a['jieba_firms_per_s']:,} firms/s (**{a['speedup_vs_jieba']}x**"
            f"{', identical' if a['tokens_identical_on_sample'] else ', DIFFERENT'}) "
            f"| {ix['build_seconds']:.1f} s / {ix['load_seconds']:.2f} s "
            f"| {rk['first_seconds']:.2f} / {rk['warm_seconds']:.2f} s "
            f"| {rk['bm25_only_seconds']:.2f} s vs {b['retrieve_all_parks_seconds']:.2f} s "
            f"(index {ix['build_seconds']:.0f} s vs {b['build_seconds']:.0f} s) "
            f"| {r['score_ms']['p50']:.1f} / {r['score_ms']['p95']:.1f} ms "
            f"| {r['peak_rss_mb'] / 1024:.2f} GB |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated numbers of firms")
    ap.add_argument("--out", default=str(HERE / "results.json"), help="JSON results (default benchmarks/results.json)")
    ap.add_argument("--workdir", default=None, help="folder for generated files and stores (default: a temp dir)")
    ap.add_argument("--table", metavar="FILE.json", help="only print the Markdown table of a results file")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: run one size in this process
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.table:
        print(table(json.loads(Path(args.table).read_text(encoding="utf-8"))["results"]))
        return
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="matcher-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    if args.one:
        Path(args.result).write_text(json.dumps(run_one(args.one, workdir)), encoding="utf-8")
        return
    results = []
    for n in (int(s.replace("_", "")) for s in args.sizes.split(",")):
        result_file = workdir / f"result_{n}.json"
        print(f"benchmark: {n:,} firms ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, __file__, "--one", str(n), "--workdir", str(workdir),
                        "--result", str(result_file)], check=True)
        results.append(json.loads(result_file.read_text(encoding="utf-8")))
        print(json.dumps(results[-1], ensure_ascii=False), file=sys.stderr, flush=True)
    import numpy
    import rjieba  # noqa: F401

    report = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                          "numpy": numpy.__version__},
              "method": "see benchmarks/run.py docstring; pure jieba measured on a 5,000-profile sample and "
                        "extrapolated linearly to N",
              "results": results}
    Path(args.out).write_text(json.dumps(report, ensure_ascii=False, indent=1), encoding="utf-8")
    print(table(results))


if __name__ == "__main__":
    main()
