"""The admin API under /admin/v1: what operators use to see, fix and steer the cache."""
