"""Opening the real main window in tests: one place for the fixtures that need one."""

from __future__ import annotations

from typing import Any


def open_window(qtbot: Any, config: Any) -> Any:
    """The real main window running ``config``, shown offscreen at 1280×720 and started."""
    from gradlab.ui.app import application, create_window

    application()
    window = create_window(config)
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    window.start()
    return window
