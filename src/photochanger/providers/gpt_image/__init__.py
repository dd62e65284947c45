"""OpenAI gpt-image driver (Images API, edits)."""
