"""Admin accounts: login sessions (login, refresh rotation, logout, throttling) and user management."""
