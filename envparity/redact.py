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
    r"secret|token(?!izer)|passw|pwd|key|auth|credential|cookie|session|private|signature", re.I
)

# Query parameter names that are secrets though too short for the pattern above (Azure SAS).
_SECRET_PARAMS = frozenset({"sig", "pw", "pass"})

# Values that are credentials whatever their name (after gitleaks' rules for these kinds).
_SECRET_VALUE = re.compile(
    r"""
      \b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b      # AWS access key id
    | \bgh[pousr]_[A-Za-z0-9]{20,}                           # GitHub tokens (ghp gho ghu ghs ghr)
    | \bgithub_pat_[A-Za-z0-9_]{20,}
    | \bhf_[A-Za-z0-9]{20,}                                  # Hugging Face
    | \bxox[abeprs]-[A-Za-z0-9-]{10,}                        # Slack tokens
    | hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_+-]{10,}   # Slack webhook
    | \bsk-[A-Za-z0-9_-]{20,}                                # OpenAI, sk-proj-, sk-ant-
    | \bglpat-[A-Za-z0-9_-]{20,}                             # GitLab
    | \bAIza[0-9A-Za-z_-]{35}                                # Google API key
    | \b[rs]k_(?:live|test)_[0-9A-Za-z]{10,}                 # Stripe secret / restricted keys
    | \bnpm_[A-Za-z0-9]{36}\b                                # npm
    | \bpypi-[A-Za-z0-9_-]{16,}                              # PyPI upload token
    | \bdapi[0-9a-f]{32}(?:-\d)?\b                           # Databricks
    | \bSK[0-9a-fA-F]{32}\b                                  # Twilio API key
    | \bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}            # SendGrid
    | \beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}  # JWT
    | -----BEGIN[ A-Z]*PRIVATE[ ]KEY-----                    # PEM
    """,
    re.X,
)

# A key inside a value that says a secret follows (connection strings, headers, libpq and JDBC
# strings, service-account JSON): the value is redacted from that key on.
_SECRET_KEY_IN_VALUE = re.compile(
    r"""(?ix)
      (?<![A-Za-z0-9])
      (?:password|passwd|pwd|accountkey|sharedaccesskey|sharedaccesssignature|sig
        |client_secret|secret_key|api_key|apikey|access_token|auth_token|private_key
        |private_key_id)
      ["']?\s*[=:]
    | (?<![A-Za-z0-9])(?:proxy-)?authorization["']?\s*[:=]
    | \bbearer\s+(?=\S)
    | \bbasic\s+(?=[A-Za-z0-9+/]{8,}={0,2})
    """
)

# user:password@host without a scheme (a DSN pasted without postgresql://).
_SCHEMELESS_USERINFO = re.compile(
    r"(?<![\w/:@.%+-])[^\s:/@'\"<>=,;]+:(?!//)[^\s@'\"<>]+@(?=[\w\[])"
)

_URL = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+")


def is_secret_name(name: str) -> bool:
    """True when a variable or parameter name suggests its value is a secret."""
    return bool(_SECRET_NAME.search(name)) or name.lower() in _SECRET_PARAMS


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
    """The value, redacted whole when it holds a credential; from a secret-naming key on
    (``password=``, ``AccountKey=``, ``sig=``, ``Authorization:``); and without URL userinfo."""
    if _SECRET_VALUE.search(value):
        return REDACTED
    key = _SECRET_KEY_IN_VALUE.search(value)
    if key:
        value = value[: key.start()] + REDACTED
    if "://" in value:
        value = _URL.sub(lambda m: redact_url(m.group(0)), value)
    if "@" in value:
        value = _SCHEMELESS_USERINFO.sub("***@", value)
    return value


def redact(name: str, value: str) -> str:
    """What may be recorded of the variable ``name`` holding ``value``."""
    if is_secret_name(name):
        return REDACTED
    return redact_value(value)
