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
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "ANALYZER_SCHEME",
    "PARALLEL_MIN_FIRMS",
    "Analyzer",
    "ChunkPool",
    "get_analyzer",
    "normalize_text",
    "parallel_map",
    "strip_boilerplate",
]

#: bump when the analysis rules in this module change; the dictionaries' hash is added automatically
ANALYZER_SCHEME = "a4"

_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")", "{": "(", "}": ")",
                           "《": "", "》": "", "〈": "", "〉": "", "「": "", "」": "", "『": "", "』": "",
                           "“": "", "”": "", "‘": "", "’": "", '"': "", "'": "", "、": ",", "﹑": ","})
_SPACE = re.compile(r"\s+")


# Speed, same result: full-width ASCII (U+FF01-FF5E) and the ideographic space are first replaced by their
# own one-character NFKC forms (which compose with nothing before them), so NFKC mostly takes its quick
# path; and single-character replacements run as one regex pass, several times faster on Chinese text than
# str.translate with a dict table.
_FULL_WIDTH = {chr(c): unicodedata.normalize("NFKC", chr(c)) for c in [*range(0xFF01, 0xFF5F), 0x3000]}
_FULL_WIDTH_RE = re.compile("[\uff01-\uff5e\u3000]")
_BRACKET_MAP = {chr(k): "" if v is None else (v if isinstance(v, str) else chr(v)) for k, v in _BRACKETS.items()}
_BRACKET_RE = re.compile("[" + "".join(re.escape(c) for c in _BRACKET_MAP) + "]")


def normalize_text(text: str | None) -> str:
    """NFKC (full-width to half-width), one bracket style, no quotes, single spaces; None -> ''."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", _FULL_WIDTH_RE.sub(lambda m: _FULL_WIDTH[m.group()], str(text)))
    text = _BRACKET_RE.sub(lambda m: _BRACKET_MAP[m.group()], text)
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
    # verdict of the token filter below per raw token (the interned token, or None when dropped): the rules
    # run once per distinct token instead of once per occurrence
    _kept: dict[str, str | None] = field(default_factory=dict, repr=False, compare=False)

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
        kept = self._kept
        out = []
        for t in self._cut(norm):  # type: ignore[operator]
            k = kept.get(t, "")
            if k == "":
                if len(kept) > 2_000_000:  # a bound on the memo, far above a city's vocabulary
                    kept.clear()
                k = kept[t] = self._keep(t)
            if k is not None:
                out.append(k)
        return out

    def _keep(self, t: str) -> str | None:
        """The filter of :meth:`tokens`: no stopwords, punctuation, bare numbers or spaces."""
        if t not in self.stopwords and _KEEP_CHAR.search(t) and not _NUMERIC.match(t):
            return sys.intern(t)
        return None

    def firm_tokens(self, name: str | None, scope: str | None, intro: str | None) -> list[str]:
        """Index terms of a firm: its name (company-form words carry no weight), 经营范围 without
        boilerplate, and 简介."""
        return self.tokens(name) + self.tokens(strip_boilerplate(scope)) + self.tokens(intro)


def _dictionary_fingerprint() -> str:
    h = hashlib.sha256()
    for name in ("userdict.txt", "stopwords_general.txt", "stopwords_domain.txt"):
        h.update((resources.files("matcher") / "resources" / name).read_bytes())
    return h.hexdigest()[:12]


def private_jieba(cache_name: str) -> Any:
    """A private, initialised ``jieba.Tokenizer`` with jieba's default dictionary (never the global one),
    quiet, its dictionary cache in the project's data folder (not the shared temporary folder)."""
    import logging

    import jieba

    from .store import data_home

    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    cache_dir = data_home() / "cache"
    cache_dir.mkdir(parents=True, exist_ok=True)
    tk.tmp_dir = str(cache_dir)
    tk.cache_file = cache_name
    tk.initialize()
    return tk


