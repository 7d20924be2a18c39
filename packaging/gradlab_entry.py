"""Entry script for the frozen (PyInstaller) app: the same as the ``gradlab`` console script."""

import multiprocessing
import sys

from gradlab.cli import main

if __name__ == "__main__":
    # A no-op unless a frozen Windows/macOS child process is being started by multiprocessing.
    multiprocessing.freeze_support()
    sys.exit(main())
