"""Settings: geometry, theme, font scale and the last scene round-trip; a corrupt or missing store
and wrong-typed values fall back to the defaults without complaint."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QByteArray

from gradlab.core.scenario import Scenario
from gradlab.presets import presets
from gradlab.ui import app as app_module
from gradlab.ui.settings import SavedScene, WindowSettings, load_settings, save_settings, settings_store


def test_the_tests_use_a_private_store(private_settings):
    assert Path(settings_store().fileName()).is_relative_to(private_settings)


def test_a_missing_store_gives_the_defaults():
    assert load_settings() == WindowSettings()


def test_settings_round_trip():
    scene = SavedScene(preset=presets()[3].name)
    settings = WindowSettings(QByteArray(b"geometry-bytes"), "dark", 1.75, False, scene)
    save_settings(settings)
    assert load_settings() == settings
    opened = Scenario("From a file", "Opened by hand.", presets()[0].scenario.config.replace(seq_len=33))
    save_settings(WindowSettings(scene=SavedScene(scenario=opened)))
    assert load_settings().scene.resolve() == ("", opened)


def test_a_corrupt_store_gives_the_defaults():
    path = Path(settings_store().fileName())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x00\xff[window\n=geometry=\x01\x02 garbage ]]]\n" * 50)
    assert load_settings() == WindowSettings()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("window/theme", "neon"),
        ("window/theme", 7),
        ("window/font_scale", "huge"),
        ("window/font_scale", 99.0),
        ("window/font_scale", "nan"),
        ("window/controls_visible", "maybe"),
        ("window/geometry", "not bytes"),
        ("scene/preset", "99-no-such-scene"),
        ("scene/preset", 12),
        ("scene/scenario_json", '{"title": "x"'),
        ("scene/scenario_json", '{"title": "t", "caption": "c", "config": {"hidden_size": -1}}'),
    ],
)
def test_a_wrong_value_falls_back_to_its_default(key, value):
    store = settings_store()
    store.setValue(key, value)
    store.sync()
    settings = load_settings()
    defaults = WindowSettings()
    assert settings.theme == defaults.theme
    assert settings.font_scale == defaults.font_scale
    assert settings.controls_visible == defaults.controls_visible
    assert settings.geometry is None
    assert settings.scene.resolve() is None


def test_closing_the_window_remembers_and_launch_restores(qtbot, monkeypatch, wait_frames):
    from gradlab.ui.app import application, create_window

    application()
    window = create_window()
    qtbot.addWidget(window)
    window.resize(1024, 650)  # the offscreen screen is 1024 wide; the default height is larger
    window.load_preset(presets()[5].name)
    window.set_theme("dark")
    window.set_controls_visible(False)
    window.set_font_scale(1.15)  # within the largest this window holds without the controls
    window.close()
    stored = load_settings()
    assert (stored.theme, stored.controls_visible, stored.scene.preset) == ("dark", False, presets()[5].name)
    assert stored.font_scale == pytest.approx(1.15)

    seen = []
    real_create = app_module.create_window

    def capture(*args, **kwargs):  # type: ignore[no-untyped-def]
        created = real_create(*args, **kwargs)
        seen.append(created)
        return created

    monkeypatch.setattr(app_module, "create_window", capture)
    assert app_module.launch(exit_after_frames=1) == 0
    restored = seen[0]
    assert restored.theme.name == "dark"
    assert restored.theme.scale == pytest.approx(1.15)
    assert not restored.controls_visible
    assert restored.session.scene.preset == presets()[5].name
    assert restored.caption.title == presets()[5].scenario.title
    assert restored.size().height() == 650
    restored.set_theme("projector")  # the application palette is shared by later tests


def test_an_explicit_scenario_wins_over_the_remembered_scene(monkeypatch, small_config):
    save_settings(WindowSettings(scene=SavedScene(preset=presets()[2].name)))
    seen = []
    real_create = app_module.create_window
    monkeypatch.setattr(app_module, "create_window", lambda *a, **k: seen.append(real_create(*a, **k)) or seen[-1])
    assert app_module.launch(scenario=Scenario("Given", "On the command line.", small_config), exit_after_frames=1) == 0
    assert seen[0].caption.title == "Given"
