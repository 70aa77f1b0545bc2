"""The admin tests' keys and policy, in a module of their own: test files import them by this name, which
(unlike `conftest`) no other test folder uses.
"""

ADMIN_TOKEN = "adm1n-t0ken-value-never-shown"
ACME_KEY = "sk-acme-tenant-key-never-shown"
GLOBEX_KEY = "sk-globex-tenant-key-never-shown"
UPSTREAM_KEY = "sk-upstream-secret-never-shown"
SECRETS = (ADMIN_TOKEN, ACME_KEY, GLOBEX_KEY, UPSTREAM_KEY)

POLICY = """\
classifier:
  top_k: 1
  confidence_floor: 0.3
defaults:
  similarity_threshold: 0.9
  verify: false
  ttl_seconds: 3600
  adaptive: {min_similarity: 0.85}
categories:
  - name: code
    description: Programming questions.
    keywords: [python, javascript, rust]
    similarity_threshold: 0.86
    adaptive: {min_similarity: 0.8}
  - name: geography
    description: Places and capitals.
    keywords: [capital, country, river]
  - name: default
"""
