"""Render the app icon (resources/icons/gradlab.svg) to the PNGs and the Windows .ico.

Run from anywhere with a Python that has PySide6 (PySide6-Essentials is enough: it has QtSvg):

    python packaging/render_icons.py                   # PNGs + packaging/windows/gradlab.ico
    python packaging/render_icons.py --iconset DIR     # also a macOS .iconset folder (for iconutil)

The PNGs and the .ico are committed; rerun this after editing the SVG. The .ico is written by hand
(it is a tiny container format) so no image library beyond Qt is needed: classic BMP entries for
the small sizes, which every Windows shell and NSIS read, and a PNG entry for 256 px.
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SVG = ROOT / "resources" / "icons" / "gradlab.svg"
PNG_SIZES = (16, 32, 48, 64, 128, 256)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICO_PATH = ROOT / "packaging" / "windows" / "gradlab.ico"
# macOS iconset file names -> pixel size (see `man iconutil`).
ICONSET = {
    "icon_16x16.png": 16,
    "icon_16x16@2x.png": 32,
    "icon_32x32.png": 32,
    "icon_32x32@2x.png": 64,
    "icon_128x128.png": 128,
    "icon_128x128@2x.png": 256,
    "icon_256x256.png": 256,
    "icon_256x256@2x.png": 512,
    "icon_512x512.png": 512,
    "icon_512x512@2x.png": 1024,
}


def _qt():
    # No window is opened; the offscreen platform lets this run on a build machine without X.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication([])
    return app, QBuffer, QByteArray, QIODevice, Qt, QImage, QPainter, QSvgRenderer


class IconRenderer:
    def __init__(self, svg: Path) -> None:
        (
            self._app,
            self._QBuffer,
            self._QByteArray,
            self._QIODevice,
            self._Qt,
            self._QImage,
            self._QPainter,
            self._QSvgRenderer,
        ) = _qt()
        self._renderer = self._QSvgRenderer(str(svg))
        if not self._renderer.isValid():
            raise SystemExit(f"cannot read {svg}")

    def image(self, size: int):
        """The icon as a straight-alpha ARGB32 image of size x size pixels."""
        image = self._QImage(size, size, self._QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(self._Qt.GlobalColor.transparent)
        painter = self._QPainter(image)
        painter.setRenderHint(self._QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(self._QPainter.RenderHint.SmoothPixmapTransform)
        self._renderer.render(painter)
        painter.end()
        return image.convertToFormat(self._QImage.Format.Format_ARGB32)

    def png_bytes(self, size: int) -> bytes:
        data = self._QByteArray()
        buffer = self._QBuffer(data)
        buffer.open(self._QIODevice.OpenModeFlag.WriteOnly)
        if not self.image(size).save(buffer, "PNG"):
            raise SystemExit(f"cannot encode {size}px PNG")
        buffer.close()
        return bytes(data.data())

    def write_png(self, size: int, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.png_bytes(size))

    def bmp_entry(self, size: int) -> bytes:
        """An ICO image entry as a headerless 32-bit DIB: BGRA rows bottom-up, then the AND mask."""
        image = self.image(size)
        # Format_ARGB32 is 0xAARRGGBB per pixel in native (little-endian) order: bytes B, G, R, A.
        stride = image.bytesPerLine()
        raw = bytes(image.constBits())
        rows = [raw[y * stride : y * stride + size * 4] for y in range(size)]
        xor = b"".join(reversed(rows))
        mask_stride = ((size + 31) // 32) * 4  # 1 bit per pixel, rows padded to 4 bytes
        mask = bytes(mask_stride * size)  # all 0: the alpha channel decides transparency
        header = struct.pack("<IiiHHIIiiII", 40, size, size * 2, 1, 32, 0, len(xor) + len(mask), 0, 0, 0, 0)
        return header + xor + mask

    def write_ico(self, sizes: tuple[int, ...], path: Path) -> None:
        entries = [self.png_bytes(s) if s >= 256 else self.bmp_entry(s) for s in sizes]
        directory = struct.pack("<HHH", 0, 1, len(sizes))
        offset = 6 + 16 * len(sizes)
        table = b""
        for size, entry in zip(sizes, entries):
            dim = 0 if size >= 256 else size  # 0 means 256 in the ICO directory
            table += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(entry), offset)
            offset += len(entry)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(directory + table + b"".join(entries))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--svg", type=Path, default=SVG)
    parser.add_argument("--out", type=Path, default=SVG.parent, help="folder for gradlab-<N>.png")
    parser.add_argument("--ico", type=Path, default=ICO_PATH, help="where to write the .ico")
    parser.add_argument("--iconset", type=Path, help="also write a macOS .iconset folder here")
    parser.add_argument("--no-png", action="store_true", help="skip the PNGs (and the .ico)")
    args = parser.parse_args(argv)

    renderer = IconRenderer(args.svg)
    if not args.no_png:
        for size in PNG_SIZES:
            renderer.write_png(size, args.out / f"gradlab-{size}.png")
        renderer.write_ico(ICO_SIZES, args.ico)
        print(f"wrote {len(PNG_SIZES)} PNGs to {args.out} and {args.ico}")
    if args.iconset:
        for name, size in ICONSET.items():
            renderer.write_png(size, args.iconset / name)
        print(f"wrote {args.iconset}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
