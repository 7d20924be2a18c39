"""The lecture's scenes: the scenario files shipped in ``resources/presets/``, in file-name order."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ._resources import resource
from .core.scenario import Scenario, parse_scenario

# The lecture's two acts: the recurrent networks, then "not only RNNs" (depth mode: the scenes of
# the deep feed-forward net). Keys 1 … 9 then 0 select the first ten scenes of the first act,
# Shift+1 … Shift+0 the first ten of the second.
ACTS = ("Recurrent networks", "Not only RNNs: depth")
DIGITS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "0")
SCENE_KEYS = (DIGITS, tuple(f"Shift+{digit}" for digit in DIGITS))


@dataclass(frozen=True)
class Preset:
    name: str  # file name without .json, e.g. "01-vanishing-tanh"
    key: str | None  # keyboard shortcut, "1" … "0" or "Shift+1" … "Shift+0", or None
    scenario: Scenario
    act: int = 0  # index into ACTS


def _act(scenario: Scenario) -> int:
    return 1 if scenario.config.cell == "mlp" else 0


@cache
def presets() -> tuple[Preset, ...]:
    """Every shipped scene, validated (a broken preset file is a packaging bug: it raises)."""
    folder = resource("presets")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".json")), key=lambda f: f.name)
    scenes: list[Preset] = []
    for f in files:
        scenario = parse_scenario(f.read_bytes(), source=f.name)
        act = _act(scenario)
        index = sum(1 for scene in scenes if scene.act == act)  # its place in its act
        keys = SCENE_KEYS[act]
        key = keys[index] if index < len(keys) else None
        scenes.append(Preset(name=f.name.removesuffix(".json"), key=key, scenario=scenario, act=act))
    # Each act in one piece (a depth scene's file name sorts after every recurrent one).
    return tuple(sorted(scenes, key=lambda scene: scene.act))


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
