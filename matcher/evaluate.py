"""Evaluation harness: the engine against BM25 and TF-IDF baselines on a relevance benchmark, in one run.

A benchmark directory holds ``firms.csv`` (code, name, description[, province, industry]), ``queries.csv``
(query_id, [park,] text) and ``qrels.csv`` (query_id, code, relevance); anything else in it is ignored.
The engine sees the firms through :func:`matcher.ingest.ingest_dataframe` (a temporary SQLite store per
mode) and each query's ``text`` as a park description; it never sees ``qrels.csv``, labels or targets.

Modes: ``text`` gives the engine 企业名称, 企业简介 and 所属省份; ``text+industry`` adds 所属行业.
The baselines (:mod:`matcher.baselines`, whose docstring gives the exact formulas, tokenisation and the
figures on ../shared/bench) see name + description in both modes as plain jieba tokens:

- **bm25**: Okapi BM25, k1 = 1.5, b = 0.75, with the Lucene (non-negative) idf.
- **tfidf**: cosine of scikit-learn ``TfidfVectorizer`` (default settings) vectors of the same tokens.

Baseline ties (mostly firms with score 0) keep the order of ``firms.csv``. Every baseline ranks every firm;
firms the engine does not return count as not retrieved (zero precision in AP, outside every top k).
Metrics: :mod:`matcher.metrics`. Queries without a relevant firm are left out of the macro means.

The report (``--out``, JSON) has one key per mode (``text``, ``text+industry``) and nothing else::

    {"<mode>": {
        "systems": {"<system>": {            # engine, engine_without_<component>, bm25, tfidf
            "macro": {"ndcg@50": .., "p@20": .., "recall@100": .., "map": ..},   # means over scored queries
            "per_query": {"q01": {same keys; "map" is that query's AP}, ...},
            "ratio_to_bm25": {"macro": {..}, "per_query": {"q01": {..}}},       # engine systems; null if BM25 = 0
            "speed": {"firms", "firms_per_second", "ingest_seconds" (engine) | "analyse_seconds" and
                      "index_seconds" (baselines), "rank_seconds", "first_query_seconds" (engine), "queries",
                      "seconds_per_query"}}},
        "ablations": {"<component>": {"system": .., "components_off": [..],
                                      "contribution": {metric: engine minus engine without it}}},
        "queries": {"q01": {"park": .., "text": .., "n_relevant": ..}},
        "bench": {"path", "firms", "queries", "queries_scored", "k", "metrics"},
        "config": {MatchConfig as a dict}, "warnings": [..]}}

``k`` other than 50 renames ``ndcg@50`` to ``ndcg@{k}``. Figures are rounded to 6 decimals, times to 4.
"""

from __future__ import annotations

import importlib.util
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .baselines import BM25Baseline, TfidfBaseline, _run_baselines
from .baselines import baseline_tokens as baseline_tokens  # re-exported: tests import it from matcher.evaluate
from .config import MatchConfig
from .errors import InputError
from .export import display_width
from .metrics import ranking_metrics

__all__ = ["BM25Baseline", "TfidfBaseline", "Bench", "evaluate_bench", "format_report", "load_bench", "MODES"]

MODES = ("text", "text+industry")
EngineFn = Callable[..., pd.DataFrame]
_REQUIRED = {
    "firms.csv": ("code", "name", "description"),
    "queries.csv": ("query_id", "text"),
    "qrels.csv": ("query_id", "code", "relevance"),
}


# ---------------------------------------------------------------------------------------------- bench
@dataclass
class Bench:
    """A loaded benchmark: firms and queries as string DataFrames, relevant codes per query."""

    path: Path
    firms: pd.DataFrame
    queries: pd.DataFrame
    relevant: dict[str, set[str]]
    warnings: list[str]


def _read_csv(path: Path, columns: Sequence[str]) -> pd.DataFrame:
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{path}: not a readable UTF-8 CSV file with a header ({exc})") from None
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {', '.join(missing)}; it has {', '.join(df.columns)}")
    return df.map(str.strip)


