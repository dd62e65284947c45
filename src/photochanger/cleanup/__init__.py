"""Media cleanup: expired results and previews, stale temp files, and the orphan report."""
