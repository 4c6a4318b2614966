"""The ``matcher`` command line: each command parses, makes one library call, prints.

Library errors (:class:`matcher.errors.MatcherError`) become one line on stderr and exit code 2.
Only this module configures logging (jieba's start-up chatter is silenced).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path
from typing import Any

import click

from .errors import MatcherError


def _db_url(db: str | None) -> str | None:
    if not db:
        return None
    return db if "://" in db else f"sqlite:///{Path(db).expanduser().resolve()}"


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.option("--db", envvar="MATCHER_DB", metavar="URL|FILE",
              help="Database: an SQLAlchemy URL or an SQLite file (default: $MATCHER_DB, else "
                   "~/.local/share/matcher/matcher.db, or under $MATCHER_HOME).")
@click.option("--config", "config_path", type=click.Path(dir_okay=False), metavar="FILE.toml",
              help="Scoring configuration (see `matcher config show`).")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
@click.version_option(package_name="matcher")
@click.pass_context
def cli(ctx: click.Context, db: str | None, config_path: str | None, verbose: int) -> None:
    """Investment-lead matching engine (招商引资线索匹配): rank firms for industrial parks, with reasons.

    \b
    Example, on the built-in sample:
      matcher ingest data/sample_firms.csv
      matcher rank --park 四平经开区 --top 20
    """
    logging.basicConfig(level=[logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)],
                        format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("jieba").setLevel(logging.WARNING)
    url = _db_url(db)
    cache: dict[str, Any] = {}

    def store() -> Any:
        if "store" not in cache:
            from .store import open_store

            cache["store"] = open_store(url)
        return cache["store"]

    def config() -> Any:
        from .config import MatchConfig

        return MatchConfig.from_toml(config_path) if config_path else MatchConfig()

    ctx.obj = {"store": store, "config": config}


def _table(columns: list[str], rows: list[list[Any]], title: str | None = None) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for c in columns:
        table.add_column(c, overflow="fold")
    for r in rows:
        table.add_row(*["" if v is None else str(v) for v in r])
    import shutil

    Console(width=max(100, min(180, shutil.get_terminal_size((140, 40)).columns))).print(table)


# ---------------------------------------------------------------- info
@cli.command()
@click.pass_obj
def info(obj: dict[str, Any]) -> None:
    """Show the database, its contents and the analysis backend.

    \b
    Example:  matcher info
    """
    from . import __version__
    from .analyze import get_analyzer
    from .index import analysis_version
    from .industry import knowledge_base
    from .store import Enterprise, MatchRun, Park

    store = obj["store"]()
    a = get_analyzer()
    kb = knowledge_base()
    n_kw = sum(len(v) for v in kb.keywords.values())
    click.echo(f"matcher {__version__}")
    click.echo(f"database:   {store.url}")
    click.echo(f"index:      {store.index_dir}")
    click.echo(f"firms:      {store.count(Enterprise)}   parks: {store.count(Park)}   runs: {store.count(MatchRun)}")
    click.echo(f"analysis:   backend {a.backend} (jieba-identical tokens), version {analysis_version()}")
    click.echo(f"knowledge:  {len(kb.keywords)} industries with {n_kw} keywords, {len(kb.concepts)} concepts")


# ---------------------------------------------------------------- parks
@cli.group()
def parks() -> None:
    """List, show and import parks (开发区 / 产业园) and their target industries."""


@parks.command("list")
@click.pass_obj
def parks_list(obj: dict[str, Any]) -> None:
    """List the parks.

    \b
    Example:  matcher parks list
    """
    from .parks import ensure_default_parks, list_parks

    store = obj["store"]()
    ensure_default_parks(store)
    _table(["园区", "城市", "主导产业 / 重点承接方向", "目标区域"],
           [[p["name"], f"{p['city'] or ''}{p['district'] or ''}", p["description"], "、".join(p["target_regions"] or [])]
            for p in list_parks(store)])


@parks.command("show")
@click.argument("name")
@click.pass_obj
def parks_show(obj: dict[str, Any], name: str) -> None:
    """Show one park and the industries read from its description.

    \b
    Example:  matcher parks show 四平梨树经开区
    """
    from .industry import code_label, park_industries
    from .parks import ensure_default_parks, find_park

    store = obj["store"]()
    ensure_default_parks(store)
    p = find_park(store, name)
    click.echo(f"{p['name']}  ({'、'.join(p['aliases'] or [])})")
    click.echo(f"位置: {p['province'] or ''} {p['city'] or ''} {p['district'] or ''}  ({p['longitude']}, {p['latitude']})")
    click.echo(f"主导产业: {p['description']}")
    click.echo(f"目标区域: {'、'.join(p['target_regions'] or []) or '(未设)'}")
    if p["notes"]:
        click.echo(f"备注: {p['notes']}")
    ev = park_industries(p["description"], p["pinned_industries"] or ())
    how = "指定 (pinned)" if p["pinned_industries"] else "从描述读取 (read from the description)"
    _table(["行业 (GB/T 4754-2017)", "权重", "依据"],
           [[code_label(c), f"{w:.2f}", "、".join(ev.terms.get(c, [])[:6])] for c, w in ev.weights.items()],
           title=f"行业 — {how}")


@parks.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_obj
def parks_import(obj: dict[str, Any], file: str) -> None:
    """Import or update parks from a YAML, CSV or XLSX file (by park name).

    \b
    Columns: 园区名称, 所在城市, 主导产业 / 重点承接方向, 目标区域, 指定行业, 备注 (or English names).
    Example:  matcher parks import my_parks.xlsx
    """
    from .parks import import_parks, read_park_file

    parks_ = read_park_file(file)
    inserted, updated = import_parks(obj["store"](), parks_, source=str(file))
    click.echo(f"{file}: {len(parks_)} parks read, {inserted} added, {updated} updated")


# ---------------------------------------------------------------- rank
def _print_leads(frame: Any, park: str) -> None:
    rows = [[r.rank, r.name, f"{r.province or ''}{r.city or ''}", f"{r.score:.3f}", r.reason]
            for r in frame.itertuples(index=False)]
    n = frame.attrs.get("n_candidates")
    run = frame.attrs.get("run_id")
    extra = "，".join(x for x in (f"候选 {n} 家" if n is not None else "", f"运行 #{run}" if run else "") if x)
    title = f"{park}：前 {len(frame)} 名线索" + (f"（{extra}）" if extra else "")
    _table(["排名", "企业名称", "地区", "得分", "推荐理由"], rows, title=title)


@cli.command()
@click.option("--park", "park_names", multiple=True, metavar="NAME", help="Park name or alias (repeatable).")
@click.option("--all", "all_parks", is_flag=True, help="Rank for every park.")
@click.option("--top", type=click.IntRange(min=1), default=None, help="How many leads per park [config top: 50].")
@click.option("--region", metavar="R", help="Only firms in this province or region (山东, 长三角 ...).")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE",
              help="Write the leads to .xlsx, .csv or .json (with --all: one sheet / one file per park).")
@click.option("--no-save", is_flag=True, help="Do not store the run in the database.")
@click.pass_obj
def rank(obj: dict[str, Any], park_names: tuple[str, ...], all_parks: bool, top: int | None, region: str | None,
         out: str | None, no_save: bool) -> None:
    """Ranked lead list for a park, with a reason for every firm.

    \b
    Examples:
      matcher rank --park 四平经开区 --top 20
      matcher rank --park 双辽 --region 长三角 --out leads.xlsx
      matcher rank --all --out all_parks.xlsx
    """
    from .parks import ensure_default_parks, find_park, list_parks
    from .rank import rank_leads

    if not park_names and not all_parks:
        raise click.UsageError("name a park with --park NAME, or use --all (see `matcher parks list`)")
    store = obj["store"]()
    config = obj["config"]()
    ensure_default_parks(store)
    targets = list_parks(store) if all_parks else [find_park(store, n) for n in park_names]
    frames = []
    for p in targets:
        frame = rank_leads(p, store=store, config=config, top=top, region=region, save=not no_save)
        frames.append((p["name"], frame))
        if out is None:
            _print_leads(frame, p["name"])
    if out:
        from .export import write_leads

        for path in write_leads(frames, out):
            click.echo(f"wrote {path}")


# ---------------------------------------------------------------- score
@cli.command()
@click.option("--text", metavar="TEXT", help="A firm's 经营范围 / 简介 as free text.")
@click.option("--file", "file_", type=click.Path(dir_okay=False), metavar="FILE",
              help="A profile as JSON (an object of export columns) or a one-row CSV.")
@click.option("--firm", metavar="NAME|CODE", help="A stored firm, by name or 统一社会信用代码.")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE.json", help="Write the parks' scores as JSON.")
@click.pass_obj
def score(obj: dict[str, Any], text: str | None, file_: str | None, firm: str | None, out: str | None) -> None:
    """Score one enterprise against every park: which park fits it, and why.

    \b
    Examples:
      matcher score --text "专用车、冷藏车、厢式运输车的生产与销售"
      matcher score --firm 91220300MA0Y3Q2X1K --out parks.json
    """
    from .profiles import load_profile
    from .rank import score_profile

    given = [x for x in (text, file_, firm) if x]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --text, --file or --firm")
    store = obj["store"]()
    profile = load_profile(store, text=text, file=file_, firm=firm)
    frame = score_profile(profile, store=store, config=obj["config"]())
    if out:
        from .export import lead_records, write_table

        cols = ["rank", "park", "score", "components", "matched_terms", "industry_match", "reason"]
        write_table(frame, out, json_records=lead_records(frame[cols]))
        click.echo(f"wrote {out}")
        return
    inds = "、".join(f"{c}({w:.2f})" for c, w in frame.attrs.get("firm_industries", []))
    _table(["排名", "园区", "得分", "文本", "行业", "推荐理由"],
           [[r.rank, r.park, f"{r.score:.3f}", f"{r.text:.2f}", f"{r.industry:.2f}", r.reason]
            for r in frame.itertuples(index=False)],
           title=f"企业行业：{inds or '(未识别)'}")
    for note in frame.attrs.get("notes", []):
        click.echo(note)


# ---------------------------------------------------------------- runs
@cli.group()
def runs() -> None:
    """Stored ranking runs (each keeps its configuration and leads)."""


@runs.command("list")
@click.option("--park", metavar="NAME", help="Only this park's runs.")
@click.pass_obj
def runs_list(obj: dict[str, Any], park: str | None) -> None:
    """List stored runs, newest first.

    \b
    Example:  matcher runs list --park 四平经开区
    """
    from .runs import list_runs

    frame = list_runs(obj["store"](), park)
    _table(["运行", "时间", "园区", "候选", "线索"],
           [[r.run_id, f"{r.created_at:%Y-%m-%d %H:%M}", r.park, r.n_candidates, r.n_leads]
            for r in frame.itertuples(index=False)])


@runs.command("show")
@click.argument("run_id", type=int)
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE", help="Write the leads to .xlsx/.csv/.json.")
@click.pass_obj
def runs_show(obj: dict[str, Any], run_id: int, out: str | None) -> None:
    """Show (or export) the leads of a stored run.

    \b
    Example:  matcher runs show 3 --out run3.xlsx
    """
    from .runs import run_leads

    frame = run_leads(obj["store"](), run_id)
    if out:
        from .export import write_table

        click.echo(f"wrote {write_table(frame, out)}")
    else:
        _print_leads(frame, frame["park"].iloc[0] if len(frame) else f"run #{run_id}")


# ---------------------------------------------------------------- config
@cli.group("config")
def config_group() -> None:
    """Show or write the scoring configuration (weights, BM25 k1/b, exclusions)."""


@config_group.command("show")
@click.pass_obj
def config_show(obj: dict[str, Any]) -> None:
    """Print the configuration in force as TOML.

    \b
    Example:  matcher config show > my.toml   (then: matcher --config my.toml rank ...)
    """
    click.echo(obj["config"]().to_toml(), nl=False)


# ---------------------------------------------------------------- registration of the other commands
class _LazyCommands(dict[str, Any]):
    """A group's commands by name, some given as ``"module:attribute"`` and imported on first use, so that
    ``matcher score`` does not pay for importing what ``matcher ingest`` needs (start-up speed)."""

    def _load(self, name: str) -> Any:
        value = dict.__getitem__(self, name)
        if isinstance(value, str):
            import importlib

            module, attr = value.split(":")
            value = getattr(importlib.import_module(module, __package__), attr)
            dict.__setitem__(self, name, value)
        return value

    def __getitem__(self, name: str) -> Any:
        return self._load(name)

    def get(self, name: str, default: Any = None) -> Any:
        return self._load(name) if name in self else default

    def items(self) -> Any:
        return [(k, self._load(k)) for k in self]

    def values(self) -> Any:
        return [self._load(k) for k in self]


def _register() -> None:
    commands = _LazyCommands(cli.commands)
    for name, where in (("ingest", ".cli_ingest:ingest_command"), ("evaluate", ".cli_evaluate:evaluate_command"),
                        ("trips", ".cli_trips:trips_command")):
        dict.__setitem__(commands, name, where)
    cli.commands = commands


_register()


def _finish(code: int, fast: bool) -> None:
    """Exit with ``code``. From the console script (``fast``), skip the interpreter's teardown: freeing the
    loaded dictionaries and knowledge base object by object costs ~0.15 s after the answer is printed.
    Everything is written by then (transactions are committed when their block ends); output streams and
    logging are flushed here."""
    if fast:
        import os

        logging.shutdown()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
        os._exit(code)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the console script: MatcherError -> one line on stderr, exit 2."""
    fast = argv is None  # run as the `matcher` command, not called from Python
    try:
        rv = cli.main(args=argv, prog_name="matcher", standalone_mode=False)
    except MatcherError as err:
        click.echo(f"matcher: error: {err}", err=True)
        _finish(2, fast)
    except click.ClickException as err:
        err.show()
        _finish(err.exit_code, fast)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        _finish(130, fast)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        _finish(130, fast)
    else:
        _finish(rv if isinstance(rv, int) else 0, fast)


if __name__ == "__main__":
    main()
