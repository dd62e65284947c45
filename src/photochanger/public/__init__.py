"""Public, unauthenticated downloads of results by their unguessable job id."""
