"""Everything the window and its simulation process say to each other, one frozen dataclass each.

No Qt here: the simulation process (``gradlab.ui.simulation_process``) imports this module too.

Window -> process: commands, each answered with ``Heard`` as soon as it is read (between two
updates). The window sends new commands only once the previous ones are answered, coalescing what
the user did meanwhile: a process inside a long update cannot read, and the pipe must not fill.

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
class Start:
    """Start ``config`` as run ``run_id``, superseding the current run (while paused: compute its
    first update, so that the change shows, then wait)."""

    run_id: int
    config: Config
    run_path: str = RUN_PATH


@dataclass(frozen=True)
class Pause:
    """Compute no more updates, also for runs started later, until ``Resume`` or ``Step``."""


@dataclass(frozen=True)
class Resume:
    """Compute updates as fast as possible."""


@dataclass(frozen=True)
class Step:
    """While paused: compute ``updates`` more updates."""

    updates: int = 1


@dataclass(frozen=True)
class FreezeEdges:
    """Hold the histogram bin edges still (``frozen``), for this run and later ones."""

    frozen: bool


@dataclass(frozen=True)
class MeasureJacobian:
    """The Jacobian panel is shown (``k``: steps back) or hidden (None): measure the singular values
    of ∂h_T/∂h_{T−k} of the latest update at once, then every few updates (``JacobianMeasured``),
    for this run and later ones; hidden, compute none."""

    k: int | None

    def __post_init__(self) -> None:
        k = self.k
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ValueError(f"k: {k!r} must be a whole number of steps ≥ 1 (or None: hidden)")


Command = Start | Pause | Resume | Step | FreezeEdges | MeasureJacobian  # each answered with Heard


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
    """A command was read; the process now has run ``run_id``, and ``news``: updates it computed
    before reading the command are still to be sent."""

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
    """The singular values of run ``run_id``'s Jacobian, from the update ``spectrum.iteration``.
    Sent as soon as computed (a few a second at most, a few hundred numbers each): it is not held
    back by ``Took`` and may arrive before the ``Updates`` that carries that update."""

    run_id: int
    spectrum: JacobianSpectrum


@dataclass(frozen=True)
class Failed:
    """Run ``run_id`` raised ``message``; it is over."""

    run_id: int
    message: str


@dataclass(frozen=True)
class Finished:
    """Run ``run_id`` did all its updates (or diverged), and all were sent."""

    run_id: int


Report = Ready | Heard | Updates | JacobianMeasured | Failed | Finished
