"""Industry knowledge: GB/T 4754-2017 codes, the team's keyword lists, and both sides mapped onto them.

A park's free text is read into the industries it asks for (:func:`park_industries`); a firm is mapped to
industries from its own words and, when present, its 所属行业 field (:func:`firm_industries`). The
knowledge is data: every ``*.toml`` in ``matcher/resources/industries`` (format in its README.md), loaded
once per process into one Aho-Corasick automaton (longest match wins, so ``汽车租赁`` is not ``汽车``).

Codes are written with their section letter: ``C2923`` (小类), ``C292`` (中类), ``C29`` (大类), ``C`` (门类).
"""

from __future__ import annotations

import csv
import math
import re
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources

from .analyze import normalize_text, strip_boilerplate
from .errors import ConfigError

__all__ = [
    "Evidence",
    "KnowledgeBase",
    "code_label",
    "firm_industries",
    "industry_similarity",
    "knowledge_base",
    "knowledge_fingerprint",
    "park_industries",
]

# How much a match counts, by what matched.
_W_KEYWORD = 1.0
_W_WEAK = 0.3
_W_GBNAME = 0.8
# a concept with more core industries (weight >= 0.8) than this is damped by sqrt(core / this)
_BROAD_CONCEPT = 4.0
# Where it was found in a firm's profile.
_FIELD_WEIGHT = {"name": 1.5, "scope": 1.0, "intro": 1.0}


@dataclass(frozen=True)
class Industry:
    code: str  # with section letter, e.g. C2923
    name: str
    level: int  # 1 门类, 2 大类, 3 中类, 4 小类


@dataclass
class Evidence:
    """What a text was read as: industries with weights, and the terms behind each."""

    weights: dict[str, float] = field(default_factory=dict)
    terms: dict[str, list[str]] = field(default_factory=dict)  # code -> matched terms, strongest first

    def top(self, n: int = 3) -> list[tuple[str, float]]:
        return sorted(self.weights.items(), key=lambda kv: -kv[1])[:n]


@dataclass
class KnowledgeBase:
    industries: dict[str, Industry]
    keywords: dict[str, list[str]]  # code -> keywords (own lists; strong ones)
    weak: dict[str, list[str]]
    related: dict[str, list[str]]
    concepts: dict[str, dict[str, float]]  # concept name -> {code: weight}
    # term -> list of (code, weight, kind)
    term_targets: dict[str, list[tuple[str, float, str]]]
    _automaton: object = None

    def find(self, text: str) -> list[tuple[str, list[tuple[str, float, str]]]]:
        """Longest non-overlapping known terms in normalised, lower-cased ``text``."""
        if not text:
            return []
        return [(term, targets) for _, (term, targets) in self._automaton.iter_long(text)]  # type: ignore[attr-defined]

    def expansion_terms(self, code: str, limit: int) -> list[str]:
        """Keywords of ``code`` and its sub-industries, the code's own first, at most ``limit``."""
        out: list[str] = list(self.keywords.get(code, []))
        if len(out) < limit:
            for other in sorted(self.keywords):
                if other != code and other.startswith(code):
                    out.extend(self.keywords[other][:8])
        seen: set[str] = set()
        uniq = [t for t in out if not (t in seen or seen.add(t))]  # type: ignore[func-returns-value]
        return uniq[:limit]


def _gb_rows() -> list[dict[str, str]]:
    text = (resources.files("matcher") / "resources" / "gbt4754_2017.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


_NAME_SPLIT = re.compile(r"[、,，和及与]")
_DEPENDENT_PARTS = frozenset({"零配件", "零部件", "配件", "附件", "部件", "制品", "用品", "器材", "设备", "装置", "元件",
                              "相关产品", "相关服务", "辅助服务"})
_NAME_SUFFIX = re.compile(r"(?:制造业|制造|加工业|加工|服务业|服务|业|生产和供应业|生产和供应|生产供应)$")


def _gb_name_terms(name: str) -> set[str]:
    """Short forms of a GB industry name that a text may use: the whole name, without 制造/业, its parts."""
    name = normalize_text(name).lower()
    terms = {name}
    stem = _NAME_SUFFIX.sub("", name)
    if len(stem) >= 3:
        terms.add(stem)
    for i, part in enumerate(_NAME_SPLIT.split(stem)):
        part = _NAME_SUFFIX.sub("", part.strip())
        # a later part that only names pieces of the first one (…及零配件, …及其制品) is no industry by itself
        if i and part in _DEPENDENT_PARTS:
            continue
        if len(part) >= 3 and not part.startswith("其"):
            terms.add(part)
    return {t for t in terms if len(t) >= 2 and not t.startswith("其")}


def _load_toml_files() -> tuple[dict[str, dict], dict[str, dict]]:
    industries: dict[str, dict] = {}
    concepts: dict[str, dict] = {}
    folder = resources.files("matcher") / "resources" / "industries"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if not entry.name.endswith(".toml"):
            continue
        try:
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"industry knowledge file {entry.name}: not valid TOML ({exc})") from None
        target = concepts if entry.name == "concepts.toml" else industries
        for key, value in data.items():
            if key in target:  # two files extend the same industry: merge
                for k, v in value.items():
                    if isinstance(v, list):
                        target[key].setdefault(k, []).extend(v)
            else:
                target[key] = dict(value)
    return industries, concepts


