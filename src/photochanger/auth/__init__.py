"""The low auth layer: the principal, `requires`, permissions, tokens, cookies, and access-token checks."""
