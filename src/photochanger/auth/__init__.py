"""Admin accounts, JWT login with refresh rotation, throttling, permissions and user management."""
