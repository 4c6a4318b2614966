"""Outreach trips (走出去): turn ranked leads into a day-by-day itinerary from the home city.

**Value.** A lead's value is its combined score (``score`` of :func:`matcher.rank.rank_leads`); a plan's
value is the sum over the firms it visits, reported per travel day beside a naive baseline.

**Travel model** (:class:`TravelModel`): great-circle km between city centres (cpca's table through
:func:`matcher.normalize.city_coordinates`); each leg takes the fastest of road (80 km/h over 1.25x the
straight line, up to 300 km), high-speed rail (250 km/h effective + 1 h to and from the stations) and,
from 500 km, a flight (700 km/h + 3 h of airport transfers and check-in): road below ~86 km, rail to
~780 km, air beyond, and the time never drops as the distance grows. A day holds 10 h of travel and
visits; a visit takes 1.5 h with its local transfer; at most ``visits_per_day`` visits. A day spends its
visits in one city, or in two when the hop between them takes <= 2 h. Day 1 starts at home; the journey
home is charged to the last day.

**Planning.** Leads are grouped by city (below ``min_score`` or with no known city: set apart, listed).
For a set of cities the round trip from home is ordered by nearest neighbour + 2-opt on travel hours
(2-opt is usually within a few % of the optimal tour; the final route is also solved exactly, Held-Karp,
when it has <= 9 cities, and the better schedule is kept). A dynamic programme along the route splits it
into days (a city for k days, or two close cities sharing a day, the second possibly for more days),
filling each day with the best leads its hours allow: the most value within ``days``. The cities are
chosen by greedy addition, then local search (drop / add / swap a city, put two close cities in place of
one day's) and an iterated local search (``RESTARTS`` seeded kicks: one day's cities out, two others in);
on the sample data 100 kicks found no better plan than 20 for any default park, nor for all at once.
Every city left out is tested by forcing it in: the plan says how much value the best plan with it loses.
The search itself is in :mod:`matcher.trip_search`; its settings ``MAX_CANDIDATES`` and ``RESTARTS`` stay here.

**Baseline.** The same leads in rank order, city by city as they come (each city once, its leads in rank
order for as many days as they take), under the same model and limits.

**Several parks.** A firm is pitched for the park where it scores highest, never for two
(:func:`assign_parks`); the parks' scores are on one scale (relevance 0..1 times small structured bonuses).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from .errors import InputError, NotFoundError
from .normalize import city_coordinates, derive_region, derive_regions, is_missing

__all__ = ["TravelModel", "TripPlan", "assign_parks", "plan_for_parks", "plan_trip", "resolve_city"]

#: cities with the highest one-day value that the search considers (the others are listed as left out)
MAX_CANDIDATES = 40
#: kicks of the iterated local search over the choice of cities
RESTARTS = 20
_EPS = 1e-9
_CONTACT = ("address", "phone", "email", "website", "legal_rep")


@dataclass(frozen=True)
class TravelModel:
    """Travel speeds by distance, and the day's time budget (hours). See the module docstring."""

    road_kmh: float = 80.0
    road_detour: float = 1.25  # road km per straight-line km
    road_max_km: float = 300.0  # officers do not drive farther in a day
    rail_kmh: float = 250.0  # high-speed rail, effective over the straight line
    rail_overhead_h: float = 1.0  # to and from the stations, boarding
    flight_kmh: float = 700.0
    flight_overhead_h: float = 3.0  # airport transfers, check-in, boarding
    flight_min_km: float = 500.0  # no shorter flights
    day_hours: float = 10.0
    visit_hours: float = 1.5
    pair_max_hours: float = 2.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
                raise InputError(f"TravelModel.{name} = {value!r}: give a finite number >= 0")
            if value == 0 and name.endswith(("kmh", "day_hours", "visit_hours", "detour")):
                raise InputError(f"TravelModel.{name} = 0: it must be > 0")
        if self.visit_hours > self.day_hours:
            raise InputError(f"TravelModel.visit_hours {self.visit_hours} is longer than day_hours {self.day_hours}")

    def leg(self, km: float) -> tuple[float, str]:
        """(hours, mode) of the fastest way over ``km`` straight-line kilometres; hours rounded to 0.01.
        Road up to ``road_max_km``, rail at any distance, flights from ``flight_min_km``: the time grows
        with the distance, with no jump where the mode changes."""
        if km < 1:
            return 0.0, "local"
        ways = [(self.rail_overhead_h + km / self.rail_kmh, "rail")]
        if km <= self.road_max_km:
            ways.append((km * self.road_detour / self.road_kmh, "road"))
        if km >= self.flight_min_km:
            ways.append((self.flight_overhead_h + km / self.flight_kmh, "flight"))
        hours, mode = min(ways)
        return round(hours, 2), mode

    def capacity(self, travel_hours: float, visits_per_day: int) -> int | None:
        """Visits that fit in a day with ``travel_hours`` of travel; None when the travel alone overruns it."""
        if travel_hours > self.day_hours + _EPS:
            return None
        return min(visits_per_day, int((self.day_hours - travel_hours) / self.visit_hours + _EPS))


