"""Provider accounts: API keys entered in the admin (encrypted at rest), chosen in turn at each call."""
