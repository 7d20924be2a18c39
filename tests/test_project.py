"""The project's own files agree with each other: packaging list, version, README commands."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import gradlab

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parents[1]


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))


def test_every_package_is_listed_for_the_wheel():
    listed = set(pyproject()["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "gradlab").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    data_folders = {"gradlab.resources", "gradlab.resources.icons", "gradlab.resources.presets"}
    assert on_disk | data_folders == listed


def test_version_has_one_source():
    assert re.fullmatch(r"\d+\.\d+\.\d+", gradlab.__version__)
    assert "version" in pyproject()["project"]["dynamic"]


def test_readme_test_command_is_what_ci_runs():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- test-command -->" in readme
    assert "readme_command test-command" in ci


def test_resources_are_found_without_the_current_directory(tmp_path, monkeypatch):
    from gradlab._resources import resource

    monkeypatch.chdir(tmp_path)
    assert resource("icons", "gradlab.svg").is_file()
    assert resource("gradlab.desktop").is_file()
