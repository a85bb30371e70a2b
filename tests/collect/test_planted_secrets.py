"""Every credential kind, planted in an allowlisted variable and in a git remote, leaks nowhere:
not in any output format, ``show``, ``list``, the ``run`` log, the SQLite file or PostgreSQL rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

from envparity.redact import redact_value

# kind -> (planted value, the part that must never appear anywhere)
_B64 = "dXNlcjpodW50ZXIyU2VjcmV0"
PLANTED: Dict[str, Tuple[str, str]] = {
    "google": ("AIzaSyD" + "x" * 28 + "Qw3rTy9", "Qw3rTy9"),
    "azure_conn": (
        "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=AzKeyS3cret+/==;"
        "EndpointSuffix=core.windows.net",
        "AzKeyS3cret",
    ),
    "azure_sas": (
        "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&sig=SasSig3cret%2Bq%3D",
        "SasSig3cret",
    ),
    "schemeless": ("app:SchemeLessPw9@db.internal:5432/prod", "SchemeLessPw9"),
    "libpq": ("host=db user=app password=LibPqPw7 dbname=prod", "LibPqPw7"),
    "stripe": ("sk_live_" + "51StripeSecret0123456789", "51StripeSecret"),
    "stripe_rk": ("rk_live_" + "51RestrictedKey012345678", "51RestrictedKey"),
    "basic": (f"Authorization: Basic {_B64}", _B64),
    "bearer": ("Bearer BearerTok3nValue.abc", "BearerTok3nValue"),
    "npm": ("npm_" + "NpmTok3n" + "a" * 28, "NpmTok3n"),
    "pypi": ("pypi-AgEIcHlwaS5vcmc" + "PypiTok3n" + "b" * 20, "PypiTok3n"),
    "databricks": ("dapi" + "0123456789abcdef" * 2, "0123456789abcdef"),
    "slack_webhook": (
        "https://hooks.slack.com/services/T0000/B0000/SlackHook5ecret",
        "SlackHook5ecret",
    ),
    "aws_asia": ("ASIA" + "ABCDEFGHIJKLMNOP", "ASIAABCDEFGHIJKLMNOP"),
    "gcp_sa": (
        '{"type": "service_account", "private_key_id": "GcpKeyId9", '
        '"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEgcp"}',
        "GcpKeyId9",
    ),
    "gho": ("gho_" + "GhoTok3n" + "c" * 28, "GhoTok3n"),
    "ghs": ("ghs_" + "GhsTok3n" + "c" * 28, "GhsTok3n"),
    "ghu": ("ghu_" + "GhuTok3n" + "c" * 28, "GhuTok3n"),
    "openai_proj": ("sk-proj-" + "OpenAiProj" + "d" * 30, "OpenAiProj"),
    "anthropic": ("sk-ant-api03-" + "AnthropicK" + "e" * 30, "AnthropicK"),
    "twilio": ("SK" + "0123456789abcdef0123456789abcdef", "0123456789abcdef0123"),
    "sendgrid": ("SG." + "SendGridId" + "f" * 12 + "." + "SendGridSecret" + "g" * 20, "SendGrid"),
    "jdbc": ("jdbc:sqlserver://h:1433;databaseName=x;user=u;password=JdbcPw55", "JdbcPw55"),
    # Kept from before: AKIA ghp_ github_pat_ hf_ sk- xoxb glpat- JWT, URL userinfo, ?password=
    "akia": ("AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    "ghp": ("ghp_" + "GhpTok3n" + "h" * 28, "GhpTok3n"),
    "github_pat": ("github_pat_" + "GhPat" + "i" * 30, "GhPat"),
    "hf": ("hf_" + "HfTok3n" + "j" * 26, "HfTok3n"),
    "xoxb": ("xoxb-" + "SlackBot5ecret-123", "SlackBot5ecret"),
    "glpat": ("glpat-" + "GitLabTok3n" + "k" * 12, "GitLabTok3n"),
    "jwt": (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJKd3RTdWIifQ.JwtSignatureXyz123",
        "JwtSignatureXyz123",
    ),
    "userinfo": ("https://bob:UserInfoPw3@pkgs.internal/simple", "UserInfoPw3"),
    "query_password": ("https://pkgs.internal/simple?password=QueryPw3", "QueryPw3"),
}


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_each_kind_is_redacted(kind):
    value, secret = PLANTED[kind]
    assert secret not in redact_value(value)


def _env(home: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env["HOME"] = str(home)
    for i, kind in enumerate(sorted(PLANTED)):
        # Allowlisted names that do not look secret: only the value gives the credential away.
        env[f"TORCH_PLANT_{i}"] = PLANTED[kind][0]
    return env


def _git_repo(where: Path) -> None:
    where.mkdir()
    subprocess.run(["git", "init", "-q", str(where)], check=True)
    for i, kind in enumerate(sorted(PLANTED)):
        subprocess.run(
            ["git", "-C", str(where), "remote", "add", f"r{i}", PLANTED[kind][0]], check=True
        )


def _cli(args: List[str], env: Dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    r = subprocess.run(
        [sys.executable, "-m", "envparity", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )
    return r


def _leaks(text: str) -> List[str]:
    return [kind for kind, (_, secret) in PLANTED.items() if secret in text]


def _rows_text(url: str) -> str:
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    out = []
    try:
        with engine.connect() as conn:
            for table in sa.inspect(conn).get_table_names():
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                    out.append(repr(tuple(row)))
    finally:
        engine.dispose()
    return "\n".join(out)


def _exercise(url: str, tmp_path: Path) -> str:
    """Everything envparity writes or prints for the planted environment, concatenated."""
    repo = tmp_path / "repo"
    _git_repo(repo)
    env = _env(tmp_path)
    seen: List[str] = []
    out = tmp_path / "snap.json"
    upgrade = _cli(["db", "upgrade", "--db", url], env, repo)
    assert upgrade.returncode == 0, upgrade.stderr
    r = _cli(["snapshot", "--no-store", "--json", "-o", str(out)], env, repo)
    assert r.returncode == 0, r.stderr
    seen += [r.stdout, r.stderr, out.read_text()]
    captured = json.loads(out.read_text())
    # The variables and remotes were captured, their values redacted.
    assert len([k for k in captured["env"] if k.startswith("TORCH_PLANT_")]) == len(PLANTED)
    assert len(captured["code"]["remotes"]) == len(PLANTED)
    r = _cli(["snapshot", "--db", url, "--role", "train", "--json"], env, repo)
    assert r.returncode == 0, r.stderr
    seen += [r.stdout, r.stderr]
    snap_id = json.loads(r.stdout)["snapshot_id"]
    for args in (["show", snap_id], ["show", snap_id, "--json"], ["list"], ["list", "--json"]):
        r = _cli([*args, "--db", url], env, repo)
        assert r.returncode == 0, r.stderr
        seen += [r.stdout, r.stderr]
    for fmt in ("text", "json", "markdown", "html", "junit"):
        r = _cli(["diff", str(out), snap_id, "--db", url, "--format", fmt], env, repo)
        assert r.returncode in (0, 1), r.stderr
        seen += [r.stdout, r.stderr]
    r = _cli(["run", "--db", url, "--baseline", snap_id, "--budget", "60", "--", "true"], env, repo)
    assert r.returncode == 0, r.stderr
    seen += [r.stdout, r.stderr]
    seen.append(_rows_text(url))
    return "\n".join(seen)


@pytest.mark.slow
def test_no_planted_secret_leaks_with_sqlite(tmp_path):
    db = tmp_path / "store.db"
    text = _exercise(f"sqlite:///{db}", tmp_path)
    assert _leaks(text) == []
    raw = db.read_bytes().decode("latin-1")
    assert _leaks(raw) == []


@pytest.mark.slow
@pytest.mark.postgres
def test_no_planted_secret_leaks_with_postgresql(pg_db, tmp_path):
    assert _leaks(_exercise(pg_db, tmp_path)) == []
