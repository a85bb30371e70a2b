"""The exceptions envparity raises, and the exit code each maps to.

Every error the CLI prints is one of these: one line that names the thing at fault and says what to
do. Nothing else escapes the CLI boundary as a traceback.
"""

from __future__ import annotations

# Exit codes (docs/design.md, "Exit codes").
EXIT_OK = 0
EXIT_DRIFT = 1
EXIT_BAD_INPUT = 2
EXIT_STORE = 3
EXIT_REFUSED = 78


class EnvparityError(Exception):
    """Base of every envparity error; ``exit_code`` is what the CLI exits with."""

    exit_code = EXIT_BAD_INPUT


class BadInput(EnvparityError, ValueError):
    """The user gave something envparity cannot use (a path, a ref, a file, an option).

    Also a ValueError, so code that validated arguments with ``except ValueError`` keeps working.
    """

    exit_code = EXIT_BAD_INPUT


class StoreError(EnvparityError):
    """The store cannot be reached, read or written."""

    exit_code = EXIT_STORE


class SchemaOutOfDate(StoreError):
    """The database schema is behind (run ``envparity db upgrade``) or ahead of this envparity."""


class StoreTimeout(StoreError):
    """The database did not answer within ``ENVPARITY_DB_TIMEOUT`` seconds."""


class SpoolUnavailable(EnvparityError, OSError):
    """No spool directory could take a snapshot the store could not (the hook logs it)."""

    exit_code = EXIT_STORE


class DriftRefused(EnvparityError):
    """``envparity run --on-drift fail`` found drift at or above fail-on."""

    exit_code = EXIT_REFUSED


class CommandNotStarted(EnvparityError):
    """``exec`` of the server's command failed (not found: 127, not executable: 126; none: 2)."""

    def __init__(self, message: str, exit_code: int) -> None:
        super().__init__(message)
        self.exit_code = exit_code
