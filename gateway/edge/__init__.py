"""The edge: where a request arrives. Wire parsing and validation, API keys, HTTP limits, errors in the
OpenAI shape, and the routes that carry a request through the cache, upstream and relay stages."""
