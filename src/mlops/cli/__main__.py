"""`python -m mlops.cli …` is `mlops …` (for a Python that has the package but not the console script on PATH)."""

import sys

from mlops.cli import main

sys.exit(main())
