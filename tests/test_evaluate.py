"""The evaluation harness: a tiny benchmark built here, a fake engine, baselines checked against references."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from matcher import evaluate as ev
from matcher.config import MatchConfig
from matcher.errors import InputError, MatcherError
from matcher.evaluate import BM25Baseline, TfidfBaseline, baseline_tokens, evaluate_bench, format_report, load_bench

FIRMS = [
    ("c1", "一汽解放", "生产商用货车、专用车及汽车零部件。", "吉林", "C36汽车制造业"),
    ("c2", "长城汽车", "制造汽车及汽车零部件，销售乘用车。", "河北", "C36汽车制造业"),
    ("c3", "恒瑞医药", "研发生产化学药和生物制药产品。", "江苏", "C27医药制造业"),
    ("c4", "云南白药", "生产中药和医药健康产品。", "云南", "C27医药制造业"),
    ("c5", "顺丰控股", "提供快递和现代物流服务。", "广东", "G60邮政业"),
    ("c6", "海螺水泥", "生产和销售水泥及建材产品。", "", ""),
]
QUERIES = [("q1", "园区甲", "专用车及汽车零部件"), ("q2", "园区乙", "医药健康"), ("q3", "园区丙", "现代物流业"),
           ("q4", "园区丁", "文化旅游")]
QRELS = [("q1", "c1", 1), ("q1", "c2", 1), ("q2", "c3", 1), ("q2", "c4", 1), ("q2", "c5", 0), ("q3", "c5", 1)]
ANSWERS = {"专用车及汽车零部件": ["c1", "c2"], "医药健康": ["c4", "c3"], "现代物流业": ["c5"], "文化旅游": []}


def write_bench(path: Path, firms=FIRMS, queries=QUERIES, qrels=QRELS) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(firms, columns=["code", "name", "description", "province", "industry"]).to_csv(
        path / "firms.csv", index=False)
    pd.DataFrame(queries, columns=["query_id", "park", "text"]).to_csv(path / "queries.csv", index=False)
    pd.DataFrame(qrels, columns=["query_id", "code", "relevance"]).to_csv(path / "qrels.csv", index=False)
    (path / "labels.csv").write_text("code,label\nc1,secret\n", encoding="utf-8")  # must be ignored
    return path


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    return write_bench(tmp_path / "bench")


class FakeEngine:
    """Knows the right answers by query text; worse (reversed) when the industry component is off.
    Records what it was given, so tests can check what the engine sees."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.firms: list[dict] = []

    def __call__(self, store, text, *, config, top=None):
        from matcher.store import Enterprise

        assert top is None
        self.calls.append((text, config.components_off))
        with store.engine.connect() as conn:
            rows = conn.execute(select(Enterprise.id, Enterprise.external_id, Enterprise.industry,
                                       Enterprise.province)).mappings().all()
        self.firms = [dict(r) for r in rows]
        by_code = {r["external_id"]: r["id"] for r in rows}
        codes = [c for c in ANSWERS[text] if c in by_code] + sorted(c for c in by_code if c not in ANSWERS[text])
        if "industry" in config.components_off:
            codes = codes[::-1]
        return pd.DataFrame({"enterprise_id": [by_code[c] for c in codes], "external_id": codes,
                             "score": np.linspace(1, 0, len(codes))})


# ------------------------------------------------------------------------------------------ loading
@pytest.mark.parametrize("missing", ["firms.csv", "queries.csv", "qrels.csv"])
def test_refuses_directory_without_a_needed_file(bench: Path, missing: str) -> None:
    (bench / missing).unlink()
    with pytest.raises(InputError, match=missing.replace(".", r"\.")) as err:
        evaluate_bench(bench, engine=FakeEngine())
    assert str(bench) in str(err.value) and "needs firms.csv" in str(err.value)


