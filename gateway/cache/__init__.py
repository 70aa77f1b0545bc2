"""The semantic cache: embedder, exact and semantic tiers, document store, guards, verifier."""
