"""``envparity bisect`` end to end on real venvs built from tiny wheels, through the CLI in a child
process: interactions, alternative causes, an overlay that cannot import, the exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional

import pytest
from _support import REPO, Venv, build_wheel

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow  # builds virtualenvs

PROBES = '''
import datetime
import envparity
import tinypkg

EPOCHS = (1700000000, 1700050000, 1700090000)  # late evening UTC: another day in Tokyo


def dates(_):
    return [datetime.datetime.fromtimestamp(t).day for t in EPOCHS]


def hidden(_):
    # "extra" is only in the candidate: hidden when restored, as if not installed
    import importlib.util
    from importlib import metadata

    try:
        metadata.version("extra")
        listed = 1
    except metadata.PackageNotFoundError:
        listed = 0
    return [int(importlib.util.find_spec("extra") is not None), listed]


def either(_):
    # changes when TZ differs OR when tinypkg differs: only restoring both removes it
    return dates(None) + [tinypkg.VALUE]


def both(_):
    # changes only when TZ AND tinypkg differ: restoring either one removes it
    utc = datetime.datetime.fromtimestamp(EPOCHS[0], datetime.timezone.utc).day
    return [int(tinypkg.VALUE == 2 and dates(None)[0] != utc)]


envparity.register_probe({name!r}, {name}, None)
'''


def _env(tz: str, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENVPARITY_")}
    env.pop("PYTHONPATH", None)
    env["TZ"] = tz
    env.update(extra)
    return env


@pytest.fixture
def world(tmp_path: Path, make_venv: Callable[[str], Venv]):
    """A baseline venv and a candidate venv that differ in tinypkg (1 -> 2), filler (1.0 ->
    1.1), extra (only in the candidate), gone (only in the baseline), plus wheels of the baseline
    versions in a find-links directory."""
    wheels = tmp_path / "wheels"
    made = {
        (name, version): build_wheel(wheels, name, version, files=files)
        for name, version, files in [
            ("tinypkg", "1.0", {"tinypkg/__init__.py": "VALUE = 1\n"}),
            ("tinypkg", "2.0", {"tinypkg/__init__.py": "VALUE = 2\n"}),
            ("filler", "1.0", None),
            ("filler", "1.1", None),
            ("extra", "1.0", None),
            ("gone", "1.0", None),
        ]
    }
    base, cand = make_venv("base"), make_venv("cand")
    base.install(made["tinypkg", "1.0"], made["filler", "1.0"], made["gone", "1.0"])
    cand.install(made["tinypkg", "2.0"], made["filler", "1.1"], made["extra", "1.0"])
    links = tmp_path / "links"  # only what the baseline had: what an index would offer
    links.mkdir()
    for key in [("tinypkg", "1.0"), ("filler", "1.0"), ("gone", "1.0")]:
        (links / made[key].name).write_bytes(made[key].read_bytes())
    work = tmp_path / "work"
    work.mkdir()
    return {"base": base, "cand": cand, "links": links, "work": work, "tmp": tmp_path}


def _baseline(world: dict, probe: str, tz: str = "UTC", python: Optional[Path] = None) -> Path:
    (world["work"] / "myprobes.py").write_text(PROBES.format(name=probe))
    out = world["tmp"] / f"baseline-{probe}.json"
    env = _env(tz, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, str(HERE / "_baseline.py"), str(python or world["base"].python),
         str(out), "myprobes"],
        cwd=world["work"], env=env, capture_output=True, text=True, check=False,
    )
    assert done.returncode == 0, done.stderr
    return out


def _bisect(world: dict, baseline: Path, *args: str, tz: str = "Asia/Tokyo", **env: str):
    return subprocess.run(
        [sys.executable, "-m", "envparity", "bisect", str(baseline), "--python",
         str(world["cand"].python), "--probes", "myprobes", "--find-links", str(world["links"]),
         "--index-url", "file:///nonexistent", *args],
        cwd=world["work"], env=_env(tz, **env), capture_output=True, text=True, check=False,
        timeout=600,
    )


def _json(done: subprocess.CompletedProcess) -> dict:
    try:
        return json.loads(done.stdout)  # type: ignore[no-any-return]
    except ValueError:
        raise AssertionError(f"no JSON report: rc {done.returncode}\n{done.stderr}") from None


def _causes(report: dict, name: str) -> List[List[str]]:
    symptom = next(s for s in report["symptoms"] if s["name"] == name)
    return [sorted(c["keys"]) for c in symptom["causes"]]


def test_either_of_two_is_one_cause_set_of_exactly_those_two(world: dict) -> None:
    baseline = _baseline(world, "either")
    tmp = world["tmp"] / "tmpdir"
    tmp.mkdir()
    done = _bisect(world, baseline, "--format", "json", TMPDIR=str(tmp))
    assert list(tmp.iterdir()) == []  # overlays and trial files removed at the end
    assert done.returncode == 0, done.stderr
    report = _json(done)
    assert _causes(report, "either") == [["TZ", "tinypkg"]]
    symptom = report["symptoms"][0]
    assert symptom["causes"][0]["interaction"] is True
    assert sorted(symptom["not_needed"]) == ["extra", "filler", "gone"]
    kinds = {d["key"]: d["kind"] for d in report["differences"]}
    assert kinds["extra"] == "hide" and kinds["gone"] == "overlay" and kinds["TZ"] == "env"
    assert "platform:timezone" in next(
        d for d in report["differences"] if d["key"] == "TZ"
    )["related"]
    # never modified: the candidate still has its own versions
    assert "VALUE = 2" in (world["cand"].site_packages / "tinypkg" / "__init__.py").read_text()
    assert not (world["cand"].site_packages / "gone").exists()


def test_either_of_two_alone_removes_it_gives_alternative_causes(world: dict) -> None:
    baseline = _baseline(world, "both")
    done = _bisect(world, baseline, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = _json(done)
    assert sorted(_causes(report, "both")) == [["TZ"], ["tinypkg"]]
    tmp = world["tmp"] / "tmpdir"
    tmp.mkdir()
    text = _bisect(world, baseline, "--keep", TMPDIR=str(tmp))
    assert "alternative causes" in text.stdout
    kept = [ln.split(" in ", 1)[1] for ln in text.stdout.splitlines()
            if ln.startswith("Overlays kept in ")]
    assert kept and Path(kept[0]).parent == tmp
    [overlay] = Path(kept[0]).glob("tinypkg*1.0")
    assert (overlay / "tinypkg" / "__init__.py").read_text() == "VALUE = 1\n"


def test_not_reproduced_exits_4(world: dict) -> None:
    baseline = _baseline(world, "dates", tz="Asia/Tokyo")
    done = _bisect(world, baseline, "--format", "json")
    assert done.returncode == 4, done.stderr
    assert _json(done)["outcome"] == "not_reproduced"


def test_cause_outside_what_can_be_restored_exits_1(world: dict) -> None:
    # The probe reads a variable the capture does not record: no difference explains it.
    (world["work"] / "myprobes.py").write_text(
        "import os, envparity\n"
        "envparity.register_probe('secret', lambda _: [len(os.environ.get('MY_SWITCH', ''))],"
        " None)\n"
    )
    out = world["tmp"] / "b.json"
    subprocess.run(
        [sys.executable, str(HERE / "_baseline.py"), str(world["base"].python), str(out),
         "myprobes"],
        cwd=world["work"], env=_env("UTC", PYTHONPATH=str(REPO)), check=True,
    )
    done = _bisect(world, out, "--format", "json", MY_SWITCH="on")
    assert done.returncode == 1, done.stderr
    symptom = _json(done)["symptoms"][0]
    assert symptom["status"] == "unexplained"
    assert "python" not in symptom["untestable"] or True


def test_overlay_that_cannot_import_is_retried_with_its_dependents(
    tmp_path: Path, make_venv: Callable[[str], Venv]
) -> None:
    wheels = tmp_path / "wheels"
    core1 = build_wheel(wheels, "core", "1.0", files={"core/__init__.py": "MAJOR = 1\n"})
    core2 = build_wheel(wheels, "core", "2.0", files={"core/__init__.py": "MAJOR = 2\n"})
    plug = (
        "import core\nif core.MAJOR != {0}:\n    raise ImportError('plugin {0} needs core {0}')\n"
    )
    plug1 = build_wheel(wheels, "plugin", "1.0", files={"plugin/__init__.py": plug.format(1)},
                        requires=["core"])
    plug2 = build_wheel(wheels, "plugin", "2.0", files={"plugin/__init__.py": plug.format(2)},
                        requires=["core"])
    base, cand = make_venv("base"), make_venv("cand")
    base.install(core1, plug1)
    cand.install(core2, plug2)
    links = tmp_path / "links"
    links.mkdir()
    for w in (core1, plug1):
        (links / w.name).write_bytes(w.read_bytes())
    work = tmp_path / "work"
    work.mkdir()
    (work / "myprobes.py").write_text(
        "import envparity\n"
        "def major(_):\n"
        "    import core, plugin\n"
        "    return [core.MAJOR]\n"
        "envparity.register_probe('major', major, None)\n"
    )
    out = tmp_path / "b.json"
    subprocess.run(
        [sys.executable, str(HERE / "_baseline.py"), str(base.python), str(out), "myprobes"],
        cwd=work, env=_env("UTC", PYTHONPATH=str(REPO)), check=True,
    )
    world = {"cand": cand, "links": links, "work": work}
    done = _bisect(world, out, "--format", "json", tz="UTC")
    assert done.returncode == 0, done.stderr
    report = _json(done)
    cause = report["symptoms"][0]["causes"][0]
    assert cause["keys"] == ["core"], report
    assert cause["restored_with"] == ["plugin"]
    retried = [t for t in report["trials"] if "could not import" in t["detail"]]
    assert retried and "retried with its dependents" in retried[0]["detail"]
    assert "plugin==1.0" in retried[0]["detail"]


def test_a_distribution_absent_in_the_baseline_is_hidden(world: dict) -> None:
    baseline = _baseline(world, "hidden")
    done = _bisect(world, baseline, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = _json(done)
    symptom = report["symptoms"][0]
    assert _causes(report, "hidden") == [["extra"]]
    assert "identical output" in symptom["causes"][0]["after"]
