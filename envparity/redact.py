"""Redaction of secrets: names that look secret, values that hold credentials, URL userinfo.

The rules are data (:data:`RULES`): one row per credential format, each with an example that a
test redacts and that ``docs/security.md`` lists (``scripts/gen_redaction_table.py``). They are
compiled on first use, not at import: this module is on the start-up hook's path.

Stdlib only: this module also runs inside a foreign interpreter (``snapshot --python``).
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, NamedTuple, Optional, Pattern, Tuple

REDACTED = "<redacted>"
# What replaces a URL's userinfo, a secret query parameter or a token in a URL's path.
MASK = "***"


class Rule(NamedTuple):
    """One secret format.

    ``kind``: ``name`` (a variable or parameter name that says its value is secret: the whole
    value is redacted), ``value`` (a credential whatever its name: the whole value is redacted),
    ``key`` (a key inside a value that says a secret follows: redacted from that key on), or
    ``part`` (a token inside a URL: only the match is masked).
    """

    id: str
    kind: str
    pattern: str  # a Python regex, matched case-sensitively unless it starts with (?i)
    example: str  # a value the rule must redact (the test row, and the docs' example)
    secret: str  # the part of ``example`` that must not survive redaction
    what: str  # for people: the format, as docs/security.md lists it


def _r(id: str, kind: str, pattern: str, example: str, secret: str, what: str) -> Rule:
    return Rule(id, kind, pattern, example, secret, what)


_B64 = "dXNlcjpodW50ZXIyU2VjcmV0"

# Patterns after gitleaks' rules (config/gitleaks.toml) where it has one, widened where a real
# token's alphabet is wider than the documented one (a redaction that misses is a leak; one that
# over-matches costs a value in a report).
RULES: Tuple[Rule, ...] = (
    # --- names --------------------------------------------------------------------------------
    _r(
        "name-secret",
        "name",
        r"(?i)secret|token(?!izer)|passw|passphrase|pwd|key|auth|credential|cookie|session"
        r"|private|signature",
        "TORCH_HUB_TOKEN=abc",
        "abc",
        "a name containing SECRET, TOKEN, PASSW, PWD, KEY, AUTH, "
        "CREDENTIAL, COOKIE, SESSION, PRIVATE or SIGNATURE",
    ),
    _r(
        "name-suffix",
        "name",
        r"(?i)(?:^|_)(?:pass|pw|creds|passphrase)$",
        "CUDA_PROXY_PASS=hunter2",
        "hunter2",
        "a name ending _PASS, _PASSPHRASE, _PW or _CREDS",
    ),
    _r(
        "name-param",
        "name",
        r"(?i)^(?:sig|pw|pass)$",
        "https://h/x?sig=Sas5ig",
        "Sas5ig",
        "query parameters sig, pw, pass (Azure SAS)",
    ),
    # --- values -------------------------------------------------------------------------------
    _r(
        "aws-access-key-id",
        "value",
        r"(?:A3T[A-Z0-9]|AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ABIA|ACCA)"
        r"[0-9A-Z]{16}",
        "AKIAIOSFODNN7EXAMPLE",
        "IOSFODNN7EXAMPLE",
        "AWS access key ids (`AKIA`, `ASIA`, ...)",
    ),
    _r(
        "github",
        "value",
        r"gh[pousr]_[A-Za-z0-9]{20,}",
        "ghp_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "a1B2c3D4e5F6",
        "GitHub `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_`",
    ),
    _r(
        "github-pat",
        "value",
        r"(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{20,}",
        "github_pat_11ABCDEFG0123456789_abcdefghij",
        "11ABCDEFG0123456789",
        "GitHub fine-grained `github_pat_`",
    ),
    _r(
        "huggingface",
        "value",
        r"(?<![A-Za-z0-9])hf_[A-Za-z0-9]{20,}",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345",
        "AbCdEfGhIjKlMnOp",
        "Hugging Face `hf_`",
    ),
    _r(
        "slack-token",
        "value",
        r"(?<![A-Za-z0-9])xox[abeoprs]-[A-Za-z0-9-]{10,}",
        "xoxb-123456789012-SlackBot5ecret",
        "SlackBot5ecret",
        "Slack `xoxb-`, `xoxp-`, ...",
    ),
    _r(
        "slack-app-token",
        "value",
        r"(?<![A-Za-z0-9])xapp-[A-Za-z0-9-]{10,}",
        "xapp-1-A0123456789-0123456789012-abcdef0123456789",
        "abcdef0123456789",
        "Slack app-level `xapp-`",
    ),
    _r(
        "slack-webhook",
        "value",
        r"(?i)hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9/_+-]{10,}",
        "https://hooks.slack.com/services/T0000/B0000/SlackHook5ecret",
        "SlackHook5ecret",
        "Slack webhook URLs",
    ),
    _r(
        "openai-anthropic",
        "value",
        r"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{20,}",
        "sk-proj-OpenAiProjdddddddddddddddddddddddddddd",
        "OpenAiProj",
        "OpenAI `sk-`, `sk-proj-`, Anthropic `sk-ant-`",
    ),
    _r(
        "gitlab-pat",
        "value",
        r"(?<![A-Za-z0-9])glpat-[A-Za-z0-9_-]{20,}",
        "glpat-GitLabTok3nkkkkkkkkkkkk",
        "GitLabTok3n",
        "GitLab personal tokens `glpat-`",
    ),
    _r(
        "gitlab-trigger",
        "value",
        r"(?<![A-Za-z0-9])glptt-[A-Za-z0-9_-]{20,}",
        "glptt-0123456789abcdef0123456789abcdef01234567",
        "0123456789abcdef",
        "GitLab pipeline trigger tokens `glptt-`",
    ),
    _r(
        "google-api-key",
        "value",
        r"(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}",
        "AIzaSyDxxxxxxxxxxxxxxxxxxxxxxxxxxxxQw3rTy9",
        "Qw3rTy9",
        "Google API keys `AIza...`",
    ),
    _r(
        "stripe-key",
        "value",
        r"(?<![A-Za-z0-9])[rs]k_(?:live|test)_[0-9A-Za-z]{10,}",
        "sk_live_51StripeSecret0123456789",
        "51StripeSecret",
        "Stripe `sk_live_`, `rk_live_` (and `_test_`)",
    ),
    _r(
        "stripe-webhook",
        "value",
        r"(?<![A-Za-z0-9])whsec_[0-9A-Za-z]{20,}",
        "whsec_StripeWebhook0123456789abcdef",
        "StripeWebhook",
        "Stripe webhook secrets `whsec_`",
    ),
    _r(
        "npm-token",
        "value",
        r"(?<![A-Za-z0-9])npm_[A-Za-z0-9]{36}(?![A-Za-z0-9])",
        "npm_NpmTok3naaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "NpmTok3n",
        "npm `npm_`",
    ),
    _r(
        "pypi-token",
        "value",
        r"(?<![A-Za-z0-9])pypi-[A-Za-z0-9_-]{16,}",
        "pypi-AgEIcHlwaS5vcmcPypiTok3nbbbbbbbbbbbbbbbbbbbb",
        "PypiTok3n",
        "PyPI `pypi-`",
    ),
    _r(
        "databricks",
        "value",
        r"(?<![A-Za-z0-9])dapi[0-9a-hA-H]{32}(?:-\d)?(?![A-Za-z0-9])",
        "dapi0123456789abcdef0123456789abcdef",
        "0123456789abcdef",
        "Databricks `dapi`",
    ),
    _r(
        "twilio",
        "value",
        r"(?<![A-Za-z0-9])SK[0-9a-fA-F]{32}(?![A-Za-z0-9])",
        "SK0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123",
        "Twilio `SK` + 32 hex",
    ),
    _r(
        "sendgrid",
        "value",
        r"(?<![A-Za-z0-9])SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",
        "SG.SendGridIdffffffffffff.SendGridSecretgggggggggggggggggggg",
        "SendGrid",
        "SendGrid `SG.`",
    ),
    _r(
        "jwt",
        "value",
        r"(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{4,}\.eyJ?[A-Za-z0-9_-]{4,}\."
        r"[A-Za-z0-9_-]*",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJKd3RTdWIifQ.JwtSignatureXyz123",
        "JwtSignatureXyz123",
        "JSON Web Tokens `eyJ...`",
    ),
    _r(
        "private-key",
        "value",
        r"-----BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)?-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk",
        "b3BlbnNzaC1rZXk",
        "PEM private keys (RSA, EC, OpenSSH, PKCS#8)",
    ),
    _r(
        "pgp-private-key",
        "value",
        r"-----BEGIN PGP PRIVATE KEY BLOCK-----",
        "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGPgpKey",
        "lQOYBGPgpKey",
        "PGP private key blocks",
    ),
    # --- keys inside a value (from the key on) -------------------------------------------------
    _r(
        "key-password",
        "key",
        r"(?i)(?<![A-Za-z0-9])(?:password|passwd|passphrase|pwd)[\"']?\s*[=:]",
        "host=db user=app password=LibPqPw7 dbname=prod",
        "LibPqPw7",
        "`password=`, `pwd=` (libpq, JDBC, ODBC strings)",
    ),
    _r(
        "key-azure",
        "key",
        r"(?i)(?<![A-Za-z0-9])(?:accountkey|sharedaccesskey|sharedaccesssignature|sig)"
        r"[\"']?\s*[=:]",
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=AzKeyS3cret+/==",
        "AzKeyS3cret",
        "Azure connection strings and SAS (`AccountKey=`, `sig=`)",
    ),
    _r(
        "key-api",
        "key",
        r"(?i)(?<![A-Za-z0-9])(?:client_secret|secret_key|api_key|apikey|access_token"
        r"|auth_token|_?authtoken|private_key|private_key_id|aws_secret_access_key"
        r"|aws_session_token)[\"']?\s*[=:]",
        '{"type": "service_account", "private_key_id": "GcpKeyId9"}',
        "GcpKeyId9",
        "`api_key=`, `client_secret=`, `private_key` (service-account JSON), "
        "`aws_secret_access_key=`, npmrc `_authToken=`",
    ),
    _r(
        "key-header",
        "key",
        r"(?i)(?<![A-Za-z0-9-])(?:(?:proxy-)?authorization|x-api-key|private-token|x-auth-token)"
        r"[\"']?\s*[:=]",
        "PRIVATE-TOKEN: GlHeaderTok3n",
        "GlHeaderTok3n",
        "headers `Authorization:`, `X-Api-Key:`, `PRIVATE-TOKEN:`",
    ),
    _r(
        "key-bearer",
        "key",
        r"(?i)\bbearer\s+(?=[A-Za-z0-9._~+/=-]{8,})",
        "Bearer BearerTok3nValue.abc",
        "BearerTok3nValue",
        "`Bearer <token>`",
    ),
    _r(
        "key-basic",
        "key",
        r"(?i)\bbasic\s+(?=[A-Za-z0-9+/]{8,}={0,2})",
        f"Basic {_B64}",
        _B64,
        "`Basic <base64>`",
    ),
    # --- tokens inside URLs ---------------------------------------------------------------------
    _r(
        "conda-token",
        "part",
        r"(?<=/t/)[A-Za-z0-9._-]{6,}(?=/|$)",
        "https://conda.anaconda.org/t/ab-0123abcd-4567-89ef/mychannel",
        "ab-0123abcd",
        "Anaconda channel tokens `/t/<TOKEN>/`",
    ),
)

# URL handling (not a rule row: it is parsing). userinfo is everything before the last `@` of
# the authority that a host follows, so `:`, `/`, `?`, `#` and `@` may be in a password.
_URL = r"\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s'\"<>]+"
_HOST = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~%,-]*)(?::[0-9A-Za-z]*)?(?=[/?#]|$)"
# user:password@host without a scheme (a DSN pasted without postgresql://).
_SCHEMELESS = r"(?<![\w/:@.%+-])[^\s:/@'\"<>=,;]+:(?!//)[^\s@'\"<>]+@(?=[\w\[])"
# pip's VCS URLs end in @REV: git+https://user:tok@github.com/org/repo.git@v1.0
_VCS = ("git+", "hg+", "svn+", "bzr+")


class _Compiled(NamedTuple):
    name: Pattern[str]
    value: Pattern[str]
    key: Pattern[str]
    part: Pattern[str]
    url: Pattern[str]
    host: Pattern[str]
    schemeless: Pattern[str]


_compiled: Optional[_Compiled] = None


def _one(kind: str) -> Pattern[str]:
    parts = []
    for rule in RULES:
        if rule.kind == kind:
            body = rule.pattern
            flags = "i" if body.startswith("(?i)") else ""
            body = body[4:] if flags else body
            parts.append(f"(?{flags}:{body})" if flags else f"(?:{body})")
    return re.compile("|".join(parts))


def _rx() -> _Compiled:
    """The rules compiled, once, on first use (not at import: the hook pays for imports)."""
    global _compiled
    if _compiled is None:
        _compiled = _Compiled(
            _one("name"),
            _one("value"),
            _one("key"),
            _one("part"),
            re.compile(_URL),
            re.compile(_HOST),
            re.compile(_SCHEMELESS),
        )
    return _compiled


def is_secret_name(name: str) -> bool:
    """True when a variable or parameter name suggests its value is a secret."""
    return bool(_rx().name.search(name))


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
    host = _rx().host
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
    rx = _rx()
    rest = rx.part.sub(MASK, _redact_query(parts.rest))
    result = parts.prefix + ("" if parts.userinfo is None else MASK + "@") + rest
    if rx.value.search(result):
        return REDACTED
    return result


def redact_value(value: str) -> str:
    """The value, redacted whole when it holds a credential; from a secret-naming key on
    (``password=``, ``AccountKey=``, ``sig=``, ``Authorization:``); and without URL userinfo."""
    rx = _rx()
    if rx.value.search(value):
        return REDACTED
    if "://" in value:
        # URLs first: a password may hold `password=` or a space-free `#...` that the key rules
        # would cut in the wrong place.
        value = rx.url.sub(lambda m: redact_url(m.group(0)), value)
    key = rx.key.search(value)
    if key:
        value = value[: key.start()] + REDACTED
    if "@" in value:
        value = rx.schemeless.sub(MASK + "@", value)
    if "/t/" in value:
        value = rx.part.sub(MASK, value)
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
