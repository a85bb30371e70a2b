"""BLAS/OpenMP runtimes: keyed by owner and API; one that cannot be read is unknown, not absent."""

from __future__ import annotations

from pathlib import Path

from envparity.collect import blas
from envparity.collect.interface import Context
from envparity.comparison import compare as diff
from envparity.model import BlasLibrary, Snapshot

V1 = Path(__file__).parent / "data" / "snapshot-v1.json"


def _broken_site(root: Path) -> Path:
    site = root / "venv" / "lib" / "python3.11" / "site-packages"
    for d, f in (
        ("numpy.libs", "libopenblas64_p-r0-0cf96a72.3.23.dev.so"),
        ("scikit_learn.libs", "libgomp-a34b3233.so.1.0.0"),
        ("numpy.libs", "libgfortran-040039e1.so.5.0.0"),  # not a BLAS/OpenMP runtime
    ):
        (site / d).mkdir(parents=True, exist_ok=True)
        (site / d / f).write_bytes(b"not an ELF file")
    return site


def test_unreadable_vendored_runtimes_are_unknown_never_absent(tmp_path):
    site = _broken_site(tmp_path)
    ctx = Context()
    # The checkout-like parent on sys.path too: the deepest entry names the owner.
    entries = blas.collect(ctx, path=[str(tmp_path), str(site)])["blas"]
    mine = {e["key"]: e for e in entries if e["filepath"].startswith(str(site))}
    assert {k: (e["state"], e["user_api"]) for k, e in mine.items()} == {
        "numpy/blas": ("unknown", "blas"),
        "scikit-learn/openmp": ("unknown", "openmp"),
    }
    assert all("cannot load" in e["detail"] for e in mine.values())
    assert {e["path"] for e in ctx.errors if e["probe"] == "blas"} >= {
        e["filepath"] for e in mine.values()
    }


def test_owner_and_api_of_vendored_paths(tmp_path):
    sites = [str(tmp_path), str(tmp_path / "venv" / "site")]
    for rel, owner in (
        ("venv/site/numpy.libs/libscipy_openblas64_-56d6093b.so", "numpy"),
        ("venv/site/scipy.libs/libscipy_openblas-68440149.so", "scipy"),
        ("venv/site/scikit_learn.libs/libgomp-a34b3233.so.1.0.0", "scikit-learn"),
        ("venv/site/torch/lib/libgomp-a34b3233.so.1", "torch"),
        ("/usr/lib/x86_64-linux-gnu/libopenblas.so.0", "system"),
    ):
        path = rel if rel.startswith("/") else str(tmp_path / rel)
        assert blas.owner_of(path, sites) == owner
    assert blas.api_of("libscipy_openblas64_-56d6093b.so") == "blas"
    assert blas.api_of("libiomp5.so") == "openmp"
    assert blas.api_of("libgfortran-040039e1.so.5.0.0") is None


def test_a_side_that_could_not_read_a_runtime_makes_no_finding():
    base = Snapshot.model_validate_json(V1.read_text())
    ok = [
        lib.model_copy(update={"key": f"{lib.filepath.split('/')[-2][:-5]}/{lib.user_api}"})
        for lib in base.blas
    ]
    unknown = [
        BlasLibrary(
            key=lib.key,
            state="unknown",
            detail="cannot load",
            user_api=lib.user_api,
            internal_api="",
            prefix=lib.prefix,
        )
        for lib in ok
    ]
    a = base.model_copy(update={"blas": ok})
    b = base.model_copy(update={"blas": unknown})
    assert [f for f in diff(a, b).findings if f.category == "blas"] == []
    assert [f for f in diff(b, a).findings if f.category == "blas"] == []
