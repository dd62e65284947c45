"""The ingest pipeline's stages, each readable alone; `ingest.service.IngestService` composes them."""
