"""The package tables: libraries whose saved models are tied to their version (cited), known
behavioural breaks, the origin and build fields compared, and the wording of folded findings.
:mod:`.versions` and :mod:`.packages` apply them.
"""

from __future__ import annotations

from typing import Dict, NamedTuple, Tuple


class MLPackage(NamedTuple):
    """A library whose saved models or pickles are tied to its version."""

    name: str
    #: "minor": a change of major or minor version is an error, a patch one a warning;
    #: "downgrade-minor": a minor downgrade is an error (older code, newer files), an upgrade a
    #: warning.
    rule: str
    why: str
    todo: str
    source: str


ML_PACKAGES: Tuple[MLPackage, ...] = (
    MLPackage(
        "scikit-learn",
        "minor",
        "fitted estimators pickled under one scikit-learn version are only supported under that "
        "version (e.g. a RandomForest pickled under 1.3 fails at predict under 1.6)",
        "install the baseline's version, or retrain and re-save the model under the candidate's",
        "https://scikit-learn.org/stable/model_persistence.html"
        "#security-maintainability-limitations",
    ),
    MLPackage(
        "xgboost",
        "minor",
        "pickled boosters (memory snapshots) are not stable across XGBoost versions; only "
        "save_model JSON/UBJSON files are",
        "install the baseline's version, or load the model from a save_model .json/.ubj file",
        "https://xgboost.readthedocs.io/en/stable/tutorials/saving_model.html",
    ),
    MLPackage(
        "lightgbm",
        "downgrade-minor",
        "LightGBM promises model files readable within one major series, by newer releases; an "
        "older release need not read a newer file",
        "install the baseline's version, or re-save the model with the candidate's",
        "https://github.com/microsoft/LightGBM/issues/4407",
    ),
    MLPackage(
        "pandas",
        "downgrade-minor",
        "read_pickle is backwards compatible only: a pickle written by a newer pandas need not "
        "load in an older one",
        "install the baseline's version, or store frames as Parquet instead of pickles",
        "https://pandas.pydata.org/docs/user_guide/io.html#pickling",
    ),
)
ML_BY_NAME: Dict[str, MLPackage] = {row.name: row for row in ML_PACKAGES}


class Break(NamedTuple):
    """A release that changed behaviour: a change crossing ``release`` gets this advice."""

    name: str
    release: Tuple[int, ...]
    severity: str
    advice: str
    source: str


BREAKS: Tuple[Break, ...] = (
    Break(
        "numpy",
        (2,),
        "error",
        "NumPy 2 changed scalar type promotion (NEP 50: float32 array * Python float stays "
        "float32, overflow in NumPy scalars raises) and its pickles name numpy._core, which "
        "NumPy 1 cannot load; run the model's parity probes",
        "https://numpy.org/neps/nep-0050-scalar-promotion.html",
    ),
    Break(
        "pandas",
        (3,),
        "error",
        "pandas 3 makes copy-on-write the default: chained assignment no longer writes through "
        "and views become copies; test with pd.options.mode.copy_on_write = True first",
        "https://pandas.pydata.org/docs/user_guide/copy_on_write.html",
    ),
    Break(
        "torch",
        (2, 6),
        "error",
        "torch 2.6 changed torch.load's default to weights_only=True: full-model pickles stop "
        "loading; pass weights_only=False for trusted files or save state_dicts",
        "https://pytorch.org/docs/stable/notes/serialization.html",
    ),
)

#: Fields that say where a distribution came from (direct_url.json).
ORIGIN_FIELDS: Tuple[str, ...] = ("editable", "vcs", "url", "commit")

#: Build provenance (schema 2; unknown on a side that does not record it): field -> why.
BUILD_FIELDS: Tuple[Tuple[str, str], ...] = (
    (
        "built_locally",
        "one side built from source, the other installed a published wheel: compiler and "
        "flags differ; install {name} the way the baseline did",
    ),
    (
        "wheel_tags",
        "same version, another wheel (platform/ABI/CPU or CUDA target): install the "
        "baseline's wheel of {name}",
    ),
)

#: Why a finding has its severity, when relevance does not decide it.
INSTALLER_REASON = "installer/build tool: never affects results"
UNKNOWN_REASON = "relevance unknown: judged as if the model used it"

#: Group keys of findings folded into one (see :func:`envparity.drift.engine.fold`), with the
#: wording of the folded finding ({n}: how many, {names}: the first names).
GROUPS: Dict[str, str] = {
    "unused-changed": "{n} packages the model never loads changed: {names}",
    "unused-missing": "{n} packages the model never loads are missing from the candidate: "
    "{names}",
    "unused-added": "{n} packages only in the candidate, which the model never loads: {names}",
    "missing": "{n} packages are missing from the candidate: {names}; install them, or give "
    "--model so that envparity knows which ones the model needs",
}
