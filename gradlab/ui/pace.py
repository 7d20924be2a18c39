"""The pace of the run: as fast as possible, or N updates per second (slow motion for a lecture).

Made of the controller's own verbs: at full speed play/pause; in slow motion the controller stays
paused and a timer asks for one ``step()`` at a time, the next only once the previous update was
shown, so a slow machine falls behind the pace rather than queueing updates.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from gradlab.ui.simulation import SimulationController

if TYPE_CHECKING:  # the actions module imports this one (for SPEEDS)
    from gradlab.ui.actions import WindowActions

# Updates per second; None = as fast as the machine goes.
SPEEDS: tuple[float | None, ...] = (None, 30.0, 10.0, 3.0, 1.0)


def speed_text(speed: float | None) -> str:
    return "as fast as possible" if speed is None else f"{speed:g} updates/s"


class Pacer(QObject):
    """Plays, pauses and paces the controller. ``playing_changed`` says what the user sees."""

    playing_changed = Signal(bool)
    speed_changed = Signal(object)  # float | None

    def __init__(
        self, controller: SimulationController, shown_iteration: Callable[[], int], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self._shown_iteration = shown_iteration  # the iteration of the last frame on screen (0: none)
        self._speed: float | None = None
        self._playing = not controller.paused
        self._asked = -1  # the iteration shown when the last paced step was asked for
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._tick)
        controller.paused_changed.connect(self._controller_paused)
        controller.started.connect(lambda _run_id, _config: self._restart_pace())

    def connect_actions(self, acts: WindowActions, show_state: Callable[[str], None]) -> None:
        """Space, S, the pace menu and [ ]; ``show_state`` gets "paused", "slow · 3/s" or ""."""
        acts.play.triggered.connect(self.toggle)
        acts.step.triggered.connect(self.step)
        for action in acts.speeds:
            speed = action.data()
            action.triggered.connect(lambda _checked=False, speed=speed: self.set_speed(speed))
        acts.faster.triggered.connect(self.faster)
        acts.slower.triggered.connect(self.slower)

        def show(*_args: object) -> None:
            acts.play.setText("Pause" if self._playing else "Play")
            acts.check_speed(self._speed)
            pace = "" if self._speed is None else f"slow · {self._speed:g}/s"
            show_state("paused" if not self._playing else pace)

        self.playing_changed.connect(show)
        self.speed_changed.connect(show)

    @property
    def speed(self) -> float | None:
        return self._speed

    @property
    def playing(self) -> bool:
        return self._playing

    def set_speed(self, speed: float | None) -> None:
        if speed is not None and speed <= 0:
            raise ValueError(f"speed: {speed!r} must be positive (None: as fast as possible)")
        if speed == self._speed:
            return
        self._speed = speed
        self._apply()
        self.speed_changed.emit(speed)

    def faster(self) -> None:
        index = SPEEDS.index(self._speed)
        self.set_speed(SPEEDS[max(0, index - 1)])

    def slower(self) -> None:
        index = SPEEDS.index(self._speed)
        self.set_speed(SPEEDS[min(len(SPEEDS) - 1, index + 1)])

    def play(self) -> None:
        self._set_playing(True)

    def pause(self) -> None:
        self._set_playing(False)

    def toggle(self) -> None:
        self._set_playing(not self._playing)

    def step(self) -> None:
        """Pause and compute exactly one more update."""
        self._set_playing(False)
        self.controller.step()

    def _set_playing(self, playing: bool) -> None:
        changed = playing != self._playing
        self._playing = playing
        self._apply()
        if changed:
            self.playing_changed.emit(playing)

    def _apply(self) -> None:
        if self._speed is None:
            self._timer.stop()
            if self._playing:
                self.controller.resume()
            else:
                self.controller.pause()
            return
        self.controller.pause()
        if self._playing:
            self._timer.setInterval(max(1, round(1000 / self._speed)))
            if not self._timer.isActive():
                self._asked = -1
                self._timer.start()
        else:
            self._timer.stop()

    def _restart_pace(self) -> None:
        self._asked = -1  # a new run: its first update is asked for at the next tick

    def _tick(self) -> None:
        shown = self._shown_iteration()
        if self._asked >= 0 and shown <= self._asked:
            return  # the last update asked for is not on screen yet: do not queue another
        self._asked = shown
        self.controller.step()

    def _controller_paused(self, paused: bool) -> None:
        # At full speed the controller's state is the truth (tests and the benchmark call it
        # directly); in slow motion it is always paused and the pacer's own state counts.
        if self._speed is None and paused == self._playing:
            self._playing = not paused
            self.playing_changed.emit(self._playing)
