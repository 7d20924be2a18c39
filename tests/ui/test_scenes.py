"""Scenes: every preset from the menu, the toolbar and its key; the caption; keys without conflicts; help."""

from __future__ import annotations

import pytest
from patience import PATIENCE_MS
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

from gradlab.core.scenario import Scenario
from gradlab.presets import presets
from gradlab.ui.app import create_window, launch


def _keys(action) -> list[str]:  # type: ignore[no-untyped-def]
    return [k.toString(QKeySequence.SequenceFormat.PortableText) for k in action.shortcuts()]


def test_every_scene_is_in_the_menu_and_toolbar_with_its_key(window):
    names = [p.name for p in presets()]
    assert len(names) >= 10
    actions = window.commands.scenes
    assert [a.data() for a in actions] == names
    for preset, action in zip(presets(), actions):
        assert preset.scenario.title in action.text()
        assert _keys(action) == ([preset.key] if preset.key else [])
    assert [_keys(a)[0] for a in actions[:10]] == list("1234567890")
    depth = [a for a, p in zip(actions, presets()) if p.act == 1]
    assert [_keys(a)[0] for a in depth[:10]] == [f"Shift+{d}" for d in "1234567890"]
    assert depth[0].text().startswith("⇧1")
    combo_names = [window.scene_combo.itemData(i) for i in range(window.scene_combo.count())]
    assert combo_names[:-1] == names
    scenes_menu = [m for m in window.menuBar().actions() if m.text() == "S&cenes"][0].menu()
    assert all(action in scenes_menu.actions() for action in actions)
    # The two acts, a separator between them.
    listed = scenes_menu.actions()
    first_depth = listed.index(depth[0])
    assert listed[first_depth - 1].isSeparator()
    assert not any(a.isSeparator() for a in listed[: first_depth - 1])


def test_each_scene_key_loads_its_scene_and_shows_its_caption(window, qtbot, focused, wait_frames):
    focused(window)
    keyed = [(index, preset) for index, preset in enumerate(presets()) if preset.key is not None]
    for index, preset in keyed:
        shifted = preset.key.startswith("Shift+")
        modifier = Qt.KeyboardModifier.ShiftModifier if shifted else Qt.KeyboardModifier.NoModifier
        qtbot.keyClick(window, preset.key[-1], modifier)
        assert window.controller.config == preset.scenario.config, preset.name
        assert window.controls.config == preset.scenario.config, preset.name
        assert window.caption.title == preset.scenario.title
        assert window.caption.caption == preset.scenario.caption
        assert not window.caption.is_custom
        assert window.commands.scenes[index].isChecked()
        assert window.scene_combo.currentData() == preset.name
    wait_frames(window, 1)
    assert len(window.gradient_plot.latest_curve.yData) == preset.scenario.config.seq_len


def test_scenes_without_a_digit_come_from_the_menu_and_the_toolbar(window):
    last = presets()[-1]
    assert last.key is None
    window.commands.scenes[-1].trigger()
    assert window.controller.config == last.scenario.config
    assert window.caption.title == last.scenario.title
    window.scene_combo.activated.emit(0)  # as when the user picks the first entry
    assert window.controller.config == presets()[0].scenario.config


def test_page_down_and_up_step_through_the_scenes(window, qtbot, focused):
    focused(window)
    qtbot.keyClick(window, "1")
    qtbot.keyClick(window, Qt.Key.Key_PageDown)
    assert window.session.scene.preset == presets()[1].name
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    qtbot.keyClick(window, Qt.Key.Key_PageUp)
    assert window.session.scene.preset == presets()[-1].name


def test_changing_a_control_turns_the_caption_into_custom_and_back(window, qtbot):
    scene = presets()[0]
    window.load_preset(scene.name)
    window.controls.cell.setCurrentIndex(window.controls.cell.findData("lstm"))
    assert window.caption.is_custom
    assert "LSTM" in window.caption.caption
    assert scene.scenario.caption not in window.caption.caption
    assert window.scene_combo.currentData() == ""
    assert not any(a.isChecked() for a in window.commands.scenes)
    window.controls.cell.setCurrentIndex(window.controls.cell.findData("rnn"))
    assert not window.caption.is_custom
    assert window.caption.caption == scene.scenario.caption