@cache
def knowledge_fingerprint() -> str:
    """Short hash of the shipped knowledge files (firms are re-analysed when it changes)."""
    import hashlib

    h = hashlib.sha256((resources.files("matcher") / "resources" / "gbt4754_2017.csv").read_bytes())
    folder = resources.files("matcher") / "resources" / "industries"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".toml"):
            h.update(entry.name.encode())
            h.update(entry.read_bytes())
    return h.hexdigest()[:10]


@cache
def knowledge_base() -> KnowledgeBase:
    """The shipped industry knowledge, loaded once per process."""
    import ahocorasick

    rows = _gb_rows()
    industries: dict[str, Industry] = {}
    for r in rows:
        code = r["code"] if r["code"].isalpha() else r["section"] + r["code"]
        industries[code] = Industry(code=code, name=r["name"], level=int(r["level"]))

    raw, raw_concepts = _load_toml_files()
    keywords: dict[str, list[str]] = {}
    weak: dict[str, list[str]] = {}
    related: dict[str, list[str]] = {}
    for code, ent in raw.items():
        if code not in industries:
            raise ConfigError(f"industry knowledge: unknown GB/T 4754 code {code!r}; codes look like C2923, C29, G5951")
        keywords[code] = [normalize_text(k).lower() for k in ent.get("keywords", [])]
        weak[code] = [normalize_text(k).lower() for k in ent.get("weak", [])]
        related[code] = [c for c in ent.get("related", []) if c in industries]

    concepts: dict[str, dict[str, float]] = {}
    concept_terms: dict[str, str] = {}
    for name, ent in raw_concepts.items():
        codes = {c: float(w) for c, w in ent.get("codes", {}).items() if c in industries}
        if not codes:
            continue
        concepts[name] = codes
        for term in [name, *ent.get("aliases", [])]:
            concept_terms[normalize_text(term).lower()] = name

    term_targets: dict[str, list[tuple[str, float, str]]] = defaultdict(list)
    # keywords shared by several industries split their weight
    kw_owners: dict[str, list[str]] = defaultdict(list)
    for code, kws in keywords.items():
        for k in set(kws):
            kw_owners[k].append(code)
    for k, owners in kw_owners.items():
        share = _W_KEYWORD / math.sqrt(len(owners))
        term_targets[k].extend((c, share, "kw") for c in owners)
    for code, kws in weak.items():
        for k in set(kws):
            if k not in kw_owners:
                term_targets[k].append((code, _W_WEAK, "weak"))
    for code, ind in industries.items():
        if ind.level < 2:
            continue
        for t in _gb_name_terms(ind.name):
            if t not in term_targets:
                term_targets[t].append((code, _W_GBNAME, "gb"))
    for term, cname in concept_terms.items():
        # a concept term means its codes; when a park uses it, it replaces keyword readings of the same string
        # an umbrella term (新材料, 现代服务业) names many industries at once and each of them less surely
        # than a specific term does: damp its weights by its breadth
        core = sum(1 for w in concepts[cname].values() if w >= 0.8)
        damp = 1.0 / math.sqrt(max(1.0, core / _BROAD_CONCEPT))
        term_targets[term].extend((c, w * damp, "concept") for c, w in concepts[cname].items())

    automaton = ahocorasick.Automaton()
    for term, targets in term_targets.items():
        if len(term) >= 2:
            automaton.add_word(term, (term, targets))
    automaton.make_automaton()
    return KnowledgeBase(
        industries=industries,
        keywords=keywords,
        weak=weak,
        related=related,
        concepts=concepts,
        term_targets=dict(term_targets),
        _automaton=automaton,
    )


