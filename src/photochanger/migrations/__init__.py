"""Alembic environment and revisions; the only schema authority."""
