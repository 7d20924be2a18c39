"""Scenario files: a title, a one-sentence caption and a Config, as JSON. Data only: parsed with
``json``, validated field by field, never executed or unpickled."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import FIELDS, Config
from .files import FileKindError, atomic_write_text, bounded, describe_path, quote, read_bytes

MAX_BYTES = 256 * 1024  # a scenario is a few hundred bytes; anything this large is not one
KEYS = ("title", "caption", "config")
OPTIONAL_KEYS = ("starts_paused",)  # true: the window shows the scene's first update and waits
MAX_TEXT = {"title": 120, "caption": 400}
# Lines as well as characters: 60 newlines are within 120 characters but fill the screen.
MAX_LINES = {"title": 1, "caption": 3}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message says what is wrong, in one bounded line
    (a 200,000-character value must not become a 200,000-character notice)."""

    def __init__(self, message: str) -> None:
        super().__init__(bounded(message))


@dataclass(frozen=True)
class Scenario:
    title: str
    caption: str
    config: Config
    starts_paused: bool = False

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"title": self.title, "caption": self.caption, "config": self.config.to_dict()}
        if self.starts_paused:
            data["starts_paused"] = True
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def parse_scenario(text: str | bytes, source: str = "scenario") -> Scenario:
    """Validate a scenario given as JSON text; raises ScenarioError saying what is wrong."""
    data = _json_object(_decoded(text, source), source)
    missing = [k for k in KEYS if k not in data]
    if missing:
        raise ScenarioError(f"{source}: missing field(s): {', '.join(missing)}")
    unknown = sorted(str(k) for k in data if k not in KEYS + OPTIONAL_KEYS)
    if unknown:
        allowed = ", ".join(KEYS + OPTIONAL_KEYS)
        raise ScenarioError(f"{source}: unknown field(s): {_keys(unknown)}; allowed: {allowed}")
    starts_paused = data.get("starts_paused", False)
    if not isinstance(starts_paused, bool):
        raise ScenarioError(f"{source}: starts_paused must be true or false")
    title, caption = (_text(data, key, source) for key in ("title", "caption"))
    return Scenario(title=title, caption=caption, config=_config(data["config"], source), starts_paused=starts_paused)


def _decoded(text: str | bytes, source: str) -> str:
    """``text`` as a string of at most MAX_BYTES that is not blank."""
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
    return text


def _json_object(text: str, source: str) -> dict[str, Any]:
    """The JSON object ``text`` holds (NaN and Infinity refused)."""
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
    return data


def _text(data: dict[str, Any], key: str, source: str) -> str:
    """The title or the caption, stripped: a non-empty string within its characters and lines."""
    value, limit = data[key], MAX_TEXT[key]
    if not isinstance(value, str) or not value.strip():
        raise ScenarioError(f"{source}: {key} must be a non-empty string")
    if len(value) > limit:
        raise ScenarioError(f"{source}: {key} is {len(value)} characters long; at most {limit}")
    lines = len(value.strip().splitlines())
    if lines > MAX_LINES[key]:
        allowed = "one line" if MAX_LINES[key] == 1 else f"at most {MAX_LINES[key]} lines"
        raise ScenarioError(f"{source}: {key} has {lines} lines; {allowed}")
    return value.strip()


def _config(fields: object, source: str) -> Config:
    """The Config of the scenario's "config" object."""
    if not isinstance(fields, dict):
        raise ScenarioError(f"{source}: config must be an object of fields")
    unknown = sorted(str(k) for k in fields if k not in FIELDS)
    if unknown:
        raise ScenarioError(f"{source}: config: unknown field(s): {_keys(unknown)}")
    try:
        return Config.from_dict(fields)
    except (ValueError, TypeError) as error:
        raise ScenarioError(f"{source}: config: {error}") from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file. Only a regular file is opened: a FIFO would block
    until something writes to it (freezing the window), a device would never end."""
    if not str(path):
        raise ScenarioError("the scenario's file name is empty")
    source = describe_path(path)
    try:
        data = read_bytes(path, MAX_BYTES)
    except FileKindError as error:
        raise ScenarioError(f"{error}; a scenario is a JSON file") from None
    except OSError as error:
        raise ScenarioError(f"{source}: cannot be read ({error.strerror or error})") from None
    return parse_scenario(data, source=source)


def save_scenario(scenario: Scenario, path: str | Path) -> Path:
    """Write ``scenario`` to ``path`` atomically (a full disk leaves the old file as it was),
    after checking that what is written opens again. Raises OSError (FileKindError for a FIFO,
    a device or a folder)."""
    text = scenario.to_json()
    parse_scenario(text, source=describe_path(path))
    return atomic_write_text(path, text)


def _keys(names: list[str], shown: int = 5) -> str:
    """Unknown keys for a message: a few of them, each quoted and elided."""
    listed = ", ".join(name if len(name) <= 40 and name.isprintable() else quote(name, 40) for name in names[:shown])
    return listed + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid number here")
