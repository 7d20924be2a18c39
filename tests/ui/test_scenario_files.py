"""Scenario files in the window: open from the menu and by drag-and-drop; every kind of malformed file
is refused with a clear message and the scene and run left untouched."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent

from gradlab.core.scenario import Scenario
from gradlab.presets import presets

GOOD_CONFIG = {"hidden_size": 6, "seq_len": 12, "batch_size": 2}


def _good() -> dict:
    return {"title": "Dropped scene", "caption": "Look here.", "config": dict(GOOD_CONFIG)}


MALFORMED: dict[str, tuple[bytes, str]] = {
    "not-json": (b"this is not JSON", "not valid JSON"),
    "truncated": (json.dumps(_good()).encode()[:-9], "not valid JSON"),
    "empty": (b"", "empty"),
    "whitespace": (b"  \n\t ", "empty"),
    "a-list": (b"[1, 2, 3]", "expected a JSON object"),
    "wrong-type-title": (json.dumps({**_good(), "title": 5}).encode(), "title must be a non-empty string"),
    "wrong-type-field": (json.dumps({**_good(), "config": {"seq_len": "long"}}).encode(), "seq_len"),
    "config-not-object": (json.dumps({**_good(), "config": [1]}).encode(), "config must be an object"),
    "unknown-field": (json.dumps({**_good(), "author": "me"}).encode(), "unknown field(s): author"),
    "unknown-config-field": (json.dumps({**_good(), "config": {"speed": 3}}).encode(), "speed"),
    "missing-field": (json.dumps({"title": "t", "config": {}}).encode(), "missing field(s): caption"),
    "out-of-range": (json.dumps({**_good(), "config": {"hidden_size": -3}}).encode(), "out of range"),
    "nan-constant": (b'{"title": "t", "caption": "c", "config": {"lr": NaN}}', "NaN"),
    "ten-megabytes": (b'{"title": "' + b"x" * (10 * 2**20) + b'"}', "too large"),
    "binary": (bytes(range(256)) * 4, "not UTF-8"),
    "pickle": (b"\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94.", "not UTF-8"),
}


def _state(window) -> tuple:  # type: ignore[no-untyped-def]
    return (
        window.controller.run_id,
        window.controller.config,
        window.controls.config,
        window.session.scene.scenario,
        window.caption.title,
        window.caption.caption,
    )


def test_every_kind_of_malformed_scenario_is_refused_with_a_clear_message_and_nothing_changes(window, tmp_path):
    # One window for all kinds (a window per kind would start a simulation process per kind).
    window.load_preset(presets()[1].name)
    before = _state(window)
    for name, (data, expected) in sorted(MALFORMED.items()):
        path = tmp_path / f"{name}.json"
        path.write_bytes(data)
        assert window.files.open_scenario_file(path) is False, name
        assert _state(window) == before, name
        message = window.notice.text
        assert message.startswith("Could not open the scenario."), (name, message)
        assert expected in message, (name, message)
        assert str(path) in message, name
        assert len(message) < 600, name  # a message, not a dump of the file
        window.notice.hide()


@pytest.mark.parametrize("kind", ["folder", "missing"])
def test_a_path_that_is_not_a_readable_file_is_refused(window, tmp_path, kind):
    path = tmp_path / "x.json"
    if kind == "folder":
        path.mkdir()
    before = _state(window)
    assert window.files.open_scenario_file(path) is False
    assert _state(window) == before
    assert "Could not open the scenario" in window.notice.text


def _write_good(tmp_path: Path) -> Path:
    path = tmp_path / "good.json"
    path.write_text(json.dumps(_good()), encoding="utf-8")
    return path


def test_a_good_scenario_opens_from_the_file_menu(window, tmp_path, wait_frames):
    from test_export import AnsweringDialogs

    path = _write_good(tmp_path)
    window.notice.show_message("an old message")
    window.files.dialogs = AnsweringDialogs(path)
    run_id = window.controller.run_id
    window.commands.open_scenario.trigger()
    assert window.controller.run_id > run_id
    assert window.caption.title == "Dropped scene"
    assert window.caption.caption == "Look here."
    assert window.controller.config.seq_len == 12
    assert window.notice.text == ""
    wait_frames(window, 1)


def _drop_events(paths: list[Path] | None, text: str = "") -> tuple[QDragEnterEvent, QDropEvent]:
    mime = QMimeData()
    if paths is not None:
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    if text:
        mime.setText(text)
    enter = QDragEnterEvent(
        QPointF(50, 50).toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    drop = QDropEvent(
        QPointF(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    # The events keep a pointer to the mime data: keep it alive as long as they are.
    enter._mime = mime  # type: ignore[attr-defined]
    drop._mime = mime  # type: ignore[attr-defined]
    return enter, drop


def test_dropping_a_scenario_file_on_the_window_opens_it(window, tmp_path):
    enter, drop = _drop_events([_write_good(tmp_path)])
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    window.dropEvent(drop)
    assert window.caption.title == "Dropped scene"
    assert window.controller.config.hidden_size == 6


def test_dropping_a_broken_file_says_why_and_changes_nothing(window, tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"title": "x", "config": {"hidden_size": -3', encoding="utf-8")
    before = _state(window)
    _, drop = _drop_events([broken])
    window.dropEvent(drop)
    assert _state(window) == before
    assert "not valid JSON" in window.notice.text


@pytest.mark.parametrize("kind", ["text", "two-files", "web-link"])
def test_drops_that_are_not_one_local_file_are_ignored(window, tmp_path, kind):
    if kind == "text":
        enter, _ = _drop_events(None, text="{}")
    elif kind == "two-files":
        enter, _ = _drop_events([_write_good(tmp_path), tmp_path / "other.json"])
    else:
        mime = QMimeData()
        mime.setUrls([QUrl("https://example.org/scene.json")])
        enter = QDragEnterEvent(
            QPointF(5, 5).toPoint(),
            Qt.DropAction.CopyAction,
            mime,
            Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier,
        )
        enter._mime = mime  # type: ignore[attr-defined]
    window.dragEnterEvent(enter)
    assert not enter.isAccepted()


def test_scenario_files_are_data_only(tmp_path, window):
    # A file that would run code if it were evaluated or unpickled is just refused.
    path = tmp_path / "evil.json"
    path.write_text(
        '{"title": "__import__(\'os\').system(\'touch hacked\')", "caption": "c", "config": {"seed": "1+1"}}'
    )
    assert window.files.open_scenario_file(path) is False
    assert not (Path.cwd() / "hacked").exists()
    assert "seed" in window.notice.text


def test_a_scenario_round_trips_through_a_file(window, tmp_path):
    scenario = Scenario("Round trip", "Same again.", window.config.replace(seq_len=21))
    path = tmp_path / "trip.json"
    path.write_text(scenario.to_json(), encoding="utf-8")
    assert window.files.open_scenario_file(path)
    assert window.session.scene.scenario == scenario
