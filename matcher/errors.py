"""Project exceptions: one base class; every message names the file, row, column or value and the remedy."""

from __future__ import annotations

__all__ = ["MatcherError", "InputError", "ConfigError", "NotFoundError", "StoreError"]


class MatcherError(Exception):
    """Base class of every error the matcher raises on purpose (the CLI prints it as one line, exit 2)."""


class InputError(MatcherError):
    """A file or value the user gave cannot be used as it is."""


class ConfigError(MatcherError):
    """A configuration file or value is invalid."""


class NotFoundError(MatcherError):
    """A park, firm or run the user named does not exist."""


class StoreError(MatcherError):
    """The database cannot be opened or is at an unknown schema version."""
