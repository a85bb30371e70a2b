"""Variables classified by effect (schema 3): identity, instance, recorded-only.

Each side is a real capture whose variables come from the real ``envvars`` probe run over the
environment given; only the variables differ between the two.
"""

from __future__ import annotations

import copy
import importlib.util
import os
from typing import Any, Dict, List

import pytest
from _support import REPO

from envparity.collect import envvars
from envparity.collect.capture import collect_data
from envparity.collect.interface import Context
from envparity.drift.engine import findings
from envparity.identity import fingerprint_data

BASE_ENV = {"LANG": "C.UTF-8", "OMP_NUM_THREADS": "4", "CUDA_HOME": "/usr/local/cuda"}


@pytest.fixture(scope="module")
def captured() -> Dict[str, Any]:
    return collect_data(ctx=Context(environ=dict(BASE_ENV)))


def _side(captured: Dict[str, Any], version: int, **env: str) -> Dict[str, Any]:
    data = copy.deepcopy(captured)
    found = envvars.collect(Context(environ={**BASE_ENV, **env}))
    data["env"] = found["env"]
    data["determinism"]["env"] = found["determinism_env"]
    data["schema_version"] = version
    data["fingerprint"] = fingerprint_data(data)
    return data


def _keys(a: Dict[str, Any], b: Dict[str, Any]) -> List[str]:
    return sorted(f["key"] for f in findings(a, b)[0])


INSTANCE_VARIABLES = {
    "HF_HOME": "/cache/hf",
    "TORCH_HOME": "/cache/torch",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "NCCL_DEBUG": "INFO",
    "MALLOC_ARENA_MAX": "2",
    "JOBLIB_TEMP_FOLDER": "/scratch",
}


@pytest.mark.parametrize("name,value", sorted(INSTANCE_VARIABLES.items()))
def test_cache_and_log_variables_are_instance(captured, name: str, value: str) -> None:
    a, b = _side(captured, 3), _side(captured, 3, **{name: value})
    assert name in {**b["env"], **b["determinism"]["env"]}  # still recorded
    assert a["fingerprint"] == b["fingerprint"]
    assert _keys(a, b) == []


def test_schema_2_snapshots_keep_the_fingerprint_they_had(captured) -> None:
    a, b = _side(captured, 2), _side(captured, 2, HF_HOME="/cache/hf")
    assert a["fingerprint"] != b["fingerprint"]  # the rules of their own version


IDENTITY_VARIABLES = {
    "CUDA_HOME": "/opt/cuda-12.1",
    "LD_LIBRARY_PATH": "/opt/lib",
    "LD_PRELOAD": "/opt/libjemalloc.so",
    "PYTHONPATH": "/srv/code",
    "PYTHONTZPATH": "/opt/old-zoneinfo",
    "ATEN_CPU_CAPABILITY": "default",
    "DNNL_MAX_CPU_ISA": "AVX2",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
}


@pytest.mark.parametrize("name,value", sorted(IDENTITY_VARIABLES.items()))
def test_variables_that_change_code_or_results_are_identity(captured, name, value) -> None:
    a, b = _side(captured, 3), _side(captured, 3, **{name: value})
    assert a["fingerprint"] != b["fingerprint"]
    assert name in _keys(a, b)


def test_io_encoding_is_compared_as_the_effective_encoding(captured) -> None:
    a, b = _side(captured, 3), _side(captured, 3, PYTHONIOENCODING="utf-8")
    assert a["platform"]["preferred_encoding"].lower().replace("-", "") == "utf8"
    assert a["fingerprint"] == b["fingerprint"]
    assert _keys(a, b) == []
    # Where the locale's encoding is ASCII, PYTHONIOENCODING=utf-8 changes what stdout writes.
    a["platform"]["preferred_encoding"] = b["platform"]["preferred_encoding"] = "ANSI_X3.4-1968"
    assert fingerprint_data(a) != fingerprint_data(b)
    found = {f["key"]: f for f in findings(a, b)[0]}
    assert found["PYTHONIOENCODING"]["severity"] == "warning"
    assert "ascii -> utf-8" in found["PYTHONIOENCODING"]["why"]


def test_every_captured_variable_has_a_row() -> None:
    """The table covers every name and prefix the capture takes: none falls to the default."""
    names = set(envvars.DETERMINISM_NAMES) | set(envvars.ENV_NAMES)
    prefixes = set(envvars.DETERMINISM_PREFIXES) | set(envvars.ENV_PREFIXES)
    rows = {v.pattern for v in envvars.VARIABLES}
    for name in sorted(names):
        assert envvars.variable(name) is not None, name
    for prefix in sorted(prefixes):
        assert f"{prefix}*" in rows, prefix
    assert {v.cls for v in envvars.VARIABLES} == set(envvars.CLASSES)
    assert len(rows) == len(envvars.VARIABLES)  # one row per pattern


def test_the_variables_page_is_generated_from_the_table() -> None:
    spec = importlib.util.spec_from_file_location(
        "gen_variables_table", REPO / "scripts" / "gen_variables_table.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    committed = (REPO / "docs" / "variables.md").read_text(encoding="utf-8")
    assert committed == module.render(), "run python scripts/gen_variables_table.py"


def test_time_zone_rules_are_one_fact_in_the_identity(tmp_path) -> None:
    """PYTHONTZPATH pointing at another (older) database: another fingerprint, and one finding
    naming the rules' version with the variable that chose them."""
    import shutil

    system = "/usr/share/zoneinfo"
    if not os.path.isfile(os.path.join(system, "tzdata.zi")):
        pytest.skip(f"no system time-zone database with a version at {system}")
    old = tmp_path / "zoneinfo"
    (old / "Asia").mkdir(parents=True)
    shutil.copy(os.path.join(system, "UTC"), old / "UTC")
    shutil.copy(os.path.join(system, "Asia", "Almaty"), old / "Asia" / "Almaty")
    (old / "tzdata.zi").write_text("# version 2023c\n")
    here = collect_data(ctx=Context(environ=dict(BASE_ENV)))
    there = collect_data(ctx=Context(environ={**BASE_ENV, "PYTHONTZPATH": str(old)}))
    rules = there["platform"]["tz_rules"]
    assert (rules["source"], rules["version"], rules["tzpath"]) == (str(old), "2023c", [str(old)])
    assert here["platform"]["tz_rules"]["version"] not in (None, "2023c")
    assert here["fingerprint"] != there["fingerprint"]
    (finding,) = [f for f in findings(here, there)[0] if "tz" in f["key"].lower()]
    # Named by the variable that chose the rules (what bisect restores), the rules related.
    assert finding["key"] == "PYTHONTZPATH" and finding["severity"] == "warning"
    assert "platform:tz_rules.version" in finding["related"]
    assert "2023c" in finding["why"] and "unset PYTHONTZPATH" in finding["why"]
    # The system's database updated under the same settings: the rules themselves differ.
    there["env"].pop("PYTHONTZPATH")
    (finding,) = [f for f in findings(here, there)[0] if "tz" in f["key"].lower()]
    assert finding["key"] == "tz_rules.version" and finding["category"] == "platform"
