"""Score one firm (free text or a dict of export columns) against every park: :func:`score_profile`,
re-exported by :mod:`matcher.rank`. The score is the park ranking's (:mod:`matcher.rank`), on the same scale."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .analyze import get_analyzer
from .config import MatchConfig
from .errors import InputError
from .explain import _explain, _term_contributions
from .index import FirmIndex, load_index
from .industry import code_label, firm_evidence, industry_relevance
from .regions import province_short
from .store import Store

if TYPE_CHECKING:
    from .rank import ParkQuery

__all__ = ["score_profile"]


def _best_bm25(idx: FirmIndex, q: ParkQuery, config: MatchConfig) -> float:
    """The best firm's BM25 for a park's query (the text scale), once per index state and query."""
    from .rank import _memo

    key = ("best", tuple(q.terms.items()), config.k1, config.b)
    return float(_memo(idx, key, lambda: idx.bm25(q.terms, k1=config.k1, b=config.b).max()))


def _profile_fields(profile: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(profile, str):
        if not profile.strip():
            raise InputError("the profile text is empty: give a firm's 经营范围 or 简介")
        return {"name": "", "scope": profile, "intro": "", "industry": None}
    from .columns import map_columns

    mapping = map_columns(list(profile.keys()))
    fields: dict[str, Any] = {f: profile[h] for f, h in mapping.fields.items() if profile.get(h) not in (None, "")}
    for h in mapping.industry_columns:
        if profile.get(h) and not fields.get("industry"):
            fields["industry"] = profile[h]
    if not any(fields.get(k) for k in ("name", "scope", "intro")):
        raise InputError(f"the profile has no name, 经营范围 or 简介 (keys seen: {', '.join(map(str, profile))})")
    return fields


def score_profile(profile: str | dict[str, Any], *, store: Store | None = None,
                  config: MatchConfig | None = None) -> pd.DataFrame:
    """Score one firm (free text or a dict of export columns) against every park, best park first.

    Columns: ``rank``, ``park``, ``score``, ``text``, ``industry``, ``region``, ``size``, ``components``,
    ``matched_terms``, ``industry_match``, ``reason``. Scores are on the same scale as the park's lead
    list (text relevance is relative to the park's best stored firm).
    """
    from .parks import ensure_default_parks, list_parks
    from .rank import _combine, _components, _park_query_of  # lazily: matcher.rank re-exports this function
    from .store import open_store

    store = store or open_store()
    config = config or MatchConfig()
    ensure_default_parks(store)
    f = _profile_fields(profile)
    analyzer = get_analyzer()
    tokens = analyzer.firm_tokens(f.get("name"), f.get("scope"), f.get("intro"))
    ev = firm_evidence(f.get("name"), f.get("scope"), f.get("intro"),
                       f.get("industry") if config.use_industry_field else None)
    codes = ev.weights
    idx = load_index(store)
    one = FirmIndex.empty(idx.version)
    from .normalize import parse_capital

    cap, cur = (None, None)
    if f.get("reg_capital"):
        try:
            cap, cur = parse_capital(str(f["reg_capital"]))
        except ValueError:
            cap, cur = None, None
    prov = province_short(f.get("province"))
    one.append([{"id": 0, "tokens": " ".join(tokens), "industry_codes": codes, "status": f.get("status"),
                 "province": prov, "city": f.get("city"), "capital_wan_cny": cap, "insured": None,
                 "lon": None, "lat": None}])
    rows = []
    for park in list_parks(store):
        q = _park_query_of(park, config, store)
        # text relevance on the store's scale: BM25 with the store's statistics, over the park's best firm
        contribs = _term_contributions(idx, q, tokens, config) if idx.n_live else []
        bm = sum(w for _, w in contribs)
        best = _best_bm25(idx, q, config) if idx.n_live else 0.0
        text = 0.0 if "text" in config.components_off else (min(1.0, bm / best) if best > 0 else (1.0 if bm else 0.0))
        comps = _components(one, q, config, text_=False)  # text is on the store's scale, set below
        comps["text"] = np.array([text])
        score, _rel = _combine(comps, config)
        ind = industry_relevance(q.industries.weights, codes)
        firm = {"name": f.get("name"), "scope": f.get("scope"), "province": prov, "reg_capital": cap,
                "reg_currency": cur, "insured": None}
        # a pasted profile without a province: said once (frame.attrs["notes"]), not on every park's line
        reason, matched = _explain(firm, q, contribs, ind, bool(comps["region"][0] >= 1), math.nan, config,
                                   say_unknown_region=bool(prov))
        components = {k: round(float(comps[k][0]), 4) for k in ("text", "industry", "region", "size")}
        rows.append({"park": park["name"], "score": round(float(score[0]), 4), **components,
                     "components": components, "matched_terms": [m["term"] for m in matched["terms"]],
                     "industry_match": matched["park_industry"], "reason": reason})
    frame = pd.DataFrame(rows).sort_values("score", ascending=False, kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", range(1, len(frame) + 1))
    frame.attrs["firm_industries"] = [(code_label(c), w) for c, w in list(codes.items())[:5]]
    frame.attrs["notes"] = [] if prov else ["未给出所在省份：目标区域一项按缺失计 (no province given: region counts as missing)"]
    return frame
