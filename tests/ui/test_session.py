"""The session model on its own, without a window (it imports no Qt)."""

from __future__ import annotations

import subprocess
import sys

from gradlab.core import Config, Frame, run
from gradlab.core.record import History
from gradlab.presets import find_preset, neighbour, preset_of, presets
from gradlab.ui.session import RunState, Session


class FrameRecord:
    """A record kept from the frames alone (the window's keeps every update's row)."""

    def __init__(self) -> None:
        self._history: History | None = None

    def start(self, config: Config) -> None:
        self._history = History(config)

    def add(self, chunk: object, frame: Frame | None) -> None:
        assert self._history is not None
        if frame is not None:
            self._history.append(frame)

    def history(self) -> History:
        assert self._history is not None
        return self._history

    def __len__(self) -> int:
        return 0 if self._history is None else len(self._history)


def _frames(config: Config, count: int) -> list[Frame]:
    generator = run(config)
    frames = [next(generator) for _ in range(count)]
    generator.close()
    return frames


CONFIG = Config(hidden_size=8, seq_len=12, batch_size=4)


def test_the_session_imports_no_qt() -> None:
    qt = "{'PySide6', 'pyqtgraph', 'superqt', 'shiboken6'}"
    code = f"import sys, gradlab.ui.session; print(sorted(m for m in sys.modules if m.split('.')[0] in {qt}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_listeners_hear_the_scene_the_run_and_its_frames() -> None:
    session = Session(FrameRecord(), CONFIG)
    heard: list[str] = []
    session.scene_changed.connect(lambda scene: heard.append(f"scene {scene.active_preset or 'custom'}"))
    session.status_changed.connect(lambda status: heard.append(status.state.value))
    session.frame_changed.connect(lambda frame: heard.append("frame" if frame is not None else "no frame"))
    first = presets()[0]
    session.show_preset(first)
    session.run_started(1, first.scenario.config)
    frame = _frames(first.scenario.config, 1)[0]
    session.updates_arrived(None, frame)
    session.paused_changed(True)
    session.run_finished(1)
    assert heard == [f"scene {first.name}", "running", "no frame", "frame", "paused", "finished"]
    assert session.latest_frame is frame
    assert session.status.config == first.scenario.config


def test_an_edited_config_makes_the_scene_modified_and_a_new_run_forgets_the_last_frame() -> None:
    preset = presets()[0]
    session = Session(FrameRecord(), preset.scenario.config, preset.scenario, preset.name)
    edited = preset.scenario.config.replace(seq_len=preset.scenario.config.seq_len + 1)
    session.config_edited(edited)
    assert session.scene.modified and session.scene.active_preset == ""
    saved = session.scene.as_scenario()
    assert saved.title.endswith("(modified)") and saved.config == edited
    session.run_started(1, edited)
    session.updates_arrived(None, _frames(edited, 1)[0])
    session.run_started(2, edited)
    assert session.latest_frame is None


def test_a_late_finish_or_error_of_an_old_run_changes_nothing() -> None:
    session = Session(FrameRecord(), CONFIG)
    session.run_started(1, CONFIG)
    session.run_started(2, CONFIG)
    session.run_finished(1)
    session.run_failed(1, "boom")
    assert session.status.state == RunState.RUNNING
    session.run_failed(2, "boom")
    session.run_finished(2)
    assert session.status.state == RunState.FAILED and session.status.error == "boom"


def test_pins_come_from_the_record_and_a_fourth_replaces_the_oldest() -> None:
    session = Session(FrameRecord(), CONFIG)
    assert session.pin().pin is None
    pinned: list[int] = []
    session.pins_changed.connect(lambda pins: pinned.append(len(pins)))
    for seq_len in (10, 11, 12, 13):
        config = CONFIG.replace(seq_len=seq_len)
        session.run_started(seq_len, config)
        for frame in _frames(config, 3):
            session.updates_arrived(None, frame)
        result = session.pin()
        assert result.pin is not None and result.pin.config == config
        assert list(result.pin.update_iteration) == [1, 2, 3]
        assert len(result.pin.log10_dh_norm) == seq_len
    assert result.replaced is not None and result.replaced.config.seq_len == 10
    assert "replaced" in result.message(CONFIG, session.pin_board.capacity)
    assert [p.config.seq_len for p in session.pins] == [11, 12, 13]
    session.clear_pins()
    assert session.pins == () and pinned[-1] == 0


def test_presets_are_looked_up_in_one_place() -> None:
    first, second, last = presets()[0], presets()[1], presets()[-1]
    assert find_preset(second.name) is second
    assert preset_of(first.scenario.config) is first
    assert neighbour(first.name, +1) is second and neighbour(first.name, -1) is last
    assert neighbour("", +1) is first and neighbour("", -1) is last
