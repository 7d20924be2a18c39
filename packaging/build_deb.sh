#!/usr/bin/env bash
# Build dist/gradlab_<version>_<arch>.deb: a PyInstaller one-folder build of gradlab under
# /opt/gradlab, a launcher in /usr/bin, the desktop entry and hicolor icons.
#
#   bash packaging/build_deb.sh
#
# Needs: python3 with the venv module (Debian: python3-venv), dpkg-deb, binutils (PyInstaller uses
# objdump; strip), network access to PyPI the first time. Everything else goes into build/venv.
#
# Environment (all optional):
#   PYTHON            interpreter that creates the build venv (default: python3)
#   GRADLAB_VENV      use this existing venv instead of build/venv (must hold the pinned packages)
#   GRADLAB_DEB_COMPRESSION   dpkg-deb compressor: zstd (default; 8 s, ~54 MB), xz (~130 s, ~44 MB),
#                     gzip or none. zstd needs dpkg >= 1.21.18 (Debian 12, Ubuntu 21.10), which any
#                     system with the glibc this bundle needs has.
set -euo pipefail
trap 'echo "build_deb.sh: failed (exit $?) at line $LINENO: $BASH_COMMAND" >&2' ERR

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PYTHON="${PYTHON:-python3}"
VENV="${GRADLAB_VENV:-$ROOT/build/venv}"
WORK="$ROOT/build/deb"
DIST="$ROOT/dist"
REQUIREMENTS="$ROOT/packaging/requirements-build.txt"
COMPRESSION="${GRADLAB_DEB_COMPRESSION:-zstd}"

say() { printf '\n== %s\n' "$*"; }
die() { printf 'build_deb.sh: %s\n' "$*" >&2; exit 1; }

command -v "$PYTHON" >/dev/null || die "$PYTHON not found"
command -v dpkg-deb >/dev/null || die "dpkg-deb not found (apt install dpkg)"
command -v objdump >/dev/null || die "objdump not found; PyInstaller needs it (apt install binutils)"

VERSION="$("$PYTHON" "$ROOT/packaging/version.py")"
ARCH="$(dpkg --print-architecture)"
DEB="$DIST/gradlab_${VERSION}_${ARCH}.deb"
START=$SECONDS

# --- 1. build venv: the pinned requirements, then gradlab itself ----------------------------------
# shellcheck source=packaging/build_venv.sh
source "$ROOT/packaging/build_venv.sh"
prepare_build_venv

# --- 2. PyInstaller one-folder build -------------------------------------------------------------
say "PyInstaller"
T0=$SECONDS
"$VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
    --distpath "$WORK/pyinstaller-dist" --workpath "$WORK/pyinstaller-work" \
    "$ROOT/packaging/gradlab.spec"
APP="$WORK/pyinstaller-dist/gradlab"
[[ -x "$APP/gradlab" ]] || die "PyInstaller produced no $APP/gradlab"
echo "PyInstaller: $((SECONDS - T0)) s"

# Strip debug info from libpython only (a self-built Python carries ~18 MB of it). Never strip the
# whole bundle: that breaks NumPy's OpenBLAS.
if command -v strip >/dev/null; then
    find "$APP" -maxdepth 2 -name 'libpython3*.so*' -type f -exec strip --strip-debug {} +
fi

# --- 3. package tree -----------------------------------------------------------------------------
say "staging the package tree"
PKG="$WORK/root"
rm -rf "$PKG"
install -d "$PKG/DEBIAN" "$PKG/opt" "$PKG/usr/bin" "$PKG/usr/share/applications" \
    "$PKG/usr/share/doc/gradlab"
cp -a "$APP" "$PKG/opt/gradlab"
install -m 0755 "$ROOT/packaging/linux/gradlab-launcher.sh" "$PKG/usr/bin/gradlab"
install -m 0644 "$ROOT/resources/gradlab.desktop" "$PKG/usr/share/applications/gradlab.desktop"
for size in 16 32 48 64 128 256; do
    install -D -m 0644 "$ROOT/resources/icons/gradlab-$size.png" \
        "$PKG/usr/share/icons/hicolor/${size}x${size}/apps/gradlab.png"
done
install -D -m 0644 "$ROOT/resources/icons/gradlab.svg" \
    "$PKG/usr/share/icons/hicolor/scalable/apps/gradlab.svg"
cp "$ROOT/packaging/linux/copyright" "$PKG/usr/share/doc/gradlab/copyright"
if [[ -f LICENSE ]]; then
    { echo; cat LICENSE; } >> "$PKG/usr/share/doc/gradlab/copyright"
fi

# PyInstaller keeps the modes of the files it copies; make them predictable (no group/other write).
chmod -R u+rwX,go+rX,go-w "$PKG"

# Depends: libc6 at least as new as the glibc of this machine (the bundle is linked against it), the
# packages in depends.txt, and any further package that the bundled ELF files link on this machine.
# (getconf, not `ldd --version | head`: under pipefail, ldd's later writes into the closed pipe
# make the pipeline fail now and then, and set -e ends the build without a word.)
GLIBC="$(getconf GNU_LIBC_VERSION | cut -d' ' -f2)"
LISTED="$(grep -vE '^\s*(#|$)' "$ROOT/packaging/linux/depends.txt")"
DETECTED="$("$VENV/bin/python" "$ROOT/packaging/linux/check_depends.py" --list "$PKG")"
EXTRA="$(comm -13 <(sort -u <<<"$LISTED") <(sort -u <<<"$DETECTED") | grep . || true)"
if [[ -n "$EXTRA" ]]; then
    echo "WARNING: the bundle links packages missing from packaging/linux/depends.txt; adding:" \
        $EXTRA >&2
fi
DEPENDS="libc6 (>= $GLIBC), $(printf '%s\n' "$LISTED" $EXTRA | paste -sd, - | sed 's/,/, /g')"
INSTALLED_KB="$(du -sk --exclude=DEBIAN "$PKG" | cut -f1)"

sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$ARCH/" -e "s/@DEPENDS@/$DEPENDS/" \
    -e "s/@INSTALLED_SIZE@/$INSTALLED_KB/" \
    "$ROOT/packaging/linux/control.in" > "$PKG/DEBIAN/control"
install -m 0755 "$ROOT/packaging/linux/postinst" "$PKG/DEBIAN/postinst"
install -m 0755 "$ROOT/packaging/linux/postrm" "$PKG/DEBIAN/postrm"

# --- 4. the .deb -----------------------------------------------------------------------------
say "dpkg-deb ($COMPRESSION)"
mkdir -p "$DIST"
rm -f "$DEB"
LEVEL=()
[[ "$COMPRESSION" == zstd ]] && LEVEL=(-z9)
dpkg-deb --root-owner-group -Z"$COMPRESSION" "${LEVEL[@]}" --build "$PKG" "$DEB"

# --- 5. report -----------------------------------------------------------------------------------
say "system libraries the bundle links (checked against Depends)"
"$VENV/bin/python" "$ROOT/packaging/linux/check_depends.py" "$PKG" || \
    echo "WARNING: libraries not found on this machine; Depends could not be fully checked" >&2

say "done in $((SECONDS - START)) s"
echo "package:   $DEB ($(du -h "$DEB" | cut -f1), installed $((INSTALLED_KB / 1024)) MB)"
echo "depends:   $DEPENDS"