@dataclass
class TripPlan:
    """A planned trip. ``days``: [{"day", "cities", "visits", "travel", "hours", "value"}]; ``left_out``:
    located leads not visited, each with ``why`` and ``reason``; ``unlocated``: leads with no known city;
    ``cities``: every city with leads (for the map); ``sources``: where the leads came from."""

    home: dict[str, Any]
    days: list[dict[str, Any]]
    left_out: list[dict[str, Any]]
    unlocated: list[dict[str, Any]]
    totals: dict[str, Any]
    baseline: dict[str, Any]
    params: dict[str, Any]
    cities: list[dict[str, Any]]
    left_out_cities: list[dict[str, Any]]
    sources: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def value_per_day(self) -> float:
        return round(self.totals["value"] / self.totals["days"], 4) if self.totals["days"] else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"format": "matcher-trip/1", "home": self.home, "params": self.params, "sources": self.sources,
                "days": self.days, "totals": self.totals, "value_per_day": self.value_per_day,
                "baseline": self.baseline, "left_out": self.left_out, "left_out_cities": self.left_out_cities,
                "unlocated": self.unlocated, "cities": self.cities, "notes": self.notes}


def resolve_city(name: str) -> tuple[str, float, float]:
    """(city label, lon, lat) of a home city such as ``四平``, ``四平市`` or ``吉林省四平市``."""
    text = (name or "").strip()
    prov, city, _ = derive_region(text) if text else (None, None, None)
    if city:
        xy, label = city_coordinates(prov, city), city
    else:
        xy = (city_coordinates(prov, text) or city_coordinates(None, text)) if text else None
        label = text if text.endswith("市") else text + "市"
    if xy is None:
        raise NotFoundError(f"home city {name!r} is not a city known to cpca's table: give a prefecture-level city, "
                            "e.g. --from 四平 or --from 长春")
    return label, float(xy[0]), float(xy[1])


def _firm_key(row: dict[str, Any]) -> tuple[str, Any]:
    for col in ("credit_code", "enterprise_id"):
        if not is_missing(row.get(col)):
            return col, row[col]
    return "name", row.get("name")


def assign_parks(leads: pd.DataFrame) -> pd.DataFrame:
    """One row per firm, best score first: the park where the firm scores highest (ties: the first listed),
    ``pitch`` saying why, ``other_parks`` its other fits. Firms are the same when they share credit_code,
    else enterprise_id, else name."""
    df = leads.reset_index(drop=True)
    df = df.assign(park=df.get("park", None))
    best: dict[tuple[str, Any], dict[str, Any]] = {}
    others: dict[tuple[str, Any], list[str]] = {}
    for row in df.sort_values("score", ascending=False, kind="stable").to_dict("records"):
        key = _firm_key(row)
        if key in best:
            if row["park"] != best[key]["park"] and row["park"] not in others[key]:
                others[key].append(f"{row['park']} {row['score']:.3f}")
            continue
        best[key], others[key] = row, []
    out = []
    for key, row in best.items():
        if others[key]:
            pitch = f"最适合{row['park']}（得分{row['score']:.3f}，高于{'、'.join(others[key])}）"
        elif row["park"]:
            rank = f"第{int(row['rank'])}名" if not is_missing(row.get("rank")) else "线索"
            pitch = f"{row['park']}的线索（{rank}）"
        else:
            pitch = ""
        out.append({**row, "pitch": pitch, "other_parks": others[key]})
    return pd.DataFrame(out)


