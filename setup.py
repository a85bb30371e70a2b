"""Package discovery and the files shipped as data (everything else is in pyproject.toml).

Alembic's migrations live in the top-level ``migrations/`` directory (DESIGN.md, "Layout") and ship
inside the wheel as the package ``envparity._migrations``, so that an installed envparity can
migrate its own database: ``envparity/store/migrate.py`` sets Alembic's script location to it.

The committed JSON Schemas (``schemas/``) and the CI recipe (``scripts/ci-drift.sh``) are copied
into ``envparity/_data/`` of the build, where ``envparity schema`` and ``envparity recipe`` read
them (``envparity/shipped.py``; a checkout reads them in place).
"""

import glob
import os
import shutil

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = sorted(glob.glob(os.path.join(HERE, "schemas", "*.json"))) + [
    os.path.join(HERE, "scripts", "ci-drift.sh")
]


class BuildWithData(build_py):
    """build_py, plus the schemas and the CI recipe as ``envparity/_data/*``."""

    def run(self) -> None:
        super().run()
        target = os.path.join(self.build_lib, "envparity", "_data")
        os.makedirs(target, exist_ok=True)
        for source in DATA:
            if os.path.isfile(source):  # a tree without them builds, just without the data
                shutil.copy2(source, os.path.join(target, os.path.basename(source)))


setup(
    packages=find_packages(include=["envparity", "envparity.*"])
    + ["envparity._migrations", "envparity._migrations.versions"],
    package_dir={"envparity._migrations": "migrations"},
    package_data={"envparity._migrations": ["script.py.mako"], "envparity": ["py.typed"]},
    cmdclass={"build_py": BuildWithData},
)
