"""Text analysis: normalisation, 经营范围 boilerplate removal, jieba tokenisation, stopwords.

One public entry point, :func:`get_analyzer`, returns the process's :class:`Analyzer` (built once, lazily).
All normalisation lives here, so the index, the park queries and the baselines see the same tokens.

Tokeniser of record: a private ``jieba.Tokenizer`` (never jieba's global one) with the shipped domain
dictionary ``resources/userdict.txt``. When the Rust port ``rjieba`` is installed it is used instead: it
gives token-for-token the same output for the same dictionary, user dictionary and HMM setting
(``tests/test_tokenizer_identity.py`` proves it on a large varied corpus) and is ~18x faster.
"""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = [
    "ANALYZER_SCHEME",
    "Analyzer",
    "get_analyzer",
    "normalize_text",
    "strip_boilerplate",
]

#: bump when the analysis rules in this module change; the dictionaries' hash is added automatically
ANALYZER_SCHEME = "a4"

_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")", "{": "(", "}": ")",
                           "《": "", "》": "", "〈": "", "〉": "", "「": "", "」": "", "『": "", "』": "",
                           "“": "", "”": "", "‘": "", "’": "", '"': "", "'": "", "、": ",", "﹑": ","})
_SPACE = re.compile(r"\s+")


def normalize_text(text: str | None) -> str:
    """NFKC (full-width to half-width), one bracket style, no quotes, single spaces; None -> ''."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", str(text)).translate(_BRACKETS)
    return _SPACE.sub(" ", text).strip()


# Legal boilerplate of 经营范围 (after normalize_text: half-width brackets, colons and commas).
_BOILERPLATE = [
    # (依法须经批准的项目,经相关部门批准后方可开展经营活动[,具体经营项目以相关部门批准文件或许可证件为准])
    r"\(?\s*依法须经批准的项目[,;]?\s*经相关部门批准后(?:依批准的内容)?方可开展经营活动[^)。;]*\)?",
    # (除依法须经批准的项目外,凭营业执照依法自主开展经营活动)
    r"\(?\s*除依法须经批准的项目外[,;]?\s*凭营业执照依法自主开展经营活动\)?",
    r"具体经营项目以[^)。;]*?为准",
    r"\(?\s*不得从事[^)。;]*?(?:业务|活动)\)?",
    r"\(?\s*涉及(?:许可|前置审批|行政许可)[^)。;]*?(?:经营|为准)\)?",
    r"\(?\s*(?:国家|法律|法规)[^)。;]{0,20}(?:禁止|限制)[^)。;]*?(?:经营|项目|为准)\)?",
    r"\(?\s*(?:分支机构|分公司)经营\)?",
    r"(?:一般|许可)(?:经营)?项目\s*[::]",
    r"经营范围\s*[::]",
    r"\(\s*\)",
]
_BOILERPLATE_RE = re.compile("|".join(f"(?:{p})" for p in _BOILERPLATE))


def strip_boilerplate(scope: str | None) -> str:
    """Remove the legal formulas of a 经营范围 that say nothing about the business (input is normalised first)."""
    text = normalize_text(scope)
    return _SPACE.sub(" ", _BOILERPLATE_RE.sub(" ", text)).strip(" ,;.。；，、")


def _read_words(name: str) -> frozenset[str]:
    text = (resources.files("matcher") / "resources" / name).read_text(encoding="utf-8")
    words = set()
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.add(unicodedata.normalize("NFKC", line.split()[0]))
    return frozenset(words)


def _userdict_entries() -> list[tuple[str, int, str | None]]:
    text = (resources.files("matcher") / "resources" / "userdict.txt").read_text(encoding="utf-8")
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        try:
            freq = int(parts[1])
        except (IndexError, ValueError):
            raise ValueError(f"resources/userdict.txt line {n}: need 'word freq [tag]', got {line!r}") from None
        out.append((parts[0], freq, parts[2] if len(parts) > 2 else None))
    return out


_KEEP_CHAR = re.compile(r"[\u4e00-\u9fffA-Za-z]")
# "-", "_" and "." joining ASCII letters or digits ("low-e", "a_b", "x.y"): jieba splits them, jieba-rs keeps
# them in one token; a space before cutting makes both backends agree (and "low-e" matches "low e")
_ASCII_JOINER = re.compile(r"(?<=[0-9a-z])[-_.](?=[0-9a-z])")
_NUMERIC = re.compile(r"^[\d.,%+\-/:]+$")


@dataclass
class Analyzer:
    """Tokenises normalised text into index terms. Build it with :func:`get_analyzer`."""

    backend: str  # "rjieba" or "jieba"
    version: str
    stopwords: frozenset[str]
    _cut: object

    @staticmethod
    def prepare(text: str | None) -> str:
        """The text the tokenizer cuts: normalised, lower-cased, ASCII joiners spaced."""
        return _ASCII_JOINER.sub(" ", normalize_text(text).lower())

    def cut(self, text: str) -> list[str]:
        """Raw segmentation of already-normalised text by the backend (HMM on)."""
        return list(self._cut(text))  # type: ignore[operator]

    def tokens(self, text: str | None) -> list[str]:
        """Normalise, segment and filter ``text``: no stopwords, punctuation, bare numbers or spaces."""
        norm = self.prepare(text)
        if not norm:
            return []
        stop = self.stopwords
        intern = sys.intern
        return [
            intern(t)
            for t in self._cut(norm)  # type: ignore[operator]
            if t not in stop and _KEEP_CHAR.search(t) and not _NUMERIC.match(t)
        ]

    def firm_tokens(self, name: str | None, scope: str | None, intro: str | None) -> list[str]:
        """Index terms of a firm: its name (company-form words carry no weight), 经营范围 without
        boilerplate, and 简介."""
        return self.tokens(name) + self.tokens(strip_boilerplate(scope)) + self.tokens(intro)

    def tokens_many(self, texts: Iterable[str | None]) -> list[list[str]]:
        return [self.tokens(t) for t in texts]


def _dictionary_fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("userdict.txt", "stopwords_general.txt", "stopwords_domain.txt"):
        h.update((resources.files("matcher") / "resources" / name).read_bytes())
    return h.hexdigest()[:12]


def _jieba_cut(entries: list[tuple[str, int, str | None]]):  # type: ignore[no-untyped-def]
    import logging

    import jieba

    from .store import data_home

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    cache_dir = data_home() / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    tk.tmp_dir = str(cache_dir)
    tk.cache_file = "jieba.dict.cache"
    tk.initialize()
    for word, freq, tag in entries:
        tk.add_word(word, freq, tag)
    return lambda text: tk.lcut(text, HMM=True)


def _rjieba_cut(entries: list[tuple[str, int, str | None]]):  # type: ignore[no-untyped-def]
    import rjieba

    rj = rjieba.Jieba()
    for word, freq, tag in entries:
        rj.add_word(word, freq, tag)
    return lambda text: rj.cut(text, True)


@cache
def get_analyzer(backend: str = "auto") -> Analyzer:
    """The analyzer for ``backend``: ``auto`` (rjieba when installed, else jieba), ``jieba`` or ``rjieba``."""
    entries = _userdict_entries()
    chosen = backend
    if backend == "auto":
        try:
            import rjieba  # noqa: F401

            chosen = "rjieba"
        except ImportError:
            chosen = "jieba"
    if chosen == "rjieba":
        cut = _rjieba_cut(entries)
    elif chosen == "jieba":
        cut = _jieba_cut(entries)
    else:
        raise ValueError(f"unknown analysis backend {backend!r}: use auto, jieba or rjieba")
    stop = _read_words("stopwords_general.txt") | _read_words("stopwords_domain.txt")
    version = f"{ANALYZER_SCHEME}-{_dictionary_fingerprint()}"
    return Analyzer(backend=chosen, version=version, stopwords=stop, _cut=cut)
