"""Webhook tests drive real booth uploads: reuse the ingest fixtures."""

from tests.ingest.conftest import ingest_password, sessionmaker

__all__ = ["ingest_password", "sessionmaker"]
