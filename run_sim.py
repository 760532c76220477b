#!/usr/bin/env python3
"""After-hours acute care simulator - command line. See README.md and `python run_sim.py --help`."""

import sys

from sim.cli import main

if __name__ == "__main__":
    sys.exit(main())
