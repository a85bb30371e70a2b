"""Package discovery (everything else is in pyproject.toml).

Alembic's migrations live in the top-level ``migrations/`` directory (DESIGN.md, "Layout") and ship
inside the wheel as the package ``envparity._migrations``, so that an installed envparity can
migrate its own database: ``envparity/store/migrate.py`` sets Alembic's script location to it.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["envparity", "envparity.*"])
    + ["envparity._migrations", "envparity._migrations.versions"],
    package_dir={"envparity._migrations": "migrations"},
    package_data={"envparity._migrations": ["script.py.mako"]},
)
