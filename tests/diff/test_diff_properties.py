"""Properties of diff that hold for any snapshots (hypothesis)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from diff_snapshots import baseline
from hypothesis import given, settings
from hypothesis import strategies as st

from envparity.comparison import compare as diff
from envparity.comparison import sort_key
from envparity.model import DriftReport, Package, identity

BASE = baseline()

names = st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,4})?", fullmatch=True)
versions = st.one_of(
    st.builds(
        lambda a, b, c, local: f"{a}.{b}.{c}" + (f"+{local}" if local else ""),
        st.integers(0, 3),
        st.integers(0, 3),
        st.integers(0, 3),
        st.sampled_from(["", "cpu", "cu121"]),
    ),
    st.sampled_from(["1.1build1", "2020.1-beta", "latest"]),  # not PEP 440
)
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
env_names = st.sampled_from(
    ["PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_CBWR", "KMP_AFFINITY", "XLA_FLAGS"]
)
other_env = st.sampled_from(["TZ", "LANG", "CUDA_VISIBLE_DEVICES", "HF_HOME", "LC_ALL"])
flags = st.lists(st.sampled_from(["avx", "avx2", "avx512f", "fma", "amx_tile", "sse4_2"]))


@st.composite
def snapshots(draw):
    """The baseline with its comparable parts drawn at random."""
    pkgs = draw(st.dictionaries(names, versions, max_size=12))
    return BASE.model_copy(
        update={
            "packages": [Package(name=n, version=v) for n, v in sorted(pkgs.items())],
            "env": draw(st.dictionaries(other_env, text, max_size=3)),
            "determinism": BASE.determinism.model_copy(
                update={"env": draw(st.dictionaries(env_names, text, max_size=3))}
            ),
            "cpu": BASE.cpu.model_copy(update={"flags": sorted(set(draw(flags)))}),
            "seeds": BASE.seeds.model_copy(
                update={"declared": draw(st.dictionaries(names, st.integers(), max_size=2))}
            ),
            "python": BASE.python.model_copy(
                update={"version": draw(st.sampled_from(["3.11.7", "3.11.9", "3.12.1"]))}
            ),
        }
    )


@st.composite
def elsewhere(draw, snap):
    """The same environment seen from another host, process, time and container."""
    return snap.model_copy(
        update={
            "snapshot_id": draw(st.from_regex(r"[0-9a-f]{32}", fullmatch=True)),
            "captured_at": datetime(2026, 1, 1, tzinfo=timezone.utc)
            + timedelta(seconds=draw(st.integers(0, 10**8))),
            "role": draw(text),
            "labels": draw(st.dictionaries(names, text, max_size=2)),
            "platform": snap.platform.model_copy(
                update={
                    "hostname": draw(text),
                    "pid": draw(st.integers(1, 2**22)),
                    "container_id": draw(st.none() | text),
                }
            ),
            "seeds": snap.seeds.model_copy(update={"state_digests": {"random": draw(text)}}),
        }
    )


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_same_environment_has_no_findings(data):
    snap = data.draw(snapshots())
    assert diff(snap, snap).findings == []
    assert diff(snap, data.draw(elsewhere(snap))).findings == []


@settings(max_examples=100, deadline=None)
@given(snapshots(), snapshots())
def test_findings_exactly_when_identities_differ(a, b):
    report = diff(a, b)
    assert (report.findings == []) == (identity(a) == identity(b))
    assert report.findings == sorted(report.findings, key=sort_key)
    assert sum(report.counts.values()) == len(report.findings)
    # Each difference is seen from both sides: the same keys, added <-> removed (a grouped
    # finding, "3 packages are missing from the candidate", stands for its members).
    back = diff(b, a)
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    assert {(c, k, flip[ch]) for c, k, ch in _each(report)} == set(_each(back))


def _each(report):
    for f in report.findings:
        if not f.members:
            yield f.category, f.key, f.change
        for m in f.members:
            change = "added" if m.baseline is None else "removed" if m.candidate is None else (
                "changed"
            )
            yield f.category, m.key, change


@settings(max_examples=60, deadline=None)
@given(snapshots(), snapshots())
def test_report_json_round_trip(a, b):
    report = diff(a, b, baseline_ref="a.json", candidate_ref="b.json")
    assert DriftReport.model_validate_json(report.model_dump_json()) == report
