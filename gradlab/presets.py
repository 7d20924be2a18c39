"""The lecture's scenes: the scenario files shipped in ``resources/presets/``, in file-name order."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ._resources import resource
from .core.scenario import Scenario, parse_scenario

# Keys 1 … 9 then 0 select the first ten scenes.
SCENE_KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0")


@dataclass(frozen=True)
class Preset:
    name: str  # file name without .json, e.g. "01-vanishing-tanh"
    key: str | None  # keyboard shortcut, "1" … "0", or None
    scenario: Scenario


@cache
def presets() -> tuple[Preset, ...]:
    """Every shipped scene, validated (a broken preset file is a packaging bug: it raises)."""
    folder = resource("presets")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name)
    return tuple(
        Preset(
            name=f.name.removesuffix(".json"),
            key=SCENE_KEYS[index] if index < len(SCENE_KEYS) else None,
            scenario=parse_scenario(f.read_bytes(), source=f.name),
        )
        for index, f in enumerate(files)
    )


def default_preset() -> Preset:
    """The scene the window opens on: the vanishing gradient."""
    return presets()[0]


def find_preset(name: str) -> Preset:
    """The shipped scene called ``name`` (file name without .json); KeyError if there is none."""
    for preset in presets():
        if preset.name == name:
            return preset
    raise KeyError(f"no scene called {name!r}")


def preset_of(config: object) -> Preset | None:
    """The shipped scene whose Config is exactly ``config``, or None."""
    for preset in presets():
        if preset.scenario.config == config:
            return preset
    return None


def neighbour(name: str, offset: int) -> Preset:
    """The scene ``offset`` places after ``name`` (wrapping); from no scene, +1 is the first and -1 the last."""
    names = [p.name for p in presets()]
    index = names.index(name) if name in names else (-1 if offset > 0 else 0)
    return presets()[(index + offset) % len(names)]
