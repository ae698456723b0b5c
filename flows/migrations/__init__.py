"""Alembic migrations for flows.db; a package so that they ship inside the wheel."""
