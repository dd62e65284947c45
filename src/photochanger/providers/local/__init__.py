"""The offline `local` engine: Pillow operations that need no network."""
