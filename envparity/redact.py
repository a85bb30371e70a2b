"""Redaction of secrets: names that look secret, values that hold credentials, URL userinfo.

Stdlib only: this module also runs inside a foreign interpreter (``snapshot --python``).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit

REDACTED = "<redacted>"

# Matched anywhere in a variable or query-parameter name, case-insensitively. A substring match
# catches AWS_SECRET_ACCESS_KEY and HF_TOKEN that an exact-name denylist would miss.
_SECRET_NAME = re.compile(
    r"secret|token|passw|pwd|key|auth|credential|cookie|session|private|signature", re.I
)

# Values that are credentials whatever their name.
_SECRET_VALUE = re.compile(
    r"""
      \b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b      # AWS access key id
    | \bgh[pousr]_[A-Za-z0-9]{20,}                           # GitHub tokens
    | \bgithub_pat_[A-Za-z0-9_]{20,}
    | \bhf_[A-Za-z0-9]{20,}                                  # Hugging Face
    | \bxox[abprs]-[A-Za-z0-9-]{10,}                         # Slack
    | \bsk-[A-Za-z0-9_-]{20,}                                # OpenAI-style API keys
    | \bglpat-[A-Za-z0-9_-]{20,}                             # GitLab
    | \beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}  # JWT
    | -----BEGIN[ A-Z]*PRIVATE[ ]KEY-----                    # PEM
    """,
    re.X,
)

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def is_secret_name(name: str) -> bool:
    """True when a variable or parameter name suggests its value is a secret."""
    return bool(_SECRET_NAME.search(name))


def redact_url(url: str) -> str:
    """The URL with its whole userinfo and any secret-named query parameters redacted."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    # Edit the original text rather than re-joining the parts: urlunsplit drops an empty
    # authority (sqlite:////abs/path would lose a slash).
    result = url
    if "@" in parts.netloc:
        result = result.replace(parts.netloc, "***@" + parts.netloc.rpartition("@")[2], 1)
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(is_secret_name(k) for k, _ in pairs):
            query = urlencode([(k, "***" if is_secret_name(k) else v) for k, v in pairs])
            result = result.replace("?" + parts.query, "?" + query, 1)
    return result


def redact_value(value: str) -> str:
    """The value, redacted whole when it holds a credential, or with its URLs' userinfo removed."""
    if _SECRET_VALUE.search(value):
        return REDACTED
    if "://" in value:
        return _URL.sub(lambda m: redact_url(m.group(0)), value)
    return value


def redact(name: str, value: str) -> str:
    """What may be recorded of the variable ``name`` holding ``value``."""
    if is_secret_name(name):
        return REDACTED
    return redact_value(value)
