"""Wire-format adapters at the gateway's edge: other APIs translated onto chat completions and back.

Each adapter is pure: it turns a request body of its API into the canonical chat-completions body
that the rest of the gateway already caches, fingerprints and forwards, and turns a chat completion
(whole or streamed) back into its API's answer. Nothing here does I/O except the stored-response
record (response_store.py). docs/protocols.md says what each one maps and refuses.
"""
