"""``python -m ecomlab``: the same command line as the ``ecomlab`` script."""

import sys

from ecomlab.cli import main

if __name__ == "__main__":
    sys.exit(main())
