"""Redaction of secrets: names that look secret, values that hold credentials, URL userinfo.

The rules are data (:data:`RULES`, in :mod:`envparity.redaction_rules`): one row per credential
format, each with an example that a test redacts and that ``docs/security.md`` lists
(``scripts/gen_redaction_table.py``). Each kind is compiled on first use, not at import: this module
is on the start-up hook's path.

Stdlib only: this module also runs inside a foreign interpreter (``snapshot --python``).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Match, NamedTuple, Optional, Pattern

from .redaction_rules import RULES as RULES
from .redaction_rules import Rule as Rule

REDACTED = "<redacted>"
# What replaces a URL's userinfo, a secret query parameter or a token in a URL's path.
MASK = "***"

# URL handling (not a rule row: it is parsing). userinfo is everything before the last `@` of
# the authority that a host follows, so `:`, `/`, `?`, `#` and `@` may be in a password.
_URL = r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+"
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%,-]*)(?::[0-9A-Za-z]*)?(?=[/?#]|$)"
# user:password@host without a scheme (a DSN pasted without postgresql://).
_SCHEMELESS = r"(?<![\w/:@.%+-])[^\s:/@'\"<>=,;]+:(?!//)[^\s@'\"<>]+@(?=[\w\[])"
# pip's VCS URLs end in @REV: git+https://user:tok@github.com/org/repo.git@v1.0
_VCS = ("git+", "hg+", "svn+", "bzr+")


# Necessary conditions, cheap to test, checked before the credential and key rules (which take
# ~2.3 and ~1.4 ms to compile, a cost every server start paid for a handful of short values):
# every credential rule's match holds a run of 10 or more of these characters ("-----BEGIN",
# "hooks.slack.com", a token's prefix and body), and every key rule's match holds "=", ":" or a
# space. tests/collect/test_secrets.py checks each rule against strings generated from its
# pattern, so a rule that breaks this fails there.
_VALUE_HINT = r"[A-Za-z0-9_.=+-]{10}"
_KEY_HINT = r"[=:\s]"
# Patterns that are not rule kinds; "KIND?" is KIND's necessary condition (see _search).
_SOURCES: Dict[str, str] = {
    "url": _URL,
    "host": _HOST,
    "schemeless": _SCHEMELESS,
    "value?": _VALUE_HINT,
    "key?": _KEY_HINT,
}
_compiled: Dict[str, Pattern[str]] = {}


def _one(kind: str) -> str:
    parts = []
    for rule in RULES:
        if rule.kind == kind:
            body = rule.pattern
            flags = "i" if body.startswith("(?i)") else ""
            body = body[4:] if flags else body
            parts.append(f"(?{flags}:{body})" if flags else f"(?:{body})")
    return "|".join(parts)


def _rx(kind: str) -> Pattern[str]:
    """The pattern ``kind`` (a rule kind, or one of :data:`_SOURCES`), compiled once, on first
    use: not at import, and not at all by a process that never needs it (the hook pays)."""
    found = _compiled.get(kind)
    if found is None:
        found = _compiled[kind] = re.compile(_SOURCES.get(kind) or _one(kind))
    return found


def _search(kind: str, text: str) -> Optional[Match[str]]:
    """The first match in ``text`` of the rules of ``kind``; a kind with a necessary condition
    (``KIND?``) is compiled and searched only when ``text`` meets it."""
    hint = kind + "?"
    if hint in _SOURCES and not _rx(hint).search(text):
        return None
    return _rx(kind).search(text)


def is_secret_name(name: str) -> bool:
    """True when a variable or parameter name suggests its value is a secret."""
    return bool(_rx("name").search(name))


class UrlParts(NamedTuple):
    """A URL cut where redaction needs it: ``prefix`` (``scheme://``), ``userinfo`` (None when
    there is none), ``rest`` (host, port, path, query, fragment as written)."""

    prefix: str
    userinfo: Optional[str]
    rest: str


def split_url(url: str) -> Optional[UrlParts]:
    """``url`` as prefix, userinfo and rest; None when it is not ``scheme://...``.

    The userinfo ends at the last ``@`` that a host (and port) follows, the host itself followed
    by ``/``, ``?``, ``#`` or the end: so a password may hold any character. A URL whose authority
    ends (``/``, ``?``, ``#``) before any ``:`` or ``@`` has no userinfo. pip's VCS URLs
    (``git+https://...@REV``) take the first such ``@`` that a path follows.
    """
    i = url.find("://")
    if i <= 0 or not re.match(r"[A-Za-z][A-Za-z0-9+.-]*$", url[:i]):
        return None
    start = i + 3
    prefix, body = url[:start], url[start:]
    first = re.search(r"[/?#@:]", body)
    if first is None or first.group() in "/?#":
        return UrlParts(prefix, None, body)
    host = _rx("host")
    ats = [j for j, c in enumerate(body) if c == "@" and host.match(body, j + 1)]
    if not ats:
        return UrlParts(prefix, None, body)
    at = ats[-1]
    if prefix.lower().startswith(_VCS):
        for j in ats:
            m = host.match(body, j + 1)
            if m is not None and body[m.end() : m.end() + 1] == "/":
                at = j
                break
    return UrlParts(prefix, body[:at], body[at + 1 :])


def _redact_query(rest: str) -> str:
    from urllib.parse import parse_qsl, urlencode

    q = rest.find("?")
    if q < 0:
        return rest
    end = rest.find("#", q)
    query = rest[q + 1 : end if end >= 0 else len(rest)]
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(is_secret_name(k) for k, _ in pairs):
        return rest
    masked = urlencode([(k, MASK if is_secret_name(k) else v) for k, v in pairs])
    return rest[: q + 1] + masked + (rest[end:] if end >= 0 else "")


def redact_url(url: str) -> str:
    """The URL with its whole userinfo, any secret-named query parameter and any token in its
    path (Anaconda's ``/t/TOKEN/``) masked; redacted whole when it holds a credential."""
    parts = split_url(url)
    if parts is None:
        return url
    rest = _rx("part").sub(MASK, _redact_query(parts.rest))
    result = parts.prefix + ("" if parts.userinfo is None else MASK + "@") + rest
    if _search("value", result):
        return REDACTED
    return result


def redact_value(value: str) -> str:
    """The value, redacted whole when it holds a credential; from a secret-naming key on
    (``password=``, ``AccountKey=``, ``sig=``, ``Authorization:``); and without URL userinfo."""
    if _search("value", value):
        return REDACTED
    if "://" in value:
        # URLs first: a password may hold `password=` or a space-free `#...` that the key rules
        # would cut in the wrong place.
        value = _rx("url").sub(lambda m: redact_url(m.group(0)), value)
    key = _search("key", value)
    if key:
        value = value[: key.start()] + REDACTED
    if "@" in value:
        value = _rx("schemeless").sub(MASK + "@", value)
    if "/t/" in value:
        value = _rx("part").sub(MASK, value)
    return value


def redact(name: str, value: str) -> str:
    """What may be recorded of the variable ``name`` holding ``value``."""
    if is_secret_name(name):
        return REDACTED
    return redact_value(value)


def rules_of(kind: str) -> List[Rule]:
    """The rule rows of one kind, in table order (docs and tests iterate them)."""
    return [r for r in RULES if r.kind == kind]


def _redact_items(items: Any, key: str) -> Any:
    if not isinstance(items, list):
        return items
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get(key), str):
            item = dict(item, **{key: redact_url(item[key])})
        out.append(item)
    return out


def _redact_env(env: Any) -> Any:
    if not isinstance(env, dict):
        return env
    return {k: redact(k, v) if isinstance(v, str) else v for k, v in env.items()}


def redact_snapshot(data: Dict[str, Any]) -> Dict[str, Any]:
    """A snapshot's plain data (whole, or its identity or instance part) with today's rules
    applied to every field capture redacts: variables, package and channel URLs, git remotes.

    Stores and files written by older versions hold what those versions did not redact: every
    read goes through here, and so does each side of a comparison, so a rule added since is
    never a difference. Idempotent; other fields are left as they are.
    """
    if not isinstance(data, dict):
        return data
    out = dict(data)
    if "env" in out:
        out["env"] = _redact_env(out["env"])
    determinism = out.get("determinism")
    if isinstance(determinism, dict) and "env" in determinism:
        out["determinism"] = dict(determinism, env=_redact_env(determinism["env"]))
    for field in ("packages", "shadowed"):
        if field in out:
            out[field] = _redact_items(out[field], "url")
    if "conda_packages" in out:
        out["conda_packages"] = _redact_items(out["conda_packages"], "channel")
    code = out.get("code")
    if isinstance(code, dict) and isinstance(code.get("remotes"), dict):
        remotes = {
            k: redact_value(redact_url(v)) if isinstance(v, str) else v
            for k, v in code["remotes"].items()
        }
        out["code"] = dict(code, remotes=remotes)
    return out


def rules_table() -> str:
    """The rules as a Markdown table (docs/security.md; scripts/gen_redaction_table.py)."""
    kinds = {
        "name": "variable or parameter name: the whole value",
        "value": "value: the whole value",
        "key": "key inside a value: from the key on",
        "part": "token inside a URL: the token",
    }
    lines = [
        "| rule | what is redacted | format | example, as recorded |",
        "| --- | --- | --- | --- |",
    ]
    for rule in RULES:
        if rule.kind == "name":
            name, _, value = rule.example.partition("=")
            shown = (
                redact_url(rule.example)
                if "://" in rule.example
                else f"{name}={redact(name, value)}"
            )
        else:
            shown = redact_value(rule.example)
        cells = [f"`{rule.id}`", kinds[rule.kind], rule.what, _code(shown)]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"


def _code(text: str) -> str:
    text = text.replace("\n", "\\n")
    return f"`` {text} ``" if "`" in text else f"`{text}`"
