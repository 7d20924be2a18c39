"""The control panel: every widget reaches the Config the worker runs, and a Config reaches every widget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from patience import PATIENCE_MS
from PySide6.QtWidgets import QComboBox, QFormLayout

from gradlab.core import Config
from gradlab.ui.controls import ControlPanel
from gradlab.ui.slider_scales import (
    position_from_scale,
    position_from_seq_len,
    scale_from_position,
    seq_len_from_position,
)


def _pick(combo: QComboBox, value: str) -> None:
    combo.setCurrentIndex(combo.findData(value))


# (field, expected value, how a user sets it)
CHANGES: list[tuple[str, Any, Callable[[ControlPanel], None]]] = [
    ("cell", "gru", lambda p: _pick(p.cell, "gru")),
    ("activation", "relu", lambda p: _pick(p.activation, "relu")),
    ("w_rec_scale", 1.25, lambda p: p.scale_spin.setValue(1.25)),
    ("w_rec_scale", scale_from_position(900), lambda p: p.scale_slider.setValue(900)),
    ("seq_len", 37, lambda p: p.seq_spin.setValue(37)),
    ("seq_len", seq_len_from_position(400), lambda p: p.seq_slider.setValue(400)),
    ("clip", "norm", lambda p: _pick(p.clip, "norm")),
    ("clip_threshold", 2.5, lambda p: p.clip_threshold.setValue(2.5)),
    ("hidden_size", 12, lambda p: p.hidden_size.setValue(12)),
    ("batch_size", 3, lambda p: p.batch_size.setValue(3)),
    ("init", "he", lambda p: _pick(p.init, "he")),
    ("task", "adding", lambda p: _pick(p.task, "adding")),
    ("optimizer", "adam", lambda p: _pick(p.optimizer, "adam")),
    ("lr", 0.05, lambda p: p.lr.setValue(0.05)),
    ("weight_decay", 0.001, lambda p: p.weight_decay.setValue(0.001)),
    ("truncation", 5, lambda p: p.truncation.setValue(5)),
    ("dtype", "float32", lambda p: _pick(p.dtype, "float32")),
    ("seed", 123, lambda p: p.seed.setValue(123)),
]


@pytest.mark.parametrize(("field", "expected", "act"), CHANGES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CHANGES)])
def test_each_control_reaches_the_config_the_worker_runs(window, qtbot, field, expected, act):
    first_run = window.controller.run_id
    act(window.controls)

    def restarted_with_it() -> None:
        assert window.controller.run_id > first_run
        assert getattr(window.controller.config, field) == pytest.approx(expected)

    qtbot.waitUntil(restarted_with_it, timeout=PATIENCE_MS)
    assert window.controller.config == window.controls.config
    # ... and the new run's frames reach the screen.
    run_id = window.controller.run_id
    with qtbot.waitSignal(window.frame_displayed, timeout=PATIENCE_MS, check_params_cb=lambda r, _i: r == run_id):
        pass


def test_a_config_set_programmatically_updates_every_control_and_the_run(window, qtbot):
    config = Config(
        cell="lstm",
        activation="sigmoid",
        hidden_size=10,
        seq_len=33,
        batch_size=5,
        w_rec_scale=1.7,
        init="xavier",
        task="adding",
        optimizer="adam",
        lr=0.02,
        weight_decay=0.01,
        clip="value",
        clip_threshold=0.5,
        truncation=7,
        dtype="float32",
        seed=99,
    )
    window.set_config(config)
    panel = window.controls
    assert panel.config == config
    assert window.controller.config == config
    for name in ("cell", "activation", "init", "task", "optimizer", "clip", "dtype"):
        assert panel.widgets[name].currentData() == getattr(config, name)  # type: ignore[attr-defined]
    assert panel.scale_spin.value() == pytest.approx(1.7)
    assert panel.scale_slider.value() == position_from_scale(1.7)
    assert panel.seq_spin.value() == 33
    assert panel.seq_slider.value() == position_from_seq_len(33)
    assert panel.hidden_size.value() == 10
    assert panel.batch_size.value() == 5
    assert panel.lr.value() == pytest.approx(0.02)
    assert panel.weight_decay.value() == pytest.approx(0.01)
    assert panel.clip_threshold.value() == pytest.approx(0.5)
    assert panel.truncation.value() == 7
    assert panel.seed.value() == 99
    # Gated cells have fixed gate nonlinearities.
    assert not panel.activation.isEnabled()
    assert not panel.activation_note.isHidden()
    # Showing a Config is not a user change: no extra restart was queued.
    run_id = window.controller.run_id
    qtbot.wait(150)
    assert window.controller.run_id == run_id


def test_truncation_off_is_none(window, qtbot):
    window.controls.truncation.setValue(4)
    qtbot.waitUntil(lambda: window.controller.config.truncation == 4, timeout=PATIENCE_MS)
    window.controls.truncation.setValue(0)
    qtbot.waitUntil(lambda: window.controller.config.truncation is None, timeout=PATIENCE_MS)


def test_clip_threshold_enabled_only_when_clipping(qtbot):
    panel = ControlPanel(Config())
    qtbot.addWidget(panel)
    assert not panel.clip_threshold.isEnabled()
    _pick(panel.clip, "norm")
    assert panel.clip_threshold.isEnabled()


def test_a_slider_drag_does_not_queue_a_backlog_of_runs(qtbot):
    panel = ControlPanel(Config())
    qtbot.addWidget(panel)
    emitted: list[Config] = []
    panel.config_changed.connect(emitted.append)
    for position in range(500, 700, 2):  # 100 positions in one quick drag
        panel.scale_slider.setValue(position)
    qtbot.waitUntil(lambda: bool(emitted) and emitted[-1].w_rec_scale == scale_from_position(698), timeout=PATIENCE_MS)
    qtbot.wait(150)
    assert len(emitted) <= 5
    assert emitted[-1].w_rec_scale == scale_from_position(698)


@pytest.mark.parametrize("position", [0, 1, 250, 499, 500, 501, 750, 1000])
def test_scale_slider_mapping_round_trips_and_is_fine_near_one(position):
    assert position_from_scale(scale_from_position(position)) == position
    assert scale_from_position(500) == 1.0
    assert scale_from_position(0) == pytest.approx(0.05)
    assert scale_from_position(1000) == pytest.approx(3.0)
    assert scale_from_position(501) - 1.0 < 0.003


def test_sequence_slider_is_logarithmic():
    assert seq_len_from_position(0) == 2
    assert seq_len_from_position(1000) == 2000
    assert 55 <= seq_len_from_position(500) <= 70
    for length in (2, 10, 100, 1000, 2000):
        assert abs(seq_len_from_position(position_from_seq_len(length)) - length) <= max(1, length * 0.01)


@pytest.mark.qt_log_ignore(r"This plugin does not support propagateSizeHints\(\)")  # offscreen, shown
def test_depth_mode_names_its_controls_and_shows_its_own_rows(qtbot):
    deep = Config.from_dict({"cell": "mlp", "hidden_size": 16, "seq_len": 50, "task": "spirals"})
    panel = ControlPanel(deep)
    qtbot.addWidget(panel)
    panel.show()
    emitted: list[Config] = []
    panel.config_changed.connect(emitted.append)

    def row(widget):  # type: ignore[no-untyped-def]
        """The form and the field of the row that holds ``widget`` (a slider and spin box pair holds it)."""
        for form in panel.findChildren(QFormLayout):
            for field in (widget, widget.parentWidget()):
                if form.getWidgetPosition(field)[0] >= 0:
                    return form, field
        raise LookupError(widget)

    def label(widget) -> str:  # type: ignore[no-untyped-def]
        form, field = row(widget)
        return form.labelForField(field).text()

    def shown(widget) -> bool:  # type: ignore[no-untyped-def]
        form, field = row(widget)
        return form.isRowVisible(field)

    assert label(panel.seq_spin) == "Depth L"
    assert label(panel.scale_spin) == "Weight scale"
    assert label(panel.hidden_size) == "Width H"
    assert shown(panel.norm) and not shown(panel.truncation)

    panel.residual_root.click()
    assert emitted[-1].residual == pytest.approx(1 / 50**0.5, abs=1e-4)
    _pick(panel.norm, "layer")
    assert emitted[-1].norm == "layer"
    panel.bias_scale.setValue(0.3)
    assert emitted[-1].bias_scale == pytest.approx(0.3)
    panel.bias_scale.setValue(0.0)
    assert emitted[-1].bias_scale is None and panel.bias_scale.text() == "default"

    panel.set_config(Config())  # a recurrent cell: its own names, no depth-mode rows
    assert label(panel.seq_spin) == "Length T"
    assert not shown(panel.norm) and shown(panel.truncation)
