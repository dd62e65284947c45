"""Turbotext driver (queued photo methods, inputs by URL)."""
