"""The interpreter: implementation, version, build, compiler, prefix, venv or conda. Stdlib only."""

from __future__ import annotations

import os
import platform
import sys
import sysconfig
from typing import Any, Dict

from .interface import Context


def collect(ctx: Context) -> Dict[str, Any]:
    build_no, build_date = platform.python_build()
    conda = ctx.environ.get("CONDA_DEFAULT_ENV")
    if conda is None and os.path.isdir(os.path.join(sys.prefix, "conda-meta")):
        conda = os.path.basename(sys.prefix)
    return {
        "python": {
            "implementation": platform.python_implementation(),
            "version": platform.python_version(),
            "build": f"{build_no} {build_date}".strip(),
            "compiler": platform.python_compiler(),
            "abi_flags": getattr(sys, "abiflags", ""),
            "gil_disabled": bool(sysconfig.get_config_var("Py_GIL_DISABLED")),
            "executable": sys.executable,
            "prefix": sys.prefix,
            "virtualenv": sys.prefix != getattr(sys, "base_prefix", sys.prefix),
            "conda_env": conda,
        }
    }
