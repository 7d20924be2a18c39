"""The window's state without Qt: the scene, the pins, the latest frame, the run's record and status.

``MainWindow`` composes a ``Session`` and listens to it, the way napari's ``QtViewer`` listens to its
``Viewer`` model: widgets draw what the session says and never read each other's fields. The
session is plain Python (no Qt import), so it can be driven and tested without a window.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from gradlab.core import Config, Frame
from gradlab.core.record import History
from gradlab.core.scenario import MAX_TEXT, Scenario
from gradlab.presets import Preset, default_preset, preset_of
from gradlab.ui.pins import Pin, PinBoard, pin_label

T = TypeVar("T")

PIN_UPDATES = 20_000  # a pin keeps the training curves of at most this many recent updates


def opening_scene(
    config: Config | None, scenario: Scenario | None, preset: str = ""
) -> tuple[Scenario | None, str, Config]:
    """The scene a window opens with: ``scenario`` if given, else the scene whose Config is
    ``config`` (the default scene without one); a ``config`` of no scene opens as custom settings."""
    found = default_preset() if config is None else preset_of(config)
    if scenario is None and found is not None:
        scenario, preset = found.scenario, found.name
    initial = scenario.config if scenario is not None else config
    assert initial is not None  # a config that is no scene is custom settings
    return scenario, preset, initial


class Event(Generic[T]):
    """A list of callbacks, called in order with one value (a Qt-free signal)."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[T], Any]] = []

    def connect(self, callback: Callable[[T], Any]) -> None:
        self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[T], Any]) -> None:
        self._callbacks.remove(callback)

    def emit(self, value: T) -> None:
        for callback in list(self._callbacks):
            callback(value)


class RunState(enum.Enum):
    IDLE = "idle"  # no run yet
    RUNNING = "running"
    PAUSED = "paused"
    FINISHED = "finished"  # every update of the Config is done
    FAILED = "failed"  # the simulation stopped with an error


@dataclass(frozen=True)
class RunStatus:
    """Where the current run is. ``message`` is the run's own explanation (e.g. why it diverged)."""

    state: RunState = RunState.IDLE
    run_id: int = 0
    config: Config | None = None
    message: str = ""
    error: str = ""


@dataclass(frozen=True)
class SceneState:
    """The scene shown: the scenario as loaded (None: custom settings), its preset name ("" if it
    came from a file), and the Config the controls show now."""

    scenario: Scenario | None
    preset: str
    config: Config

    @property
    def modified(self) -> bool:
        return self.scenario is not None and self.scenario.config != self.config

    @property
    def active_preset(self) -> str:
        """The preset the window shows unchanged, or ""."""
        return self.preset if self.scenario is not None and not self.modified else ""

    @property
    def changes(self) -> str:
        """What differs from the scene, in the words on screen ("" if nothing or no scene)."""
        return pin_label(self.config, self.scenario.config) if self.modified and self.scenario else ""

    def as_scenario(self) -> Scenario:
        """The current scene as a scenario: as loaded, or marked as modified with what changed."""
        scene = self.scenario
        if scene is not None and not self.modified:
            return scene
        if scene is not None:
            title = f"{scene.title} (modified)"
            caption = f"Changed from the scene: {self.changes}. {scene.caption}"
        else:
            title = "Custom settings"
            caption = "Settings saved from the gradlab window."
        return Scenario(
            title=title[: MAX_TEXT["title"]].strip(),
            caption=caption[: MAX_TEXT["caption"]].strip(),
            config=self.config,
        )


class RunRecord(Protocol):
    """What the session needs of the run's record (``gradlab.ui.recording.RunRecorder``)."""

    def start(self, config: Config) -> None: ...

    def add(self, chunk: Any, frame: Frame | None) -> None: ...

    def history(self) -> History: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class PinResult:
    pin: Pin | None  # the pin added (None: nothing to pin yet)
    replaced: Pin | None  # the oldest pin it replaced, if the board was full

    def message(self, live: Config, capacity: int) -> str:
        """What the status bar says about it."""
        if self.pin is None:
            return "Nothing to pin yet: wait for the first update."
        if self.replaced is not None:
            return f"At most {capacity} pins: the oldest ({self.replaced.label(live)}) was replaced."
        return f"Pinned at update {self.pin.iteration}. Change a control to compare."