def _no_duplicates(df: pd.DataFrame, column: str, path: Path) -> None:
    dup = df[column].duplicated(keep=False)
    if dup.any():
        rows = [i + 2 for i in np.flatnonzero(dup.to_numpy())][:5]
        raise InputError(f"{path}: {column} {df[column][dup].iloc[0]!r} appears more than once (lines {rows}); "
                         f"each {column} must be unique")


def load_bench(bench_dir: str | Path) -> Bench:
    """Read and check a benchmark directory (see the module docstring); errors name the file and the fix."""
    path = Path(bench_dir)
    if not path.is_dir():
        raise InputError(f"{path}: no such benchmark directory; give the folder holding firms.csv, queries.csv "
                         "and qrels.csv")
    absent = [name for name in _REQUIRED if not (path / name).is_file()]
    if absent:
        raise InputError(
            f"benchmark directory {path} has no {', '.join(absent)}: it needs firms.csv (code, name, description"
            "[, province, industry]), queries.csv (query_id, text) and qrels.csv (query_id, code, relevance)")
    firms = _read_csv(path / "firms.csv", _REQUIRED["firms.csv"])
    queries = _read_csv(path / "queries.csv", _REQUIRED["queries.csv"])
    qrels = _read_csv(path / "qrels.csv", _REQUIRED["qrels.csv"])
    if firms.empty or queries.empty:
        raise InputError(f"{path}: firms.csv and queries.csv need at least one row each")
    _no_duplicates(firms, "code", path / "firms.csv")
    _no_duplicates(queries, "query_id", path / "queries.csv")
    bad = firms.index[firms["code"] == ""].tolist() + queries.index[queries["text"] == ""].tolist()
    if bad:
        which = "firms.csv column code" if (firms["code"] == "").any() else "queries.csv column text"
        raise InputError(f"{path}: {which} is empty on line {bad[0] + 2}; every row needs one")
    if "park" not in queries.columns:
        queries["park"] = queries["query_id"]
    rel_num = pd.to_numeric(qrels["relevance"], errors="coerce")
    if rel_num.isna().any():
        line = int(np.flatnonzero(rel_num.isna().to_numpy())[0]) + 2
        raise InputError(f"{path / 'qrels.csv'} line {line}: relevance {qrels['relevance'].iloc[line - 2]!r} "
                         "is not a number (use 1 for relevant, 0 for not)")
    positive = qrels[rel_num > 0]
    relevant = {qid: set(group["code"]) for qid, group in positive.groupby("query_id")}
    warnings = []
    unknown_q = sorted(set(qrels["query_id"]) - set(queries["query_id"]))
    if unknown_q:
        warnings.append(f"qrels.csv names queries not in queries.csv (ignored): {', '.join(unknown_q[:10])}")
    unknown_f = set(positive["code"]) - set(firms["code"])
    if unknown_f:
        warnings.append(f"qrels.csv marks {len(unknown_f)} codes relevant that are not in firms.csv; they count "
                        f"as relevant and never retrieved (e.g. {sorted(unknown_f)[0]})")
    for qid in queries["query_id"]:
        if not relevant.get(qid):
            warnings.append(f"query {qid} has no relevant firm in qrels.csv: left out of all figures")
    return Bench(path=path, firms=firms.reset_index(drop=True), queries=queries.reset_index(drop=True),
                 relevant=relevant, warnings=warnings)


# --------------------------------------------------------------------------------------------- engine
def _default_engine() -> EngineFn | None:
    if importlib.util.find_spec("matcher.rank") is None or importlib.util.find_spec("matcher.ingest") is None:
        return None
    from .rank import rank_text

    return rank_text


def _bench_frame(firms: pd.DataFrame, mode: str) -> pd.DataFrame:
    blank_to_none = lambda s: s.where(s != "", None)  # noqa: E731 - missing is missing, not ""
    df = pd.DataFrame({"企业名称": firms["name"], "企业简介": firms["description"],
                       "所属省份": blank_to_none(firms["province"]) if "province" in firms else None})
    if mode == "text+industry":
        if "industry" not in firms:
            raise InputError("firms.csv has no industry column: mode text+industry needs one (or use --mode text)")
        df["所属行业"] = blank_to_none(firms["industry"])
    df["code"] = firms["code"]
    return df


