"""``matcher trips``: plan an outreach trip (走出去) from parks' ranked leads (thin: parse, one library call, print)."""

from __future__ import annotations

from typing import Any

import click

__all__ = ["trips_command"]


@click.command("trips")
@click.option("--park", "park_names", multiple=True, metavar="NAME", help="Park name or alias (repeatable).")
@click.option("--parks", metavar="A,B|all", help="Several parks, comma-separated, or `all`: one trip, each firm "
                                                 "pitched for the park it fits best.")
@click.option("--days", type=int, default=5, show_default=True, help="Days of the trip (at most).")
@click.option("--visits-per-day", type=int, default=4, show_default=True, help="Firm visits per day (at most).")
@click.option("--from", "home", default="四平", show_default=True, metavar="CITY", help="Home city the trip starts "
                                                                                     "from and returns to.")
@click.option("--min-score", type=float, default=None, help="Leave out leads scoring below this.")
@click.option("--day-hours", type=float, default=None, help="Hours of travel and visits a day holds [10].")
@click.option("--visit-hours", type=float, default=None, help="Hours one visit takes, local transfer included [1.5].")
@click.option("--fresh", is_flag=True, help="Rank the parks anew even when a stored run exists (the run is stored).")
@click.option("--out", type=click.Path(dir_okay=False), metavar="FILE", help="Write the plan to .xlsx, .md or .json.")
@click.option("--map", "map_path", type=click.Path(dir_okay=False), metavar="FILE.png", help="Draw the route as PNG.")
@click.pass_obj
def trips_command(obj: dict[str, Any], park_names: tuple[str, ...], parks: str | None, days: int, visits_per_day: int,
                  home: str, min_score: float | None, day_hours: float | None, visit_hours: float | None, fresh: bool,
                  out: str | None, map_path: str | None) -> None:
    """Plan an outreach trip (走出去) from the parks' ranked leads: which cities on which days, which firms
    to visit in order, travel legs and time, lead value per day beside a naive baseline, and what was left
    out and why.

    Leads come from each park's latest stored run (`matcher rank`), else from a fresh ranking, which is
    stored. A lead's value is its combined score. Each leg takes the fastest of road, high-speed rail and
    (from 500 km) air; a day holds 10 h of travel and visits (see the README, "Outreach trips").

    \b
    Examples:
      matcher trips --park 四平经开区 --days 5 --out trip.xlsx --map trip.png
      matcher trips --parks 双辽,梨树经开区 --days 4 --visits-per-day 3 --from 四平 --out trip.md
      matcher trips --parks all --min-score 0.6 --out trip.json
    """
    from .trip_export import check_out_path, draw_trip_map, format_trip, write_trip
    from .trips import TravelModel, plan_for_parks

    names = [*park_names, *[n.strip() for n in (parks or "").split(",") if n.strip()]]
    if not names:
        raise click.UsageError("name a park with --park NAME, or several with --parks A,B (or --parks all)")
    if out:
        check_out_path(out)
    if map_path:
        check_out_path(map_path, (".png",))
    model = TravelModel(**{k: v for k, v in (("day_hours", day_hours), ("visit_hours", visit_hours)) if v is not None})
    plan = plan_for_parks(obj["store"](), names, config=obj["config"](), fresh=fresh, home=home, days=days,
                          visits_per_day=visits_per_day, min_score=min_score, model=model)
    click.echo(format_trip(plan))
    if out:
        click.echo(f"wrote {write_trip(plan, out)}")
    if map_path:
        click.echo(f"wrote {draw_trip_map(plan, map_path)}")
