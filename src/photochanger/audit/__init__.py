"""The audit trail: who changed settings, slots and users, when, and what changed (secrets redacted)."""