def _jieba_cut(entries: list[tuple[str, int, str | None]]) -> Callable[[str], list[str]]:
    tk = private_jieba("jieba.dict.cache")
    for word, freq, tag in entries:
        tk.add_word(word, freq, tag)
    return lambda text: tk.lcut(text, HMM=True)


def _rjieba_class() -> Any:
    """rjieba's ``Jieba`` class. Importing the package builds a default ``Jieba`` with the full dictionary
    (~0.1 s) that is never used here, so the compiled module is loaded on its own when it can be found
    (and registered, so a later ``import rjieba`` reuses it); otherwise the package is imported."""
    if "rjieba" in sys.modules or "rjieba.rjieba" in sys.modules:
        mod = sys.modules.get("rjieba.rjieba") or sys.modules.get("rjieba")
        if mod is None:  # import blocked (sys.modules entry None)
            raise ImportError("rjieba is not importable")
        return mod.Jieba
    try:
        import importlib.util
        from importlib.machinery import EXTENSION_SUFFIXES, ExtensionFileLoader

        spec = importlib.util.find_spec("rjieba")
        folders = list(spec.submodule_search_locations or []) if spec else []
        path = next(p for d in folders for suffix in EXTENSION_SUFFIXES
                    if os.path.isfile(p := os.path.join(d, "rjieba" + suffix)))
        loader = ExtensionFileLoader("rjieba.rjieba", path)
        ext_spec = importlib.util.spec_from_file_location("rjieba.rjieba", path, loader=loader)
        if ext_spec is None:
            raise ImportError("rjieba")
        mod = importlib.util.module_from_spec(ext_spec)
        loader.exec_module(mod)
        sys.modules["rjieba.rjieba"] = mod
        return mod.Jieba
    except (ImportError, StopIteration, AttributeError, OSError, ValueError):
        import rjieba

        return rjieba.Jieba


def _rjieba_cut(entries: list[tuple[str, int, str | None]]) -> Callable[[str], list[str]]:
    rj = _rjieba_class()()
    for word, freq, tag in entries:
        rj.add_word(word, freq, tag)
    return lambda text: rj.cut(text, True)


def get_analyzer(backend: str | None = None) -> Analyzer:
    """The analyzer for ``backend``: ``auto`` (rjieba when installed, else jieba), ``jieba`` or ``rjieba``.

    ``None`` (the default) reads ``$MATCHER_TOKENIZER`` (``auto`` when unset), so pure jieba can be forced
    for a whole run: ``MATCHER_TOKENIZER=jieba matcher ingest ...``. Built once per backend and process.
    """
    chosen = (backend or os.environ.get("MATCHER_TOKENIZER") or "auto").strip().lower()
    return _analyzer_for(chosen)


@cache
def _analyzer_for(backend: str) -> Analyzer:
    if backend == "auto":
        try:
            _rjieba_class()
        except ImportError:
            return _analyzer_for("jieba")
        return _analyzer_for("rjieba")
    entries = _userdict_entries()
    chosen = backend
    if chosen == "rjieba":
        cut = _rjieba_cut(entries)
    elif chosen == "jieba":
        cut = _jieba_cut(entries)
    else:
        raise ValueError(f"unknown analysis backend {backend!r}: use auto, jieba or rjieba")
    stop = _read_words("stopwords_general.txt") | _read_words("stopwords_domain.txt")
    version = f"{ANALYZER_SCHEME}-{_dictionary_fingerprint()}"
    return Analyzer(backend=chosen, version=version, stopwords=stop, _cut=cut)


# ---------------------------------------------------------------- parallel analysis of large batches

#: below this many items a batch is analysed in the calling process: starting workers costs ~0.5 s
PARALLEL_MIN_FIRMS = 20_000
#: items per task sent to a worker; the memory in flight is about ``2 x workers x chunk`` items
PARALLEL_CHUNK = 2_000


def _worker_start(backend: str | None) -> None:  # pragma: no cover - runs in the worker processes
    get_analyzer(backend)


