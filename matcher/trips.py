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

**Baseline.** The same leads in rank order, city by city as they come (each city once, its leads in rank
order for as many days as they take), under the same model and limits.

**Several parks.** A firm is pitched for the park where it scores highest, never for two
(:func:`assign_parks`); the parks' scores are on one scale (relevance 0..1 times small structured bonuses).
"""

from __future__ import annotations

import math
import random
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
_MODE_ZH = {"road": "公路", "rail": "高铁", "flight": "航班", "local": "市内"}
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


@dataclass
class _City:
    label: str
    lon: float
    lat: float
    leads: list[dict[str, Any]]  # best first

    @property
    def prefix(self) -> list[float]:
        acc = [0.0]
        for r in self.leads:
            acc.append(acc[-1] + r["score"])
        return acc


def _fill(caps: list[int], total: int) -> list[int]:
    out = []
    for cap in caps:
        out.append(min(cap, total))
        total -= out[-1]
    return out


def _key(r: _Eval | None) -> tuple[float, float, int]:
    return (-1.0, 0.0, 0) if r is None else (round(r.value, 6), -round(r.travel, 2), -r.days)


@dataclass
class _Eval:
    value: float
    days: int
    travel: float
    route: list[int]
    blocks: list[tuple[Any, ...]]  # (per-day [(city, n visits)], prev, cities, hop day, last)


class _Search:
    """Nodes: 0 = home, 1..n = cities. Hours are rounded leg times; ``cost`` breaks ties by km."""

    def __init__(self, cities: list[_City], home: tuple[str, float, float], days: int, visits: int,
                 model: TravelModel) -> None:
        from .regions import haversine_km

        self.cities, self.home, self.D, self.V, self.m = cities, home, days, visits, model
        pts = [(home[1], home[2])] + [(c.lon, c.lat) for c in cities]
        self.km = [[haversine_km(*a, *b) for b in pts] for a in pts]
        legs = [[model.leg(k) for k in row] for row in self.km]
        self.h = [[x[0] for x in row] for row in legs]
        self.mode = [[x[1] for x in row] for row in legs]
        self.cost = [[h + 1e-5 * k for h, k in zip(hr, kr, strict=True)] for hr, kr in zip(self.h, self.km, strict=True)]
        self.n = [0] + [len(c.leads) for c in cities]
        self.pre = [[0.0]] + [c.prefix for c in cities]
        self._blocks: dict[tuple[Any, ...], Any] = {}
        self._evals: dict[frozenset[int], _Eval | None] = {}

    def options(self, prev: int, cs: tuple[int, ...], last: bool) -> list[tuple[int, float, tuple[Any, ...]]]:
        """(days k, value, plan) of spending k days from ``prev`` in city cs[0] (and cs[1] after a hop), for
        each k that adds value (best hop day for that k)."""
        key = (prev, cs, last)
        if key not in self._blocks:
            out: list[tuple[int, float, tuple[Any, ...]]] = []
            for k in range(1, min(self.D, -(-sum(self.n[c] for c in cs) // self.V) + 2) + 1):
                tries = [self._block(prev, cs, k, j, last) for j in (range(1, k + 1) if len(cs) == 2 else (0,))]
                best = max((t for t in tries if t), key=lambda t: t[0], default=None)
                if best and (not out or best[0] > out[-1][1] + _EPS):
                    out.append((k, best[0], best[1]))
            self._blocks[key] = out
        return self._blocks[key]

    def _block(self, prev: int, cs: tuple[int, ...], k: int, j: int, last: bool) -> tuple[float, tuple[Any, ...]] | None:
        a, b = cs[0], cs[-1]
        travel = [0.0] * k
        travel[0] += self.h[prev][a]
        if j:
            travel[j - 1] += self.h[a][b]
        if last:
            travel[-1] += self.h[b][0]
        maybe = [self.m.capacity(t, self.V) for t in travel]
        if any(c is None for c in maybe):
            return None
        caps = [int(c or 0) for c in maybe]
        if not j:
            per = _fill(caps, min(self.n[a], sum(caps)))
            if not sum(per) or (caps[-1] and not per[-1]):
                return None
            return self.pre[a][sum(per)], ([[(a, x)] if x else [] for x in per], prev, cs, j, last)
        done, cj, rest = sum(caps[:j - 1]), caps[j - 1], sum(caps[j:])
        best: tuple[float, int, int] | None = None
        for x in range(1, min(self.n[a] - done, cj - 1) + 1):
            nb = min(self.n[b], cj - x + rest)
            v = self.pre[a][done + x] + self.pre[b][nb]
            if best is None or v > best[0] + _EPS:
                best = (v, x, nb)
        if best is None:
            return None
        v, x, nb = best
        on_j = min(cj - x, nb)
        after = _fill(caps[j:], nb - on_j)
        if after and caps[-1] and not after[-1]:
            return None
        per2 = [[(a, c)] if c else [] for c in caps[:j - 1]] + [[(a, x), (b, on_j)]] + [[(b, c)] if c else [] for c in after]
        return v, (per2, prev, cs, j, last)

    def schedule(self, route: list[int]) -> tuple[float, int, list[tuple[Any, ...]]] | None:
        """Split ``route`` into days (dynamic programme over position x days used); best value, then fewer days."""
        n, D = len(route), self.D
        f: list[list[Any]] = [[None] * (D + 1) for _ in range(n + 1)]
        f[0][0] = (0.0, None)
        for i in range(n):
            prev = route[i - 1] if i else 0
            opts: list[tuple[tuple[int, ...], int]] = [((route[i],), i + 1)]
            if i + 1 < n and self.h[route[i]][route[i + 1]] <= self.m.pair_max_hours + _EPS:
                opts.append(((route[i], route[i + 1]), i + 2))
            for cs, nxt in opts:
                for k, value, blk in self.options(prev, cs, nxt == n):
                    for d in range(D - k + 1):
                        if f[i][d] is not None and (f[nxt][d + k] is None or f[i][d][0] + value > f[nxt][d + k][0] + _EPS):
                            f[nxt][d + k] = (f[i][d][0] + value, (i, d, blk))
        ends = [d for d in range(D + 1) if f[n][d] is not None]
        if not ends:
            return None
        best = max(ends, key=lambda d: (round(f[n][d][0], 6), -d))
        blocks, i, d = [], n, best
        while i:
            _, (i, d, blk) = f[i][d]
            blocks.append(blk)
        return f[n][best][0], best, blocks[::-1]

    def tour_hours(self, route: list[int]) -> float:
        tour = [0, *route, 0]
        return sum(self.h[a][b] for a, b in zip(tour, tour[1:], strict=False))

    def nn_two_opt(self, cities: frozenset[int]) -> list[int]:
        """Nearest neighbour from home, then 2-opt on the round trip (travel hours)."""
        left, tour, cur = set(cities), [0], 0
        while left:
            cur = min(left, key=lambda c: (self.cost[cur][c], c))
            tour.append(cur)
            left.remove(cur)
        tour.append(0)
        c, improved = self.cost, True
        while improved:
            improved = False
            for i in range(1, len(tour) - 2):
                for j in range(i + 1, len(tour) - 1):
                    a, b, x, y = tour[i - 1], tour[i], tour[j], tour[j + 1]
                    if c[a][x] + c[b][y] < c[a][b] + c[x][y] - _EPS:
                        tour[i:j + 1] = tour[i:j + 1][::-1]
                        improved = True
        return tour[1:-1]

    def exact(self, cities: frozenset[int]) -> list[int]:
        """The shortest round trip (Held-Karp), for a handful of cities."""
        from itertools import combinations

        nodes, c = sorted(cities), self.cost
        m = len(nodes)
        dp: dict[tuple[int, int], tuple[float, int]] = {(1 << i, i): (c[0][nodes[i]], -1) for i in range(m)}
        for size in range(2, m + 1):
            for subset in combinations(range(m), size):
                mask = sum(1 << i for i in subset)
                for last in subset:
                    pm = mask ^ (1 << last)
                    dp[(mask, last)] = min((dp[(pm, p)][0] + c[nodes[p]][nodes[last]], p) for p in subset if p != last)
        mask = (1 << m) - 1
        _, last = min((dp[(mask, i)][0] + c[nodes[i]][0], i) for i in range(m))
        order = []
        while last >= 0:
            order.append(nodes[last])
            mask, last = mask ^ (1 << last), dp[(mask, last)][1]
        return order[::-1]

    def run_route(self, route: list[int]) -> _Eval | None:
        best = None
        for r in (route, route[::-1]):
            s = self.schedule(r)
            if s and (best is None or (round(s[0], 6), -s[1]) > (round(best.value, 6), -best.days)):
                best = _Eval(s[0], s[1], self.tour_hours(r), r, s[2])
        return best

    def evaluate(self, cities: frozenset[int]) -> _Eval | None:
        if cities not in self._evals:
            self._evals[cities] = self.run_route(self.nn_two_opt(cities)) if cities else _Eval(0.0, 0, 0.0, [], [])
        return self._evals[cities]

    def improve(self, cities: frozenset[int], cand: list[int]) -> frozenset[int]:
        """Local search: the best of every drop, add and swap of a city, and of every exchange of one day's
        cities for two close candidates (a day's pair), until none improves."""
        pairs = [(a, b) for i, a in enumerate(cand) for b in cand[i + 1:] if self.h[a][b] <= self.m.pair_max_hours]
        cur = self.evaluate(cities)
        while True:
            moves = [cities - {s} for s in cities]
            for c in cand:
                if c not in cities:
                    moves += [cities | {c}] + [(cities - {s}) | {c} for s in cities]
            days = [frozenset(blk[2]) for blk in cur.blocks] if cur else []
            for a, b in pairs:
                if a not in cities and b not in cities:
                    moves += [cities | {a, b}] + [(cities - d) | {a, b} for d in days]
            best = max(moves, key=lambda t: _key(self.evaluate(t)), default=None)
            if best is None or _key(self.evaluate(best)) <= _key(cur):
                return cities
            cities, cur = best, self.evaluate(best)

    def baseline(self) -> dict[str, Any]:
        """Rank order, city by city as they come: each city once, its leads best first, as many days as they
        take; a city that leaves no visit (or no way home on the last day) is passed over."""
        order = sorted(range(1, len(self.n)), key=lambda c: -self.cities[c - 1].leads[0]["score"])
        taken, pos = [0] * len(self.n), 0
        log: list[tuple[float, int, int]] = []  # (travel hours, city, visits) per day
        for c in order:
            first = True
            while taken[c] < self.n[c] and len(log) < self.D:
                t = self.h[pos][c] if first else 0.0
                cap = self.m.capacity(t + (self.h[c][0] if len(log) == self.D - 1 else 0.0), self.V)
                if not cap:
                    break
                k = min(cap, self.n[c] - taken[c])
                log.append((t, c, k))
                taken[c], first, pos = taken[c] + k, False, c
        while log:  # the journey home is charged to the last day, as in the plan
            t, c, k = log[-1]
            cap = self.m.capacity(t + self.h[c][0], self.V)
            if cap is not None:
                taken[c] -= k - min(k, cap)
                break
            log.pop()
            taken[c] -= k
        value = sum(self.pre[c][taken[c]] for c in range(1, len(self.n)))
        stops = list(dict.fromkeys(c for _, c, _ in log))
        days = len(log)
        return {"value": round(value, 4), "visits": sum(taken), "days": days,
                "value_per_day": round(value / days, 4) if days else 0.0,
                "travel_hours": round(sum(t for t, _, _ in log) + (self.h[log[-1][1]][0] if log else 0.0), 2),
                "travel_km": round(sum(self.km[a][b] for a, b in zip([0, *stops], [*stops, 0], strict=True)), 1),
                "cities": [self.cities[c - 1].label for c in stops],
                "method": "leads in rank order, city by city as they come; same travel model and limits"}


def _leg(s: _Search, a: int, b: int, kind: str = "arrive") -> dict[str, Any]:
    """A travel leg; ``kind``: arrive (before the day's visits), hop (between its two cities), return (home,
    after the last visits)."""
    name = [s.home[0]] + [c.label for c in s.cities]
    return {"from": name[a], "to": name[b], "km": round(s.km[a][b], 1), "hours": s.h[a][b], "mode": s.mode[a][b],
            "kind": kind}


def _days(s: _Search, best: _Eval) -> tuple[list[dict[str, Any]], list[int]]:
    """The days of a schedule, visits best first per city; returns the days and how many leads each city used."""
    used = [0] * len(s.n)
    out: list[dict[str, Any]] = []
    for per, prev, cs, _, last in best.blocks:
        for t, alloc in enumerate(per):
            travel = [_leg(s, prev, cs[0])] if t == 0 and s.km[prev][cs[0]] >= 1 else []
            visits: list[dict[str, Any]] = []
            for c, k in alloc:
                if visits and c != alloc[0][0]:
                    travel.append(_leg(s, cs[0], cs[1], "hop"))
                city = s.cities[c - 1]
                visits += [{**r, "city": city.label} for r in city.leads[used[c]:used[c] + k]]
                used[c] += k
            if last and t == len(per) - 1 and s.km[cs[-1]][0] >= 1:
                travel.append(_leg(s, cs[-1], 0, "return"))
            stops = list(dict.fromkeys(v["city"] for v in visits)) or [travel[0]["to"] if travel else s.cities[cs[-1] - 1].label]
            th = round(sum(x["hours"] for x in travel), 2)
            vh = round(len(visits) * s.m.visit_hours, 2)
            out.append({"day": len(out) + 1, "cities": stops,
                        "visits": [{"order": i, **v} for i, v in enumerate(visits, 1)], "travel": travel,
                        "hours": {"travel": th, "visits": vh, "total": round(th + vh, 2)},
                        "value": round(sum(v["score"] for v in visits), 4)})
    return out, used


def _why_city(s: _Search, c: int, chosen: frozenset[int], best: _Eval, cand: set[int]) -> dict[str, Any]:
    city = s.cities[c - 1]
    total, top = city.prefix[-1], city.leads[0]["score"]
    near = min(chosen | {0}, key=lambda x: s.km[x][c])
    leg = _leg(s, near, c)
    info = {"city": city.label, "leads": len(city.leads), "value": round(total, 4), "top": round(top, 4),
            "km_from_home": round(s.km[0][c], 1), "nearest": leg["from"], "nearest_km": leg["km"],
            "nearest_hours": leg["hours"], "forced_value": None, "loss": None}
    head = f"{city.label}：{len(city.leads)}家线索（最高{top:.3f}，合计{total:.3f}）"
    where = f"距{leg['from']}{leg['km']:.0f}公里（{_MODE_ZH[leg['mode']]}约{leg['hours']:.1f}小时）"
    if c not in cand:
        return {**info, "why": "not_candidate",
                "reason": f"{head}；单日可得价值不在前{MAX_CANDIDATES}个城市之内，未参与排程"}
    tries = [chosen | {c}] + [(chosen - {x}) | {c} for x in chosen]
    forced = max((s.evaluate(t) for t in tries), key=_key)
    if forced is None:
        return {**info, "why": "city_not_chosen", "reason": f"{head}，{where}；{s.D}天内排不进行程"}
    loss = best.value - forced.value
    info.update(forced_value=round(forced.value, 4), loss=round(loss, 4))
    tail = (f"比本计划少{loss:.3f}" if loss >= 0.0005 else f"与本计划相同，但交通多{forced.travel - best.travel:.1f}小时")
    return {**info, "why": "city_not_chosen", "reason": f"{head}，{where}；排进它的最好行程总价值{forced.value:.3f}，{tail}"}


def _search(cities: list[_City], home: tuple[str, float, float], *, days: int, visits_per_day: int,
           model: TravelModel) -> TripPlan:
    """Choose cities and days (greedy + local search over the schedule's value), build the plan."""
    s = _Search(cities, home, days, visits_per_day, model)
    one_day = sorted(range(1, len(s.n)), key=lambda c: -s.pre[c][min(s.n[c], visits_per_day)])
    cand = one_day[:MAX_CANDIDATES]
    chosen: frozenset[int] = frozenset()
    while True:  # greedy: add the city that raises the value most
        nxt = max((chosen | {c} for c in cand if c not in chosen), key=lambda t: _key(s.evaluate(t)), default=None)
        if nxt is None or _key(s.evaluate(nxt))[0] <= _key(s.evaluate(chosen))[0] + _EPS:
            break
        chosen = nxt
    base = s.baseline()
    starts = [chosen, frozenset(c for c in range(1, len(s.n)) if s.cities[c - 1].label in base["cities"]) & set(cand)]
    chosen = max((s.improve(st, cand) for st in starts), key=lambda t: _key(s.evaluate(t)))
    rng = random.Random(0)  # iterated local search: drop one day's cities, add two others, improve; keep the best
    for _ in range(RESTARTS if len(cand) > 2 else 0):
        days_ = [set(blk[2]) for blk in (s.evaluate(chosen) or _Eval(0.0, 0, 0.0, [], [])).blocks] or [set()]
        outside = [c for c in cand if c not in chosen]
        kick = (set(chosen) - rng.choice(days_)) | set(rng.sample(outside, min(2, len(outside))))
        while kick and s.evaluate(frozenset(kick)) is None:
            kick.discard(rng.choice(sorted(kick)))
        trial = s.improve(frozenset(kick), cand)
        if _key(s.evaluate(trial)) > _key(s.evaluate(chosen)):
            chosen = trial
    best = s.evaluate(chosen) or _Eval(0.0, 0, 0.0, [], [])
    if 1 < len(chosen) <= 9:  # the exact round trip, kept when its schedule is at least as good
        exact = s.run_route(s.exact(chosen))
        if exact is not None and _key(exact) >= _key(best):
            best = exact
    plan_days, used = _days(s, best)
    left_out, left_cities = [], []
    for c in range(1, len(s.n)):
        city = s.cities[c - 1]
        if c in chosen:
            rest = city.leads[used[c]:]
            why = (f"{city.label}安排了{used[c]}/{len(city.leads)}家（按得分取前{used[c]}家）；"
                   "余下的得分较低，这些时间用在别的城市价值更高")
            left_out += [{**r, "city": city.label, "why": "city_full", "reason_left_out": why} for r in rest]
        else:
            info = _why_city(s, c, chosen, best, set(cand))
            left_cities.append(info)
            left_out += [{**r, "city": city.label, "why": info["why"], "reason_left_out": info["reason"]}
                         for r in city.leads]
    visits = sum(len(d["visits"]) for d in plan_days)
    totals = {"value": round(best.value, 4), "visits": visits, "days": best.days, "cities": len(chosen),
              "travel_hours": round(sum(x["hours"] for d in plan_days for x in d["travel"]), 2),
              "travel_km": round(sum(x["km"] for d in plan_days for x in d["travel"]), 1),
              "visit_hours": round(visits * model.visit_hours, 2)}
    vpd = totals["value"] / totals["days"] if totals["days"] else 0.0
    totals["vs_baseline"] = round(vpd / base["value_per_day"], 3) if base["value_per_day"] else None
    day_of: dict[str, list[int]] = {}
    for d in plan_days:
        for name in d["cities"]:
            day_of.setdefault(name, []).append(d["day"])
    city_list = [{"city": c.label, "lon": c.lon, "lat": c.lat, "leads": len(c.leads), "value": round(c.prefix[-1], 4),
                  "planned": i + 1 in chosen, "days": day_of.get(c.label, [])} for i, c in enumerate(cities)]
    notes = []
    if len(cand) < len(cities):
        notes.append(f"the search considered the {len(cand)} cities with the highest one-day value of {len(cities)}")
    route = "nearest neighbour + 2-opt on travel hours" + (", checked exactly (Held-Karp)" if 1 < len(chosen) <= 9 else "")
    params = {"home": home[0], "days": days, "visits_per_day": visits_per_day, "model": asdict(model),
              "route_method": route, "value": "sum of the visited leads' combined scores"}
    return TripPlan(home={"city": home[0], "lon": home[1], "lat": home[2]}, days=plan_days,
                    left_out=sorted(left_out, key=lambda r: -r["score"]), unlocated=[], totals=totals, baseline=base,
                    params=params, cities=city_list, left_out_cities=sorted(left_cities, key=lambda r: -r["value"]),
                    notes=notes)


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
