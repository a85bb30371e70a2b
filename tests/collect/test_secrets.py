"""Planted secrets never appear in any output: stdout, stderr, the JSON file, the snapshot."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from envparity.redact import REDACTED, redact, redact_url, redact_value

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
