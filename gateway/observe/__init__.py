"""What the gateway reports about itself: request statistics, Prometheus metrics, event-loop lag, safe logs."""
