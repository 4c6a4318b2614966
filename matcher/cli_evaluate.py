"""``matcher evaluate``: measure match quality on a benchmark directory against BM25 and TF-IDF."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import click

__all__ = ["evaluate_command"]

_MODES = {"text": ("text",), "text+industry": ("text+industry",), "both": ("text", "text+industry")}


@click.command("evaluate")
@click.option("--bench", "bench_dir", required=True, type=click.Path(path_type=Path),
              help="Benchmark directory with firms.csv, queries.csv and qrels.csv.")
@click.option("--mode", type=click.Choice(list(_MODES)), default="both", show_default=True,
              help="What the engine sees: text (name, description, province), text+industry (also 所属行业), "
                   "or both, one after the other.")
@click.option("--k", type=click.IntRange(min=1), default=50, show_default=True, help="Cut-off of NDCG@k.")
@click.option("--without", multiple=True, metavar="COMPONENT",
              help="Also run the engine with this component off (text, industry, structured, expansion; join "
                   "several with +). Repeatable: one ablation each.")
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Engine configuration (TOML) to evaluate (default: the one given to `matcher --config`, "
                   "else the built-in defaults).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write the full report as JSON here.")
@click.option("--plot", type=click.Path(dir_okay=False, path_type=Path),
              help="Draw per-query NDCG bars, engine vs BM25, into this PNG file.")
@click.option("--quiet", "-q", is_flag=True, help="No progress lines on stderr.")
@click.pass_context
def evaluate_command(ctx: click.Context, bench_dir: Path, mode: str, k: int, without: tuple[str, ...], config_path: Path | None,
                     out: Path | None, plot: Path | None, quiet: bool) -> None:
    """Measure match quality on a relevance benchmark, beside BM25 and TF-IDF baselines, in one run.

    Prints NDCG@k, P@20, Recall@100 and AP per query and as macro means for the engine, each
    baseline and the engine's ratio to BM25, with speed figures. The engine never reads qrels.csv.

    \b
    Example:
      matcher evaluate --bench ../shared/bench --mode both --out report.json --plot ndcg.png
      matcher evaluate --bench ../shared/bench --mode text --without industry --without structured
    """
    import jieba  # jieba sets its logger to DEBUG when first imported: quieten it after the import

    from .config import MatchConfig
    from .evaluate import evaluate_bench, format_report

    jieba.setLogLevel(logging.WARNING)
    if config_path:
        config = MatchConfig.from_toml(config_path)
    elif isinstance(ctx.obj, dict) and callable(ctx.obj.get("config")):
        config = ctx.obj["config"]()  # the group's --config, or the defaults
    else:
        config = None
    progress = None if quiet else (lambda msg: click.echo(msg, err=True))
    report = evaluate_bench(bench_dir, modes=_MODES[mode], k=k, without=without, config=config, progress=progress)
    click.echo(format_report(report))
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        click.echo(f"report written to {out}")
    if plot:
        from .plotting import plot_ndcg_per_query

        click.echo(f"chart written to {plot_ndcg_per_query(report, plot)}")
