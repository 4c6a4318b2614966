"""统一社会信用代码 (unified social credit code), GB 32100-2015.

Eighteen characters from a 31-character alphabet (digits and capital letters without I, O, S, V, Z):
registration authority (1), organisation category (1), administrative division (6), organisation code (9),
check character (1). The check character is computed from the first 17 with fixed weights, modulo 31.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

__all__ = ["ALPHABET", "check_character", "credit_code_problem", "is_valid_credit_code", "normalize_credit_code"]


def check_character(first17: str) -> str:
    """Return the GB 32100-2015 check character for the first 17 characters of a code."""
    if len(first17) != 17 or any(c not in _VALUE for c in first17):
        raise ValueError(f"need 17 characters from {ALPHABET!r}, got {first17!r}")
    total = sum(_VALUE[c] * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    """Upper-case, strip spaces and full-width forms; does not validate."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def credit_code_problem(code: str) -> str | None:
    """Why ``code`` (already normalised) is not a valid code, in Chinese and English; None when valid."""
    if len(code) != 18:
        return f"统一社会信用代码应为18位，实为{len(code)}位 (must be 18 characters)"
    bad = [c for c in code if c not in _VALUE]
    if bad:
        return f"含非法字符 {''.join(bad)!r} (allowed: digits and A-Y without I O S V Z)"
    expected = check_character(code[:17])
    if code[17] != expected:
        return f"校验位应为 {expected}，实为 {code[17]} (check character mismatch: a typo or a corrupted code)"
    return None


def is_valid_credit_code(code: str) -> bool:
    """True when ``code`` is a well-formed code whose check character is right."""
    return credit_code_problem(normalize_credit_code(code)) is None