class ChunkPool:
    """Worker processes that map a module-level function over chunks of a batch, results in input order.

    ``fn`` must be importable (defined in a module, not in ``__main__``) and take and return lists. On
    Linux the workers are forked, so they share what the parent has loaded (dictionaries, knowledge base);
    elsewhere they are spawned and build the analyzer once each. Use as a context manager, or ``close()``.
    """

    def __init__(self, workers: int | None = None, *, chunk_size: int = PARALLEL_CHUNK) -> None:
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor

        self.workers = max(1, workers or os.cpu_count() or 1)
        self.chunk_size = max(1, chunk_size)
        methods = mp.get_all_start_methods()
        ctx = mp.get_context("fork" if "fork" in methods else "spawn")
        backend = os.environ.get("MATCHER_TOKENIZER")
        self._executor = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_worker_start,
                                             initargs=(backend,))

    def map(self, fn: Callable[[list[Any]], list[Any]], items: Sequence[Any] | Iterable[Any], *,
            progress: Callable[[int], object] | None = None) -> Iterator[Any]:
        """``fn`` over ``items`` in chunks, flattened in order; at most ``2 x workers`` chunks in flight, so
        memory follows the chunk size, not the length of ``items`` (which may be a lazy iterator).
        ``progress(n)`` is called as each chunk of ``n`` items completes."""
        from collections import deque

        it = iter(items)
        pending: deque[Any] = deque()

        def submit() -> bool:
            chunk = []
            for x in it:
                chunk.append(x)
                if len(chunk) >= self.chunk_size:
                    break
            if not chunk:
                return False
            pending.append((len(chunk), self._executor.submit(fn, chunk)))
            return True

        while len(pending) < 2 * self.workers and submit():
            pass
        while pending:
            n, fut = pending.popleft()
            result = fut.result()
            submit()
            if progress is not None:
                progress(n)
            yield from result

    def start(self, fn: Callable[[list[Any]], list[Any]], items: Sequence[Any]) -> Callable[[], list[Any]]:
        """Submit ``fn`` over ``items`` (a batch already in memory) in chunks, and return at once a function
        that waits for the results and returns them flattened, in order: the caller works meanwhile."""
        size = self.chunk_size
        futures = [self._executor.submit(fn, list(items[i:i + size])) for i in range(0, len(items), size)]
        return lambda: [x for f in futures for x in f.result()]

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> ChunkPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def parallel_map(fn: Callable[[list[Any]], list[Any]], items: Sequence[Any], *, workers: int | None = None,
                 min_items: int | None = None, chunk_size: int = PARALLEL_CHUNK, pool: ChunkPool | None = None,
                 progress: Callable[[int], object] | None = None) -> list[Any]:
    """``fn(items)``, computed in worker processes when the batch is large, else in this process.

    Parallel when ``len(items) >= min_items`` (default :data:`PARALLEL_MIN_FIRMS`) and more than one
    worker is available (``workers``, default the number of CPUs), or always through a given ``pool``.
    The result equals ``fn(list(items))`` whenever ``fn`` maps each item on its own.
    """
    n_workers = pool.workers if pool is not None else max(1, workers or os.cpu_count() or 1)
    threshold = PARALLEL_MIN_FIRMS if min_items is None else min_items
    if pool is None and (n_workers < 2 or len(items) < threshold):
        out = fn(list(items))
        if progress is not None:
            progress(len(items))
        return out
    if pool is not None:
        return list(pool.map(fn, items, progress=progress))
    with ChunkPool(n_workers, chunk_size=chunk_size) as own:
        return list(own.map(fn, items, progress=progress))


def firm_token_strings(rows: list[tuple[str | None, str | None, str | None]]) -> list[str]:
    """Space-joined :meth:`Analyzer.firm_tokens` of ``(name, 经营范围, 简介)`` rows: a worker function for
    :func:`parallel_map` / :class:`ChunkPool` (importable by worker processes)."""
    a = get_analyzer()
    return [" ".join(a.firm_tokens(*r)) for r in rows]
