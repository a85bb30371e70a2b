"""Convention probes: the classic skew culprits, each naming the setting that explains it.

The same code on the same inputs gives other answers when a convention of the environment
differs: the local date of a timestamp near midnight (the time zone), the order strings sort in
and how numbers print (the locale), the iteration order of a set of strings (the hash seed),
the dtype NumPy gives ``uint8 + int`` (NEP 50, NumPy 2), pandas' missing-value and categorical
defaults. Each probe records its output and the values of the settings it names, so a finding
says "TZ 'UTC' -> 'Pacific/Kiritimati'" rather than "the dates differ".

They run with ``--numerics`` (``envparity.bench.numerics.run_numerics``). The hash-order probe
records ``random`` and is not compared when hash randomization is on with no fixed seed.
"""

from __future__ import annotations

import locale
import os
import sys
import time
import warnings
from typing import TYPE_CHECKING, Any, Callable, Dict, List, NamedTuple, Optional

from ..bench.suite import Skip

if TYPE_CHECKING:
    from ..model import NumericResult

# Fixed instants near midnight UTC: 2024-01-01 00:00:01, 2024-03-31 00:30, 2024-06-30 23:30,
# 2024-12-31 23:59:59, 2024-07-01 11:45 (midnight in UTC+12:15 zones). A time zone that is not
# UTC moves at least one of them to another calendar date.
EPOCHS = (1704067201, 1711845000, 1719790200, 1735689599, 1719834300)
WORDS = (
    "apple",
    "Apple",
    "Äpfel",
    "zebra",
    "Zebra",
    "éclair",
    "eclair",
    "Ångström",
    "angstrom",
    "_under",
    "10",
    "9",
    "straße",
    "strasse",
)
_LOCALE_VARS = ("LC_ALL", "LC_COLLATE", "LC_NUMERIC", "LANG")


class Convention(NamedTuple):
    name: str
    fn: Callable[[], Any]
    setting: str
    settings: Callable[[], Dict[str, Optional[str]]]