def _run_engine(bench: Bench, mode: str, engine: EngineFn, configs: dict[str, MatchConfig],
                say: Callable[[str], None], warnings: list[str]) -> dict[str, dict[str, Any]]:
    from sqlalchemy import select

    from .analyze import get_analyzer
    from .ingest import ingest_dataframe
    from .store import Enterprise, open_store

    n_firms = len(bench.firms)
    out: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="matcher-eval-") as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.db")
        try:
            say(f"engine [{mode}]: ingesting {n_firms} firms into a temporary store")
            df = _bench_frame(bench.firms, mode)
            get_analyzer()  # the tokenizer's dictionary load is not analysis throughput
            t0 = time.perf_counter()
            ingest_dataframe(store, df, source=f"{bench.path / 'firms.csv'} ({mode})", skip_invalid=True)
            t_ingest = time.perf_counter() - t0
            with store.engine.connect() as conn:
                id_to_code = {i: str(c).strip() for i, c in conn.execute(select(Enterprise.id, Enterprise.external_id))
                              if c is not None}
            stored = set(id_to_code.values())
            lost = set(bench.firms["code"]) - stored
            if lost or len(id_to_code) != n_firms:
                warnings.append(
                    f"engine [{mode}]: the store holds {len(id_to_code)} firms with a code for {n_firms} rows of "
                    f"firms.csv; {len(lost)} codes are missing (merged or rejected at ingest, e.g. "
                    f"{', '.join(sorted(lost)[:3]) or '-'}) and count as never retrieved")
            speed_base = {"firms": n_firms, "ingest_seconds": t_ingest,
                          "firms_per_second": n_firms / max(t_ingest, 1e-9)}
            for system, config in configs.items():
                say(f"engine [{mode}]: ranking {len(bench.queries)} queries ({system})")
                rankings: dict[str, list[str]] = {}
                times = []
                for qid, text in zip(bench.queries["query_id"], bench.queries["text"], strict=True):
                    t0 = time.perf_counter()
                    result = engine(store, text, config=config, top=None)
                    times.append(time.perf_counter() - t0)
                    rankings[qid] = _engine_ids(result, id_to_code, qid, system, warnings)
                out[system] = {"rankings": rankings, "speed": {
                    **speed_base, "rank_seconds": sum(times), "first_query_seconds": times[0] if times else 0.0,
                    "queries": len(times), "seconds_per_query": sum(times) / max(len(times), 1)}}
        finally:
            store.engine.dispose()
    return out


def _engine_ids(result: pd.DataFrame, id_to_code: dict[int, str], qid: str, system: str,
                warnings: list[str]) -> list[str]:
    if "enterprise_id" in result:
        codes = [id_to_code.get(int(i)) for i in result["enterprise_id"]]
    elif "external_id" in result:
        codes = [None if c is None else str(c).strip() for c in result["external_id"]]
    else:
        raise InputError(f"the engine returned columns {list(result.columns)}: it needs enterprise_id or external_id")
    clean = [c for c in dict.fromkeys(codes) if c is not None]
    if len(clean) != len(codes):
        warnings.append(f"{system}, query {qid}: {len(codes) - len(clean)} returned rows were repeats or had no "
                        "known firm code (ignored)")
    return clean


# --------------------------------------------------------------------------------------------- report
def _macro(per_query: dict[str, dict[str, float]]) -> dict[str, float]:
    if not per_query:
        return {}
    keys = next(iter(per_query.values())).keys()
    return {key: round(float(np.mean([m[key] for m in per_query.values()])), 6) for key in keys}


def _ratio(a: dict[str, float], b: dict[str, float]) -> dict[str, float | None]:
    return {key: (round(a[key] / b[key], 4) if b.get(key) else None) for key in a}


