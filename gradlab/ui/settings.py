"""What the window remembers between launches: geometry, theme, font scale and the last scene.

Stored with QSettings in INI format under the organisation and application name "gradlab" (on
Linux ``~/.config/gradlab/gradlab.ini``). Reading never fails: a missing, unreadable or corrupt
store, or a value of the wrong type, gives the default for that value and a debug log line.
Tests point QSettings elsewhere with ``QSettings.setPath`` before anything is stored.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from gradlab.core.files import FileKindError, check_regular
from gradlab.core.scenario import Scenario, ScenarioError, parse_scenario
from gradlab.presets import find_preset
from gradlab.ui.theme import MAX_SCALE, MIN_SCALE, THEME_NAMES

log = logging.getLogger(__name__)

ORGANISATION = "gradlab"
APPLICATION = "gradlab"


def settings_store() -> QSettings:
    """The QSettings object of the app (INI format, user scope).

    QSettings reads its files when it is made: a FIFO there would block it (and the window would
    never appear). So the files are checked first, and FileKindError (an OSError) says which one
    is not a regular file. (Qt writes the INI file through a temporary and a rename: atomic.)"""
    for path in _store_files():
        check_regular(path, for_writing=True)
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


def _store_files() -> list[str]:
    """The files QSettings reads for the app: its own and the organisation's, user and system.
    Asked of a QSettings for an organisation that has no files, so that asking cannot block."""
    probe_name = "gradlab-settings-path-probe"
    paths = []
    for scope in (QSettings.Scope.UserScope, QSettings.Scope.SystemScope):
        probe = Path(QSettings(QSettings.Format.IniFormat, scope, probe_name, probe_name).fileName())
        folder = probe.parent.parent
        paths += [str(folder / ORGANISATION / f"{APPLICATION}.ini"), str(folder / f"{ORGANISATION}.ini")]
    return paths


@dataclass(frozen=True)
class SavedScene:
    """The last scene: a shipped preset by name, or a scenario opened from a file."""

    preset: str = ""
    scenario: Scenario | None = None

    def resolve(self) -> tuple[str, Scenario] | None:
        """(preset name or "", scenario), or None if it no longer exists or is invalid."""
        if self.preset:
            try:
                preset = find_preset(self.preset)
            except KeyError:
                return None
            return preset.name, preset.scenario
        if self.scenario is not None:
            return "", self.scenario
        return None


@dataclass(frozen=True)
class WindowSettings:
    geometry: QByteArray | None = None
    theme: str = "projector"
    font_scale: float = 1.0
    controls_visible: bool = True
    scene: SavedScene = SavedScene()


def load_settings(store: QSettings | None = None) -> WindowSettings:
    """The stored settings, each value checked; anything unusable falls back to its default."""
    defaults = WindowSettings()
    try:
        store = store or settings_store()
        if store.status() != QSettings.Status.NoError:
            log.debug("settings store %s unreadable (%s): defaults", store.fileName(), store.status())
            return defaults
        geometry = store.value("window/geometry")
        if not isinstance(geometry, QByteArray) or geometry.isEmpty():
            geometry = None
        theme = store.value("window/theme", defaults.theme)
        if theme not in THEME_NAMES:
            theme = defaults.theme
        font_scale = _float(store.value("window/font_scale"), defaults.font_scale)
        if not (MIN_SCALE <= font_scale <= MAX_SCALE):
            font_scale = defaults.font_scale
        controls_visible = _bool(store.value("window/controls_visible"), defaults.controls_visible)
        scene = _scene(store.value("scene/preset"), store.value("scene/scenario_json"))
        return WindowSettings(geometry, str(theme), font_scale, controls_visible, scene)
    except FileKindError as error:  # a FIFO, a device, a folder: said, not silently dropped
        log.warning("settings not read: %s; using the defaults", error)
        return defaults
    except Exception:  # a settings store must never stop the window from opening
        log.debug("settings unreadable: defaults", exc_info=True)
        return defaults


def save_settings(settings: WindowSettings, store: QSettings | None = None) -> None:
    try:
        store = store or settings_store()
        if settings.geometry is not None:
            store.setValue("window/geometry", settings.geometry)
        store.setValue("window/theme", settings.theme)
        store.setValue("window/font_scale", float(settings.font_scale))
        store.setValue("window/controls_visible", bool(settings.controls_visible))
        store.setValue("scene/preset", settings.scene.preset)
        store.setValue(
            "scene/scenario_json",
            settings.scene.scenario.to_json()
            if settings.scene.scenario is not None and not settings.scene.preset
            else "",
        )
        store.sync()
    except FileKindError as error:
        log.warning("settings not saved: %s", error)
    except Exception:  # not being able to remember is no reason to fail
        log.warning("could not save the settings", exc_info=True)


def _float(value: object, default: float) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default


def _bool(value: object, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return default


def _scene(preset: object, scenario_json: object) -> SavedScene:
    if isinstance(preset, str) and preset:
        return SavedScene(preset=preset)
    if isinstance(scenario_json, str) and scenario_json.strip():
        try:
            # Data only, validated like any scenario file.
            return SavedScene(scenario=parse_scenario(scenario_json, source="saved scene"))
        except ScenarioError:
            log.debug("saved scene invalid: ignored", exc_info=True)
    return SavedScene()
