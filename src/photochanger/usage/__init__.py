"""Provider usage: calls, images, refusals and estimated cost per day, provider, key and slot."""