def test_refuses_missing_directory_and_bad_files(tmp_path: Path, bench: Path) -> None:
    with pytest.raises(InputError, match="no such benchmark directory"):
        load_bench(tmp_path / "nowhere")
    pd.DataFrame({"code": ["c1"], "name": ["甲"]}).to_csv(bench / "firms.csv", index=False)
    with pytest.raises(InputError, match=r"firms\.csv: missing column\(s\) description"):
        load_bench(bench)
    write_bench(bench, firms=[*FIRMS, FIRMS[0]])
    with pytest.raises(InputError, match="code 'c1' appears more than once"):
        load_bench(bench)
    write_bench(bench, qrels=[("q1", "c1", "yes")])
    with pytest.raises(InputError, match="relevance 'yes' is not a number"):
        load_bench(bench)
    write_bench(bench)
    with pytest.raises(InputError, match="unknown mode"):
        evaluate_bench(bench, modes=("fulltext",), engine=FakeEngine())


def test_load_bench_reads_codes_as_text(tmp_path: Path) -> None:
    firms = [("000004", "国农科技", "开发生物制药。", "广东", "")]
    b = load_bench(write_bench(tmp_path / "b", firms=firms, qrels=[("q1", "000004", 1)]))
    assert b.firms["code"].tolist() == ["000004"]
    assert b.relevant == {"q1": {"000004"}}
    assert any("q2 has no relevant firm" in w for w in b.warnings)


# ---------------------------------------------------------------------------------------- baselines
def test_bm25_equals_the_formula_by_hand() -> None:
    docs = [["汽车", "零部件", "汽车"], ["医药", "健康"], ["汽车", "物流", "服务", "服务"], ["水泥"]]
    query = ["汽车", "服务", "汽车", "不存在"]
    got = BM25Baseline(k1=1.5, b=0.75).fit(docs).scores(query)
    n, avg = len(docs), sum(map(len, docs)) / len(docs)
    want = []
    for d in docs:
        tf, s = Counter(d), 0.0
        for t in query:
            df = sum(t in x for x in docs)
            if df:
                idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
                s += idf * tf[t] * 2.5 / (tf[t] + 1.5 * (1 - 0.75 + 0.75 * len(d) / avg))
        want.append(s)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    assert BM25Baseline().fit(docs).scores(["没有"]).tolist() == [0.0] * 4


def test_bm25_agrees_with_bm25s_lucene() -> None:
    bm25s = pytest.importorskip("bm25s")
    texts = [n + d for _, n, d, _, _ in FIRMS]
    docs = [baseline_tokens(t) for t in texts]
    vocab = {t: i for i, t in enumerate(sorted({t for d in docs for t in d}))}
    ref = bm25s.BM25(k1=1.5, b=0.75, method="lucene")
    ref.index(bm25s.tokenization.Tokenized(ids=[[vocab[t] for t in d] for d in docs], vocab=vocab),
              show_progress=False)
    ours = BM25Baseline(k1=1.5, b=0.75).fit(docs)
    for q in ("专用车及汽车零部件", "医药健康产品", "现代物流"):
        tokens = baseline_tokens(q)
        # bm25s leaves out the constant factor (k1 + 1) of the numerator: same ranking, scores / 2.5
        np.testing.assert_allclose(ours.scores(tokens) / 2.5, ref.get_scores([vocab[t] for t in tokens if t in vocab]),
                                   rtol=1e-5, atol=1e-6)


def test_tfidf_is_cosine() -> None:
    docs = [["汽车", "零部件"], ["医药", "健康"], ["汽车", "汽车", "服务"]]
    s = TfidfBaseline().fit(docs).scores(["医药", "健康"])
    assert s.argmax() == 1 and s[1] == pytest.approx(1.0) and s[0] == s[2] == 0.0


def test_baseline_tokens_are_plain_jieba() -> None:
    assert baseline_tokens("医药 健康\t产业") == ["医药", "健康", "产业"]


