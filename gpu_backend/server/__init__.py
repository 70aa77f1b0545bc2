"""The OpenAI-compatible HTTP server of the bundled backend."""

from gpu_backend.server.app import BackendService, build_app

__all__ = ["BackendService", "build_app"]
