"""The redaction rules as data: one row per secret format (:data:`RULES`), each with an example
that a test redacts and that ``docs/security.md`` lists. :mod:`envparity.redact` compiles and
applies them. Stdlib only (it also runs inside a foreign interpreter).
"""

from __future__ import annotations

from typing import NamedTuple, Tuple


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
