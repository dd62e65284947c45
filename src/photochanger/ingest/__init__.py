"""Booth uploads: a multipart POST becomes a job, runs its provider under a deadline, returns the image."""
