"""capture(): fingerprint, round trip, probes that fail, frameworks, seeds, code."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import envparity
from envparity import seeding
from envparity.collect import capture as capture_module
from envparity.collect import code
from envparity.collect.capture import capture
from envparity.collect.interface import Context
from envparity.model import Snapshot, fingerprint


def test_same_environment_same_fingerprint_new_id():
    a, b = (
        envparity.snapshot(role="training"),
        envparity.snapshot(role="serving", labels={"x": "1"}),
    )
    assert a.fingerprint == b.fingerprint == fingerprint(a)
    assert a.snapshot_id != b.snapshot_id
    assert len(a.fingerprint) == 64
    assert a.captured_at.tzinfo is not None


def test_json_round_trip():
    snap = envparity.snapshot(role="ci", labels={"model": "fraud"})
    assert Snapshot.model_validate_json(snap.model_dump_json()) == snap


@settings(max_examples=25, deadline=None)
@given(
    labels=st.dictionaries(st.text(min_size=1, max_size=8), st.text(max_size=8), max_size=4),
    version=st.text(min_size=1, max_size=12),
)
def test_fingerprint_ignores_labels_but_not_packages(labels, version):
    base = _BASE
    relabelled = base.model_copy(update={"labels": labels, "role": "other"})
    assert fingerprint(relabelled) == fingerprint(base)
    i = next(i for i, p in enumerate(base.packages) if not p.tool)  # tool packages don't count
    pkg = base.packages[i].model_copy(update={"version": version})
    packages = [*base.packages[:i], pkg, *base.packages[i + 1 :]]
    changed = base.model_copy(update={"packages": packages})
    assert (fingerprint(changed) == fingerprint(base)) == (version == base.packages[i].version)


_BASE = envparity.snapshot()


def test_a_crashing_probe_is_recorded_and_the_snapshot_still_comes_out(monkeypatch):
    from envparity.collect import cpu

    def boom(ctx):
        raise RuntimeError("sensor on fire")

    monkeypatch.setattr(cpu, "collect", boom)
    snap = capture()
    assert [(e.probe, e.message) for e in snap.collection.errors] == [
        ("cpu", "probe crashed: RuntimeError: sensor on fire")
    ]
    assert snap.cpu.model is None and snap.packages


def test_malformed_probe_output_is_recorded_not_fatal(monkeypatch):
    from envparity.collect import platform as platform_probe

    monkeypatch.setattr(platform_probe, "collect", lambda ctx: {"platform": {"pid": "not a pid"}})
    snap = capture()
    assert any(
        e.probe == "platform" and "unexpected output" in e.message for e in snap.collection.errors
    )


def test_seeds_declared_and_states_are_instance_only(monkeypatch):
    # seed_everything sets PYTHONHASHSEED for child processes: undone after the test, or every
    # later child (the hook in tests/faults) would run with another hash seed than the baseline.
    monkeypatch.setenv("PYTHONHASHSEED", "0")
    seeding._declared.clear()
    envparity.seed_everything(1234)
    envparity.record_seed("sampler", "fixed")
    snap = envparity.snapshot()
    expected = {"random": 1234, "sampler": "fixed"}
    if "numpy" in sys.modules:  # seeded too when the process has imported it
        expected["numpy"] = 1234
    assert snap.seeds.declared == expected
    assert "random" in snap.seeds.state_digests
    import random

    random.random()  # moving the RNG does not change the environment's identity
    assert envparity.snapshot().fingerprint == snap.fingerprint
    seeding._declared.clear()


@pytest.mark.parametrize("bad", [True, 1.5, None])
def test_seed_everything_rejects_non_integers(bad):
    with pytest.raises(ValueError, match="must be an int"):
        envparity.seed_everything(bad)


def test_frameworks_already_imported_are_inspected(monkeypatch):
    torch = types.ModuleType("torch")
    torch.__version__ = "2.7.1+cpu"
    torch.are_deterministic_algorithms_enabled = lambda: True
    torch.is_deterministic_algorithms_warn_only_enabled = lambda: False
    cudnn = types.SimpleNamespace(
        deterministic=True,
        benchmark=False,
        allow_tf32=True,
        is_available=lambda: False,
        version=lambda: None,
    )
    torch.backends = types.SimpleNamespace(
        cudnn=cudnn, cuda=types.SimpleNamespace(matmul=types.SimpleNamespace(allow_tf32=False))
    )
    torch.get_float32_matmul_precision = lambda: "highest"
    torch.get_num_threads = lambda: 2
    torch.get_num_interop_threads = lambda: 1
    torch.version = types.SimpleNamespace(cuda=None)
    torch.cuda = types.SimpleNamespace(is_available=lambda: False)
    monkeypatch.setitem(sys.modules, "torch", torch)
    snap = capture()
    assert snap.determinism.frameworks["torch"] == {
        "version": "2.7.1+cpu",
        "deterministic_algorithms": True,
        "deterministic_warn_only": False,
        "cudnn.deterministic": True,
        "cudnn.benchmark": False,
        "cudnn.allow_tf32": True,
        "cuda.matmul.allow_tf32": False,
        "float32_matmul_precision": "highest",
        "num_threads": 2,
        "num_interop_threads": 1,
    }
    assert snap.accelerator.source == "torch"


def test_cli_never_imports_a_framework_unless_asked(tmp_path):
    fake = tmp_path / "fakes" / "torch"
    fake.mkdir(parents=True)
    marker = tmp_path / "imported"
    (fake / "__init__.py").write_text(
        textwrap.dedent(f"""
        open({str(marker)!r}, "w").close()
        __version__ = "9.9.9"
        def are_deterministic_algorithms_enabled():
            return False
    """)
    )
    env = {"PYTHONPATH": str(tmp_path / "fakes"), "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "envparity", "snapshot", "--no-store", "--json"]
    plain = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    assert plain.returncode == 0, plain.stderr
    assert not marker.exists()
    assert json.loads(plain.stdout)["determinism"]["frameworks"] == {}
    asked = subprocess.run(
        [*cmd, "--frameworks"], capture_output=True, text=True, env=env, check=False
    )
    assert asked.returncode == 0, asked.stderr
    assert marker.exists()
    assert json.loads(asked.stdout)["determinism"]["frameworks"]["torch"]["version"] == "9.9.9"


def test_code_from_a_checkout_with_credentials_stripped(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args):
        subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)

    git("init", "-q", "-b", "trainer")
    git("config", "user.email", "t@example.com")
    git("config", "user.name", "t")
    git(
        "remote",
        "add",
        "origin",
        "https://oauth2:glpat-SECRETSECRETSECRET1234@gitlab.example.com/ml/fraud.git",
    )
    (repo / "train.py").write_text("print(1)\n")
    git("add", "train.py")
    git("commit", "-qm", "init")
    head = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
    ).stdout.strip()
    (repo / "sub").mkdir()
    found = code.collect(Context(cwd=str(repo / "sub")))["code"]
    assert found == {
        "commit": head,
        "branch": "trainer",
        "dirty": False,
        "remotes": {"origin": "https://***@gitlab.example.com/ml/fraud.git"},
    }
    (repo / "train.py").write_text("print(2)\n")
    assert code.collect(Context(cwd=str(repo)))["code"]["dirty"] is True
    # No subprocess allowed (the start-up hook): dirty is unknown, the rest is still read.
    assert code.collect(Context(cwd=str(repo), subprocess=False))["code"]["dirty"] is None


def test_not_a_checkout(tmp_path):
    assert code.collect(Context(cwd=str(tmp_path)))["code"] is None


def test_capture_module_has_one_entry_point():
    assert capture_module.capture is capture
