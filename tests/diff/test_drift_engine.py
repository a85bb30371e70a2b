"""The drift engine as data: root causes, probe errors, ML-aware packages, size, hostile values."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from diff_snapshots import baseline, by_key, changed, found, with_package

from envparity.comparison import compare as diff
from envparity.drift import rules
from envparity.drift.engine import compare
from envparity.model import Finding, ProbeFailure
from envparity.policy import Policy
from envparity.report import FORMATS, render

BASE = baseline()


def _errors(snap, *failures):
    errors = [ProbeFailure(probe=p, message=m) for p, m in failures]
    return changed(snap, "collection", snap.collection.model_copy(update={"errors": errors}))


# --- one finding per root cause ----------------------------------------------------------------


def test_time_zone_is_one_finding_with_its_related_keys():
    b = changed(BASE, "platform.timezone", "America/New_York")
    b = changed(b, "platform.utc_offset_minutes", -300)
    b = changed(b, "env", dict(BASE.env, TZ="America/New_York"))
    findings = by_key(BASE, b)
    assert list(findings) == ["platform:timezone"]
    f = findings["platform:timezone"]
    assert f.severity == "warning"
    assert f.related == ["env:TZ", "platform:utc_offset_minutes"]
    # One piece of advice: the baseline sets no TZ, so unset it.
    assert "unset TZ in the candidate" in f.why and "Etc/UTC" not in f.why


def test_tz_that_names_the_same_zone_is_no_finding():
    # TZ is recorded, not identity (schema 3): compared as the effective zone, which is the same.
    b = changed(BASE, "env", dict(BASE.env, TZ="Etc/UTC"))
    assert found(BASE, b) == []


def test_thread_count_is_one_finding_listing_each_runtime():
    b = changed(BASE, "determinism.env", {"PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"})
    b = changed(b, "blas", [BASE.blas[0].model_copy(update={"num_threads": 1})])
    findings = by_key(BASE, b)
    assert list(findings) == ["determinism:OMP_NUM_THREADS"]
    f = findings["determinism:OMP_NUM_THREADS"]
    assert (f.severity, f.baseline, f.candidate) == ("warning", "8", "1")
    assert f.related == ["blas:numpy/blas.num_threads"]
    assert "set OMP_NUM_THREADS=8 in the candidate" in f.why


def test_locale_variable_that_changes_nothing_effective_is_info():
    b = changed(BASE, "env", dict(BASE.env, LC_ALL="C.UTF-8"))
    assert found(BASE, b) == [("info", "env:LC_ALL", "added")]
    assert "effective locale and encodings are the same" in by_key(BASE, b)["env:LC_ALL"].why


def test_locale_change_is_one_finding_with_its_variables():
    b = changed(BASE, "platform.locale", "de_DE.UTF-8")
    b = changed(b, "env", dict(BASE.env, LANG="de_DE.UTF-8", LC_ALL="de_DE.UTF-8"))
    findings = by_key(BASE, b)
    assert list(findings) == ["platform:locale"]
    assert findings["platform:locale"].related == ["env:LANG", "env:LC_ALL"]
    assert findings["platform:locale"].severity == "warning"


# --- probe errors ------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["baseline", "candidate"])
def test_probe_error_on_either_side_is_an_incomplete_comparison_not_a_removal(side):
    # The packages probe failed on one side, which then lacks numpy: not evidence of removal.
    broken = _errors(with_package(BASE, "numpy", None), ("packages", "cannot read METADATA"))
    a, b = (broken, BASE) if side == "baseline" else (BASE, broken)
    report = diff(a, b)
    assert [(f.severity, f.category, f.key, f.change) for f in report.findings] == [
        ("warning", "collection", "packages", "incomplete")
    ]
    assert report.verdict == "warning"
    f = report.findings[0]
    assert f.related == ["package:numpy"]
    assert getattr(f, side) == "cannot read METADATA"
    for fmt in FORMATS:
        text = render(report, fmt)
        assert "incomplete" in text, fmt
        assert "removed" not in text, fmt
        assert "cannot read METADATA" in text, fmt
        if fmt != "json":
            assert "incomplete comparison" in text, fmt
    assert json.loads(render(report, "json"))["findings"][0]["change"] == "incomplete"
    suite = ET.fromstring(render(report, "junit"))
    assert "incomplete comparison" in ET.tostring(suite, encoding="unicode")


def test_the_same_probe_error_on_both_sides_is_info():
    a = _errors(BASE, ("gpu", "NVML: driver not loaded"))
    assert found(a, a) == [("info", "collection:gpu", "incomplete")]
    assert diff(a, a).verdict == "info"
    # Another message on the other side: the comparisons differ, so at least a warning.
    b = _errors(BASE, ("gpu", "NVML: insufficient permissions"))
    assert found(a, b) == [("warning", "collection:gpu", "incomplete")]
    assert diff(BASE, BASE).findings == []  # A/A without errors stays silent


def test_blas_runtime_recorded_as_unknown_is_incomplete_not_removed():
    keyed = [{**BASE.blas[0].model_dump(), "key": "numpy/blas", "state": "ok"}]
    unknown = [{"key": "numpy/blas", "user_api": "blas", "internal_api": "", "prefix": "",
                "state": "unknown"}]
    a = {**BASE.model_dump(), "blas": keyed}
    b = {**BASE.model_dump(), "blas": unknown}
    out = compare(a, b)
    assert [(f["category"], f["key"], f["change"], f["severity"]) for f in out["findings"]] == [
        ("collection", "blas:numpy/blas", "incomplete", "warning")
    ]
    # Keyed by the stable key: another library path under the same key is not "removed".
    moved = [dict(keyed[0], prefix="libscipy_openblas", filepath="/elsewhere")]
    assert compare(a, {**a, "blas": moved})["findings"] == []


def test_engine_runs_on_plain_data_without_pydantic():
    code = (
        "import json, sys\n"
        "from envparity.drift.engine import compare\n"
        "a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))\n"
        "r = compare(a, b)\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
        "print(r['verdict'], [f['key'] for f in r['findings']])\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        pa, pb = f"{tmp}/a.json", f"{tmp}/b.json"
        open(pa, "w").write(BASE.model_dump_json())
        open(pb, "w").write(with_package(BASE, "numpy", "2.0.0").model_dump_json())
        r = subprocess.run([sys.executable, "-c", code, pa, pb], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "error ['numpy']"


# --- ML-aware package severities ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "old", "new", "severity"),
    [
        ("scikit-learn", "1.3.2", "1.6.1", "error"),  # pickles only supported within a version
        ("scikit-learn", "1.6.0", "1.6.1", "warning"),  # InconsistentVersionWarning
        ("xgboost", "2.0.3", "2.1.0", "error"),
        ("lightgbm", "4.5.0", "4.3.0", "error"),  # older code, newer model file
        ("lightgbm", "4.3.0", "4.5.0", "warning"),
        ("pandas", "2.2.3", "2.0.3", "error"),  # read_pickle is backwards compatible only
        ("pandas", "2.0.3", "2.2.3", "warning"),
        ("numpy", "1.26.4", "2.2.6", "error"),
        ("requests", "2.31.0", "2.32.0", "warning"),  # plain semver for the rest
    ],
)
def test_ml_aware_package_severities(name, old, new, severity):
    a = with_package(BASE, name, old)
    f = by_key(a, with_package(a, name, new))[f"package:{name}"]
    assert f.severity == severity
    assert f"{name}=={old}" in f.why


def test_scikit_learn_minor_bump_is_error_by_default_and_info_under_a_policy():
    a = with_package(BASE, "scikit-learn", "1.3.2")
    b = with_package(BASE, "scikit-learn", "1.6.1")
    f = by_key(a, b)["package:scikit-learn"]
    assert f.severity == "error" and "only supported under that version" in f.why
    policy = Policy(severity={"package:scikit-learn": "info"})
    report = diff(a, b, policy)
    assert [(x.key, x.severity) for x in report.findings] == [("scikit-learn", "info")]
    assert not report.failed


def test_numpy_2_and_pandas_3_carry_their_own_advice():
    a = with_package(BASE, "numpy", "1.26.4")
    assert "NEP 50" in by_key(a, with_package(a, "numpy", "2.0.0"))["package:numpy"].why
    p = with_package(BASE, "pandas", "2.2.3")
    assert "copy-on-write" in by_key(p, with_package(p, "pandas", "3.0.0"))["package:pandas"].why


def test_every_ml_row_cites_a_source():
    from envparity.drift.packages import BREAKS, ML_PACKAGES

    for row in (*ML_PACKAGES, *BREAKS):
        assert row.source.startswith("https://"), row


def test_tool_packages_on_one_side_are_not_drift():
    a = {**BASE.model_dump(), "packages": [p.model_dump() for p in BASE.packages]}
    b = {**a, "packages": a["packages"] + [{"name": "envparity", "version": "0.2", "tool": True}]}
    assert compare(a, b)["findings"] == []


# --- size-aware Markdown -----------------------------------------------------------------------


def _big_report(n: int = 6000):
    findings = [
        Finding(
            category="package",
            key=f"pkg-{i:05d}",
            baseline="1.0.0",
            candidate=None if i % 100 == 0 else "1.0.1",
            change="removed" if i % 100 == 0 else "changed",
            severity="error" if i % 100 == 0 else "info",
            why="patch/pre/post release upgraded: pin pkg-xxxxx==1.0.0 " + "x" * 80,
        )
        for i in range(n)
    ]
    findings.sort(key=lambda f: (f.severity != "error", f.key))
    report = diff(BASE, BASE)
    counts = {"error": n // 100, "warning": 0, "info": n - n // 100}
    return report.model_copy(update={"findings": findings, "counts": counts, "verdict": "error"})


def test_6000_findings_fit_one_mebibyte_and_list_every_error():
    report = _big_report()
    md = render(report, "markdown")
    assert len(md.encode()) < 1024 * 1024
    for f in report.findings:
        if f.severity == "error":
            assert f"<code>{f.key}</code>" in md
    assert "more findings not shown" in md and "--format json" in md
    # JSON and HTML stay complete.
    assert len(json.loads(render(report, "json"))["findings"]) == 6000
    assert render(report, "html").count("<tr class=") == 6000


def test_markdown_for_a_pr_comment():
    md = render(_big_report(), "markdown", max_bytes=65000)
    assert len(md.encode()) <= 65000
    assert "more findings not shown** (" in md
    assert md.count("| error |") == 60  # every error still fits


# --- hostile values ----------------------------------------------------------------------------

HOSTILE = (
    "[click](https://evil.example/x) ![t](https://evil.example/p.png) *b* _i_ "
    "\u202etxt.exe\u202c \x1b]0;pwned\x07\x1b[2J\rforged line\x85 <img src=x> www.evil.example"
)


def _hostile_report():
    b = changed(BASE, "env", dict(BASE.env, KERAS_BACKEND=HOSTILE))
    b = changed(b, "labels", {"model": HOSTILE})
    b = changed(b, "role", HOSTILE)
    return diff(BASE, b, candidate_ref=HOSTILE)


def _assert_neutral(text: str) -> None:
    for bad in ("\x1b", "\r", "\x07", "\x85", "\u202e", "\u202c"):
        assert bad not in text, repr(bad)


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_values_are_neutral_in_every_format(fmt):
    text = render(_hostile_report(), fmt)
    _assert_neutral(text)
    if fmt == "markdown":
        assert "](" not in text and "![" not in text and "https://" not in text
        assert "www.evil" not in text and "*b*" not in text and "<img" not in text
    if fmt == "html":
        assert "<img" not in text and "&lt;img" in text
    if fmt == "junit":
        ET.fromstring(text)
    if fmt == "json":
        assert json.loads(text)["findings"][0]["candidate"] == HOSTILE


# --- simple field rules as data ----------------------------------------------------------------

# One row per rule in envparity.drift.rules.FIELD_RULES: (section.field, a new value).
RULE_ROWS = [
    ("python.implementation", "PyPy"),
    ("python.abi_flags", "d"),
    ("python.gil_disabled", True),
    ("python.build", "other"),
    ("python.compiler", "Clang 17"),
    ("python.virtualenv", True),
    ("python.conda_env", "base"),
    ("platform.system", "Darwin"),
    ("platform.arch", "aarch64"),
    ("platform.libc", "musl"),
    ("platform.libc_version", "2.31"),
    ("platform.os_id", "ubuntu"),
    ("platform.os_name", "Ubuntu"),
    ("platform.os_version", "24.04"),
    ("platform.kernel", "6.8.0"),
    ("cpu.vendor", "AuthenticAMD"),
    ("cpu.model", "EPYC 9654"),
    ("cpu.logical_cores", 16),
    ("cpu.physical_cores", 8),
    ("cpu.affinity_cores", 4),
    ("cpu.cgroup_quota_cores", 2.0),
    ("cpu.max_mhz", 3000.0),
    ("cpu.family", 25),
    ("cpu.model_number", 17),
    ("cpu.stepping", 1),
    ("memory.total_bytes", 2**30),
    ("memory.cgroup_limit_bytes", 2**30),
    ("code.commit", "2" * 40),
    ("code.branch", "dev"),
]


@pytest.mark.parametrize(("path", "value"), RULE_ROWS)
def test_field_rule(path, value):
    rule = next(r for r in rules.FIELD_RULES if f"{r.section}.{r.field}" == path)
    findings = diff(BASE, changed(BASE, path, value)).findings
    assert [(f.category, f.key, f.severity) for f in findings] == [
        (rule.finding_category, rule.finding_key, rule.severity)
    ]
    assert findings[0].why.startswith(rule.why.split("{")[0])


def test_a_field_newer_than_a_sides_schema_is_unknown_there():
    newer = [r for r in rules.FIELD_RULES if r.since > 1]
    assert newer, "no rule is marked with the schema version that introduced its field"
    old = BASE.model_copy(update={"schema_version": 1})
    for rule in newer:
        cand = changed(BASE, f"{rule.section}.{rule.field}", 7)
        assert diff(old, cand).findings == [], rule
        assert diff(BASE, cand).findings != [], rule


def test_every_field_rule_has_a_test_row():
    rows = {path for path, _ in RULE_ROWS}
    assert {f"{r.section}.{r.field}" for r in rules.FIELD_RULES} == rows


def test_severity_page_is_the_rules():
    # The generated page (docs/severity.md) holds the table since it gained a relevance column.
    import subprocess
    import sys

    from _support import REPO

    page = (REPO / "docs" / "severity.md").read_text(encoding="utf-8")
    assert rules.severity_table() in page
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "gen_severity_table.py"), "--check"],
        capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, "docs/severity.md differs: run scripts/gen_severity_table.py"


# --- JUnit follows the effective fail-on ---------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "policy", "failures", "code"),
    [
        ([], None, 1, 1),
        (["--fail-on", "never"], None, 0, 0),
        (["--fail-on", "warning"], None, 2, 1),
        ([], 'fail_on = "warning"\n', 2, 1),
        (["--fail-on", "error"], 'fail_on = "warning"\n', 1, 1),
        ([], 'fail_on = "never"\n', 0, 0),
    ],
)
def test_junit_failures_and_the_exit_code_agree(tmp_path, args, policy, failures, code):
    from diff_snapshots import cli_runner

    from envparity.cli import app

    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(BASE.model_dump_json())
    cand = changed(with_package(BASE, "numpy", "2.0.0"), "platform.timezone", "Asia/Tokyo")
    b.write_text(cand.model_dump_json())
    extra = list(args)
    if policy:
        (tmp_path / "policy.toml").write_text(policy)
        extra += ["--policy", str(tmp_path / "policy.toml")]
    out = tmp_path / "drift.xml"
    r = cli_runner().invoke(app, ["diff", str(a), str(b), "--format", "junit", "-o", str(out),
                                  *extra])
    assert r.exit_code == code, r.output
    suite = ET.parse(out).getroot()
    assert int(suite.get("failures")) == failures
    assert (int(suite.get("failures")) > 0) == (r.exit_code == 1)


def test_benchmark_lines_use_one_ratio_convention_and_units():
    from envparity.drift.measured import benchmark_text, duration

    assert duration(0.006168468165715008) == "6.17 ms"
    assert duration(0.000_000_42) == "420 ns"
    assert duration(12.5) == "12.5 s"
    faster = {"verdict": "faster", "ratio": 0.14, "ci_low": 0.11, "ci_high": 0.16,
              "confidence": 0.99, "baseline_median_s": 0.0112, "candidate_median_s": 0.00157}
    text = benchmark_text(faster)
    assert text.startswith("0.14x the baseline's time, faster (99% CI 0.11-0.16")
    assert text.count("CI") == 1 and "11.2 ms -> 1.57 ms" in text
    # A verdict the table does not know (a later issue's) still reads, from its why.
    assert benchmark_text({"verdict": "inconclusive", "why": "too few runs"}) == (
        "inconclusive: too few runs"
    )


def test_max_bytes_on_the_command_line(tmp_path):
    from diff_snapshots import cli_runner

    from envparity.cli import app

    a = tmp_path / "a.json"
    a.write_text(BASE.model_dump_json())
    runner = cli_runner()
    r = runner.invoke(app, ["diff", str(a), str(a), "--format", "markdown", "--max-bytes", "10"])
    assert r.exit_code == 2 and "--max-bytes 10: too small" in r.stderr
    r = runner.invoke(app, ["diff", str(a), str(a), "--format", "markdown", "--max-bytes", "65000"])
    assert r.exit_code == 0 and r.stdout.startswith("**envparity: no drift**")


def test_finding_categories_are_one_list_in_the_engine_and_the_model():
    from typing import get_args

    from envparity.drift.engine import CATEGORIES
    from envparity.model import Category

    assert get_args(Category) == CATEGORIES
