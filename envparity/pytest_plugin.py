"""pytest plugin: each parity probe becomes a test item compared with a baseline's outputs.

``pytest --envparity-baseline REF [--envparity-probes MODULE ...]`` imports the probe modules
(and ``[tool.envparity] probes``), and adds one test item per probe -- the probes registered here
and the baseline's own -- that fails with the per-column report when the output here is beyond
the baseline's tolerance, raises, or cannot be compared. The environment's fingerprint and the
baseline go into the JUnit XML properties (per test case and for the suite).

Without ``--envparity-baseline`` the plugin only declares its options: nothing of envparity is
imported, no test is added.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Dict, List, Optional

import pytest

if TYPE_CHECKING:
    from .parity.compare import ProbeComparison

_GROUP = "envparity"


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup(_GROUP, "envparity parity probes")
    group.addoption(
        "--envparity-baseline",
        metavar="REF",
        default=None,
        help="Compare every parity probe with this snapshot's outputs (a JSON file, id or tag); "
        "one test item per probe.",
    )
    group.addoption(
        "--envparity-probes",
        metavar="MODULE",
        action="append",
        default=[],
        help="Import this module of probes (repeatable); [tool.envparity] probes are imported too.",
    )
    group.addoption(
        "--envparity-db",
        metavar="URL",
        default=None,
        help="Database for a baseline ref that is not a file (default: ENVPARITY_DB_URL).",
    )


def pytest_configure(config: Any) -> None:
    if config.getoption("envparity_baseline"):
        config.pluginmanager.register(_Parity(config), "envparity-parity")


class ParityMismatch(Exception):
    """A probe's output here does not match the baseline's."""

    def __init__(self, comparison: ProbeComparison) -> None:
        super().__init__(comparison.why)
        self.comparison = comparison


class ParityCollector(pytest.Collector):
    """The parent of the probe items (nodeid ``envparity``)."""

    def collect(self) -> List[Any]:  # pragma: no cover - items are made by the plugin
        return []


class ParityItem(pytest.Item):
    """One parity probe: run it here, compare with the baseline's record."""

    def __init__(self, *, probe: str, state: _Parity, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.probe = probe
        self.state = state

    def runtest(self) -> None:
        state = self.state
        self.user_properties.extend(state.properties())
        pc = state.compare(self.probe)
        if pc.verdict == "skipped" and pc.severity is not None:
            pytest.skip(pc.why)
        if pc.severity in ("warning", "error"):
            raise ParityMismatch(pc)

    def repr_failure(self, excinfo: Any, style: Any = None) -> Any:
        if isinstance(excinfo.value, ParityMismatch):
            pc = excinfo.value.comparison
            return (
                f"{pc.report()}\n  baseline {self.state.ref} "
                f"({pc.baseline}) -> here ({pc.candidate})"
            )
        return super().repr_failure(excinfo, style)

    def reportinfo(self) -> Any:
        return self.path, None, f"envparity probe {self.probe}"


class _Parity:
    """The plugin's state once --envparity-baseline is given."""

    def __init__(self, config: Any) -> None:
        self.config = config
        self.ref: str = config.getoption("envparity_baseline")
        self.modules: List[str] = list(config.getoption("envparity_probes") or [])
        self.db: Optional[str] = config.getoption("envparity_db")
        self.baseline: Any = None
        self.here: Any = None
        self.records: Dict[str, Any] = {}

    def _load(self) -> List[str]:
        from .errors import EnvparityError
        from .parity.loading import collect_modules, import_probes
        from .refs import resolve

        try:
            self.baseline = resolve(self.ref, self.db)
            import_probes(collect_modules(self.modules), source="--envparity-probes")
        except EnvparityError as e:
            raise pytest.UsageError(f"envparity: {e}") from None
        if self.baseline.numerics is None:
            raise pytest.UsageError(
                f"envparity: baseline {self.ref} has no probe outputs; record them with "
                "`envparity snapshot --probes MODULE`"
            )
        from .bench import registry

        names = [p.name for p in registry.probes()]
        names += [
            r.name
            for r in self.baseline.numerics
            if r.kind in ("user", None) and r.name not in names and _user_like(r.name)
        ]
        return names

    def properties(self) -> List[Any]:
        """The JUnit properties of every probe's test case and of the suite: this environment's
        fingerprint, the baseline as given, and the baseline's snapshot id and fingerprint."""
        env = self._here()
        return [
            ("envparity_fingerprint", env.fingerprint),
            ("envparity_baseline", self.ref),
            ("envparity_baseline_id", self.baseline.snapshot_id),
            ("envparity_baseline_fingerprint", self.baseline.fingerprint),
        ]

    def _here(self) -> Any:
        if self.here is None:
            from .parity.gate import here

            self.here = here()
        return self.here

    def compare(self, name: str) -> ProbeComparison:
        from .bench import registry
        from .bench.numerics import run_registered
        from .parity.compare import compare_probe, packages_of

        base = {r.name: r for r in self.baseline.numerics}.get(name)
        mine = None
        if any(p.name == name for p in registry.probes()):
            (mine,) = run_registered([name])
        pc = compare_probe(
            name,
            None if base is None else base.model_dump(mode="json"),
            None if mine is None else mine.model_dump(mode="json"),
            base_packages=packages_of(self.baseline),
            cand_packages=self._here().packages,
        )
        self.records[name] = pc
        return pc

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(self, session: Any, config: Any, items: List[Any]) -> None:
        names = self._load()
        parent = ParityCollector.from_parent(session, name="envparity", nodeid="envparity")
        added = [ParityItem.from_parent(parent, name=n, probe=n, state=self) for n in names]
        items.extend(added)
        # Counted in "collected N items" like any collected test (the terminal reporter counts
        # collect reports, and these items come from no file).
        config.hook.pytest_collectreport(
            report=pytest.CollectReport(parent.nodeid, "passed", None, list(added))
        )
        xml = _junit(config)
        if xml is not None:
            for name, value in self.properties():
                xml.add_global_property(name, value)

    def pytest_report_header(self, config: Any) -> str:
        return f"envparity: parity probes against {self.ref}"

    def pytest_sessionfinish(self, session: Any) -> None:
        """In GitHub Actions, append this run's own section to the job's summary page: one row
        per probe compared (a summary that cannot be written is a warning, not a failure)."""
        import os

        if not os.environ.get("GITHUB_STEP_SUMMARY") or self.baseline is None:
            return
        from .report.github import append_summary_text

        problem = append_summary_text(step_summary(self), os.environ)
        if problem:
            import warnings

            warnings.warn(f"envparity: {problem}", stacklevel=1)


def _user_like(name: str) -> bool:
    # Old records have no kind: leave the built-in and convention probes out by name.
    from .bench.numerics import builtin_probes
    from .parity.conventions import CONVENTIONS

    return name not in builtin_probes() and name not in {c.name for c in CONVENTIONS}


def _junit(config: Any) -> Any:
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - a pytest without it: per-test properties only
        return None
    return config.stash.get(xml_key, None)


def step_summary(state: _Parity) -> str:
    """The Markdown section for the step summary: the baseline, then probe, verdict, why."""
    from .report.escape import markdown as md
    from .wording import count

    rows = sorted(state.records.items())
    failing = sum(1 for _, pc in rows if pc.severity in ("warning", "error"))
    lines = [
        "### envparity parity probes (pytest)",
        "",
        f"{count(len(rows), 'probe')} compared with baseline {md(state.ref)} "
        f"(id {md(state.baseline.snapshot_id[:12])}): {failing} beyond tolerance or failing",
        "",
        "| probe | verdict | severity | why |",
        "|---|---|---|---|",
    ]
    lines += [
        f"| {md(name)} | {md(pc.verdict)} | {md(pc.severity or '-')} | {md(pc.why)} |"
        for name, pc in rows
    ]
    return "\n".join(lines) + "\n"
