"""Relevance in the drift engine: each branch of issue 24's severity rules, and waivers.

The real-stack version (a model pickled in the training process) is
tests/relevance/test_real_stacks.py; these pin every rule on small snapshots.
"""

from __future__ import annotations

import textwrap

import pytest
from diff_snapshots import baseline, by_key, changed, cli_runner, with_package

from envparity.cli import app
from envparity.comparison import compare as diff
from envparity.errors import BadInput
from envparity.model import ModelArtifact, Relevance
from envparity.policy import Policy, load_policy
from envparity.relevance.relevant import UNKNOWN

MODEL = ModelArtifact(
    path="models/model.pkl",
    kind="pickle",
    sha256="0" * 64,
    size=10,
    globals=["sklearn.ensemble._forest.RandomForestClassifier", "numpy.dtype"],
    needs={
        "scikit-learn": "sklearn.ensemble._forest.RandomForestClassifier",
        "numpy": "numpy.dtype",
    },
)


def _base(loaded=None, models=(MODEL,), extra=()):
    base = baseline()
    for name, version in extra:
        base = with_package(base, name, version)
    rel = Relevance(loaded=loaded, models=list(models))
    return base.model_copy(update={"relevance": rel})


def test_no_relevance_says_so_once_and_judges_as_before():
    base = baseline()
    cand = with_package(base, "pandas", "3.0.0")
    report = diff(base, cand)
    assert report.relevance is not None and report.relevance.note == UNKNOWN
    assert report.relevance.known is False
    (f,) = report.findings
    assert f.severity == "error" and "relevance unknown" in f.severity_reason


def test_model_needs_keep_the_ml_table_and_name_the_artifact():
    base = _base()
    cand = with_package(with_package(base, "scikit-learn", "1.5.0"), "numpy", "2.0.0")
    found = by_key(base, cand)
    sk = found["package:scikit-learn"]
    assert sk.severity == "error"
    assert sk.severity_reason == (
        "needed by model.pkl (sklearn.ensemble._forest.RandomForestClassifier)"
    )
    assert found["package:numpy"].severity == "error"


def test_outside_the_relevant_set_is_info_and_grouped_with_every_package_listed():
    base = _base(extra=[("certifi", "2024.2.2"), ("lib-a", "1.0"), ("lib-b", "3.1")])
    cand = with_package(with_package(base, "lib-a", "2.0"), "lib-b", "4.0")
    cand = with_package(with_package(cand, "certifi", "2025.1.31"), "torch", "3.0.0")
    report = diff(base, cand)
    found = {f"{f.category}:{f.key}": f for f in report.findings}
    group = found["package:unused-changed"]
    assert group.severity == "info"
    assert [m.key for m in group.members] == ["certifi", "lib-a", "lib-b", "torch"]
    assert group.why.startswith("4 packages the model never loads changed: certifi, lib-a")
    assert group.severity_reason == "not needed by model.pkl"
    assert "package:torch" in group.related
    assert report.verdict == "info"


def test_a_lone_unused_change_stays_its_own_finding_at_info():
    base = _base(extra=[("lib-a", "1.0")])
    found = by_key(base, with_package(base, "lib-a", "2.0"))
    assert found["package:lib-a"].severity == "info"
    assert found["package:lib-a"].severity_reason == "not needed by model.pkl"


def test_loaded_distributions_and_their_reason():
    base = _base(loaded=["pandas"], models=())
    found = by_key(base, with_package(base, "pandas", "1.5.0"))
    f = found["package:pandas"]
    assert f.severity == "error" and f.severity_reason == "loaded by the training process"


