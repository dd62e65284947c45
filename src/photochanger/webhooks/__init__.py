"""Signed job-end callbacks to a slot's webhook URL, with an SSRF guard and a delivery log."""