# -------------------------------------------------------------------------------------- whole run
def test_report_shape_and_values_with_a_fake_engine(bench: Path) -> None:
    engine = FakeEngine()
    report = evaluate_bench(bench, modes=("text", "text+industry"), without=("industry",), engine=engine)
    json.dumps(report)  # plain JSON
    assert list(report) == ["text", "text+industry"]
    for mode in report:
        rep = report[mode]
        assert {"engine", "engine_without_industry", "bm25", "tfidf"} <= set(rep["systems"])
        eng = rep["systems"]["engine"]
        assert set(eng["per_query"]) == {"q1", "q2", "q3"}  # q4 has no relevant firm: left out, with a warning
        assert any("q4" in w for w in rep["warnings"])
        assert eng["macro"] == pytest.approx({"ndcg@50": 1.0, "p@20": (2 + 2 + 1) / 20 / 3, "recall@100": 1.0,
                                              "map": 1.0}, abs=1e-6)
        assert set(eng["per_query"]["q1"]) == {"ndcg@50", "p@20", "recall@100", "map"}
        bm = rep["systems"]["bm25"]["macro"]
        assert eng["ratio_to_bm25"]["macro"]["map"] == pytest.approx(1.0 / bm["map"], rel=1e-3)
        assert set(eng["ratio_to_bm25"]["per_query"]) == {"q1", "q2", "q3"}
        ablation = rep["ablations"]["industry"]
        assert ablation["components_off"] == ["industry"]
        assert ablation["contribution"]["map"] > 0
        speed = eng["speed"]
        assert speed["firms"] == 6 and speed["firms_per_second"] > 0 and speed["queries"] == 4
        assert rep["bench"]["queries_scored"] == 3
    # what the engine saw: query texts only, province always, 所属行业 only in text+industry mode
    assert {t for t, _ in engine.calls} == set(ANSWERS)
    assert {off for _, off in engine.calls} == {(), ("industry",)}
    assert engine.firms and all(f["industry"] is not None for f in engine.firms if f["external_id"] != "c6")
    text_run = evaluate_bench(bench, modes=("text",), engine=engine)
    assert all(f["industry"] is None for f in engine.firms)
    assert {f["province"] for f in engine.firms} >= {"吉林", "广东"}
    assert text_run["text"]["systems"]["bm25"] == report["text"]["systems"]["bm25"] | {
        "speed": text_run["text"]["systems"]["bm25"]["speed"]}


def test_missing_firms_count_as_not_retrieved(bench: Path) -> None:
    def short_engine(store, text, *, config, top=None):  # returns one firm (the first answer) only
        full = FakeEngine()(store, text, config=config)
        return full.head(1)

    rep = evaluate_bench(bench, engine=short_engine)["text"]["systems"]["engine"]["per_query"]
    assert rep["q1"]["map"] == pytest.approx(0.5)  # c1 at rank 1, c2 never retrieved
    assert rep["q1"]["recall@100"] == pytest.approx(0.5)


def test_format_report_is_readable(bench: Path) -> None:
    report = evaluate_bench(bench, modes=("text",), without=("industry+structured",), engine=FakeEngine())
    text = format_report(report)
    for needle in ("mode text", "engine", "bm25", "tfidf", "NDCG@50", "MAP", "q1", "园区甲", "firms/s",
                   "engine_without_industry+structured", "warning: query q4"):
        assert needle in text
    assert report["text"]["ablations"]["industry+structured"]["components_off"] == ["industry", "structured"]


def test_k_sets_the_ndcg_cut_off(bench: Path) -> None:
    report = evaluate_bench(bench, k=1, engine=FakeEngine())
    assert set(report["text"]["systems"]["bm25"]["macro"]) == {"ndcg@1", "p@20", "recall@100", "map"}
    assert "NDCG@1" in format_report(report)


def test_baselines_only_when_the_engine_is_missing(bench: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ev, "_default_engine", lambda: None)
    rep = evaluate_bench(bench)["text"]
    assert set(rep["systems"]) == {"bm25", "tfidf"}
    assert any("engine is not available" in w for w in rep["warnings"])


def test_merged_firms_are_reported(tmp_path: Path) -> None:
    firms = [*FIRMS, ("c7", "一汽解放", "生产商用货车、专用车及汽车零部件。", "吉林", "C36汽车制造业")]
    bench = write_bench(tmp_path / "dup", firms=firms)
    engine = FakeEngine()
    rep = evaluate_bench(bench, engine=engine)["text"]
    stored = {f["external_id"] for f in engine.firms}
    if len(engine.firms) < len(firms) or "c7" not in stored:
        assert any("codes are missing" in w for w in rep["warnings"])
    else:
        assert not any("codes are missing" in w for w in rep["warnings"])


