"""semgate gpu_backend."""