def evaluate_bench(bench_dir: str | Path, *, modes: Sequence[str] = ("text",), k: int = 50,
                   without: Sequence[str] = (), config: MatchConfig | None = None,
                   engine: EngineFn | None = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run the engine, its ablations and the baselines on a benchmark; return the JSON report.

    ``modes``: ``text`` and/or ``text+industry``. ``k``: NDCG cut-off. ``without``: one ablation per item,
    a component of ``MatchConfig.components_off`` (``text``, ``industry``, ``structured``, ``expansion``) or
    several joined by ``+``. ``engine``: a function like ``matcher.rank.rank_text(store, text, *, config,
    top)`` (default: that one; when matcher.rank is not installed the report has the baselines only).
    ``progress``: called with one line per step.
    """
    modes = tuple(dict.fromkeys(modes))
    bad = [m for m in modes if m not in MODES]
    if bad or not modes:
        raise InputError(f"unknown mode {bad or '(none)'}: choose text, text+industry or both")
    if k < 1:
        raise InputError(f"k = {k}: the NDCG cut-off must be a positive integer")
    say = progress or (lambda _msg: None)
    bench = load_bench(bench_dir)
    config = config or MatchConfig()
    configs = {"engine": config}
    for spec in without:
        parts = tuple(p.strip() for p in spec.split("+") if p.strip())
        if not parts:
            raise InputError(f"--without {spec!r}: name a component (text, industry, structured, expansion)")
        configs["engine_without_" + "+".join(parts)] = config.replace(
            components_off=tuple(dict.fromkeys(config.components_off + parts)))
    engine = engine or _default_engine()
    scored = [q for q in bench.queries["query_id"] if bench.relevant.get(q)]
    baselines = _run_baselines(bench, say)
    report: dict[str, Any] = {}
    for mode in modes:
        warnings = list(bench.warnings)
        runs: dict[str, dict[str, Any]] = {}
        if engine is None:
            warnings.append("the engine is not available (matcher.rank or matcher.ingest is missing): "
                            "baselines only")
        else:
            runs.update(_run_engine(bench, mode, engine, configs, say, warnings))
        runs.update(baselines)
        systems: dict[str, Any] = {}
        for name, run in runs.items():
            per_query = {q: {key: round(v, 6) for key, v in ranking_metrics(run["rankings"][q], bench.relevant[q],
                                                                             k=k).items()} for q in scored}
            systems[name] = {"macro": _macro(per_query), "per_query": per_query, "speed": _rounded(run["speed"])}
        if "bm25" in systems:
            for name in (s for s in systems if s.startswith("engine")):
                sysd, bm = systems[name], systems["bm25"]
                sysd["ratio_to_bm25"] = {"macro": _ratio(sysd["macro"], bm["macro"]),
                                         "per_query": {q: _ratio(sysd["per_query"][q], bm["per_query"][q])
                                                       for q in scored}}
        ablations = {name.removeprefix("engine_without_"): {
            "system": name, "components_off": list(configs[name].components_off),
            "contribution": {key: round(systems["engine"]["macro"][key] - v, 6)
                             for key, v in systems[name]["macro"].items()}}
            for name in systems if name.startswith("engine_without_")}
        report[mode] = {
            "systems": systems,
            "ablations": ablations,
            "queries": {q: {"park": p, "text": t, "n_relevant": len(bench.relevant.get(q, ()))}
                        for q, p, t in zip(bench.queries["query_id"], bench.queries["park"], bench.queries["text"],
                                           strict=True)},
            "bench": {"path": str(bench.path), "firms": len(bench.firms), "queries": len(bench.queries),
                      "queries_scored": len(scored), "k": k, "metrics": [f"ndcg@{k}", "p@20", "recall@100", "map"]},
            "config": config.to_dict(),
            "warnings": warnings,
        }
    return report


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {key: round(v, 4) if isinstance(v, float) else v for key, v in d.items()}


# ------------------------------------------------------------------------------------------ terminal
def _table(header: list[str], rows: list[list[str]], left: int = 1,
           groups: list[tuple[str, int]] | None = None) -> list[str]:
    """Aligned columns (East Asian wide characters count double); the first ``left`` columns align left.
    ``groups``: (label, number of columns) spanning the header, printed above it."""
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = []
    if groups:
        i = 0
        for label, span in groups:  # widen a group's last column when its label is wider than the columns
            i += span
            widths[i - 1] += max(0, display_width(label) + 2 - (sum(widths[i - span:i]) + 2 * (span - 1)))
        cells, i = [], 0
        for label, span in groups:
            w = sum(widths[i:i + span]) + 2 * (span - 1)
            i += span
            cells.append(label.center(w, "-" if label else " ") if label else " " * w)
        lines.append("  ".join(cells).rstrip())
    for n, row in enumerate([header, *rows]):
        cells = [c + " " * (w - display_width(c)) if i < left else " " * (w - display_width(c)) + c
                 for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append("  ".join(cells).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def _num(x: float | None, fmt: str = ".3f") -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, fmt)


def format_report(report: dict[str, Any]) -> str:
    """The report as readable aligned text tables: macro means, per query, speed, ablations, warnings."""
    out: list[str] = []
    for mode, rep in report.items():
        systems, b = rep["systems"], rep["bench"]
        keys = b["metrics"]
        labels = dict(zip(keys, [keys[0].replace("ndcg", "NDCG"), "P@20", "R@100", "MAP"], strict=True))
        out.append(f"== mode {mode}: {b['firms']} firms, {b['queries_scored']} of {b['queries']} queries scored ==")
        rows = []
        for name, s in systems.items():
            ratio = s.get("ratio_to_bm25", {}).get("macro", {})
            cells = [_num(s["macro"].get(key)) for key in keys]
            rows.append([name, *cells, *(_num(ratio.get(key), ".2f") for key in keys)] if ratio else
                        [name, *cells] + ["" for _ in keys])
        out += _table(["system", *(labels[key] for key in keys), *(f"{labels[key]}/BM25" for key in keys)], rows)
        if rep["ablations"]:
            out += ["", "component contributions (engine minus engine without it, macro means):"]
            out += _table(["without", *(labels[key] for key in keys)],
                          [[name, *(_num(a["contribution"][key], "+.3f") for key in keys)]
                           for name, a in rep["ablations"].items()])
        full = [s for s in systems if not s.startswith("engine_without_")]  # all four figures each
        ablated = [s for s in systems if s.startswith("engine_without_")]  # NDCG only, to stay readable
        ratio_col = "engine" in systems and "bm25" in systems
        groups = [("", 2), *((name, len(keys)) for name in full)]
        groups += ([("without", len(ablated))] if ablated else []) + ([("engine/bm25", 1)] if ratio_col else [])
        short = {keys[0]: "NDCG", "p@20": "P@20", "recall@100": "R@100", "map": "AP"}
        header = ["query", "park", *(short[key] for _ in full for key in keys),
                  *(s.removeprefix("engine_without_") for s in ablated)] + (["NDCG"] if ratio_col else [])
        prow = []
        for q, meta in rep["queries"].items():
            if q not in systems[full[0]]["per_query"]:
                continue
            row = [q, meta["park"], *(_num(systems[s]["per_query"][q][key]) for s in full for key in keys),
                   *(_num(systems[s]["per_query"][q][keys[0]]) for s in ablated)]
            if ratio_col:
                row.append(_num(systems["engine"]["ratio_to_bm25"]["per_query"][q][keys[0]], ".2f"))
            prow.append(row)
        out += ["", f"per query ({labels[keys[0]]}, P@20, R@100, AP; ablations: {labels[keys[0]]}):"]
        out += _table(header, prow, left=2, groups=groups)
        out += ["", "speed:"]
        for name, s in systems.items():
            sp = s["speed"]
            if name.startswith("engine_without_"):
                out.append(f"  {name}: ranked {sp['queries']} queries in {sp['rank_seconds']:.2f} s")
            elif "ingest_seconds" in sp:
                out.append(f"  {name}: ingest + analysis {sp['firms_per_second']:.0f} firms/s "
                           f"({sp['ingest_seconds']:.2f} s); ranked {sp['queries']} queries in "
                           f"{sp['rank_seconds']:.2f} s (first query {sp['first_query_seconds']:.2f} s)")
            else:
                out.append(f"  {name}: tokenised {sp['firms_per_second']:.0f} firms/s ({sp['analyse_seconds']:.2f} s), "
                           f"index {sp['index_seconds']:.2f} s; ranked {sp['queries']} queries in "
                           f"{sp['rank_seconds']:.3f} s")
        out += [f"warning: {w}" for w in rep["warnings"]]
        out.append("")
    return "\n".join(out).rstrip() + "\n"
