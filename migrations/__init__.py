"""envparity's Alembic migrations, shipped in the wheel as ``envparity._migrations``."""