# ---------------------------------------------------------------------------------------------- CLI
def test_cli_writes_json_and_plot(bench: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from matcher.cli_evaluate import evaluate_command

    monkeypatch.setattr(ev, "_default_engine", lambda: FakeEngine())
    out, png = tmp_path / "r.json", tmp_path / "ndcg.png"
    result = CliRunner().invoke(evaluate_command, ["--bench", str(bench), "--mode", "both", "--out", str(out),
                                                   "--plot", str(png), "--without", "industry", "-q"])
    assert result.exit_code == 0, result.output
    assert "NDCG@50" in result.output and "园区甲" in result.output
    report = json.loads(out.read_text(encoding="utf-8"))
    for mode in ("text", "text+industry"):
        for system in ("engine", "bm25", "tfidf"):
            s = report[mode]["systems"][system]
            assert set(s["macro"]) >= {"ndcg@50", "p@20", "recall@100", "map"}
            assert set(s["per_query"]["q1"]) >= {"ndcg@50", "p@20", "recall@100", "map"}
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_lets_library_errors_through(tmp_path: Path) -> None:
    from matcher.cli_evaluate import evaluate_command

    (tmp_path / "queries.csv").write_text("query_id,text\nq1,汽车\n", encoding="utf-8")
    result = CliRunner().invoke(evaluate_command, ["--bench", str(tmp_path), "-q"])
    assert isinstance(result.exception, MatcherError)
    assert "firms.csv" in str(result.exception)
    assert "Example" in CliRunner().invoke(evaluate_command, ["--help"]).output


# ------------------------------------------------------------------------------------ real benchmark
BENCH = Path(os.environ.get("MATCHER_BENCH", Path(__file__).resolve().parents[2] / "shared" / "bench"))


@pytest.mark.bench
@pytest.mark.skipif(not (BENCH / "firms.csv").is_file(), reason=f"no benchmark at {BENCH}")
def test_real_bench_baselines_and_engine() -> None:
    report = evaluate_bench(BENCH, modes=("text", "text+industry"), config=MatchConfig())
    assert report["text"]["systems"]["bm25"]["macro"] == report["text+industry"]["systems"]["bm25"]["macro"]
    rep = report["text"]
    bm = rep["systems"]["bm25"]["macro"]
    # the bench README: BM25 about NDCG@50 0.41, P@20 0.37, MAP 0.25 (this variant: 0.408, 0.359, 0.286, 0.252)
    assert bm["ndcg@50"] == pytest.approx(0.41, abs=0.02)
    assert bm["p@20"] == pytest.approx(0.37, abs=0.02)
    assert bm["map"] == pytest.approx(0.25, abs=0.02)
    assert rep["bench"]["queries_scored"] == 16
    for rep in report.values():
        if "engine" in rep["systems"]:  # every bench firm reached the store under its own code
            assert not [w for w in rep["warnings"] if "codes are missing" in w], rep["warnings"]
            assert set(rep["systems"]["engine"]["per_query"]) == set(rep["systems"]["bm25"]["per_query"])


# ------------------------------------------------------------------------------------------- plotting
def test_cjk_font_warns_once_with_the_fix_when_none_is_found(monkeypatch: pytest.MonkeyPatch) -> None:
    from matcher import plotting

    monkeypatch.setattr(plotting, "CJK_FAMILIES", ("No Such Font",))
    monkeypatch.setattr(plotting, "_CJK_FILE_HINTS", ("nosuchfontfile",))
    plotting.cjk_font.cache_clear()
    try:
        with pytest.warns(UserWarning, match="apt-get install fonts-noto-cjk"):
            assert plotting.cjk_font() is None
        assert plotting.cjk_font() is None  # cached: no second warning (pytest would fail on an unexpected one)
    finally:
        plotting.cjk_font.cache_clear()


def test_plot_uses_a_cjk_font_when_installed(bench: Path, tmp_path: Path) -> None:
    from matcher.plotting import cjk_font, plot_ndcg_per_query

    if cjk_font() is None:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    report = evaluate_bench(bench, modes=("text", "text+industry"), engine=FakeEngine())
    png = plot_ndcg_per_query(report, tmp_path / "sub" / "ndcg.png")
    assert png.stat().st_size > 10_000
