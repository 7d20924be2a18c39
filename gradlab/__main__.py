"""``python -m gradlab``: the same as the ``gradlab`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
