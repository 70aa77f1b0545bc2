"""Policy texts and paths shared by the policy tests."""

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SHIPPED_POLICY = REPO / "config" / "policies.yaml"

MINIMAL = """\
categories:
  - name: code
    examples: [how do I sort a list in python]
  - name: default
"""
