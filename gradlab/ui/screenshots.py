"""Screenshots of every scene in presenter view (1280×720, controls hidden), for the README and for
checking that each scene makes its point from the back row.

    python -m gradlab.ui.screenshots OUT_FOLDER [--theme projector|dark] [--scale 1.0] [SCENE ...]

Each scene runs until it has shown what its caption promises (30 updates; the adding problem
with an LSTM needs about a thousand), then the window is grabbed to ``scene-<name>.png``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# The scenes whose point needs more updates than the default (at most MAX_SECONDS of running).
TARGET_UPDATES = {"06-clipping-rescues": 300, "09-irnn": 300, "11-adding-rnn": 1200, "12-adding-lstm": 1600}
MIN_UPDATES = 30  # every other scene: enough for its picture, however long a busy machine takes
MAX_SECONDS = 240.0
# Scenes that blow up to NaN by the second update: their point is the first update's rising line.
FIRST_UPDATE_ONLY = {"03-exploding-linear", "04-exploding-float32"}


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    parser = argparse.ArgumentParser(prog="python -m gradlab.ui.screenshots")
    parser.add_argument("out", type=Path)
    parser.add_argument("scenes", nargs="*", help="scene names (default: all)")
    parser.add_argument("--theme", default="projector", choices=("projector", "dark"))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=None, help="run time per scene")
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from gradlab.presets import presets
    from gradlab.ui.app import application, create_window
    from gradlab.ui.theme import Theme

    theme = Theme.named(args.theme, args.scale)
    app = application(theme)
    args.out.mkdir(parents=True, exist_ok=True)
    chosen = [p for p in presets() if not args.scenes or p.name in args.scenes]
    for preset in chosen:
        window = create_window(scenario=preset.scenario, preset_name=preset.name, theme=theme)
        window.resize(1280, 720)
        window.set_controls_visible(False)
        window.show()
        if preset.name in FIRST_UPDATE_ONLY:
            window.controller.pause()  # a run started while paused computes one update, then waits
        window.start()
        target = 0 if preset.name in FIRST_UPDATE_ONLY else TARGET_UPDATES.get(preset.name, MIN_UPDATES)
        seconds = args.seconds if args.seconds is not None else MAX_SECONDS
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            app.processEvents()
            time.sleep(0.002)
            latest = window.session.latest_frame
            if latest is not None and latest.iteration >= max(1, target):
                break
        window.controller.pause()
        end = time.monotonic() + 0.5
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        window.caption.refresh()
        window.status.refresh()
        app.processEvents()
        path = args.out / f"scene-{preset.name}.png"
        window.grab().save(str(path))
        print(f"{path}  ({window.session.latest_frame.iteration if window.session.latest_frame else 0} updates)")
        window.close()
        window.deleteLater()
        QApplication.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
