"""The search behind :func:`matcher.trips.plan_trip`: which cities to visit and how to split the route into days.

Greedy addition, local search and an iterated local search over the choice of cities; for each choice a
nearest neighbour + 2-opt round trip (Held-Karp for the final one when small) and a dynamic programme that
splits it into days. The method and the travel model are described in :mod:`matcher.trips`.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any

from .trips import _EPS, MAX_CANDIDATES, RESTARTS, TravelModel, TripPlan

_MODE_ZH = {"road": "公路", "rail": "高铁", "flight": "航班", "local": "市内"}


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
