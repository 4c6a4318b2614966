"""Score and rank firms for a park; score one firm against every park; explain every score.

Per (park, firm), all in 0..1:

- ``text``: BM25 of the park's words, expanded through the industries read from them (their keywords join
  the query at ``expansion_weight``), over the firm's cached tokens; divided by the best firm's BM25 for
  that park, so 1.0 is the best textual match in the store.
- ``industry``: how well the firm's industries (from its words and 所属行业) serve the industries the park
  asks for, on the GB/T 4754 code tree (:func:`matcher.industry.industry_similarity`).
- ``region`` (1 when the firm is in one of the park's target regions), ``size`` (registered capital,
  else insured staff, log-scaled), ``distance`` (nearness to the park); a missing field gives the
  config's ``missing_*`` value, stated in the reason.

``relevance = w_text * text + w_industry * industry``; ``score = relevance * (1 + w_region * region +
w_size * size + w_distance * distance)``, so structured factors reorder relevant firms but never make an
irrelevant firm a lead. Firms whose status is in ``exclude_statuses`` (注销, 吊销, 停业 ...) are excluded.

The reasons are built in :mod:`matcher.explain`; one firm against every park is :mod:`matcher.profile_score`
(:func:`score_profile`, re-exported here).
"""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import insert, select

from .analyze import get_analyzer
from .config import MatchConfig
from .errors import InputError, NotFoundError
from .explain import _explain, _term_contributions
from .index import FirmIndex, analysis_version, load_index
from .industry import (
    Evidence,
    code_label,
    industry_relevance,
    industry_similarity,
    knowledge_base,
    park_industries,
)
from .profile_score import score_profile  # re-exported; it imports this module lazily (no cycle)
from .regions import expand_regions
from .store import Enterprise, Lead, MatchRun, Store

__all__ = ["LEAD_COLUMNS", "ParkQuery", "park_query", "rank_leads", "rank_text", "score_profile"]

#: Columns of the DataFrame returned by :func:`rank_leads` / :func:`rank_text`.
LEAD_COLUMNS = [
    "rank", "park", "enterprise_id", "name", "credit_code", "external_id", "province", "city", "status",
    "reg_capital", "reg_currency", "insured", "score", "text", "industry", "region", "size", "distance_km",
    "components", "matched_terms", "industry_match", "reason",
]


@dataclass
class ParkQuery:
    """What a park asks for, read once: its industries and the weighted BM25 query."""

    text: str
    industries: Evidence
    terms: dict[str, float]  # BM25 query term -> weight
    own_terms: list[str]  # terms from the park's own words
    regions: set[str]  # province short names
    lon: float | None = None
    lat: float | None = None


def park_query(text: str, config: MatchConfig, *, pinned: list[str] | None = None,
               regions: list[str] | None = None, lon: float | None = None, lat: float | None = None) -> ParkQuery:
    """Read a park's description into industries and a weighted query."""
    analyzer = get_analyzer()
    own = analyzer.tokens(text)
    terms: dict[str, float] = {t: float(c) for t, c in Counter(own).items()}
    ev = park_industries(text, pinned or ())
    if "expansion" not in config.components_off and "industry" not in config.components_off:
        kb = knowledge_base()
        for code, weight in ev.weights.items():
            for kw in kb.expansion_terms(code, config.expansion_terms_per_industry):
                for t in analyzer.tokens(kw):
                    w = config.expansion_weight * weight
                    if terms.get(t, 0.0) < w:
                        terms[t] = w
    return ParkQuery(text=text, industries=ev, terms=terms, own_terms=list(dict.fromkeys(own)),
                     regions=expand_regions(regions or []), lon=lon, lat=lat)


_QUERIES: dict[str, ParkQuery] = {}
_QUERY_FILE = "park_queries.json"  # in the store's index folder: parks read once, not at every start


