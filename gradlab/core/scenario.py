"""Scenario files: a title, a one-sentence caption and a Config, as JSON. Data only: parsed with
``json``, validated field by field, never executed or unpickled."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import Config

MAX_BYTES = 256 * 1024  # a scenario is a few hundred bytes; anything this large is not one
KEYS = ("title", "caption", "config")
MAX_TEXT = {"title": 120, "caption": 400}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class Scenario:
    title: str
    caption: str
    config: Config

    def to_dict(self) -> dict[str, Any]:
        return {"title": self.title, "caption": self.caption, "config": self.config.to_dict()}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def parse_scenario(text: str | bytes, source: str = "scenario") -> Scenario:
    """Validate a scenario given as JSON text; raises ScenarioError saying what is wrong."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise ScenarioError(f"{source}: too large ({len(text)} bytes; a scenario is at most {MAX_BYTES})")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as error:
            raise ScenarioError(f"{source}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if len(text) > MAX_BYTES:
        raise ScenarioError(f"{source}: too large ({len(text)} characters; a scenario is at most {MAX_BYTES})")
    if not text.strip():
        raise ScenarioError(f"{source}: the file is empty")
    try:
        data = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as error:
        raise ScenarioError(
            f"{source}: not valid JSON ({error.msg} at line {error.lineno}, column {error.colno})"
        ) from None
    except ValueError as error:
        raise ScenarioError(f"{source}: {error}") from None
    except RecursionError:
        raise ScenarioError(f"{source}: nested too deeply to be a scenario") from None
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a JSON object with {', '.join(KEYS)}; got {type(data).__name__}")
    missing = [k for k in KEYS if k not in data]
    if missing:
        raise ScenarioError(f"{source}: missing field(s): {', '.join(missing)}")
    unknown = sorted(str(k) for k in data if k not in KEYS)
    if unknown:
        raise ScenarioError(f"{source}: unknown field(s): {', '.join(unknown)}; allowed: {', '.join(KEYS)}")
    for key, limit in MAX_TEXT.items():
        value = data[key]
        if not isinstance(value, str) or not value.strip():
            raise ScenarioError(f"{source}: {key} must be a non-empty string")
        if len(value) > limit:
            raise ScenarioError(f"{source}: {key} is {len(value)} characters long; at most {limit}")
    if not isinstance(data["config"], dict):
        raise ScenarioError(f"{source}: config must be an object of fields")
    try:
        config = Config.from_dict(data["config"])
    except (ValueError, TypeError) as error:
        raise ScenarioError(f"{source}: config: {error}") from None
    return Scenario(title=data["title"].strip(), caption=data["caption"].strip(), config=config)


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file."""
    path = Path(path)
    try:
        if path.is_dir():
            raise ScenarioError(f"{path}: is a folder, not a scenario file")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise ScenarioError(f"{path}: cannot be read ({error.strerror or error})") from None
    return parse_scenario(data, source=str(path))


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid number here")
