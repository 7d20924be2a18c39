"""Find the data files shipped in ``resources/`` (installed as the package ``gradlab.resources``).

Never relative to the current directory: from an installed wheel or a PyInstaller bundle the files
come through ``importlib.resources``; from a source checkout that is not installed, from the
``resources/`` folder beside the ``gradlab/`` package.
"""

from __future__ import annotations

import importlib.resources
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    from importlib.resources.abc import Traversable
else:  # pragma: no cover
    from importlib.abc import Traversable


def resources_root() -> Traversable:
    """The root of the shipped resources (icons/, presets/, gradlab.desktop)."""
    try:
        root = importlib.resources.files("gradlab.resources")
        if root.joinpath("icons").is_dir():
            return root
    except ModuleNotFoundError:
        pass
    return Path(__file__).resolve().parent.parent / "resources"


def resource(*parts: str) -> Traversable:
    """One shipped file or folder, e.g. ``resource("icons", "gradlab.svg")``."""
    return resources_root().joinpath(*parts)