def _lead_record(row: dict[str, Any], city: str | None) -> dict[str, Any]:
    rec = {"name": row.get("name"), "credit_code": row.get("credit_code"), "province": row.get("province"),
           "city": city, "park": row.get("park"), "score": round(float(row["score"]), 4), "reason": row.get("reason"),
           "pitch": row.get("pitch"), "other_parks": row.get("other_parks") or []}
    rec.update({c: row.get(c) for c in _CONTACT})
    return {k: (None if is_missing(v) else v) if not isinstance(v, list) else v for k, v in rec.items()}


def _locate(df: pd.DataFrame) -> list[tuple[str | None, str | None, tuple[float, float] | None]]:
    """(province, city, (lon, lat) or None) per row; a missing city is read from the address (cpca)."""
    rows = df.to_dict("records")
    places = [(r.get("province"), r.get("city")) for r in rows]
    todo = [i for i, r in enumerate(rows) if is_missing(r.get("city")) and not is_missing(r.get("address"))]
    if todo:
        found = derive_regions([(rows[i].get("address"), rows[i].get("province"), None, None) for i in todo])
        for i, (p, c, _) in zip(todo, found, strict=True):
            places[i] = (p or places[i][0], c)
    out = []
    for r, (p, c) in zip(rows, places, strict=True):
        p = None if is_missing(p) else str(p)
        c = None if is_missing(c) else str(c)
        if not is_missing(r.get("lon")) and not is_missing(r.get("lat")):
            xy: tuple[float, float] | None = (float(r["lon"]), float(r["lat"]))
        else:
            xy = city_coordinates(p, c) if c else None
        out.append((p, c, xy))
    return out


def _check_limits(days: Any, visits_per_day: Any) -> None:
    if not isinstance(days, int) or days < 1:
        raise InputError(f"days = {days!r}: a trip needs at least 1 day (e.g. --days 5)")
    if not isinstance(visits_per_day, int) or visits_per_day < 1:
        raise InputError(f"visits_per_day = {visits_per_day!r}: give at least 1 (e.g. --visits-per-day 4)")


def plan_trip(leads: pd.DataFrame, *, home: str = "四平", days: int = 5, visits_per_day: int = 4,
              min_score: float | None = None, model: TravelModel | None = None) -> TripPlan:
    """Plan an outreach trip of at most ``days`` days from ``home`` over ``leads``.

    ``leads``: a DataFrame with at least ``name`` and ``score``, and ``city`` (with ``province``) or
    ``address``; optional ``park``, ``rank``, ``reason``, ``credit_code``, ``enterprise_id`` and contact
    columns (``lon``/``lat`` override the city's coordinates). Several parks' leads may be mixed: each firm
    is pitched for its best park only. Raises InputError on unusable input (no leads, days < 1 ...).
    """
    from .trip_search import _City, _search

    model = model or TravelModel()
    _check_limits(days, visits_per_day)
    missing = [c for c in ("name", "score") if c not in leads.columns]
    if missing:
        raise InputError(f"the leads have no column {', '.join(missing)}: pass the DataFrame of rank_leads/run_leads")
    if leads.empty:
        raise InputError("there are no leads to plan a trip for: rank a park first (`matcher rank --park NAME`)")
    if leads["score"].isna().any():
        raise InputError(f"{int(leads['score'].isna().sum())} lead(s) have no score, e.g. "
                         f"{leads.loc[leads['score'].isna(), 'name'].iloc[0]!r}: pass scored leads (rank_leads)")
    if "city" not in leads.columns and "address" not in leads.columns:
        raise InputError("the leads have neither a city nor an address column: nothing to place them on a map")
    home_label, hlon, hlat = resolve_city(home)
    df = assign_parks(leads)
    places = _locate(df)
    cities: dict[tuple[str | None, str], _City] = {}
    unlocated, below = [], []
    for row, (p, c, xy) in zip(df.to_dict("records"), places, strict=True):
        rec = _lead_record(row, c)
        if min_score is not None and rec["score"] < min_score:
            below.append({**rec, "why": "below_min_score", "reason_left_out": f"得分{rec['score']:.3f}低于--min-score {min_score}"})
        elif xy is None:
            why = "no_city" if c is None else "unknown_city"
            text = "无所在城市，地址也读不出城市" if c is None else f"城市“{c}”不在cpca坐标表中"
            unlocated.append({**rec, "why": why, "reason_left_out": text + "：补全所属城市后重新导入即可排进行程"})
        else:
            key = (p, c or "?")
            cities.setdefault(key, _City(c or "?", xy[0], xy[1], [])).leads.append(rec)
    if not cities:
        raise InputError(f"none of the {len(df)} leads can be placed on the trip "
                         f"({len(below)} below --min-score, {len(unlocated)} with no known city): "
                         "lower --min-score or fill the city / address columns")
    labels = [city.label for city in cities.values()]
    for (p, _), city in cities.items():  # the same city name in two provinces: add the province
        if labels.count(city.label) > 1:
            city.label = f"{p or ''}{city.label}"
    plan = _search(list(cities.values()), (home_label, hlon, hlat), days=days, visits_per_day=visits_per_day,
                  model=model)
    if not plan.days:
        raise InputError(f"no city with leads can be reached, visited and left within {days} day(s) of "
                         f"{model.day_hours:g} h: allow more --days or longer days")
    plan.unlocated = unlocated
    plan.left_out.extend(below)
    plan.params.update({"min_score": min_score, "n_leads": len(leads), "n_firms": len(df)})
    return plan


