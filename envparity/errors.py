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
EXIT_NOT_REPRODUCED = 4
EXIT_REFUSED = 78

# code -> what it means, in the order the documentation lists them (docs/reference/exit-codes.md
# is generated from this table by scripts/gen_docs_reference.py).
EXIT_CODES = (
    (EXIT_OK, "success; no drift at or above fail-on; `envparity bisect`: a cause was found"),
    (
        EXIT_DRIFT,
        "drift at or above fail-on; `envparity bisect`: the symptom reproduces but no testable "
        "difference explains it (the untestable ones are listed)",
    ),
    (
        EXIT_BAD_INPUT,
        "bad usage or bad input: an unknown option or value, a missing or invalid file, an "
        "unknown ref, an unsupported database URL (the message names what and what to do)",
    ),
    (EXIT_STORE, "the store cannot be reached, read, written or migrated"),
    (EXIT_NOT_REPRODUCED, "`envparity bisect`: the symptom does not reproduce here"),
    (EXIT_REFUSED, "start-up refused by `envparity run --on-drift fail`"),
)


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


class UnsupportedStore(BadInput, StoreError):
    """A database URL of a kind envparity cannot use (``mysql://``): bad input, exit 2.

    Also a StoreError, so the start-up hook spools the snapshot as for any store it cannot use.
    """

    exit_code = EXIT_BAD_INPUT


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
