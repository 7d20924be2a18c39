"""Keep PySide6 6.12 on Python 3.11 from aborting the interpreter after a few seconds of plotting.

PySide6 6.12 (shiboken6 6.12.0), on CPython < 3.12, drops one reference to ``None`` on every call
of a C++ method that returns void (``setText``, ``setPen``, ``update`` ...) and one to ``True`` on
every ``Signal.emit()``. On 3.12+ these objects are immortal (PEP 683) and nothing happens; on 3.11
the window makes ~4000 such calls per second, ``None``'s count reaches zero and Python aborts
with "Fatal Python error: none_dealloc". Measured here: -21,000 references to None in 5 s.

The workaround gives ``None``, ``True`` and ``False`` a reference count no program can use up,
which is what Python 3.12 does for them anyway. They are statically allocated and never freed, so
a large count cannot leak memory. Drop this module once the binding is fixed.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_HEADROOM = 1 << 48  # far below the 2**63 limit of Py_ssize_t, far above any run's decrements
_applied = False


def needed() -> bool:
    """True where the bug can abort the interpreter: CPython before 3.12 with shiboken6 6.12."""
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False
    try:
        from importlib.metadata import version

        return version("shiboken6").startswith("6.12.")
    except Exception:  # unknown binding version: the workaround is harmless, apply it
        return True


def apply() -> bool:
    """Raise the reference counts of None, True and False once. Returns True if applied."""
    global _applied
    if _applied or not needed():
        return _applied
    for singleton in (None, True, False):
        count = ctypes.c_ssize_t.from_address(id(singleton))
        count.value += _HEADROOM
    _applied = True
    log.debug("raised the reference counts of None/True/False (PySide6 6.12 on Python < 3.12)")
    return True
