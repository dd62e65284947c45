"""Job statistics for the admin: totals, success rate and duration percentiles over a time window."""
