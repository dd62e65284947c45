"""Admin pages that live in their own modules, each included from `admin.router`."""
