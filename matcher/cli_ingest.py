"""``matcher ingest``: load company-data exports into the store (thin: parse, one library call, print)."""

from __future__ import annotations

import click

from .columns import FIELDS, parse_map_options
from .ingest import IngestReport, ingest_files

__all__ = ["ingest_command"]


def _summary(reports: list[IngestReport]) -> str:
    cols = ("read", "inserted", "updated", "unchanged", "duplicates", "rejected")
    heads = ("file", *cols, "seconds")
    rows = [(r.path, *(str(getattr(r, c)) for c in cols), f"{r.seconds:.1f}") for r in reports]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(heads)]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(heads, widths, strict=True)))]
    for row in rows:
        lines.append("  ".join(v.ljust(w) if i == 0 else v.rjust(w) for i, (v, w) in enumerate(zip(row, widths, strict=True))))
    return "\n".join(lines)


@click.command("ingest", epilog=f"Fields for --map: {', '.join(FIELDS)}.")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--sheet", help="XLSX sheet name or 1-based number (default: the first sheet).")
@click.option("--map", "maps", multiple=True, metavar="源列=field",
              help="Map a column to a field when its header is not recognised, e.g. --map 公司全称=name (repeatable).")
@click.option("--skip-invalid", is_flag=True,
              help="Write the good rows and save the bad ones to <file>.rejects.csv instead of refusing the file.")
@click.option("--dry-run", is_flag=True, help="Validate and count, write nothing.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
@click.pass_context
def ingest_command(ctx: click.Context, files: tuple[str, ...], sheet: str | None, maps: tuple[str, ...],
                   skip_invalid: bool, dry_run: bool, no_progress: bool) -> None:
    """Load company-data exports (CSV / XLSX / JSON Lines from 企查查, 天眼查, 启信宝 ...) into the store.

    Columns are recognised by their headers (企业名称, 统一社会信用代码, 注册资本, 经营范围 ...); unknown
    columns are kept. Firms are matched by 统一社会信用代码, else by name and province, so re-ingesting a
    newer export updates firms and never duplicates them. Each file is one transaction: a file with a bad
    row changes nothing (use --skip-invalid to load the good rows).

    \b
    Example:
      matcher ingest data/sample_firms.csv 企查查导出.xlsx --map 公司全称=name
    """
    mapping = parse_map_options(maps)  # a MatcherError here or below: one line, exit 2 (matcher.cli.main)
    store = ctx.obj["store"]()
    reports = ingest_files(store, files, mapping=mapping, sheet=sheet, skip_invalid=skip_invalid,
                           dry_run=dry_run, progress=not no_progress)
    click.echo(_summary(reports))
    for r in reports:
        if r.rejects_path:
            click.echo(f"{r.path}: {r.rejected} bad row(s) saved to {r.rejects_path}", err=True)
    if dry_run:
        click.echo("dry run: nothing was written", err=True)
