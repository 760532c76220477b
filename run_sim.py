#!/usr/bin/env python3
"""After-hours acute care simulator - command line. See README.md and `python run_sim.py --help`."""

import sys

if __name__ == "__main__":
    try:
        from sim.cli import main
    except KeyboardInterrupt:  # Ctrl-C while Python loads the package: nothing has started
        sys.exit(130)
    sys.exit(main())
