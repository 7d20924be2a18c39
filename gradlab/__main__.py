"""``python -m gradlab`` and the ``gradlab`` command.

The command-line module imports NumPy, which takes a moment: a Ctrl+C or SIGTERM meanwhile must
end the program with its status, not a traceback from inside an import. So this module installs
the signal handling first and imports the rest inside the guard.
"""

from __future__ import annotations

import os
import sys


def entry() -> int:
    from gradlab._interrupt import exit_status, ignore_interrupts, raise_on_termination

    try:
        raise_on_termination()
        from gradlab.cli import main

        status = main()
        ignore_interrupts()  # main() put the handlers back; the program is ending now
        return status
    except KeyboardInterrupt as interrupt:  # Ctrl+C or a termination signal before main() took over
        try:
            if sys.stderr is not None:
                print("gradlab: interrupted", file=sys.stderr, flush=True)
        except (OSError, ValueError):
            pass
        return exit_status(interrupt)


if __name__ == "__main__":
    status = entry()
    try:
        sys.stdout.flush()
    except (OSError, ValueError, AttributeError):
        # stdout is a full disk or a pipe whose reader has gone: nothing more can be said there,
        # and Python's own flush at exit would print a traceback-like warning.
        os._exit(status or 1)
    sys.exit(status)
