"""The syntax of refs that needs no store: ``fp:PREFIX``. A leaf module (stdlib only), so that
the store parses refs without importing :mod:`envparity.refs`, which imports the store.
"""

from __future__ import annotations

import re
from typing import Optional

from .errors import BadInput

FINGERPRINT_PREFIX = "fp:"
MIN_FINGERPRINT_PREFIX = 12
_HEX = re.compile(r"^[0-9a-f]+$")


def fingerprint_ref(ref: str) -> Optional[str]:
    """The fingerprint prefix of an ``fp:PREFIX`` ref (lower-cased), None for other refs.

    A malformed one (not hex, shorter than 12, longer than 64) is a BadInput saying so.
    """
    if not ref.startswith(FINGERPRINT_PREFIX):
        return None
    prefix = ref[len(FINGERPRINT_PREFIX) :].strip().lower()
    if not _HEX.match(prefix) or not MIN_FINGERPRINT_PREFIX <= len(prefix) <= 64:
        raise BadInput(
            f"ref {ref!r}: fp: takes {MIN_FINGERPRINT_PREFIX} to 64 hex characters of a "
            "fingerprint, e.g. fp:9e9e90951ac7 as the `envparity run` log prints it"
        )
    return prefix
