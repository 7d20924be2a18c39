"""The left column of the window: the transport buttons (Play/Pause, Step, Reset) above the
control panel (``gradlab.ui.controls``), scrolling vertically, as wide as the panel needs."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QScrollArea, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from gradlab.ui.controls import ControlPanel


class TransportBar(QWidget):
    """Play/Pause, Step and Reset as big buttons, each bound to the window's action."""

    def __init__(self, actions: list[QAction], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 0)
        self.buttons: list[QToolButton] = []
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            layout.addWidget(button)
            self.buttons.append(button)
        self._fit_heights()

    def _fit_heights(self) -> None:
        # The bar's own font: at its FontChange the buttons may not have theirs yet.
        height = int(self.fontMetrics().height() * 2.0)
        for button in self.buttons:
            button.setMinimumHeight(height)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fit_heights()  # Bigger / Smaller: the buttons follow the type


CONTROL_PANEL_WIDTH = 280  # at font scale 1


class ControlDock(QScrollArea):
    """The left column: the transport buttons above the control panel, scrolling vertically."""

    def __init__(self, transport: TransportBar, panel: ControlPanel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        content = QWidget()
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(transport)
        layout.addWidget(panel, 1)
        self.setWidget(content)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self._content = content
        self.fit_width(1.0)

    def fit_width(self, scale: float) -> None:
        """Wide enough for the panel's own size hint: the horizontal scroll bar is off, so anything
        narrower would cut the spin boxes off."""
        self.setMinimumWidth(
            max(
                int(CONTROL_PANEL_WIDTH * scale),
                self._content.sizeHint().width() + self.verticalScrollBar().sizeHint().width() + 4,
            )
        )