def _local_dates() -> Dict[str, List[Any]]:
    local = [time.localtime(e) for e in EPOCHS]
    return {
        "epoch": list(EPOCHS),
        "local_date": [time.strftime("%Y-%m-%d", t) for t in local],
        "utc_offset_min": [int((t.tm_gmtoff or 0) // 60) for t in local],
    }


def _tz_settings() -> Dict[str, Optional[str]]:
    return {"TZ": os.environ.get("TZ"), "tzname": "/".join(time.tzname)}


def _locale_conventions() -> Dict[str, List[Any]]:
    # The process's locale is the C locale until someone calls setlocale; a library (or the
    # server) that calls setlocale(LC_ALL, "") gets the environment's. That is what this shows.
    saved = {cat: locale.setlocale(cat) for cat in (locale.LC_COLLATE, locale.LC_NUMERIC)}
    try:
        try:
            for cat in saved:
                locale.setlocale(cat, "")
            chosen = locale.setlocale(locale.LC_COLLATE)
        except locale.Error as e:
            chosen = f"unusable ({e}); C"
            for cat in saved:
                locale.setlocale(cat, "C")
        collated = sorted(WORDS, key=locale.strxfrm)
        number = locale.format_string("%.2f", 1234567.891, grouping=True)
        point = locale.localeconv()["decimal_point"]
    finally:
        for cat, value in saved.items():
            locale.setlocale(cat, value)
    return {
        "item": ["collation", "number", "decimal_point", "locale"],
        "value": ["|".join(collated), number, str(point), chosen],
    }


def _locale_settings() -> Dict[str, Optional[str]]:
    return {name: os.environ.get(name) for name in _LOCALE_VARS}


def _hash_seed() -> str:
    """The interpreter's hash seed as a string, or ``random`` when it changes per process."""
    if not sys.flags.hash_randomization:
        return "0"
    value = os.environ.get("PYTHONHASHSEED", "")
    return value if value.isdigit() else "random"


def _hash_order() -> Any:
    if _hash_seed() == "random":
        return "random"
    return list(set(WORDS))


def _hash_settings() -> Dict[str, Optional[str]]:
    return {"PYTHONHASHSEED": _hash_seed()}


def _numpy_promotion() -> Dict[str, List[Any]]:
    from ..bench.suite import require

    np = require("numpy")
    cases: List[Any] = [
        ("uint8(200) + 100", lambda: np.uint8(200) + 100),
        ("float32(3) + 3.0", lambda: np.float32(3) + 3.0),
        ("int8 array + 200", lambda: np.array([1], dtype=np.int8) + 200),
        ("float32 array * float64(2)", lambda: np.ones(1, dtype=np.float32) * np.float64(2)),
        ("int64(1) + 1.5", lambda: np.int64(1) + 1.5),
    ]
    exprs, values, dtypes = [], [], []
    for expr, fn in cases:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                got = np.asarray(fn())
                value, dtype = repr(got.ravel()[0].item()), str(got.dtype)
            except Exception as e:  # noqa: BLE001 - NumPy 2 raises where NumPy 1 promoted
                value, dtype = f"{type(e).__name__}", "error"
        exprs.append(expr)
        values.append(value)
        dtypes.append(dtype)
    return {"expr": exprs, "value": values, "dtype": dtypes}


def _numpy_settings() -> Dict[str, Optional[str]]:
    np = sys.modules.get("numpy")
    return {
        "numpy": getattr(np, "__version__", None),
        "NPY_PROMOTION_STATE": os.environ.get("NPY_PROMOTION_STATE"),
    }


def _pandas_defaults() -> Dict[str, List[Any]]:
    from ..bench.suite import require

    pd = require("pandas")
    df = pd.DataFrame({"x": [1, None, 3], "s": ["a", None, "b"], "c": ["lo", "hi", None]})
    cat = pd.Categorical(df["c"])
    dummies = pd.get_dummies(df["c"])
    items = {
        "x.dtype": str(df["x"].dtype),
        "x.mean": repr(float(df["x"].mean())),
        "s.dtype": str(df["s"].dtype),
        "s.missing": repr(df["s"].iloc[1]),
        "c.categories": repr([str(v) for v in cat.categories]),
        "c.codes": repr([int(v) for v in cat.codes]),
        "get_dummies.columns": repr([str(v) for v in dummies.columns]),
        "get_dummies.dtype": str(dummies.dtypes.iloc[0]),
        "groupby.size": repr({str(k): int(v) for k, v in df.groupby("c").size().items()}),
        "all_missing.sum": repr(float(pd.Series([None, None], dtype="float64").sum())),
    }
    try:
        items["future.infer_string"] = repr(pd.get_option("future.infer_string"))
    except Exception:  # noqa: BLE001 - the option exists from pandas 2.1
        # Behaviour, not option presence: before the option existed pandas never inferred the
        # string dtype, which is what False means; an option that appears with its default is
        # no difference.
        items["future.infer_string"] = repr(False)
    return {"item": list(items), "value": list(items.values())}


def _pandas_settings() -> Dict[str, Optional[str]]:
    pd = sys.modules.get("pandas")
    return {"pandas": getattr(pd, "__version__", None)}


CONVENTIONS = (
    Convention(
        "convention_local_date",
        _local_dates,
        "TZ (the process time zone; /etc/localtime when TZ is unset)",
        _tz_settings,
    ),
    Convention(
        "convention_locale",
        _locale_conventions,
        "the locale (LC_ALL, LC_COLLATE, LC_NUMERIC, LANG) seen by setlocale(LC_ALL, '')",
        _locale_settings,
    ),
    Convention(
        "convention_hash_order",
        _hash_order,
        "PYTHONHASHSEED (set iteration order of strings)",
        _hash_settings,
    ),
    Convention(
        "convention_numpy_promotion",
        _numpy_promotion,
        "the NumPy version: NEP 50 promotion rules (NumPy 2.0) change dtypes and overflow",
        _numpy_settings,
    ),
    Convention(
        "convention_pandas_defaults",
        _pandas_defaults,
        "the pandas version and options: missing-value and categorical defaults",
        _pandas_settings,
    ),
)


def _installed(name: str) -> bool:
    import importlib.util

    return name in sys.modules or importlib.util.find_spec(name) is not None


def run_conventions() -> List[NumericResult]:
    """Record every convention probe (NumPy's and pandas' skipped when not installed)."""
    from ..bench.record import record

    results = []
    for conv in CONVENTIONS:
        fn = conv.fn
        if conv.name == "convention_pandas_defaults" and not _installed("pandas"):

            def fn() -> Any:
                raise Skip("pandas is not installed")

        results.append(
            record(conv.name, fn, kind="convention", setting=conv.setting, settings=conv.settings)
        )
    return results
