"""Server-rendered admin UI under `/admin`: pages over the same services as the JSON API."""
