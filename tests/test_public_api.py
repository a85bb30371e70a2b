"""``envparity.__all__`` is the API the docs show: every name resolves, lazily, from a plain
import."""

from __future__ import annotations

import subprocess
import sys

import envparity


def test_every_public_name_resolves_and_the_import_stays_light() -> None:
    code = (
        "import sys, envparity\n"
        "heavy = [m for m in ('pydantic', 'sqlalchemy', 'typer', 'numpy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "for name in envparity.__all__:\n"
        "    assert getattr(envparity, name) is not None, name\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_public_compare_gives_the_drift_report(tmp_path) -> None:
    base = envparity.snapshot(role="training")
    # pytest is a test dependency, not one of envparity's own (those are never drift).
    cand = base.model_copy(update={"packages": [p for p in base.packages if p.name != "pytest"]})
    report = envparity.compare(base, cand, envparity.load_policy(cwd=str(tmp_path)))
    assert isinstance(report, envparity.DriftReport)
    assert any("pytest" in f.key for f in report.findings), report.findings
    assert "package" in envparity.render(report, "markdown")


def test_the_old_deep_import_still_works_and_warns() -> None:
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        from envparity.diff import diff  # the name earlier releases documented
    assert diff is envparity.compare
    assert any(
        issubclass(w.category, DeprecationWarning) and "envparity.compare" in str(w.message)
        for w in caught
    )
