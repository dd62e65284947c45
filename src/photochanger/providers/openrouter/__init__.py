"""OpenRouter driver (chat completions with image output)."""
