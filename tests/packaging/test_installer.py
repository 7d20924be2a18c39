"""Installer smoke test: build the .deb, check what is in it, run the app from it headless.

    python -m pytest -m slow tests/packaging

builds with ``bash packaging/build_deb.sh`` (its own venv under build/, ~3 min from nothing on two
cores, ~1.5 min once that venv exists). To test a package that is already built instead:

    GRADLAB_TEST_DEB=dist/gradlab_0.1.0_amd64.deb python -m pytest -m slow tests/packaging
    GRADLAB_REUSE_DEB=1 ...   # reuse dist/gradlab_<version>_<arch>.deb if newer than every source

Needs dpkg-deb, binutils and the system libraries listed in packaging/linux/depends.txt (the app
is started); desktop-file-validate (desktop-file-utils) for the desktop entry check.
"""

from __future__ import annotations

import faulthandler
import json
import os
import runpy
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VERSION = runpy.run_path(str(ROOT / "packaging" / "version.py"))["read_version"]()
BUILD_TIMEOUT_S = 1800
RUN_TIMEOUT_S = 90
ICON_SIZES = (16, 32, 48, 64, 128, 256)
# What a bare Debian 12 lacks for the window (DESIGN.md §6): the package must pull these in.
REQUIRED_DEPENDS = (
    "libc6",
    "libgl1",
    "libegl1",
    "libfontconfig1",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-shape0",
    "libdbus-1-3",
    "libglib2.0-0",
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not sys.platform.startswith("linux") or shutil.which("dpkg-deb") is None,
        reason="the .deb is built and checked on Debian/Ubuntu only (needs dpkg-deb)",
    ),
]


def _arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout.strip()


def _newest_source_mtime() -> float:
    newest = 0.0
    for folder in ("gradlab", "resources", "packaging"):
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                newest = max(newest, path.stat().st_mtime)
    return max(newest, (ROOT / "pyproject.toml").stat().st_mtime)


def _build() -> Path:
    # The build runs for minutes inside this fixture; pytest's faulthandler_timeout (120 s) would
    # dump every thread's stack meanwhile. The subprocess timeout below is the watchdog here.
    faulthandler.cancel_dump_traceback_later()
    log = ROOT / "build" / "build_deb.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with log.open("w") as out:
        result = subprocess.run(
            ["bash", str(ROOT / "packaging" / "build_deb.sh")],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=BUILD_TIMEOUT_S,
        )
    if result.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-60:])
        pytest.fail(f"build_deb.sh failed ({result.returncode}); end of {log}:\n{tail}")
    print(f"build_deb.sh: {time.monotonic() - started:.0f} s, log in {log}")
    return ROOT / "dist" / f"gradlab_{VERSION}_{_arch()}.deb"


@pytest.fixture(scope="module")
def deb() -> Path:
    """The .deb under test: GRADLAB_TEST_DEB, a fresh dist/ one with GRADLAB_REUSE_DEB=1, or built now."""
    given = os.environ.get("GRADLAB_TEST_DEB")
    if given:
        path = Path(given).resolve()
        assert path.is_file(), f"GRADLAB_TEST_DEB={given} does not exist"
        return path
    existing = ROOT / "dist" / f"gradlab_{VERSION}_{_arch()}.deb"
    if (
        os.environ.get("GRADLAB_REUSE_DEB") == "1"
        and existing.is_file()
        and existing.stat().st_mtime > _newest_source_mtime()
    ):
        return existing
    path = _build()
    assert path.is_file(), f"build_deb.sh reported success but wrote no {path}"
    return path


@pytest.fixture(scope="module")
def extracted(deb: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package's files, unpacked with dpkg -x (not installed)."""
    root = tmp_path_factory.mktemp("deb-root")
    subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    return root


def _fields(deb: Path) -> dict[str, str]:
    names = ["Package", "Version", "Architecture", "Depends", "Installed-Size", "Description"]
    out = subprocess.run(["dpkg-deb", "-f", str(deb), *names], capture_output=True, text=True, check=True).stdout
    fields: dict[str, str] = {}
    key = None
    for line in out.splitlines():
        if line[:1] in (" ", "\t") and key:
            fields[key] += "\n" + line.strip()
        else:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def _app_env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp_path),  # settings, caches and logs go here, not into the tester's home
        XDG_CONFIG_HOME=str(tmp_path / "config"),
        XDG_CACHE_HOME=str(tmp_path / "cache"),
        XDG_DATA_HOME=str(tmp_path / "data"),
    )
    env.pop("PYTHONPATH", None)  # the frozen app must not see the source tree
    env.pop("GRADLAB_EXIT_AFTER_FRAMES", None)
    return env


