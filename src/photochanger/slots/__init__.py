"""The 15 booth slots: their provider, operation, parameters and output policy."""
