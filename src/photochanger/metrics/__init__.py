"""Prometheus metrics: the per-app registry, HTTP instrumentation and the `/metrics` endpoint."""