def _park_query_of(park: dict[str, Any], config: MatchConfig, store: Store | None = None) -> ParkQuery:
    """:func:`park_query` of a park record, read once for the same park text, settings, analyzer and
    knowledge versions: kept in this process and, with a ``store``, in a JSON file beside its index."""
    pinned, regions = park.get("pinned_industries"), park.get("target_regions")
    key = json.dumps([analysis_version(), _code_fingerprint(), park.get("description") or "", list(pinned or ()), list(regions or ()),
                      park.get("longitude"), park.get("latitude"), config.expansion_weight,
                      config.expansion_terms_per_industry, sorted(config.components_off)], ensure_ascii=False)
    q = _QUERIES.get(key)
    if q is None and store is not None:
        q = _saved_queries(store).get(key)
    if q is None:
        q = park_query(park.get("description") or "", config, pinned=pinned, regions=regions,
                       lon=park.get("longitude"), lat=park.get("latitude"))
        if store is not None:
            _save_query(store, key, q)
    if len(_QUERIES) > 1000:
        _QUERIES.clear()
    _QUERIES[key] = q
    return q


@cache
def _code_fingerprint() -> str:
    """Hash of the modules that read a park (a saved reading is not reused after their code changes)."""
    import hashlib
    import sys
    from pathlib import Path

    h = hashlib.sha256()
    for name in ("matcher.analyze", "matcher.industry", "matcher.regions", "matcher.rank"):
        try:
            h.update(Path(sys.modules[name].__file__ or "").read_bytes())
        except (KeyError, OSError):
            return "nocache-" + os.urandom(8).hex()  # source not readable: never reuse a saved reading
    return h.hexdigest()[:12]