def code_label(code: str) -> str:
    """``C2923 塑料丝、绳及编织品制造`` for a code (the code alone when unknown)."""
    ind = knowledge_base().industries.get(code)
    return f"{code} {ind.name}" if ind else code


def industry_similarity(want: str, have: str) -> float:
    """How well a firm of industry ``have`` serves a park asking for ``want`` (0..1), by the code tree.

    Same code or a sub-industry of what is asked: 1. The firm known only at a coarser level that contains
    what is asked (所属行业 gives a 大类 or 中类): 0.5 for a 中类, 0.3 for a 大类, 0.1 for a 门类 — the firm may
    be anything in it. Siblings in one 中类: 0.6; in one 大类: 0.35; else 0.
    """
    if have.startswith(want):
        return 1.0
    if want.startswith(have):
        return {4: 0.5, 3: 0.3}.get(len(have), 0.1)
    if len(want) >= 4 and len(have) >= 4 and want[:4] == have[:4]:
        return 0.6
    if len(want) >= 3 and len(have) >= 3 and want[:3] == have[:3]:
        return 0.35
    return 0.0


_FIELD_CODE = re.compile(r"^\s*([A-Ta-t])?\s*(\d{2,4})")


@cache
def _name_index() -> dict[str, str]:
    """Normalised GB name -> code (built once)."""
    return {normalize_text(ind.name).lower(): code for code, ind in knowledge_base().industries.items()}


@cache
def _digits_index() -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for code in knowledge_base().industries:
        out[code[1:]].append(code)
    return dict(out)


@lru_cache(maxsize=4096)
def industry_field_codes(value: str | None) -> dict[str, float]:
    """Codes named by an export's 所属行业 field: a code (``C26``, ``2923``, ``C26化学原料…``) or a GB name."""
    if not value:
        return {}
    text = normalize_text(value)
    m = _FIELD_CODE.match(text)
    if m:
        letter = m.group(1).upper() if m.group(1) else None
        for code in _digits_index().get(m.group(2), []):
            if letter is None or code[0] == letter:
                return {code: 1.0}
    named = _name_index().get(text.lower())
    if named:
        return {named: 1.0}
    # several levels in one cell, or a name variant: read it like text, keep the most specific codes
    ev = _read(text.lower(), kinds=("gb", "kw", "concept"))
    return {c: w for c, w in ev.weights.items() if w >= 0.5}


def _read(text: str, *, kinds: Iterable[str] = ("kw", "weak", "gb", "concept"), scale: float = 1.0,
          into: Evidence | None = None, combine: str = "sum", concept_first: bool = False) -> Evidence:
    ev = into or Evidence()
    allowed = set(kinds)
    seen: set[str] = set()
    for term, targets in knowledge_base().find(text):
        if term in seen:
            continue  # a term counts once per text
        seen.add(term)
        concept = [t for t in targets if t[2] == "concept"]
        other = [t for t in targets if t[2] != "concept"]
        if concept_first and concept:
            # a park's policy term means what the concept says; when the term is also a product keyword,
            # the industry that makes the product is asked for in full too
            targets = concept + [(c, _W_KEYWORD, k) for c, _, k in other if k == "kw"]
        elif other:
            targets = other
        else:  # a firm using a policy term: weaker evidence than naming its products
            targets = [(c, w * 0.5, k) for c, w, k in concept]
        for code, w, kind in targets:
            if kind not in allowed:
                continue
            value = w * scale
            if combine == "max":
                ev.weights[code] = max(ev.weights.get(code, 0.0), value)
            else:
                ev.weights[code] = ev.weights.get(code, 0.0) + value
            ev.terms.setdefault(code, [])
            if term not in ev.terms[code]:
                ev.terms[code].append(term)
    return ev


def firm_industries(name: str | None, scope: str | None, intro: str | None, industry: str | None = None,
                    *, use_field: bool = True) -> dict[str, float]:
    """A firm's industries as ``{code: confidence}`` (0..1), from its words and its 所属行业 field.

    Confidence combines the share of the firm's evidence that points to the industry (a firm that mostly
    makes woven bags is a 塑编 firm; one that mentions them once among twenty products is less so) with
    the amount of evidence (one weak word is not enough).
    """
    return firm_evidence(name, scope, intro, industry, use_field=use_field).weights


