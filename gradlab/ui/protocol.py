"""Everything the window and its simulation process say to each other, one frozen dataclass each.

No Qt here: the simulation process (``gradlab.ui.simulation_process``) imports this module too.

Window -> process: ``Wanted``, the whole of what the window wants, answered with ``Heard`` as soon
as it is read (between two updates). The window sends the next ``Wanted`` only once the previous
one is answered, with what the user did meanwhile: a process inside a long update cannot read, and
the pipe must not fill.

Process -> window: ``Updates`` carries the latest Frame and the rows of every update since the
previous ``Updates``; the next is sent only after the window's ``Took``, so frames never queue up
however fast the core runs, and no update is missing from the record.
"""

from __future__ import annotations

from dataclasses import dataclass

from gradlab.core import Config, Frame
from gradlab.core.jacobian import JacobianSpectrum
from gradlab.core.record import UpdateLog

RUN_PATH = "gradlab.core:run"  # the run generator, "module:function" (tests inject failing ones)


# ---- window -> process ----------------------------------------------------------------------
@dataclass(frozen=True)
class Wanted:
    """A new ``run_id`` starts ``config``, superseding the current run. ``paused``: compute no
    update but a new run's first (so that a change shows) and ``steps`` more. ``jacobian_k``: the
    Jacobian panel is shown; measure the singular values of ∂h_T/∂h_{T−k} of the latest update at
    once, then every few updates (None: hidden, compute none)."""

    run_id: int
    config: Config
    paused: bool = False
    steps: int = 0
    edges_frozen: bool = False  # hold the histogram bin edges still
    jacobian_k: int | None = None
    run_path: str = RUN_PATH


@dataclass(frozen=True)
class Took:
    """The window took the last ``Updates``: the process may send the next."""


@dataclass(frozen=True)
class Quit:
    """End the process."""


# ---- process -> window ----------------------------------------------------------------------
@dataclass(frozen=True)
class Ready:
    """The process has started (its imports are done)."""


@dataclass(frozen=True)
class Heard:
    """``Wanted`` was read; the process now has run ``run_id``, and ``news``: what it computed
    before reading is still to be sent."""

    run_id: int
    news: bool


@dataclass(frozen=True)
class Updates:
    """Every update of run ``run_id`` since the previous ``Updates``, and the latest one's Frame."""

    run_id: int
    frame: Frame
    updates: UpdateLog
    seconds_per_update: float  # the run's mean compute time per update so far


@dataclass(frozen=True)
class JacobianMeasured:
    """Run ``run_id``'s Jacobian at update ``spectrum.iteration``. Sent at once (a few a second,
    a few hundred numbers): not held back by ``Took``, it may overtake that update's ``Updates``."""

    run_id: int
    spectrum: JacobianSpectrum


@dataclass(frozen=True)
class Ended:
    """Run ``run_id`` is over, all its updates sent: it did them all (or diverged), or it raised
    ``error``."""

    run_id: int
    error: str | None = None


Report = Ready | Heard | Updates | JacobianMeasured | Ended
