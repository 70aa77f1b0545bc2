"""`python -m policies check FILE` (the same as `semgate policies check FILE`)."""

import sys

from policies.cli import main

sys.exit(main())
