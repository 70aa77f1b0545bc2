"""Answers on their way to the client: upstream answers checked, scrubbed, bounded and recorded while relayed,
and cached answers replayed as fresh responses (JSON or SSE)."""
