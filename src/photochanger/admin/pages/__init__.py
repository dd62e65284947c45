"""Admin pages kept in their own modules; `admin.router` includes each one."""
