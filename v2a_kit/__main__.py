"""``python -m v2a_kit`` = the ``v2a-kit`` command."""

import sys

from .cli import main

sys.exit(main())
