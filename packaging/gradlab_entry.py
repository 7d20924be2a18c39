"""Entry script for the frozen (PyInstaller) app: the same as the ``gradlab`` console script."""

import multiprocessing
import sys

from gradlab.__main__ import entry  # Ctrl+C or SIGTERM during start-up: a status, no traceback

if __name__ == "__main__":
    # A no-op unless a frozen Windows/macOS child process is being started by multiprocessing.
    multiprocessing.freeze_support()
    sys.exit(entry())
