"""`python -m coursetools COMMAND ...`: the course tooling, inside the environment."""

import sys

from coursetools import cli

sys.exit(cli.main())
