"""``envparity bench``: run the microbenchmarks and numeric probes, maybe against a snapshot.

No ``from __future__ import annotations``: Typer on Python 3.9 would not evaluate the string
annotations and would silently drop the option names and help declared in ``Annotated``.
"""

import json
import sys
from typing import Annotated, Any, Dict, List, Optional

import typer

from ._app import app, boundary
from ._options import DataFormat, DataFormatOpt, DbOpt, JsonAlias, Suite, chosen

SUITE_HELP = (
    "quick (9-12 worker processes, under 3 s) or full (15-20 processes, more benchmarks, ~9 s)."
)


def _pairs(option: str, values: Optional[List[str]]) -> Dict[str, str]:
    """``KEY=VALUE`` options as a dict; a malformed one is BadInput naming it."""
    from ..errors import BadInput

    out: Dict[str, str] = {}
    for text in values or []:
        key, sep, value = text.partition("=")
        if not sep or not key or not key.replace("_", "A").isalnum() or key[0].isdigit():
            raise BadInput(f"{option} {text!r}: expected KEY=VALUE, e.g. OPENBLAS_NUM_THREADS=1")
        out[key] = value
    return out


@app.command()
@boundary
def bench(
    *,
    suite: Annotated[Suite, typer.Option(help=SUITE_HELP, case_sensitive=False)] = Suite.quick,
    compare: Annotated[
        Optional[str],
        typer.Option(
            "--compare",
            metavar="REF",
            help="Compare with the benchmarks and numerics of this snapshot (ref or JSON file).",
        ),
    ] = None,
    against: Annotated[
        Optional[str],
        typer.Option(
            "--against",
            metavar="PYTHON",
            help="Compare this environment (baseline) with another interpreter on this host "
            "(candidate; it may be this one): workers interleaved AB BA BA AB, started alike, and "
            "compared round by round, so load hits both alike. The strongest comparison when "
            "both are here.",
        ),
    ] = None,
    max_time: Annotated[
        Optional[float],
        typer.Option(
            "--max-time",
            metavar="SECONDS",
            help="With --against: add rounds while a verdict is open, for at most this long "
            "(default 30 s quick, 90 s full; at least 10 rounds run); it stops as soon as every "
            "benchmark is called or the same.",
        ),
    ] = None,
    against_env: Annotated[
        Optional[List[str]],
        typer.Option(
            "--against-env",
            metavar="KEY=VALUE",
            help="A variable for the --against side's workers (repeatable).",
        ),
    ] = None,
    env: Annotated[
        Optional[List[str]],
        typer.Option(
            "--env", metavar="KEY=VALUE", help="A variable for this side's workers (repeatable)."
        ),
    ] = None,
    fmt: DataFormatOpt = DataFormat.text,
    json_: JsonAlias = False,
    bench_callable: Annotated[
        Optional[List[str]],
        typer.Option(
            "--bench-callable",
            metavar="MODULE:FUNCTION",
            help="Also time this function of yours (repeatable), e.g. mymodel.bench:predict.",
        ),
    ] = None,
    numerics: Annotated[
        bool,
        typer.Option(
            "--numerics/--no-numerics", help="Run the numeric probes too (not with --against)."
        ),
    ] = True,
    db: DbOpt = None,
    probes: Annotated[
        Optional[List[str]],
        typer.Option(
            "--probes",
            metavar="MODULE",
            help="Import this module of yours first (repeatable; or ENVPARITY_PROBES=a,b): its "
            "register_probe and register_benchmark calls add probes and benchmarks (the "
            "policy's probes too).",
        ),
    ] = None,
) -> None:
    """Time the built-in and your own benchmarks in fresh worker processes, with the conditions
    they ran under; run numeric probes; or compare with another interpreter (--against)."""
    from ..bench.compare import compare_benchmarks
    from ..bench.paired import run_against
    from ..bench.runner import run_suite, warn_if_contended
    from ..errors import BadInput
    from ..parity.loading import collect_modules, import_probes

    import_probes(collect_modules(probes))

    extra = _pairs("--env", env)
    other = _pairs("--against-env", against_env)
    if other and not against:
        raise BadInput("--against-env needs --against PYTHON: it sets variables for that side")
    if max_time is not None and not against:
        raise BadInput("--max-time needs --against PYTHON: it bounds the adaptive paired rounds")
    if against and compare:
        raise BadInput("--against and --compare: give one; --against compares two live sides")
    baseline = None
    if compare:
        from ..refs import resolve

        baseline = resolve(compare, db)  # before the run: a bad ref fails in a second, not ten
        if baseline.benchmarks is None and baseline.numerics is None:
            raise BadInput(
                f"--compare {compare}: that snapshot has no benchmarks or numerics; take one "
                "with `envparity snapshot --suite quick`"
            )
    if against:
        run, other_run = run_against(
            against,
            suite.value,
            callables=bench_callable or (),
            env=extra,
            against_env=other,
            max_time=max_time,
        )
        comparisons = compare_benchmarks(run, other_run)
        if chosen(fmt, json_) == "json":
            doc: Dict[str, Any] = {
                "benchmarks": run.model_dump(mode="json"),
                "against": other_run.model_dump(mode="json"),
                "comparisons": [c.model_dump(mode="json") for c in comparisons],
            }
            sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
            return
        text = _render(run, None, [], [], None)
        text += _render(
            other_run,
            None,
            comparisons,
            [],
            f"this environment ({run.python})",
            title=f"--against {other_run.python}",
        )
        sys.stdout.write(text)
        return
    run, numeric = run_suite(
        suite.value, callables=bench_callable or (), numerics=numerics, env=extra
    )
    warn_if_contended(run)
    comparisons = compare_benchmarks(baseline.benchmarks, run) if baseline else []
    findings = []
    if baseline and numeric is not None:
        from ..model import Finding
        from ..parity.compare import compare_numerics

        findings = [Finding(**f) for f in compare_numerics(baseline.numerics, numeric)]
    if chosen(fmt, json_) == "json":
        doc = {
            "benchmarks": run.model_dump(mode="json"),
            "numerics": None if numeric is None else [n.model_dump(mode="json") for n in numeric],
        }
        if baseline is not None:
            doc["baseline"] = compare
            doc["comparisons"] = [c.model_dump(mode="json") for c in comparisons]
            doc["numeric_findings"] = [f.model_dump(mode="json") for f in findings]
        sys.stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
        return
    sys.stdout.write(_render(run, numeric, comparisons, findings, compare))


