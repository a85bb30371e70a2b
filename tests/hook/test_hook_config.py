"""Every option of the hook comes from code/flags or from ENVPARITY_* variables, and a bad value
never stops a server: it is reported and the default kept."""

from __future__ import annotations

from envparity.hook import HookConfig, load_config


def test_every_option_comes_from_its_variable() -> None:
    environ = {
        "ENVPARITY_BASELINE": "fraud-train",
        "ENVPARITY_ON_DRIFT": "FAIL",
        "ENVPARITY_ROLE": "batch",
        "ENVPARITY_LABELS": "model=fraud, region=eu",
        "ENVPARITY_DB_URL": "postgresql+psycopg://u:pw@db/envparity",
        "ENVPARITY_SPOOL_DIR": "/var/spool/envparity",
        "ENVPARITY_BUDGET_S": "0.5",
        "ENVPARITY_FAIL_ON": "warning",
        "ENVPARITY_POLICY": "/etc/envparity.toml",
    }
    config, problems = load_config(environ)
    assert problems == []
    assert config == HookConfig(
        baseline="fraud-train",
        on_drift="fail",
        role="batch",
        labels={"model": "fraud", "region": "eu"},
        db_url="postgresql+psycopg://u:pw@db/envparity",
        spool_dir="/var/spool/envparity",
        budget_s=0.5,
        fail_on="warning",
        policy="/etc/envparity.toml",
    )


def test_defaults_without_variables() -> None:
    config, problems = load_config({})
    assert problems == []
    assert config == HookConfig()
    assert (config.on_drift, config.role, config.budget_s) == ("warn", "serving", 2.0)


def test_explicit_options_win_and_labels_merge() -> None:
    environ = {
        "ENVPARITY_BASELINE": "from-env",
        "ENVPARITY_BUDGET_S": "9",
        "ENVPARITY_LABELS": "model=fraud,region=eu",
    }
    config, problems = load_config(
        environ, baseline="from-flag", budget_s="1.5", labels=["region=us", "zone=b"]
    )
    assert problems == []
    assert config.baseline == "from-flag"
    assert config.budget_s == 1.5
    assert config.labels == {"model": "fraud", "region": "us", "zone": "b"}


def test_bad_values_are_reported_and_defaults_kept() -> None:
    environ = {
        "ENVPARITY_ON_DRIFT": "explode",
        "ENVPARITY_BUDGET_S": "-1",
        "ENVPARITY_FAIL_ON": "sometimes",
        "ENVPARITY_LABELS": "model",
    }
    config, problems = load_config(environ, budget_s="soon")
    assert config == HookConfig()
    assert len(problems) == 4
    text = "\n".join(problems)
    assert "ENVPARITY_ON_DRIFT='explode': expected one of warn, fail" in text
    assert "ENVPARITY_FAIL_ON='sometimes'" in text
    # The flag was given, so the flag is what the problem names (not the variable it shadowed).
    assert "--budget='soon': expected a number of seconds above 0" in text
    assert "ENVPARITY_LABELS 'model': expected KEY=VALUE" in text
