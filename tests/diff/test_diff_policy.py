"""The policy: ignore globs, severity overrides, fail_on; and errors that name the line."""

from __future__ import annotations

import textwrap

import pytest
from diff_snapshots import baseline, changed, found, with_package

from envparity.comparison import compare as diff
from envparity.errors import BadInput
from envparity.policy import Policy, load_policy

BASE = baseline()
# numpy major (error), pip minor (info: an installer), a new package (info), a GPU driver
# (warning).
CAND = changed(
    with_package(with_package(with_package(BASE, "numpy", "2.0.0"), "pip", "24.2"), "new", "1"),
    "gpus.driver_version",
    "535.1",
)


def test_default_policy_reports_everything():
    assert found(BASE, CAND) == [
        ("error", "package:numpy", "changed"),
        ("warning", "gpu:driver_version", "changed"),
        ("info", "package:new", "added"),
        ("info", "package:pip", "changed"),
    ]


def test_ignore_globs_and_bare_categories():
    policy = Policy(ignore=["package:pip", "gpu"])
    assert found(BASE, CAND, policy=policy) == [
        ("error", "package:numpy", "changed"),
        ("info", "package:new", "added"),
    ]
    assert found(BASE, CAND, policy=Policy(ignore=["package:*", "gpu:driver_*"])) == []


def test_package_patterns_match_normalized_names():
    assert found(BASE, CAND, policy=Policy(ignore=["package:NumPy", "package:PIP"]))[0] == (
        "warning",
        "gpu:driver_version",
        "changed",
    )


def test_package_patterns_normalize_separators():
    cand = with_package(BASE, "scikit-learn", "2.0")
    assert found(BASE, cand, policy=Policy(ignore=["package:Scikit_Learn"])) == []


def test_severity_overrides_most_specific_wins():
    policy = Policy(
        severity={
            "package:numpy": "warning",
            "package": "info",
            "gpu:*": "error",
            "package:new": "ignore",
        }
    )
    report = diff(BASE, CAND, policy)
    assert [(f.severity, f"{f.category}:{f.key}") for f in report.findings] == [
        ("error", "gpu:driver_version"),
        ("warning", "package:numpy"),
        ("info", "package:pip"),
    ]
    assert report.verdict == "error"
    assert report.counts == {"info": 1, "warning": 1, "error": 1}


def test_fail_on_from_policy():
    assert not diff(BASE, CAND, Policy(fail_on="never")).failed
    report = diff(BASE, with_package(BASE, "new", "1"), Policy(fail_on="info"))
    assert (report.verdict, report.fail_on, report.failed) == ("info", "info", True)


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_load_from_pyproject(tmp_path):
    _write(
        tmp_path,
        "pyproject.toml",
        """
        [project]
        name = "x"

        [tool.envparity]
        fail_on = "warning"
        ignore = ["package:pip"]

        [tool.envparity.severity]
        "package:numpy" = "info"
        blas = "ignore"
        """,
    )
    policy = load_policy(cwd=str(tmp_path))
    assert policy.fail_on == "warning"
    assert policy.ignore == ["package:pip"]
    assert policy.severity == {"package:numpy": "info", "blas": "ignore"}
    assert policy.source == str(tmp_path / "pyproject.toml")


def test_the_pydantic_policy_and_the_plain_rules_are_one_definition(tmp_path):
    """Policy (the API) delegates to envparity.drift.policy (the start-up hook's, no pydantic):
    the same file gives the same fields and the same decisions, and a copy with another
    threshold or other globs decides by its own."""
    from envparity.drift.policy import load_rules

    _write(
        tmp_path,
        "pyproject.toml",
        """
        [tool.envparity]
        fail_on = "warning"
        ignore = ["package:Pip"]

        [tool.envparity.severity]
        "package:*" = "info"
        "package:numpy" = "error"
        """,
    )
    policy, rules = load_policy(cwd=str(tmp_path)), load_rules(cwd=str(tmp_path))
    assert policy.model_dump() == rules.fields() and policy.as_rules() == rules
    for key in ("pip", "numpy", "pandas"):
        assert policy.decide("package", key, "warning") == rules.decide("package", key, "warning")
    assert [rules.decide("package", k, "warning") for k in ("pip", "numpy", "pandas")] == [
        None, "error", "info"
    ]
    assert policy.model_copy(update={"fail_on": "never"}).as_rules().fail_on == "never"
    assert policy.model_copy(update={"ignore": []}).decide("package", "pip", "warning") == "info"
    assert rules.with_fail_on("never").fail_on == "never" and rules.fail_on == "warning"


def test_the_nearest_pyproject_upward_is_the_policy(tmp_path):
    _write(tmp_path, "pyproject.toml", '[tool.envparity]\nfail_on = "never"\n')
    sub = tmp_path / "src" / "pkg"
    sub.mkdir(parents=True)
    # A pyproject.toml without [tool.envparity] on the way up is passed over.
    _write(tmp_path / "src", "pyproject.toml", "[project]\nname = 'x'\n")
    policy = load_policy(cwd=str(sub))
    assert (policy.fail_on, policy.source) == ("never", str(tmp_path / "pyproject.toml"))


def test_no_pyproject_or_no_table_is_the_default(tmp_path):
    assert load_policy(cwd=str(tmp_path)) == Policy()
    _write(tmp_path, "pyproject.toml", "[project]\nname = 'x'\n")
    assert load_policy(cwd=str(tmp_path)) == Policy()


def test_policy_file_with_top_level_keys(tmp_path):
    path = _write(tmp_path, "drift.toml", 'fail_on = "never"\nignore = ["gpu:*"]\n')
    assert load_policy(str(path)).fail_on == "never"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            """
            [tool.envparity]
            fail_on = "sometimes"
            """,
            "pyproject.toml line 3: [tool.envparity] fail_on = 'sometimes': expected one of "
            "info, warning, error, never",
        ),
        (
            """
            [tool.envparity]
            ignore = ["package:pip"]

            [tool.envparity.severity]
            "package:numpy" = "fatal"
            """,
            "pyproject.toml line 6: [tool.envparity.severity] package:numpy = 'fatal': "
            "expected one of info, warning, error, ignore",
        ),
        (
            """
            [tool.envparity]
            ignore = "package:pip", 3
            """,
            "pyproject.toml: invalid TOML: ",
        ),
        (
            """
            [tool.envparity]
            ignore = [1, 2]
            """,
            "pyproject.toml line 3: [tool.envparity] ignore: expected a list of globs",
        ),
    ],
)
def test_invalid_policy_names_the_line_and_key(tmp_path, text, message):
    _write(tmp_path, "pyproject.toml", text)
    with pytest.raises(BadInput) as e:
        load_policy(cwd=str(tmp_path))
    assert message in str(e.value)
    assert str(e.value).startswith(str(tmp_path / "pyproject.toml"))


def test_invalid_toml_says_which_line(tmp_path):
    path = _write(tmp_path, "p.toml", 'fail_on = "error"\nignore = [\n  "gpu:*"\n  "blas"\n]\n')
    with pytest.raises(BadInput, match=r"line 4"):
        load_policy(str(path))


def test_missing_policy_file(tmp_path):
    with pytest.raises(BadInput, match="no such policy file"):
        load_policy(str(tmp_path / "nope.toml"))
