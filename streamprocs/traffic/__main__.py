"""``python -m streamprocs.traffic``."""

import sys

from streamprocs.traffic.cli import main

sys.exit(main())
