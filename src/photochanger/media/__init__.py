"""Template media: images slot parameters refer to by id (frames, backgrounds, reference images)."""