def _fmt_s(seconds: Optional[float]) -> str:
    if seconds is None:
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if seconds >= scale:
            return f"{seconds / scale:.3g} {unit}"
    return f"{seconds / 1e-9:.3g} ns"


def _fmt_bytes(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n} B"


def _render(
    run: Any,
    numeric: Any,
    comparisons: list,
    findings: list,
    ref: Optional[str],
    title: Optional[str] = None,
) -> str:
    from ..bench.compare import conditions_line
    from ..bench.estimators import summarize
    from ..drift.measured import reach_text

    head = f"{title}: " if title else ""
    lines = [
        f"{head}suite {run.suite}: {run.processes} worker processes, {run.wall_seconds:.1f} s",
        f"  conditions: {conditions_line(run)}",
    ]
    for r in run.results:
        if r.status != "ok":
            lines.append(f"  {r.name:<22} {r.status:<8} {r.reason}")
            continue
        summary = summarize(r.samples)
        med, spread = summary if summary else (None, 0.0)
        peak = f"  peak {_fmt_bytes(r.peak_memory_bytes)}" if r.peak_memory_bytes else ""
        note = f"  ({r.reason})" if r.reason else ""
        lines.append(
            f"  {r.name:<22} {_fmt_s(med):>10}  spread {spread:4.0%} over processes{peak}{note}"
        )
    if numeric is not None:
        ok = sum(1 for n in numeric if n.status == "ok")
        skipped = [n for n in numeric if n.status != "ok"]
        lines.append(f"numerics: {ok} probes recorded, {len(skipped)} not run")
        for n in skipped:
            lines.append(f"  {n.name:<22} {n.status:<8} {n.reason}")
    if ref:
        lines.append(f"against {ref}:")
        if comparisons:
            lines.append(f"  baseline conditions: {comparisons[0].baseline_conditions}")
        for c in comparisons:
            reach = reach_text(c.detectable_effect)
            lines.append(f"  {c.name:<22} {c.verdict:<12} {c.why}{'; ' + reach if reach else ''}")
            if c.memory_verdict and c.memory_verdict != "same":
                lines.append(f"  {'':<22} memory {c.memory_verdict:<5} {c.memory_why}")
        for f in findings:
            lines.append(f"  numerics {f.key:<13} {f.severity:<8} {f.why}")
        if not findings and numeric is not None:
            lines.append("  numerics: no differences")
    return "\n".join(lines) + "\n"