def test_typing_digits_into_a_spin_box_edits_it_and_keeps_the_scene(window, qtbot, focused):
    focused(window)
    window.load_preset(presets()[0].name)
    spin = window.controls.seq_spin
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=PATIENCE_MS)
    spin.selectAll()
    qtbot.keyClicks(spin, "37")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert window.controls.config.seq_len == 37
    assert window.session.scene.preset == presets()[0].name  # "3" and "7" did not switch scenes
    assert window.caption.is_custom


def test_a_window_opened_on_a_scenario_shows_its_title_and_caption(qtbot, small_config):
    scenario = Scenario("My scene", "Look at the slope.", small_config)
    window = create_window(scenario=scenario)
    qtbot.addWidget(window)
    assert window.caption.title == "My scene"
    assert window.caption.caption == "Look at the slope."
    assert window.controls.config == small_config
    window.close()


def test_a_config_equal_to_a_preset_is_shown_as_that_scene(qtbot):
    preset = presets()[4]
    window = create_window(preset.scenario.config)
    qtbot.addWidget(window)
    assert window.caption.title == preset.scenario.title
    window.close()


def test_launch_with_a_scenario_runs_it(qtbot, small_config):
    status = launch(scenario=Scenario("Launched", "From a file.", small_config), exit_after_frames=2)
    assert status == 0


# ---- keys --------------------------------------------------------------------------------------
EXPECTED_KEYS = {
    "open_scenario": ["Ctrl+O"],
    "save_scene": ["Ctrl+Shift+S"],
    "export_png": ["Ctrl+E"],
    "export_pdf": ["Ctrl+Shift+E"],
    "record_clip": ["Ctrl+Shift+R"],
    "export_csv": ["Ctrl+D"],
    "export_npz": ["Ctrl+Shift+D"],
    "quit": ["Ctrl+Q"],
    "play": ["Space"],
    "step": ["S"],
    "reset": ["R"],
    "next_scene": ["PgDown"],
    "previous_scene": ["PgUp"],
    "full_screen": ["F11"],
    "bigger": ["Ctrl+=", "Ctrl++"],
    "smaller": ["Ctrl+-"],
    "normal_size": ["Ctrl+0"],
    "hide_controls": ["H"],
    "phase_map": ["M"],
    "layers": ["L"],
    "why": ["Y"],
    "toggle_theme": ["T"],
    "pin": ["P"],
    "clear_pins": ["Shift+P"],
    "escape": ["Esc"],
    "help": ["F1", "?"],
}


def test_the_shortcuts_are_the_documented_ones_and_never_clash(window):
    for name, keys in EXPECTED_KEYS.items():
        assert _keys(getattr(window.commands, name)) == keys, name
    seen: dict[str, str] = {}
    for action in window.commands.all():
        for key in _keys(action):
            assert key not in seen, f"{key} is bound to both {seen[key]!r} and {action.text()!r}"
            seen[key] = action.text()


def test_every_action_is_in_a_menu_and_on_the_window(window):
    in_menus = {
        action
        for menu_action in window.menuBar().actions()
        for action in menu_action.menu().actions()
        if not action.isSeparator()
    }
    assert set(window.commands.all()) <= in_menus
    assert set(window.commands.all()) <= set(QMainWindowActions(window))


def QMainWindowActions(window):  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMainWindow

    return QMainWindow.actions(window)


@pytest.mark.parametrize("key", [Qt.Key.Key_F1, "?"])
def test_the_help_overlay_lists_every_shortcut(window, qtbot, focused, key):
    focused(window)
    qtbot.keyClick(window, key)
    overlay = window.help_overlay
    assert overlay.isVisible()
    listed = {keys for keys, _ in overlay.rows}
    for action in window.commands.all():
        if action.shortcuts():
            from gradlab.ui.help_overlay import shortcut_text

            assert shortcut_text(action) in listed
    qtbot.keyClick(overlay, Qt.Key.Key_Escape)
    assert overlay.isHidden()
