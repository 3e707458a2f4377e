"""``python -m indrnn.legacy SCRIPT [ARGS...]``: run an original script
unmodified (see :mod:`indrnn.legacy.runner`)."""
import sys

from . import main

sys.exit(main())