def test_missing_relevant_package_names_the_model_and_the_rest_is_one_group():
    base = _base(extra=[("pytest", "8.0"), ("tqdm", "4.66")])
    cand = changed(base, "role", "serving")
    for name in ("scikit-learn", "pytest", "tqdm"):
        cand = with_package(cand, name, None)
    found = by_key(base, cand)
    sk = found["package:scikit-learn"]
    assert sk.severity == "error"
    assert sk.why.startswith(
        "serving lacks scikit-learn, which model.pkl needs "
        "(sklearn.ensemble._forest.RandomForestClassifier)"
    )
    group = found["package:unused-missing"]
    assert group.severity == "info" and {m.key for m in group.members} == {"pytest", "tqdm"}


def test_missing_packages_are_one_grouped_error_when_relevance_is_unknown():
    base = with_package(with_package(baseline(), "pytest", "8.0"), "tqdm", "4.66")
    cand = with_package(with_package(base, "pytest", None), "tqdm", None)
    found = by_key(base, cand)
    group = found["package:missing"]
    assert group.severity == "error" and len(group.members) == 2


@pytest.mark.parametrize("known", [True, False])
def test_installers_are_info_whatever_relevance_says(known):
    base = _base(extra=[("setuptools", "65.0.0")]) if known else with_package(
        baseline(), "setuptools", "65.0.0"
    )
    cand = with_package(with_package(base, "setuptools", "70.0.0"), "pip", "26.0")
    report = diff(base, cand)
    keys = {m.key for f in report.findings for m in f.members} | {
        f.key for f in report.findings
    }
    assert {"pip", "setuptools"} <= keys
    assert report.verdict == "info"
    assert any(
        "installer/build tool: never affects results" in (f.severity_reason or "")
        for f in report.findings
    )


def test_calendar_versions_never_count_a_year_as_major():
    base = with_package(baseline(), "certifi", "2024.2.2")
    f = by_key(base, with_package(base, "certifi", "2025.1.31"))["package:certifi"]
    assert f.severity == "warning" and "calendar-versioned" in f.why


@pytest.mark.parametrize(("known", "severity"), [(False, "warning"), (True, "info")])
def test_time_zone_data_is_judged_as_time_zone_data(known, severity):
    base = _base(extra=[("tzdata", "2023.3")]) if known else with_package(
        baseline(), "tzdata", "2023.3"
    )
    f = by_key(base, with_package(base, "tzdata", "2025.2"))["package:tzdata"]
    assert f.severity == severity
    assert f.why.startswith("time zone database 2023.3 -> 2025.2: local times can shift")


def test_relevant_time_zone_data_is_a_warning():
    base = _base(loaded=["pytz"], models=(), extra=[("pytz", "2023.3")])
    f = by_key(base, with_package(base, "pytz", "2025.1"))["package:pytz"]
    assert f.severity == "warning" and f.severity_reason.startswith("time zone data")


def test_accelerators_of_relevant_packages_and_blas_providers_are_relevant():
    base = _base(loaded=["pandas"], models=(), extra=[("numexpr", "2.8.0"), ("mkl", "2023.1")])
    cand = with_package(with_package(base, "numexpr", "3.0.0"), "mkl", "2024.1")
    found = by_key(base, cand)
    assert found["package:numexpr"].severity == "error"
    assert "optional accelerator of pandas" in found["package:numexpr"].severity_reason
    assert "BLAS/OpenMP provider" in found["package:mkl"].severity_reason


def test_a_policy_override_beats_relevance_and_the_report_says_what_it_changed():
    base = _base(extra=[("lib-a", "1.0"), ("lib-b", "1.0")])
    cand = with_package(with_package(base, "lib-a", "2.0"), "lib-b", "2.0")
    policy = Policy(
        severity={"package:lib-a": "error", "package:numpy": "info"},
        ignore=["package:lib-b"],
        source="pyproject.toml",
        table="[tool.envparity]",
    )
    cand = with_package(cand, "numpy", "2.0.0")
    report = diff(base, cand, policy)
    found = {f"{f.category}:{f.key}": f for f in report.findings}
    assert found["package:lib-a"].severity == "error"
    assert found["package:lib-a"].severity_reason.startswith("policy: [severity]")
    assert found["package:numpy"].severity == "info"
    assert "package:lib-b" not in found
    assert report.policy is not None and report.policy.ignored == ["package:lib-b"]
    from envparity.report import render

    text = render(report, "text")
    assert "policy: pyproject.toml [tool.envparity]: ignored 1 (package:lib-b)" in text
    assert "downgraded 1 (package:numpy error -> info" in text
    assert "raised 1 (package:lib-a info -> error" in text
    for fmt in ("markdown", "html"):
        assert "error because: policy" in render(report, fmt)