def _park_leads(store: Any, park: dict[str, Any], config: Any, fresh: bool) -> tuple[pd.DataFrame, dict[str, Any]]:
    from .rank import rank_leads
    from .runs import latest_run_id, list_runs, run_leads

    run_id = None if fresh else latest_run_id(store, park["name"])
    if run_id is not None:
        frame = run_leads(store, run_id)
        when = list_runs(store, park["name"], limit=1)["created_at"].iloc[0]
        src = {"park": park["name"], "run_id": run_id, "kind": "stored", "created_at": str(when)[:19],
               "text": f"{park['name']}：已存运行 #{run_id}（{str(when)[:16]}）的 {len(frame)} 条线索"}
    else:
        frame = rank_leads(park, store=store, config=config, save=True)
        run_id = frame.attrs.get("run_id")
        src = {"park": park["name"], "run_id": run_id, "kind": "fresh",
               "text": f"{park['name']}：无已存运行，新排名（存为运行 #{run_id}）的 {len(frame)} 条线索"}
    if len(frame) and "name" in frame:
        frame = frame[frame["name"].notna()]
    src["n_leads"] = len(frame)
    return frame, src


def plan_for_parks(store: Any, parks: list[str] | str, *, config: Any = None, fresh: bool = False,
                   **kwargs: Any) -> TripPlan:
    """Plan one trip for one or several parks (names, aliases, or ``"all"``) from their latest stored run,
    or a fresh ranking (stored) when a park has none or ``fresh`` is set. ``kwargs`` go to :func:`plan_trip`.
    A park with no leads is an error when it is the only one, else skipped with a note."""
    from .parks import ensure_default_parks, find_park, list_parks

    _check_limits(kwargs.get("days", 5), kwargs.get("visits_per_day", 4))  # fail before any ranking
    resolve_city(kwargs.get("home", "四平"))
    ensure_default_parks(store)
    names = [parks] if isinstance(parks, str) else list(parks)
    if not names:
        raise InputError("name at least one park (--park NAME or --parks A,B; --parks all for every park)")
    targets = list_parks(store) if any(n.strip().lower() in ("all", "全部") for n in names) \
        else [find_park(store, n) for n in names]
    targets = list({p["name"]: p for p in targets}.values())
    frames, sources, notes = [], [], []
    for park in targets:
        frame, src = _park_leads(store, park, config, fresh)
        sources.append(src)
        if len(frame):
            frames.append(frame)
        else:
            notes.append(f"{park['name']} has no leads (run #{src['run_id']}): skipped")
    if not frames:
        which = "、".join(p["name"] for p in targets)
        raise InputError(f"{which}: no leads to plan a trip for (the ranking found no firm that fits); ingest firm "
                         "lists with these industries, or check the park's description (`matcher parks show`)")
    plan = plan_trip(pd.concat(frames, ignore_index=True), **kwargs)
    plan.sources, plan.notes = sources, notes + plan.notes
    plan.params["parks"] = [p["name"] for p in targets]
    return plan
