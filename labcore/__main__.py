"""``python -m labcore`` runs the command line."""

import sys

from labcore.cli.main import main

sys.exit(main())