def test_package_contents(deb: Path) -> None:
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    paths = {line.split()[5].removeprefix(".") for line in listing.splitlines()}
    modes = {line.split()[5].removeprefix("."): line.split()[0] for line in listing.splitlines()}

    expected = {
        "/opt/gradlab/gradlab",
        "/usr/bin/gradlab",
        "/usr/share/applications/gradlab.desktop",
        "/usr/share/icons/hicolor/scalable/apps/gradlab.svg",
        "/opt/gradlab/_internal/gradlab/resources/gradlab.desktop",
        "/opt/gradlab/_internal/gradlab/resources/icons/gradlab.svg",
        "/opt/gradlab/_internal/PySide6/Qt/plugins/platforms/libqxcb.so",
        "/opt/gradlab/_internal/PySide6/Qt/plugins/platforms/libqoffscreen.so",
    } | {f"/usr/share/icons/hicolor/{n}x{n}/apps/gradlab.png" for n in ICON_SIZES}
    assert expected <= paths, f"missing from the package: {sorted(expected - paths)}"
    assert any(
        p.startswith("/opt/gradlab/_internal/gradlab/resources/presets/") and p.endswith(".json") for p in paths
    ), "no presets in the bundle"
    for executable in ("/opt/gradlab/gradlab", "/usr/bin/gradlab"):
        assert modes[executable] == "-rwxr-xr-x", f"{executable}: {modes[executable]}"
    assert all(line.split()[1] == "root/root" for line in listing.splitlines())

    # Slim: no unused Qt parts, no bytecode caches, no system libraries copied into the bundle.
    unwanted = (
        "/__pycache__/",
        "/Qt/translations/",
        "/Qt/qml/",
        "plugins/wayland",
        "libqgtk3",
        "libQt6Quick",
        "libQt6Qml",
        "libQt6Network",
        "libQt6Pdf",
        "/libstdc++.so",
        "/libX11.so",
        "/libglib-2.0.so",
        "/libfontconfig.so",
    )
    found = sorted(p for p in paths if any(u in p for u in unwanted))
    assert not found, f"should not be in the package: {found[:20]}"


def test_control_fields(deb: Path) -> None:
    fields = _fields(deb)
    assert fields["Package"] == "gradlab"
    assert fields["Version"] == VERSION
    assert fields["Architecture"] == _arch()
    assert int(fields["Installed-Size"]) > 10_000  # KiB: a whole Python + Qt
    assert fields["Description"]
    depends = {item.strip().split(" ")[0] for item in fields["Depends"].split(",")}
    missing = [name for name in REQUIRED_DEPENDS if name not in depends]
    assert not missing, f"Depends lacks {missing}: {fields['Depends']}"
    assert "libc6 (>= " in fields["Depends"]


def test_depends_cover_every_linked_system_library(deb: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "linux" / "check_depends.py"), "--json", str(deb)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    report = json.loads(result.stdout)
    assert report["missing_from_depends"] == [], report
    if report["not_found_on_this_machine"]:
        # Only a machine with the libraries installed can say which package provides them.
        pytest.skip(
            f"not installed here, so not checked: {report['not_found_on_this_machine']} "
            "(apt-get install $(grep -vE '^\\s*(#|$)' packaging/linux/depends.txt))"
        )


def test_maintainer_scripts(deb: Path, tmp_path: Path) -> None:
    control = tmp_path / "DEBIAN"
    subprocess.run(["dpkg-deb", "-e", str(deb), str(control)], check=True)
    for script in ("postinst", "postrm"):
        path = control / script
        assert path.is_file() and os.access(path, os.X_OK), f"{script} missing or not executable"
        subprocess.run(["sh", "-n", str(path)], check=True)  # syntax only: never run it here


def test_desktop_entry(extracted: Path) -> None:
    desktop = extracted / "usr" / "share" / "applications" / "gradlab.desktop"
    assert desktop.read_bytes() == (ROOT / "resources" / "gradlab.desktop").read_bytes()
    entries = dict(line.split("=", 1) for line in desktop.read_text().splitlines() if "=" in line)
    assert entries["Exec"].split()[0] == "gradlab"
    assert entries["Icon"] == "gradlab"
    assert entries["Type"] == "Application"
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("desktop-file-validate not installed (apt install desktop-file-utils)")
    result = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_launcher_runs_the_bundle(extracted: Path) -> None:
    launcher = (extracted / "usr" / "bin" / "gradlab").read_text()
    assert launcher.startswith("#!/bin/sh")
    assert 'exec /opt/gradlab/gradlab "$@"' in launcher


def test_version(extracted: Path, tmp_path: Path) -> None:
    result = subprocess.run(
        [str(extracted / "opt" / "gradlab" / "gradlab"), "--version"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=_app_env(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"gradlab {VERSION}"


def test_window_shows_frames_and_exits_by_itself(extracted: Path, tmp_path: Path) -> None:
    app = extracted / "opt" / "gradlab" / "gradlab"
    files_before = sorted((extracted / "opt").rglob("*"))
    started = time.monotonic()
    result = subprocess.run(
        [str(app), "--exit-after-frames", "5"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        env=_app_env(tmp_path),
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, f"exit status {result.returncode}; stderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    print(f"window opened, showed 5 frames and closed in {elapsed:.1f} s")
    # The frozen app writes nothing into its own folder (so removing the package leaves nothing).
    new = sorted(set((extracted / "opt").rglob("*")) - set(files_before))
    assert not new, f"the app wrote into its install folder: {new[:10]}"
