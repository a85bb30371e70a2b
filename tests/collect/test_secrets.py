"""Planted secrets never appear in any output: stdout, stderr, the JSON file, the snapshot."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from envparity.redact import REDACTED, RULES, redact, redact_url, redact_value, split_url

AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GITHUB = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
HF = "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYz012345"
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
DB_PASSWORD = "Sup3rS3cretPw"
URL_TOKEN = "tok_in_userpart_9f8e7d"
SECRETS = [AWS_KEY_ID, AWS_SECRET, GITHUB, HF, JWT, DB_PASSWORD, URL_TOKEN, "qp-secret-value"]


def planted_env() -> dict:
    env = dict(os.environ)
    env.update(
        {
            "AWS_ACCESS_KEY_ID": AWS_KEY_ID,
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
            "DATABASE_URL": f"postgresql://app:{DB_PASSWORD}@db.internal:5432/prod",
            "GITHUB_TOKEN": GITHUB,
            "HF_TOKEN": HF,  # allowlisted prefix HF_, redacted by name
            "HF_ENDPOINT": f"https://{URL_TOKEN}@hub.internal/?api_key=qp-secret-value",
            "TORCH_HOME": GITHUB,  # allowlisted name, credential-looking value
            "OMP_NUM_THREADS": "4",
            "MKL_API_KEY": AWS_SECRET,  # determinism prefix, secret-looking name
            "TF_SERVING_AUTH": JWT,
            "CUDA_CACHE_PATH": f"https://admin:{DB_PASSWORD}@cache.internal/x",
            "NCCL_DEBUG": AWS_KEY_ID,
            "ENVPARITY_DB_URL": f"postgresql+psycopg://u:{DB_PASSWORD}@127.0.0.1:1/x",
        }
    )
    return env


def test_planted_secrets_never_leave_the_process(tmp_path):
    out = tmp_path / "snap.json"
    result = subprocess.run(
        [sys.executable, "-m", "envparity", "snapshot", "--no-store", "--json", "-o", str(out)],
        capture_output=True,
        text=True,
        env=planted_env(),
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = out.read_text()
    for secret in SECRETS:
        assert secret not in result.stdout
        assert secret not in result.stderr
        assert secret not in written
    assert '"OMP_NUM_THREADS": "4"' in written  # the allowlist still works
    assert f'"HF_TOKEN": "{REDACTED}"' in written
    assert "AWS_SECRET_ACCESS_KEY" not in written  # not allowlisted at all
    assert "DATABASE_URL" not in written


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql://app:pw@db:5432/prod", "postgresql://***@db:5432/prod"),
        ("https://token@github.com/org/repo.git", "https://***@github.com/org/repo.git"),
        ("https://host/path?api_key=abc&page=2", "https://host/path?api_key=%2A%2A%2A&page=2"),
        ("https://host/path?page=2", "https://host/path?page=2"),
        ("sqlite:////var/lib/envparity.db", "sqlite:////var/lib/envparity.db"),
    ],
)
def test_redact_url(url, shown):
    assert redact_url(url) == shown


def test_redact_by_name_and_value():
    assert redact("AWS_SECRET_ACCESS_KEY", "x") == REDACTED
    assert redact("MY_PASSWD", "x") == REDACTED
    assert redact("SESSION_COOKIE", "x") == REDACTED
    assert redact("OMP_NUM_THREADS", "8") == "8"
    assert redact_value(f"prefix {AWS_KEY_ID}") == REDACTED
    assert redact_value("-----BEGIN RSA PRIVATE KEY-----\nMII...") == REDACTED
    assert redact_value(JWT) == REDACTED
    assert redact_value(f"mirror=https://u:{DB_PASSWORD}@h/") == "mirror=https://***@h/"


# --- the rules table, the README's formats, URL parsing ------------------------------------

B64 = "dXNlcjpodW50ZXIyU2VjcmV0"

# Every format README "Secrets" promises, in the shapes they take in real values (a
# key=value line, JSON, a URL, glued to a prefix): (format, value, the part that must go).
README_FORMATS = [
    ("aws AKIA", "AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"),
    ("aws AKIA in env line", "aws_access_key_id=AKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"),
    ("aws ASIA", "ASIAABCDEFGHIJKLMNOP", "ABCDEFGHIJKLMNOP"),
    ("aws AKIA glued", "keyAKIAIOSFODNN7EXAMPLE", "IOSFODNN7EXAMPLE"),
    ("aws AKIA lowercase after", "AKIAIOSFODNN7EXAMPLEx", "IOSFODNN7EXAMPLE"),
    ("ghp", "ghp_" + "GhpTok3n" + "h" * 28, "GhpTok3n"),
    ("gho", "gho_" + "GhoTok3n" + "c" * 28, "GhoTok3n"),
    ("ghs", "ghs_" + "GhsTok3n" + "c" * 28, "GhsTok3n"),
    ("ghu", "ghu_" + "GhuTok3n" + "c" * 28, "GhuTok3n"),
    ("ghp glued", "tokenghp_" + "GhpTok3n" + "h" * 28, "GhpTok3n"),
    ("github_pat", "github_pat_11AAAAAAA0" + "x" * 22 + "_" + "y" * 59, "x" * 22),
    ("hf", "hf_" + "HfTok3n" + "j" * 27, "HfTok3n"),
    ("hf glued", "HF=hf_" + "HfTok3n" + "j" * 27, "HfTok3n"),
    ("openai sk-", "sk-" + "OpenAi" + "a" * 42, "OpenAi"),
    ("openai sk-proj", "sk-proj-" + "OpenAiProj" + "d" * 30, "OpenAiProj"),
    ("openai short", "sk-" + "Short1" + "a" * 14, "Short1"),
    ("anthropic", "sk-ant-api03-" + "AnthropicK" + "e" * 80 + "-AA", "AnthropicK"),
    ("anthropic glued", "key:sk-ant-api03-" + "AnthropicK" + "e" * 40, "AnthropicK"),
    ("slack xoxb", "xoxb-" + "123456789012-1234567890123-SlackBot5ecret", "SlackBot5ecret"),
    ("slack xoxp", "xoxp-" + "123456789012-SlackUser5ecret", "SlackUser5ecret"),
    ("slack xoxo", "xoxo-" + "123456789012-SlackO5ecret", "SlackO5ecret"),
    (
        "slack webhook",
        "https://hooks.slack.com/services/T0000/B0000/SlackHook5ecret",
        "SlackHook5ecret",
    ),
    (
        "slack webhook workflows",
        "https://hooks.slack.com/workflows/T0/A0/1/SlackWf5ecret",
        "SlackWf5ecret",
    ),
    (
        "slack webhook triggers",
        "https://hooks.slack.com/triggers/T0/1/SlackTrig5ecret",
        "SlackTrig5ecret",
    ),
    ("glpat", "glpat-" + "GitLabTok3n" + "k" * 12, "GitLabTok3n"),
    ("glpat short", "glpat-" + "GitLabT" + "k" * 13, "GitLabT"),
    ("google", "AIzaSyD" + "x" * 28 + "Qw3rTy9", "Qw3rTy9"),
    (
        "google in url",
        "https://maps.googleapis.com/x?key=AIzaSyD" + "x" * 28 + "Qw3rTy9",
        "Qw3rTy9",
    ),
    ("stripe sk_live", "sk_live_" + "51StripeSecret0123456789", "51StripeSecret"),
    ("stripe rk_live", "rk_live_" + "51RestrictedKey012345678", "51RestrictedKey"),
    ("stripe sk_test", "sk_test_" + "51StripeTest0123456789", "51StripeTest"),
    ("npm", "npm_" + "NpmTok3n" + "a" * 28, "NpmTok3n"),
    ("npm in npmrc", "//registry.npmjs.org/:_authToken=npm_" + "NpmTok3n" + "a" * 28, "NpmTok3n"),
    ("pypi", "pypi-AgEIcHlwaS5vcmc" + "PypiTok3n" + "b" * 20, "PypiTok3n"),
    ("pypi long", "pypi-AgEIcHlwaS5vcmc" + "PypiTok3n" + "b" * 150, "PypiTok3n"),
    ("databricks", "dapi" + "0123456789abcdef" * 2, "0123456789abcdef"),
    ("databricks -2", "dapi" + "0123456789abcdef" * 2 + "-2", "0123456789abcdef"),
    ("databricks uppercase hex", "dapi" + "0123456789ABCDEF" * 2, "0123456789ABCDEF"),
    ("twilio", "SK" + "0123456789abcdef0123456789abcdef", "0123456789abcdef0123"),
    ("sendgrid", "SG." + "SendGridId" + "f" * 12 + "." + "SendGridSecret" + "g" * 29, "SendGrid"),
    ("jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJKd3RTdWIifQ.JwtSignatureXyz123", "JwtSignatureXyz123"),
    ("jwt short payload", "eyJhbGciOiJub25lIn0.eyJhIjoxfQ.JwtSigShort", "JwtSigShort"),
    ("jwt unsigned", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ1bnNpZ25lZCJ9.", "eyJzdWIiOiJ1bnNpZ25lZCJ9"),
    ("pem rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIRsaKey", "MIIRsaKey"),
    ("pem pkcs8", "-----BEGIN PRIVATE KEY-----\nMIIPkcs8", "MIIPkcs8"),
    ("pem encrypted", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIEnc", "MIIEnc"),
    ("pem openssh", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk", "b3BlbnNzaC1rZXk"),
    ("pem escaped newline", "-----BEGIN EC PRIVATE KEY-----\\nMHcEcKey", "MHcEcKey"),
    ("password=", "user=u password=Pw1Secret", "Pw1Secret"),
    ("PASSWORD =", "PASSWORD = Pw2Secret", "Pw2Secret"),
    ("password json", '{"password": "Pw3Secret"}', "Pw3Secret"),
    ("pwd=", "Server=x;Uid=u;Pwd=Pw4Secret;", "Pw4Secret"),
    (
        "AccountKey",
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=AzKeyS3cret+/==;EndpointSuffix=core.windows.net",
        "AzKeyS3cret",
    ),
    (
        "SharedAccessKey",
        "Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=R;SharedAccessKey=SbKeyS3cret=",
        "SbKeyS3cret",
    ),
    (
        "SharedAccessSignature",
        "BlobEndpoint=https://a.blob.core.windows.net/;SharedAccessSignature=sv=2022&sig=SasSig2",
        "SasSig2",
    ),
    (
        "sas url",
        "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&sig=SasSig3cret%2Bq%3D",
        "SasSig3cret",
    ),
    ("sig=", "sig=SigS3cretValue", "SigS3cretValue"),
    ("Authorization", "Authorization: token AuthTok3nValue", "AuthTok3nValue"),
    ("Proxy-Authorization", "Proxy-Authorization: Basic " + B64, B64),
    ("authorization json", '{"Authorization": "AuthJsonTok3n"}', "AuthJsonTok3n"),
    ("bearer", "Bearer BearerTok3nValue.abc", "BearerTok3nValue"),
    ("bearer lowercase", "bearer BearerLow3rValue", "BearerLow3rValue"),
    ("basic", "Basic " + B64, B64),
    ("private_key json", '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIgcp"}', "MIIgcp"),
    (
        "service account",
        '{"type": "service_account", "private_key_id": "GcpKeyId9", "client_email": "x"}',
        "GcpKeyId9",
    ),
    ("libpq", "host=db user=app password=LibPqPw7 dbname=prod", "LibPqPw7"),
    ("libpq quoted", "host=db password='Lib Pq Pw8' dbname=prod", "Lib Pq Pw8"),
    ("jdbc", "jdbc:sqlserver://h:1433;databaseName=x;user=u;password=JdbcPw55", "JdbcPw55"),
    ("jdbc postgres", "jdbc:postgresql://h/db?user=u&password=JdbcPgPw6", "JdbcPgPw6"),
    ("jdbc mysql userinfo", "jdbc:mysql://u:JdbcMyPw7@h:3306/db", "JdbcMyPw7"),
    ("url userinfo", "https://bob:UserInfoPw3@pkgs.internal/simple", "UserInfoPw3"),
    ("url userinfo #", "https://deploy:Url#Pw@host/simple", "Url#Pw"),
    ("url userinfo ?", "https://deploy:Url?Pw4@host/simple", "Url?Pw4"),
    ("url userinfo /", "postgresql://u:Url/Pw5@host:5432/db", "Url/Pw5"),
    ("url userinfo @", "postgresql://u:Url@Pw6@host:5432/db", "Url@Pw6"),
    ("url user token", "https://UserTok3nOnly@github.com/org/repo.git", "UserTok3nOnly"),
    ("url query password", "https://pkgs.internal/simple?password=QueryPw3", "QueryPw3"),
    ("url query token", "https://pkgs.internal/simple?access_token=QueryTok3n&x=1", "QueryTok3n"),
    (
        "url query X-Amz-Signature",
        "https://b.s3.amazonaws.com/k?X-Amz-Credential=AmzCred5&X-Amz-Signature=AmzSig5",
        "AmzSig5",
    ),
    ("schemeless", "app:SchemeLessPw9@db.internal:5432/prod", "SchemeLessPw9"),
    ("schemeless #", "app:Scheme#Less1@db.internal:5432/prod", "Scheme#Less1"),
    (
        "git remote",
        "https://x-access-token:GitRemoteTok3n@github.com/org/repo.git",
        "GitRemoteTok3n",
    ),
]

# Formats beyond that list (issue 22).
NEW_FORMATS = [
    ("glptt", "glptt-" + "0123456789abcdef" * 2 + "01234567", "0123456789abcdef"),
    ("xapp", "xapp-1-A0123456789-0123456789012-" + "abcdef0123456789" * 4, "abcdef0123456789"),
    ("whsec", "whsec_" + "StripeWebhook" + "z" * 19, "StripeWebhook"),
    ("pgp", "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQOYBGPgpKey", "lQOYBGPgpKey"),
    (
        "aws_secret_access_key=",
        "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI",
    ),
    (
        "aws_secret_access_key ini",
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI",
    ),
    ("X-Api-Key", "X-Api-Key: XApiKeyS3cret", "XApiKeyS3cret"),
    ("PRIVATE-TOKEN", "PRIVATE-TOKEN: GlHeaderTok3n", "GlHeaderTok3n"),
    ("npmrc _authToken", "//registry.example.com/:_authToken=NpmrcAuthTok3n", "NpmrcAuthTok3n"),
    (
        "conda /t/",
        "https://conda.anaconda.org/t/ab-0123abcd-4567-89ef/mychannel",
        "ab-0123abcd-4567-89ef",
    ),
    (
        "conda /t/ channel name",
        "https://repo.anaconda.cloud/t/CondaTok3n12/main/linux-64",
        "CondaTok3n12",
    ),
]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_each_rule_redacts_its_example(rule):
    if rule.kind == "name":
        name = rule.example.partition("=")[0]
        if "://" in rule.example:
            assert rule.secret not in redact_url(rule.example)
        else:
            assert redact(name, rule.example.partition("=")[2]) == REDACTED
    else:
        assert rule.secret not in redact_value(rule.example)
        if rule.kind == "value":
            assert redact_value(rule.example) == REDACTED


@pytest.mark.parametrize(
    "value, secret", [(v, s) for _, v, s in README_FORMATS], ids=[f for f, _, _ in README_FORMATS]
)
def test_every_readme_format_is_redacted(value, secret):
    assert secret not in redact_value(value)
    assert secret not in redact("TORCH_SETTING", value)


@pytest.mark.parametrize(
    "value, secret", [(v, s) for _, v, s in NEW_FORMATS], ids=[f for f, _, _ in NEW_FORMATS]
)
def test_new_formats_are_redacted(value, secret):
    assert secret not in redact_value(value)


@pytest.mark.parametrize("name", ["DB_PASS", "GPG_PASSPHRASE", "REDIS_PW", "GCP_CREDS", "PW"])
def test_names_ending_pass_pw_creds_are_secret(name):
    assert redact(name, "hunter2") == REDACTED


@pytest.mark.parametrize(
    "name", ["OMP_NUM_THREADS", "TOKENIZERS_PARALLELISM", "CUDA_VISIBLE_DEVICES", "COMPASS"]
)
def test_ordinary_names_are_kept(name):
    assert redact(name, "4") == "4"


@pytest.mark.parametrize(
    "url, userinfo, rest",
    [
        ("scheme://user:pa#ss/w?rd@host:5432/path", "user:pa#ss/w?rd", "host:5432/path"),
        (
            "postgresql+psycopg://postgres:Info#Pw@127.0.0.1:5432/x",
            "postgres:Info#Pw",
            "127.0.0.1:5432/x",
        ),
        ("https://deploy:Url#Pw@host/simple", "deploy:Url#Pw", "host/simple"),
        ("postgresql://u:p@ss@db/x", "u:p@ss", "db/x"),
        ("postgresql://u:p:w@[::1]:5432/x", "u:p:w", "[::1]:5432/x"),
        ("https://tok@github.com/o/r.git", "tok", "github.com/o/r.git"),
        ("git+https://u:t@github.com/o/r.git@v1.0", "u:t", "github.com/o/r.git@v1.0"),
        ("git+https://github.com/o/r.git@v1.0", None, "github.com/o/r.git@v1.0"),
        ("https://h/users/bob@example.com/x", None, "h/users/bob@example.com/x"),
        ("https://host:8080/x?a=b", None, "host:8080/x?a=b"),
        ("sqlite:////var/lib/envparity.db", None, "//var/lib/envparity.db"),
    ],
)
def test_split_url_takes_any_character_in_a_password(url, userinfo, rest):
    parts = split_url(url)
    assert parts is not None
    assert (parts.userinfo, parts.rest) == (userinfo, rest)
    assert parts.prefix + (parts.userinfo + "@" if parts.userinfo else "") + parts.rest == url


def test_split_url_is_none_for_what_is_not_a_url():
    assert split_url("user:pw@host") is None
    assert split_url("/var/lib/x.db") is None


@pytest.mark.parametrize("password", ["Info#Pw", "a/b?c", "x@y#z", "p:q/r", "#?/@:;%"])
def test_any_password_in_a_db_url_is_hidden(password):
    url = f"postgresql+psycopg://postgres:{password}@127.0.0.1:5432/x"
    assert redact_url(url) == "postgresql+psycopg://***@127.0.0.1:5432/x"
    assert password not in redact_value(f"store {url}: failed")


def test_the_rules_compile_on_first_use_not_at_import():
    code = (
        "import sys, envparity, envparity.redact as r\n"
        "assert not r._compiled\n"
        "r.redact_value('x'); assert r._compiled"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


PW_URL = "postgresql+psycopg://postgres:Info#Pw/x?y@127.0.0.1:1/x"


@pytest.mark.parametrize(
    "args",
    [
        ["db", "info", "--db", PW_URL],
        ["list", "--db", PW_URL],
        ["snapshot", "--db", PW_URL],
        ["run", "--db", PW_URL, "--budget", "30", "--", sys.executable, "-c", "pass"],
    ],
    ids=["db-info", "list", "snapshot", "run"],
)
def test_a_password_with_hash_slash_and_question_mark_is_never_printed(args, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env["ENVPARITY_HOME"] = str(tmp_path)
    env["ENVPARITY_DB_TIMEOUT"] = "2"
    done = subprocess.run(
        [sys.executable, "-m", "envparity", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert "127.0.0.1:1" in done.stdout + done.stderr, done.stderr  # the store is named...
    for part in ("Info", "#Pw", "x?y"):  # ...without its password
        assert part not in done.stdout + done.stderr, done.stderr
    spooled = "".join(p.read_text() for p in tmp_path.rglob("*.json"))
    assert "Info#Pw" not in spooled


def test_the_redaction_table_in_docs_is_generated_from_the_rules():
    from pathlib import Path

    page = Path(__file__).resolve().parents[2] / "docs" / "security.md"
    done = subprocess.run(
        [sys.executable, str(page.parents[1] / "scripts" / "gen_redaction_table.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, "docs/security.md is stale: run scripts/gen_redaction_table.py"
    for rule in RULES:
        assert f"`{rule.id}`" in page.read_text()


def _without_lookarounds(pattern: str) -> str:
    """``pattern`` less its lookahead and lookbehind groups: it matches a superset of what
    ``pattern`` matches, which is what a check that must hold for every match may be tested on."""
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith(("(?<!", "(?<=", "(?!", "(?="), i):
            depth, j, in_class = 0, i, False
            while True:
                c = pattern[j]
                if c == "\\":
                    j += 2
                    continue
                if in_class:
                    in_class = c != "]"
                elif c == "[":
                    in_class = True
                elif c == "(":
                    depth += 1
                elif c == ")":
                    depth -= 1
                    if depth == 0:
                        break
                j += 1
            i = j + 1
            continue
        out.append(pattern[i])
        i += 1
    return "".join(out)


_CHECKED = [r for r in RULES if r.kind in ("value", "key")]


@pytest.mark.parametrize("rule", _CHECKED, ids=[r.id for r in _CHECKED])
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_whatever_a_rule_matches_passes_the_check_before_it(rule, data):
    """A value is tested against the credential and key rules only when a cheap check says it
    may match (so a start that records a few short values never compiles them): for every
    string a rule can match, that check must say so."""
    import re

    from envparity import redact as r

    text = data.draw(st.from_regex(_without_lookarounds(rule.pattern), fullmatch=True))
    hint = r._VALUE_HINT if rule.kind == "value" else r._KEY_HINT
    assert re.search(hint, text), f"rule {rule.id} matches {text!r}, which {hint} passes over"
    assert re.search(hint, rule.example)


def test_short_plain_values_compile_neither_credential_nor_key_rules():
    code = (
        "import envparity.redact as r\n"
        "for v in ('UTC', 'C.UTF-8', '0', '/srv/model.pkl'): assert r.redact_value(v) == v\n"
        "assert r.redact_url('file:///srv/app') == 'file:///srv/app'\n"
        "assert 'value' not in r._compiled and 'key' not in r._compiled, sorted(r._compiled)\n"
        "assert r.redact_value('password=hunter2') == '<redacted>'\n"
        "assert r.redact_value('t ghp_a1B2c3D4e5F6g7H8i9J0k1L2') == '<redacted>'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
