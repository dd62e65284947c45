"""First-run guidance: how far an installation is from its first processed booth shot."""
