"""``python -m evaluation`` -> :func:`evaluation.cli.main`."""

import sys

from evaluation.cli import main

sys.exit(main())
