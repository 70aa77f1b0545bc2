"""semgate loadtest."""
