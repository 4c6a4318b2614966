"""Stored ranking runs: list them, and read a run's leads back as the DataFrame ``rank_leads`` returned."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from .errors import NotFoundError
from .store import Enterprise, Lead, MatchRun, Store

__all__ = ["latest_run_id", "list_runs", "run_leads"]


def list_runs(store: Store, park: str | None = None, limit: int = 50) -> pd.DataFrame:
    """Runs, newest first: run_id, created_at, park, n_candidates, n_leads."""
    q = select(MatchRun.id, MatchRun.created_at, MatchRun.park_name, MatchRun.n_candidates, MatchRun.n_leads)
    if park:
        q = q.where(MatchRun.park_name == park)
    with store.engine.connect() as conn:
        rows = conn.execute(q.order_by(MatchRun.id.desc()).limit(limit)).all()
    return pd.DataFrame(rows, columns=["run_id", "created_at", "park", "n_candidates", "n_leads"])


def latest_run_id(store: Store, park: str) -> int | None:
    """The newest stored run of ``park`` (exact park name), or None."""
    with store.engine.connect() as conn:
        return conn.execute(select(MatchRun.id).where(MatchRun.park_name == park)
                            .order_by(MatchRun.id.desc()).limit(1)).scalar_one_or_none()


def run_leads(store: Store, run_id: int) -> pd.DataFrame:
    """The leads of a stored run, best first, with the firm's current details and contact columns."""
    with store.engine.connect() as conn:
        run = conn.execute(select(MatchRun.park_name).where(MatchRun.id == run_id)).scalar_one_or_none()
        if run is None:
            raise NotFoundError(f"no stored run #{run_id}: see `matcher runs list`")
        rows = conn.execute(
            select(Lead.rank, Lead.score, Lead.components, Lead.matched, Lead.reason, Enterprise.id,
                   Enterprise.name, Enterprise.credit_code, Enterprise.external_id, Enterprise.province,
                   Enterprise.city, Enterprise.district, Enterprise.address, Enterprise.status, Enterprise.reg_capital,
                   Enterprise.reg_currency, Enterprise.insured, Enterprise.phone, Enterprise.email,
                   Enterprise.website, Enterprise.legal_rep)
            .join(Enterprise, Enterprise.id == Lead.enterprise_id, isouter=True)
            .where(Lead.run_id == run_id).order_by(Lead.rank)
        ).all()
    records = []
    for r in rows:
        comp = r.components or {}
        records.append({
            "rank": r.rank, "park": run, "enterprise_id": r.id, "name": r.name, "credit_code": r.credit_code,
            "external_id": r.external_id, "province": r.province, "city": r.city, "district": r.district,
            "address": r.address, "status": r.status, "reg_capital": r.reg_capital, "reg_currency": r.reg_currency,
            "insured": r.insured, "score": r.score, "text": comp.get("text"), "industry": comp.get("industry"),
            "region": comp.get("region"), "size": comp.get("size"), "components": comp,
            "matched_terms": [t["term"] for t in (r.matched or {}).get("terms", [])],
            "industry_match": (r.matched or {}).get("firm_industry"), "reason": r.reason,
            "phone": r.phone, "email": r.email, "website": r.website, "legal_rep": r.legal_rep,
        })
    frame = pd.DataFrame(records)
    frame.attrs["run_id"] = run_id
    return frame