def firm_evidence(name: str | None, scope: str | None, intro: str | None, industry: str | None = None,
                  *, use_field: bool = True) -> Evidence:
    ev = Evidence()
    kinds = ("kw", "weak", "gb", "concept")
    _read(normalize_text(name).lower(), kinds=kinds, scale=_FIELD_WEIGHT["name"], into=ev)
    _read(strip_boilerplate(scope).lower(), kinds=kinds, scale=_FIELD_WEIGHT["scope"], into=ev)
    _read(normalize_text(intro).lower(), kinds=kinds, scale=_FIELD_WEIGHT["intro"], into=ev)
    raw = ev.weights
    total = sum(raw.values())
    # evidence for a 小类 is evidence for its 中类 and 大类 too: a firm whose words spread over several
    # classes of one division is still wholly in that division
    agg: dict[str, float] = defaultdict(float)
    for code, w in raw.items():
        agg[code] += w
        for cut in range(len(code) - 1, 2, -1):
            agg[code[:cut]] += w
    out: dict[str, float] = {}
    if total > 0:
        for code, w in agg.items():
            share = w / total
            strength = 1.0 - math.exp(-w / 1.2)
            conf = math.sqrt(share) * strength
            if conf >= 0.05:
                out[code] = round(conf, 4)
    if use_field and industry:
        field_codes = industry_field_codes(industry)
        for fc, fw in field_codes.items():
            # text evidence inside the declared industry is confirmed by it, evidence outside counts less;
            # the field itself is strong evidence (at its own, often coarse, level)
            for code in list(out):
                if code.startswith(fc) or fc.startswith(code):
                    out[code] = round(min(1.0, out[code] * 1.3), 4)
                else:
                    out[code] = round(out[code] * 0.7, 4)
            out[fc] = max(out.get(fc, 0.0), 0.8 * fw)
            ev.terms.setdefault(fc, []).insert(0, f"所属行业:{normalize_text(industry)}")
    ev.weights = dict(sorted(out.items(), key=lambda kv: -kv[1]))
    return ev


def park_industries(text: str | None, pinned: Iterable[str] = ()) -> Evidence:
    """The industries a park's description asks for, ``{code: weight}`` with the strongest at 1.0.

    ``pinned`` codes (set by the user on the park) replace what is read from the text.
    """
    kb = knowledge_base()
    pins = [c.strip().upper() for c in pinned if c and c.strip()]
    if pins:
        unknown = [c for c in pins if c not in kb.industries]
        if unknown:
            raise ConfigError(f"pinned industries {unknown}: not GB/T 4754-2017 codes (e.g. C2923, C36)")
        return Evidence(weights={c: 1.0 for c in pins}, terms={c: ["(指定)"] for c in pins})
    ev = _read(normalize_text(text).lower(), kinds=("kw", "gb", "concept"), combine="max", concept_first=True)
    if not ev.weights:
        return ev
    top = max(ev.weights.values())
    weights = {c: round(w / top, 4) for c, w in ev.weights.items() if w / top >= 0.2}
    # a code whose ancestor is also asked for at least as strongly adds nothing
    pruned = {c: w for c, w in weights.items()
              if not any(c != a and c.startswith(a) and weights[a] >= w for a in weights)}
    ev.weights = dict(sorted(pruned.items(), key=lambda kv: -kv[1]))
    ev.terms = {c: ev.terms[c] for c in ev.weights}
    return ev


def industry_relevance(park: Mapping[str, float], firm: Mapping[str, float]) -> tuple[float, str | None, str | None]:
    """Industry relevance of a firm for a park (0..1), with the park code and firm code that produced it.

    Among pairs that score within 80 % of the best, the most specific firm code is named (a reason that
    says C3630 改装汽车制造 tells more than C36 汽车制造业).
    """
    kb = knowledge_base()
    pairs: list[tuple[float, str, str]] = []
    for p, pw in park.items():
        targets = [(p, 1.0)] + [(r, 0.5) for r in kb.related.get(p, [])]
        for f, fw in firm.items():
            s = max(pw * tw * fw * industry_similarity(t, f) for t, tw in targets)
            if s > 0:
                pairs.append((s, p, f))
    if not pairs:
        return 0.0, None, None
    best = max(pairs)[0]
    near = [pr for pr in pairs if pr[0] >= 0.8 * best]
    _, p, f = max(near, key=lambda pr: (len(pr[2]), pr[0]))
    return best, p, f
