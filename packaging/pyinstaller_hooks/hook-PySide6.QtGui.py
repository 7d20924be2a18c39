# Replaces PyInstaller's own hook for PySide6.QtGui (hooks in the spec's hookspath take precedence).
# The stock hook collects every QtGui plugin type (Wayland, EGLFS, GTK theme, PDF images, ...) and
# PyInstaller then bundles whatever those plugins link, GTK and Cairo included. Dropping the
# plugins gradlab does not need *here*, before the dependency analysis, keeps them and their
# libraries out of the bundle.
from pathlib import PurePath

from PyInstaller.utils.hooks.qt import add_qt6_dependencies

# plugin type -> plugin names kept (None: all of that type). Types not listed are dropped.
# Names are file stems without the "lib" prefix, so the table works on Linux, Windows and macOS.
KEEP_PLUGINS = {
    "platforms": {"qxcb", "qoffscreen", "qminimal", "qwindows", "qcocoa"},
    "platforms/darwin": None,
    "xcbglintegrations": None,
    "platforminputcontexts": {"composeplatforminputcontextplugin", "ibusplatforminputcontextplugin"},
    "platformthemes": {"qxdgdesktopportal"},
    "imageformats": {"qsvg", "qico", "qjpeg", "qgif"},
    "iconengines": None,
}


def _keep(dest_dir: str, src: str) -> bool:
    parts = PurePath(dest_dir.replace("\\", "/")).parts
    if "plugins" not in parts:
        return True
    kind = "/".join(parts[parts.index("plugins") + 1 :])
    if kind not in KEEP_PLUGINS:
        return False
    names = KEEP_PLUGINS[kind]
    stem = PurePath(src).name.split(".")[0]
    stem = stem[3:] if stem.startswith("lib") else stem
    return names is None or stem in names


hiddenimports, binaries, datas = add_qt6_dependencies(__file__)
binaries = [(src, dest) for src, dest in binaries if _keep(dest, src)]
