"""Domain-free kit: database, errors, time, types, logging."""