class Session:
    """The app's state. Change it through its methods; listen to its events."""

    def __init__(self, record: RunRecord, config: Config, scenario: Scenario | None = None, preset: str = "") -> None:
        self.record = record
        self.pin_board = PinBoard()
        self._scene = SceneState(scenario, preset if scenario is not None else "", config)
        self._status = RunStatus()
        self._latest: Frame | None = None
        self.scene_changed: Event[SceneState] = Event()
        self.status_changed: Event[RunStatus] = Event()
        self.frame_changed: Event[Frame | None] = Event()
        self.pins_changed: Event[tuple[Pin, ...]] = Event()

    # ---- reading ----------------------------------------------------------------------------
    @property
    def scene(self) -> SceneState:
        return self._scene

    @property
    def status(self) -> RunStatus:
        return self._status

    @property
    def latest_frame(self) -> Frame | None:
        """The last frame of the current run (None before its first)."""
        return self._latest

    @property
    def pins(self) -> tuple[Pin, ...]:
        return tuple(self.pin_board.pins)

    # ---- the scene --------------------------------------------------------------------------
    def show_scene(self, scenario: Scenario | None, preset: str = "", config: Config | None = None) -> None:
        config = config if config is not None else (scenario.config if scenario is not None else self._scene.config)
        self._scene = SceneState(scenario, preset if scenario is not None else "", config)
        self.scene_changed.emit(self._scene)

    def show_preset(self, preset: Preset) -> None:
        self.show_scene(preset.scenario, preset.name)

    def config_edited(self, config: Config) -> None:
        """The controls now show ``config`` (the scene stays; it may now read as modified)."""
        if config != self._scene.config:
            self._scene = SceneState(self._scene.scenario, self._scene.preset, config)
            self.scene_changed.emit(self._scene)

    # ---- the run ----------------------------------------------------------------------------
    def run_started(self, run_id: int, config: Config, *, paused: bool = False) -> None:
        self.record.start(config)
        self._latest = None
        self._set_status(RunStatus(RunState.PAUSED if paused else RunState.RUNNING, run_id, config))
        self.frame_changed.emit(None)
        if self.pin_board.pins:
            self.pins_changed.emit(self.pins)  # the labels say what differs from the new run

    def updates_arrived(self, chunk: Any, frame: Frame | None) -> None:
        """A delivery of the current run: every update's row, and the latest frame (or None)."""
        self.record.add(chunk, frame)
        if frame is None:
            return
        self._latest = frame
        if frame.message and frame.message != self._status.message:
            self._set_status(replace(self._status, message=frame.message))
        self.frame_changed.emit(frame)

    def paused_changed(self, paused: bool) -> None:
        state = self._status.state
        if state in (RunState.RUNNING, RunState.PAUSED):
            self._set_status(replace(self._status, state=RunState.PAUSED if paused else RunState.RUNNING))

    def run_finished(self, run_id: int) -> None:
        if run_id == self._status.run_id and self._status.state != RunState.FAILED:
            self._set_status(replace(self._status, state=RunState.FINISHED))

    def run_failed(self, run_id: int, error: str) -> None:
        if run_id == self._status.run_id:
            self._set_status(replace(self._status, state=RunState.FAILED, error=error))

    def _set_status(self, status: RunStatus) -> None:
        if status != self._status:
            self._status = status
            self.status_changed.emit(status)

    # ---- pins -------------------------------------------------------------------------------
    def pin(self) -> PinResult:
        """Pin what the plots show now. A pin beyond ``MAX_PINS`` replaces the oldest."""
        frame, config = self._latest, self._status.config
        if frame is None or config is None:
            return PinResult(None, None)
        updates = self.record.history().updates if len(self.record) else None
        iteration = np.asarray(updates.iteration if updates is not None else [], dtype=np.float64)[-PIN_UPDATES:]
        pin = Pin(
            slot=0,
            config=config,
            iteration=frame.iteration,
            log10_dh_norm=np.array(frame.log10_dh_norm, dtype=np.float64),
            update_iteration=iteration,
            log10_grad=_log10(updates.grad_norm if updates is not None else [])[-PIN_UPDATES:],
            log10_loss=_log10(updates.loss if updates is not None else [])[-PIN_UPDATES:],
        )
        replaced = self.pin_board.add(pin)
        self.pins_changed.emit(self.pins)
        return PinResult(self.pin_board.pins[-1], replaced)

    def clear_pins(self) -> None:
        self.pin_board.clear()
        self.pins_changed.emit(self.pins)


def _log10(values: Any) -> np.ndarray:
    """log10 of positive finite values; NaN elsewhere (0, negatives, inf, nan), without warnings."""
    array = np.asarray(values, dtype=np.float64)
    out = np.full(array.shape, np.nan)
    ok = np.isfinite(array) & (array > 0)
    out[ok] = np.log10(array[ok])
    return out
