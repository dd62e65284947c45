"""Google Gemini image generation (generateContent) driver."""
