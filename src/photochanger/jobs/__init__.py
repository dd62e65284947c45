"""The `job` table's reads and marks outside the ingest pipeline (downloads, guest pages, cleanup, events)."""
