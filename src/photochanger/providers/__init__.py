"""Image providers: one protocol, an explicit registry and one sub-package per provider."""
