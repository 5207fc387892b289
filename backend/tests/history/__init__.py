"""History and snapshots (issue 13)."""
