"""How long a test waits for something that must happen: a hang limit, never a speed.

``qtbot.waitUntil`` and ``waitSignal`` return as soon as what they wait for happens, so a generous
limit costs nothing on a fast machine, and keeps the suite true on a slow or busy one (a
simulation process started with "spawn" can take many seconds to import NumPy beside a loaded
CPU). Speeds are measured by the benchmarks, not asserted here.
"""

PATIENCE_MS = 60_000
PATIENCE_S = PATIENCE_MS / 1000