def _policy(tmp_path, body: str) -> str:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.envparity]\n" + textwrap.dedent(body))
    return str(path)


def test_a_waived_finding_stays_marked_and_an_expired_one_gets_its_severity_back(tmp_path):
    base = baseline()
    cand = with_package(base, "numpy", "2.0.0")
    path = _policy(
        tmp_path,
        """
        [[tool.envparity.waive]]
        key = "package:numpy"
        reason = "parity probes pass under numpy 2"
        until = 2999-01-31
        """,
    )
    report = diff(base, cand, load_policy(path))
    (f,) = report.findings
    assert f.severity == "info" and f.waived is not None
    assert f.severity_reason == (
        "waived until 2999-01-31: parity probes pass under numpy 2 (was error)"
    )
    assert not report.failed
    expired = load_policy(path).model_copy(
        update={"waive": [dict(load_policy(path).waive[0], until="2020-01-01")]}
    )
    report = diff(base, cand, expired)
    found = {f"{f.category}:{f.key}": f for f in report.findings}
    assert found["package:numpy"].severity == "error"
    assert found["policy:waive:package:numpy"].severity == "warning"
    assert "expired on 2020-01-01" in found["policy:waive:package:numpy"].why
    assert report.failed


def test_a_waiver_without_a_reason_is_bad_input(tmp_path):
    path = _policy(tmp_path, '[[tool.envparity.waive]]\nkey = "package:numpy"\n')
    with pytest.raises(BadInput, match="the waiver of package:numpy has no reason"):
        load_policy(path)
    path = _policy(
        tmp_path, '[[tool.envparity.waive]]\nkey = "a:b"\nreason = "r"\nuntil = "soon"\n'
    )
    with pytest.raises(BadInput, match="is not a date"):
        load_policy(path)


def test_cli_waive_needs_a_reason_exit_2(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(baseline().model_dump_json())
    b.write_text(with_package(baseline(), "numpy", "2.0.0").model_dump_json())
    runner = cli_runner()
    result = runner.invoke(app, ["diff", str(a), str(b), "--waive", "package:numpy"])
    assert result.exit_code == 2
    assert "give each --waive KEY a --reason" in result.stderr
    result = runner.invoke(
        app, ["diff", str(a), str(b), "--waive", "package:numpy", "--reason", "checked",
              "--until", "2999-12-31"],
    )
    assert result.exit_code == 0, result.stderr
    assert "waived until 2999-12-31: checked (was error)" in result.stdout


@pytest.mark.parametrize("fmt", ["text", "markdown", "html", "json", "junit", "github"])
def test_a_group_lists_every_package_and_escapes_hostile_names(fmt):
    from envparity.report import render

    hostile = "<script>x</script>"
    base = _base(extra=[("lib-a", "1.0"), (hostile, "1.0")])
    cand = with_package(with_package(base, "lib-a", "2.0"), hostile, "2.0")
    report = diff(base, cand)
    (group,) = [f for f in report.findings if f.members]
    assert {m.key for m in group.members} == {"lib-a", hostile}
    text = render(report, fmt)
    if fmt == "github":
        # Info findings fold into one notice (the runner shows 10 annotations per kind); the
        # step summary, which is the Markdown report, lists the group's members.
        assert "1 info finding in the step summary" in text and "<script>" not in text
        return
    assert "lib-a" in text
    if fmt in ("markdown", "html"):
        assert "<script>" not in text
