"""The keyboard help overlay: every shortcut of the window, grouped by menu, floating over it in
as few columns (and, in a small window, as small a type) as let it fit."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PySide6.QtCore import QMargins, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence, QMouseEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget


def shortcut_text(action: QAction) -> str:
    """The action's keys as the user reads them, e.g. "F1, ?"."""
    return ", ".join(
        key.toString(QKeySequence.SequenceFormat.NativeText) for key in action.shortcuts() if not key.isEmpty()
    )


class HelpOverlay(QFrame):
    """Every shortcut of the window, grouped by menu, floating over the window (a child of it, in
    no layout: opening it moves nothing). Any key or click closes it."""

    closed = Signal()

    MARGIN = 12  # px kept free around it inside the window
    SHRINK_MARK = " /* shrunk to fit */"

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("helpOverlay")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(18, 14, 18, 14)
        self._grid.setHorizontalSpacing(18)
        self._grid.setVerticalSpacing(2)
        self.rows: list[tuple[str, str]] = []
        self._title = QLabel("Keyboard shortcuts — any key closes this")
        self._title.setStyleSheet("font-weight: bold;")
        self._sections: list[tuple[QLabel, list[tuple[QLabel, QLabel]]]] = []
        self.columns = 0
        self.hide()

    def set_sections(self, sections: Sequence[tuple[str, Sequence[QAction]]]) -> None:
        """(heading, actions) per menu."""
        for old_heading, old_pairs in self._sections:
            for old in [old_heading, *(label for pair in old_pairs for label in pair)]:
                old.deleteLater()
        self.rows = []
        self._sections = []
        for heading, actions in sections:
            label = QLabel(heading)
            label.setStyleSheet("font-weight: bold; padding-top: 6px;")
            pairs = []
            for action in actions:
                keys = shortcut_text(action) or "menu"
                text = action.text().replace("&", "").rstrip(".…")
                pairs.append((QLabel(keys), QLabel(text)))
                self.rows.append((keys, text))
            self._sections.append((label, pairs))
        self._lay_out(2)

    def _lay_out(self, columns: int) -> None:
        """Sections top to bottom, then on in the next of ``columns`` columns (a section is never split)."""
        self.columns = columns
        while self._grid.count():
            self._grid.takeAt(0)
        self._grid.addWidget(self._title, 0, 0, 1, 2 * columns)
        total = sum(len(pairs) + 1 for _, pairs in self._sections)
        per_column = math.ceil(total / columns)
        row, column, used = 1, 0, 0
        for heading, pairs in self._sections:
            if used >= per_column * (column + 1) and column < columns - 1:
                row, column = 1, column + 1
            self._grid.addWidget(heading, row, 2 * column, 1, 2)
            row += 1
            for keys, text in pairs:
                self._grid.addWidget(keys, row, 2 * column)
                self._grid.addWidget(text, row, 2 * column + 1)
                row += 1
            used += len(pairs) + 1
        self._grid.invalidate()

    def toggle(self) -> None:
        self.set_visible(self.isHidden())

    def set_visible(self, visible: bool) -> None:
        if visible:
            self.show()
            self.place()
            self.raise_()
            self.setFocus()
        elif not self.isHidden():
            self.hide()
            self.closed.emit()

    def place(self) -> None:
        """Centred in the window, in as few columns as let it fit (more columns when short of
        height); if even that is too large (large type in a small window), in smaller type."""
        parent = self.parentWidget()
        if parent is None:
            return
        room = parent.size().shrunkBy(QMargins(*(self.MARGIN,) * 4))
        sheet = self.styleSheet().split(self.SHRINK_MARK)[0]
        if sheet != self.styleSheet():
            self.setStyleSheet(sheet)
        for _attempt in range(4):
            for columns in (2, 3):
                self._lay_out(columns)
                hint = self._grid.totalSizeHint()
                if hint.height() <= room.height() and hint.width() <= room.width():
                    break
            else:
                self._lay_out(2)
                hint = self._grid.totalSizeHint()
                shrink = min(room.height() / hint.height(), room.width() / hint.width())
                point_size = self._title.font().pointSizeF() * shrink * 0.97
                self.setStyleSheet(
                    f"{sheet}{self.SHRINK_MARK} QFrame#helpOverlay QLabel {{ font-size: {point_size:.1f}pt; }}"
                )
                continue
            break
        size = self._grid.totalSizeHint().boundedTo(room)
        self.setGeometry(
            (parent.width() - size.width()) // 2, (parent.height() - size.height()) // 2, size.width(), size.height()
        )

    def fits(self) -> bool:
        """Every row shows in full (nothing cut off by the window's edge)."""
        return self._grid.totalSizeHint().height() <= self.height() and (
            self._grid.totalSizeHint().width() <= self.width()
        )

    def keyPressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        self.set_visible(False)
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.set_visible(False)
        event.accept()
