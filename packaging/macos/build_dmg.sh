#!/usr/bin/env bash
# Build dist/gradlab-<version>-macos-<arch>.dmg on macOS: the PyInstaller .app bundle made from
# packaging/gradlab.spec (its BUNDLE step), with the icon as .icns, on a compressed disk image
# with an Applications link for drag-and-drop installation.
#
#   bash packaging/macos/build_dmg.sh
#
# Needs: macOS 11+, python3 (3.10+; python.org or Homebrew), the Xcode command line tools
# (iconutil, codesign), hdiutil (part of macOS). Network access to PyPI the first time.
# The app is ad-hoc signed by PyInstaller, not signed with a Developer ID nor notarised: on another
# Mac, Gatekeeper asks the user to open it with right-click > Open the first time.
#
# Environment (optional): PYTHON  interpreter that creates the build venv (default: python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="$ROOT/build/venv-macos"
WORK="$ROOT/build/macos"
DIST="$ROOT/dist"
REQUIREMENTS="$ROOT/packaging/requirements-build.txt"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'build_dmg.sh: %s\n' "$*" >&2; exit 1; }

[[ "$(uname -s)" == Darwin ]] || die "this builds the macOS .dmg and runs on macOS only"
for tool in "$PYTHON" iconutil hdiutil; do
    command -v "$tool" >/dev/null || die "$tool not found"
done

VERSION="$("$PYTHON" "$ROOT/packaging/version.py")"
ARCH="$(uname -m)"
DMG="$DIST/gradlab-${VERSION}-macos-${ARCH}.dmg"
START=$SECONDS

# --- 1. build venv: the pinned requirements, then gradlab itself ----------------------------------
# shellcheck source=packaging/build_venv.sh
source "$ROOT/packaging/build_venv.sh"
prepare_build_venv

# --- 2. icon: .iconset rendered from the SVG (up to 1024 px), then iconutil -----------------------
say "icon"
rm -rf "$WORK/gradlab.iconset"
"$VENV/bin/python" "$ROOT/packaging/render_icons.py" --no-png --iconset "$WORK/gradlab.iconset"
iconutil --convert icns --output "$WORK/gradlab.icns" "$WORK/gradlab.iconset"

# --- 3. PyInstaller .app ----------------------------------------------------------------------
say "PyInstaller"
GRADLAB_ICNS="$WORK/gradlab.icns" "$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath "$WORK/dist" --workpath "$WORK/pyinstaller-work" "$ROOT/packaging/gradlab.spec"
APP="$WORK/dist/gradlab.app"
[[ -x "$APP/Contents/MacOS/gradlab" ]] || die "PyInstaller produced no $APP"
"$APP/Contents/MacOS/gradlab" --version

# --- 4. disk image ----------------------------------------------------------------------------
say "disk image"
STAGE="$WORK/dmg"
rm -rf "$STAGE"
mkdir -p "$STAGE" "$DIST"
cp -R "$APP" "$STAGE/"
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "gradlab $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -ov "$DMG"
hdiutil verify "$DMG"

say "done in $((SECONDS - START)) s"
echo "disk image: $DMG ($(du -h "$DMG" | cut -f1))"
