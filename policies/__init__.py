"""semgate policies."""
