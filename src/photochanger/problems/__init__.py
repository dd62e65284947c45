"""What went wrong for booths: refused uploads and failed jobs, as the admin lists and counts them."""