def _saved_queries(store: Store) -> dict[str, ParkQuery]:
    try:
        saved = json.loads((store.index_dir / _QUERY_FILE).read_text(encoding="utf-8"))
        return {k: ParkQuery(text=v["text"], industries=Evidence(weights=v["weights"], terms=v["why"]),
                             terms=v["terms"], own_terms=v["own"], regions=set(v["regions"]), lon=v["lon"],
                             lat=v["lat"]) for k, v in saved.items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _save_query(store: Store, key: str, q: ParkQuery) -> None:
    path = store.index_dir / _QUERY_FILE
    try:
        saved = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    except (OSError, ValueError):
        saved = {}
    if len(saved) >= 200:
        saved = {}
    saved[key] = {"text": q.text, "weights": q.industries.weights, "why": q.industries.terms, "terms": q.terms,
                  "own": q.own_terms, "regions": sorted(q.regions), "lon": q.lon, "lat": q.lat}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(saved, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass  # a cache: not being able to write it only costs time


def _memo(idx: FirmIndex, key: tuple[Any, ...], make: Any) -> Any:
    """``make()``, kept with the index until it changes (the index clears ``memo`` on every update)."""
    if key not in idx.memo:
        value = make()
        for arr in value if isinstance(value, tuple) else (value,):
            if isinstance(arr, np.ndarray):
                arr.setflags(write=False)  # shared between calls: never changed in place
        idx.memo[key] = value
    return idx.memo[key]


_WANTED: dict[tuple[tuple[str, float], ...], dict[str, float]] = {}


def _wanted_codes(idx: FirmIndex, park: Evidence) -> dict[str, float]:
    """For every industry code present in the index, how much the park wants it (0..1)."""
    return _memo(idx, ("wanted", tuple(park.weights.items())), lambda: _wanted_codes_of(idx.codes, park))


def _wanted_codes_of(codes: list[str], park: Evidence) -> dict[str, float]:
    """:func:`_wanted_code_values` of ``codes``, each code worked out once per park in a process (the
    knowledge base is fixed in a process; a firm's codes are among a few thousand)."""
    known = _WANTED.setdefault(tuple(park.weights.items()), {})
    todo = [c for c in codes if c not in known]
    if todo:
        if len(_WANTED) > 1000:
            _WANTED.clear()
            known = _WANTED.setdefault(tuple(park.weights.items()), {})
        known.update({c: 0.0 for c in todo})
        known.update(_wanted_code_values(todo, park))
    return {c: known[c] for c in codes if known[c] > 0}


def _wanted_code_values(codes: list[str], park: Evidence) -> dict[str, float]:
    kb = knowledge_base()
    targets: list[tuple[str, float]] = []
    for p, pw in park.weights.items():
        targets.append((p, pw))
        targets.extend((r, 0.5 * pw) for r in kb.related.get(p, []))
    wanted: dict[str, float] = {}
    for code in codes:
        best = 0.0
        for t, tw in targets:
            s = tw * industry_similarity(t, code)
            best = max(best, s)
        if best > 0:
            wanted[code] = best
    return wanted


def _excluded(idx: FirmIndex, config: MatchConfig) -> np.ndarray:
    return _memo(idx, ("excluded", tuple(config.exclude_statuses)), lambda: _excluded_rows(idx, config))


def _excluded_rows(idx: FirmIndex, config: MatchConfig) -> np.ndarray:
    bad = [i for i, s in enumerate(idx.cats.get("status", [])) if any(x in s for x in config.exclude_statuses)]
    return np.isin(idx.status, np.array(bad, dtype=np.int32)) if bad else np.zeros(idx.n_rows, dtype=bool)


def _components(idx: FirmIndex, q: ParkQuery, config: MatchConfig, *, text_: bool = True) -> dict[str, np.ndarray]:
    """Per row of ``idx``: the components of the score (``text_=False``: no text component, the caller
    supplies it)."""
    off = set(config.components_off)
    n = idx.n_rows
    zeros = np.zeros(n, dtype=np.float64)
    if "text" in off or not text_:
        text = zeros
    else:
        bm = idx.bm25(q.terms, k1=config.k1, b=config.b)
        top = float(bm.max()) if n else 0.0
        text = bm / top if top > 0 else zeros
    industry = zeros if "industry" in off else idx.industry_scores(_wanted_codes(idx, q.industries))
    prov_names = idx.cats.get("province", [])
    if q.regions:
        in_region = np.array([p in q.regions for p in prov_names] + [False], dtype=np.float64)
        region = in_region[idx.province]  # -1 (unknown) picks the trailing False
        region[idx.province < 0] = config.missing_region
    else:
        region = zeros.copy()
    size = _memo(idx, ("size", config.missing_size, config.size_full_capital, config.size_full_insured),
                 lambda: _size(idx, config))
    dist_km, near = _memo(idx, ("near", q.lon, q.lat, config.missing_distance, config.distance_half_km),
                          lambda: _nearness(idx, q, config))
    return {"text": text, "industry": industry, "region": region, "size": size, "near": near, "distance_km": dist_km}


def _size(idx: FirmIndex, config: MatchConfig) -> np.ndarray:
    n = idx.n_rows
    cap = idx.capital.astype(np.float64)
    ins = idx.insured.astype(np.float64)
    size = np.full(n, config.missing_size)
    have_cap = ~np.isnan(cap)
    size[have_cap] = np.clip(np.log1p(np.maximum(cap[have_cap], 0)) / math.log1p(config.size_full_capital), 0, 1)
    have_ins = np.isnan(cap) & ~np.isnan(ins)
    size[have_ins] = np.clip(np.log1p(np.maximum(ins[have_ins], 0)) / math.log1p(config.size_full_insured), 0, 1)
    return size


def _nearness(idx: FirmIndex, q: ParkQuery, config: MatchConfig) -> tuple[np.ndarray, np.ndarray]:
    n = idx.n_rows
    dist_km = np.full(n, np.nan)
    near = np.full(n, config.missing_distance)
    if q.lon is not None and q.lat is not None:
        ok = ~np.isnan(idx.lon)
        lon1, lat1 = np.radians(idx.lon[ok].astype(np.float64)), np.radians(idx.lat[ok].astype(np.float64))
        lon2, lat2 = math.radians(q.lon), math.radians(q.lat)
        a = np.sin((lat1 - lat2) / 2) ** 2 + np.cos(lat1) * math.cos(lat2) * np.sin((lon1 - lon2) / 2) ** 2
        dist_km[ok] = 2 * 6371.0 * np.arcsin(np.sqrt(np.minimum(1.0, a)))
        near[ok] = config.distance_half_km / (config.distance_half_km + dist_km[ok])
    return dist_km, near


def _combine(c: dict[str, np.ndarray], config: MatchConfig) -> tuple[np.ndarray, np.ndarray]:
    off = set(config.components_off)
    w_text = 0.0 if "text" in off else config.w_text
    w_ind = 0.0 if "industry" in off else config.w_industry
    if w_text + w_ind == 0:
        raise InputError("both text and industry components are switched off: nothing to rank by")
    relevance = (w_text * c["text"] + w_ind * c["industry"]) / (w_text + w_ind)
    if "structured" in off:
        return relevance, relevance
    bonus = 1.0 + config.w_region * c["region"] + config.w_size * c["size"] + config.w_distance * c["near"]
    return relevance * bonus, relevance


def _fetch_firms(store: Store, ids: list[int]) -> dict[int, dict[str, Any]]:
    cols = [Enterprise.id, Enterprise.name, Enterprise.credit_code, Enterprise.external_id, Enterprise.province,
            Enterprise.city, Enterprise.status, Enterprise.reg_capital, Enterprise.reg_currency, Enterprise.insured,
            Enterprise.tokens, Enterprise.scope, Enterprise.intro, Enterprise.industry, Enterprise.industry_codes,
            Enterprise.address, Enterprise.phone, Enterprise.email, Enterprise.website, Enterprise.legal_rep]
    out: dict[int, dict[str, Any]] = {}
    with store.engine.connect() as conn:
        for start in range(0, len(ids), 500):
            part = ids[start:start + 500]
            for r in conn.execute(select(*cols).where(Enterprise.id.in_(part))):
                out[r.id] = dict(r._mapping)
    return out


def _rank_query(store: Store, idx: FirmIndex, q: ParkQuery, config: MatchConfig, *, top: int | None,
                region: str | None, park_name: str, explain: bool = True) -> tuple[pd.DataFrame, int]:
    comps = _components(idx, q, config)
    score, relevance = _combine(comps, config)
    ok = idx.live & ~_excluded(idx, config) & (relevance >= config.min_relevance)
    if region:
        provinces = expand_regions([region])
        if not provinces:
            raise InputError(f"--region {region!r}: not a province or region name (e.g. 山东, 长三角)")
        allowed = np.array([p in provinces for p in idx.cats.get("province", [])] + [False])
        ok &= allowed[idx.province]
    cand = np.flatnonzero(ok)
    n_candidates = int(cand.size)
    if top is not None and cand.size > top:
        part = np.argpartition(-score[cand], top - 1)[:top]
        cand = cand[part]
    order = cand[np.lexsort((idx.ids[cand], -score[cand]))]
    if not explain:
        frame = pd.DataFrame({"rank": np.arange(1, order.size + 1), "enterprise_id": idx.ids[order],
                              "score": score[order]})
        firms = _fetch_firms(store, frame["enterprise_id"].tolist()) if order.size <= 5000 else {}
        if firms or order.size == 0:
            frame["external_id"] = [firms.get(int(i), {}).get("external_id") for i in frame["enterprise_id"]]
        else:
            with store.engine.connect() as conn:
                ext = {r[0]: r[1] for r in conn.execute(select(Enterprise.id, Enterprise.external_id))}
            frame["external_id"] = [ext.get(int(i)) for i in frame["enterprise_id"]]
        return frame, n_candidates
    ids = idx.ids[order].tolist()
    firms = _fetch_firms(store, ids)
    rows = []
    for rank, (row, eid) in enumerate(zip(order.tolist(), ids, strict=True), 1):
        f = firms[eid]
        contribs = _term_contributions(idx, q, (f.get("tokens") or "").split(), config)
        ind = industry_relevance(q.industries.weights, f.get("industry_codes") or {})
        region_hit = bool(comps["region"][row] >= 1.0)
        dist = float(comps["distance_km"][row])
        reason, matched = _explain(f, q, contribs, ind, region_hit, dist, config)
        components = {"text": round(float(comps["text"][row]), 4), "industry": round(float(comps["industry"][row]), 4),
                      "region": round(float(comps["region"][row]), 4), "size": round(float(comps["size"][row]), 4),
                      "distance": round(float(comps["near"][row]), 4)}
        rows.append({
            "rank": rank, "park": park_name, "enterprise_id": eid, "name": f["name"], "credit_code": f["credit_code"],
            "external_id": f["external_id"], "province": f["province"], "city": f["city"], "status": f["status"],
            "reg_capital": f["reg_capital"], "reg_currency": f["reg_currency"], "insured": f["insured"],
            "score": round(float(score[row]), 4), "text": components["text"], "industry": components["industry"],
            "region": components["region"], "size": components["size"],
            "distance_km": None if math.isnan(dist) else round(dist, 1), "components": components,
            "matched_terms": [m["term"] for m in matched["terms"]], "industry_match": matched["firm_industry"],
            "reason": reason, "address": f["address"], "phone": f["phone"], "email": f["email"],
            "website": f["website"], "legal_rep": f["legal_rep"], "_matched": matched,
        })
    frame = pd.DataFrame(rows, columns=[*LEAD_COLUMNS, "address", "phone", "email", "website", "legal_rep", "_matched"])
    return frame, n_candidates


def rank_text(store: Store, text: str, *, config: MatchConfig | None = None, top: int | None = None,
              region: str | None = None, explain: bool = False) -> pd.DataFrame:
    """Rank every firm in ``store`` for a free-text target description (no park record, nothing saved).

    With ``explain=False`` (the evaluation path) returns columns ``rank``, ``enterprise_id``, ``score``,
    ``external_id``; with ``explain=True`` the full lead columns (:data:`LEAD_COLUMNS`).
    """
    config = config or MatchConfig()
    idx = load_index(store)
    q = park_query(text, config)
    frame, _ = _rank_query(store, idx, q, config, top=top, region=region, park_name="(text)", explain=explain)
    return frame


def _save_run(store: Store, park: dict[str, Any], q: ParkQuery, config: MatchConfig, frame: pd.DataFrame,
              n_candidates: int) -> int:
    with store.begin() as conn:
        key = conn.execute(insert(MatchRun).values(
            created_at=datetime.now(), park_id=park.get("id"), park_name=park["name"], query=q.text,
            config=config.to_dict(), n_candidates=n_candidates, n_leads=len(frame),
        )).inserted_primary_key
        assert key is not None  # an INSERT of one row always has a primary key
        run_id = key[0]
        if len(frame):
            conn.execute(insert(Lead), [
                {"run_id": run_id, "enterprise_id": int(r["enterprise_id"]), "rank": int(r["rank"]),
                 "score": float(r["score"]), "components": r["components"], "matched": r["_matched"],
                 "reason": r["reason"]}
                for r in frame.to_dict("records")
            ])
    return int(run_id)


def rank_leads(park: str | dict[str, Any], *, store: Store | None = None, config: MatchConfig | None = None,
               top: int | None = None, region: str | None = None, save: bool = True) -> pd.DataFrame:
    """Ranked leads for a park (a name, alias, or park dict), best first, with reasons.

    Columns: :data:`LEAD_COLUMNS` plus contact columns (address, phone, email, website, legal_rep).
    ``score`` is the combined score; ``text``/``industry``/``region``/``size`` its components (also in the
    ``components`` dict, with ``distance``); ``reason`` a one-line Chinese explanation. The run and its
    leads are stored (``frame.attrs["run_id"]``) unless ``save=False``.
    """
    from .parks import ensure_default_parks, find_park
    from .store import open_store

    store = store or open_store()
    config = config or MatchConfig()
    if isinstance(park, str):
        ensure_default_parks(store)
        park = find_park(store, park)
    if store.count(Enterprise) == 0:
        raise NotFoundError("the database holds no firms: run `matcher ingest FILE` (or `matcher demo`) first")
    idx = load_index(store)
    q = _park_query_of(park, config, store)
    frame, n_candidates = _rank_query(store, idx, q, config, top=top or config.top, region=region,
                                      park_name=park["name"])
    frame.attrs["park_industries"] = [(code_label(c), w) for c, w in q.industries.weights.items()]
    if save:
        frame.attrs["run_id"] = _save_run(store, park, q, config, frame, n_candidates)
    frame.attrs["n_candidates"] = n_candidates
    return frame.drop(columns=["_matched"])
