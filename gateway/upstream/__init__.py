"""Upstreams: the pool of servers behind each model, which server gets a request, circuit breakers, the hints
semgate's own backend reads, and the load the gateway measures of them."""
