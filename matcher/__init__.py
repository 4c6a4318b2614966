"""matcher: an investment-lead matching engine for investment-promotion offices (招商引资线索匹配).

Public API (everything else is an implementation detail)::

    from matcher import open_store, ingest_files, rank_leads, score_profile, MatchConfig
    store = open_store()                       # default SQLite file, or open_store("postgresql://...")
    ingest_files(store, ["data/sample_firms.csv"])
    leads = rank_leads("四平经开区", store=store, top=20)   # DataFrame, best first, with reasons
    parks = score_profile("专用车、冷藏车的生产与销售", store=store)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "MatchConfig",
    "MatcherError",
    "city_coordinates",
    "code_label",
    "evaluate_bench",
    "firm_industries",
    "ingest_dataframe",
    "ingest_files",
    "list_parks",
    "open_store",
    "park_industries",
    "rank_leads",
    "rank_text",
    "score_profile",
    "setup_matplotlib",
]

# Lazy re-exports keep `import matcher` (and the CLI's start) fast.
_WHERE = {
    "MatchConfig": "config",
    "MatcherError": "errors",
    "city_coordinates": "normalize",
    "code_label": "industry",
    "evaluate_bench": "evaluate",
    "firm_industries": "industry",
    "ingest_dataframe": "ingest",
    "ingest_files": "ingest",
    "list_parks": "parks",
    "open_store": "store",
    "park_industries": "industry",
    "rank_leads": "rank",
    "rank_text": "rank",
    "score_profile": "rank",
    "setup_matplotlib": "plotting",
}

if TYPE_CHECKING:
    from .config import MatchConfig
    from .errors import MatcherError
    from .evaluate import evaluate_bench
    from .industry import code_label, firm_industries, park_industries
    from .ingest import ingest_dataframe, ingest_files
    from .normalize import city_coordinates
    from .parks import list_parks
    from .plotting import setup_matplotlib
    from .rank import rank_leads, rank_text, score_profile
    from .store import open_store


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module 'matcher' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
