"""What a lecture hall reads: the scene's title and caption in large type, big readouts of ρ, the
fitted slope and the iteration, a dismissable notice and the error banner (the keyboard help
overlay is in ``help_overlay``)."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QFont, QFontMetricsF, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gradlab.core import Frame
from gradlab.ui.plot_common import format_number
from gradlab.ui.plot_why import gate_mean_text
from gradlab.ui.throttle import Throttle

READOUT_REFRESH_MS = 250  # big numbers changing 60 times a second cannot be read anyway
# The caption takes at most this many lines of its theme's type; a longer one (a narrow window,
# large type, the controls shown) is set smaller, down to MIN_CAPTION_SHARE of that size, so that
# the plots keep their room and the caption is never cut.
CAPTION_LINES = 3
MIN_CAPTION_SHARE = 0.6


class BigReadout(QWidget):
    """A name above a large number."""

    def __init__(self, name: str, widest: str, parent: QWidget | None = None, *, note: str = "") -> None:
        super().__init__(parent)
        self.name_label = QLabel(name)
        self.name_label.setObjectName("bigName")
        self.value_label = QLabel("–")
        self.value_label.setObjectName("bigValue")
        self.note_label = QLabel()  # a short word under the value (widest: ``note``)
        self.note_label.setObjectName("bigName")
        self._widest = widest
        self._widest_note = note
        for label in (self.name_label, self.value_label, self.note_label):
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.name_label)
        layout.addWidget(self.value_label)
        layout.addWidget(self.note_label)
        # Hidden but holding its room: the band does not change height when a note comes and goes.
        policy = self.note_label.sizePolicy()
        policy.setRetainSizeWhenHidden(bool(note))
        self.note_label.setSizePolicy(policy)
        self.note_label.hide()

    def fit_width(self) -> None:
        """A fixed width for the widest value: a number changing length must not move the band."""
        self.value_label.ensurePolished()
        width = self.value_label.fontMetrics().horizontalAdvance(self._widest) + 8
        self.note_label.ensurePolished()
        note = self.note_label.fontMetrics().horizontalAdvance(self._widest_note) + 8 if self._widest_note else 0
        self.setFixedWidth(max(width, note, self.name_label.sizeHint().width()))

    def set_note(self, text: str) -> None:
        self.note_label.setText(text)
        self.note_label.setVisible(bool(text))

    @property
    def note(self) -> str:
        return self.note_label.text() if not self.note_label.isHidden() else ""

    def set_value(self, text: str) -> None:
        if text != self.value_label.text():
            self.value_label.setText(text)
            if self.value_label.fontMetrics().horizontalAdvance(text) + 8 > self.width():
                # Wider than any value expected: widen (once), never cut "12.311" to ".2.311".
                self._widest = text
                self.fit_width()

    @property
    def value(self) -> str:
        return self.value_label.text()


class CaptionBand(QFrame):
    """The band above the plots: scene title and caption (or "custom settings"), and readouts."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("captionBand")
        self.title_label = QLabel()
        self.title_label.setObjectName("sceneTitle")
        self.caption_label = QLabel()
        self.caption_label.setObjectName("sceneCaption")
        self.caption_label.setWordWrap(True)
        self.title_label.setWordWrap(True)
        self.caption_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title_label.setTextFormat(Qt.TextFormat.PlainText)
        self.caption_label.setTextFormat(Qt.TextFormat.PlainText)
        # Short names and typical widths: at 1280×720 with the controls shown the caption needs
        # the room (a rare wider value just widens its readout).
        self.radius = BigReadout("ρ", "00.000")
        self.radius.setToolTip("spectral radius of W_hh")
        self.slope = BigReadout("slope/step", "+0.000")
        self.slope.setToolTip("fitted slope of log10 ‖∂L/∂h‖, decades per step back")
        # Under the iteration: "paused" or the slow-motion pace, where the audience looks (also
        # with the controls hidden).
        self.iteration = BigReadout("iteration", "000000", note="slow · 30/s")

        # The readouts beside the title and the caption (a wide band), or the title across the band
        # above the caption and the readouts (a narrow one, where the title would wrap: large type,
        # the controls shown), whichever is lower.
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(10, 4, 10, 6)
        self._grid.setHorizontalSpacing(16)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(0, 1)
        self.stacked = True
        self._arrange(stacked=False)

        self._theme_sheet = ""  # the caption's sheet as the theme set it (its natural size)
        self._natural_pt = 0.0
        self._latest: Frame | None = None
        self._throttle = Throttle(READOUT_REFRESH_MS, self._show_latest, self)
        self.set_scene("", "")

    # ---- scene ------------------------------------------------------------------------------
    def set_scene(self, title: str, caption: str, *, custom: str = "") -> None:
        """Show a scene's ``title`` and ``caption``; with ``custom`` (what was changed) the caption
        gives way to a muted "custom settings" line."""
        if custom:
            shown_title = f"{title} — custom" if title else "Custom settings"
            shown_caption = f"Changed from the scene: {custom}" if title else custom
        else:
            shown_title, shown_caption = title, caption
        self.title_label.setText(shown_title)
        self.caption_label.setText(shown_caption)
        self.caption_label.setVisible(bool(shown_caption))
        self.caption_label.setProperty("custom", bool(custom))
        style = self.caption_label.style()
        style.unpolish(self.caption_label)
        style.polish(self.caption_label)
        self.fit_caption()

    @property
    def title(self) -> str:
        return self.title_label.text()

    @property
    def caption(self) -> str:
        return self.caption_label.text() if not self.caption_label.isHidden() else ""

    @property
    def is_custom(self) -> bool:
        return bool(self.caption_label.property("custom"))

    # ---- readouts ---------------------------------------------------------------------------
    def clear(self) -> None:
        self._latest = None
        self._throttle.cancel()
        for readout in (self.radius, self.slope, self.iteration):
            readout.set_value("–")

    def frame_shown(self, frame: Frame) -> None:
        self._latest = frame
        self._throttle.request()  # at once after a quiet spell, then every READOUT_REFRESH_MS; the last always

    def refresh(self) -> None:
        """Show the latest frame now (not waiting for the next of the few refreshes a second)."""
        self._throttle.flush()

    def _show_latest(self) -> None:
        frame = self._latest
        if frame is None:
            return
        # Gated cells: the candidate block's ρ says nothing of the gradient; the mean gate does.
        gate_name, gate_value = gate_mean_text(frame)
        self.radius.name_label.setText(gate_name or "ρ")
        self.radius.setToolTip(f"{gate_name} over units, steps and batch" if gate_name else "spectral radius of W_hh")
        self.radius.set_value(gate_value or format_number(frame.spectral_radius))
        # Depth mode's curve runs through layers, not time steps.
        slope_name = "slope/layer" if frame.layer_stats is not None else "slope/step"
        if self.slope.name_label.text() != slope_name:
            self.slope.name_label.setText(slope_name)
            self.slope.setToolTip(f"fitted slope of log10 ‖∂L/∂h‖, decades per {slope_name[6:]} back")
            self.slope.fit_width()
        slope = frame.fitted_slope
        self.slope.set_value(f"{slope:+.3f}" if math.isfinite(slope) and abs(slope) < 1e4 else format_number(slope))
        self.iteration.set_value(str(frame.iteration))

    def set_state(self, text: str) -> None:
        """The run's state under the iteration ("paused", "slow · 3/s"; "" when playing)."""
        self.iteration.set_note(text)

    @property
    def state(self) -> str:
        return self.iteration.note

    def fit_widths(self) -> None:
        for readout in (self.radius, self.slope, self.iteration):
            readout.fit_width()
        self.fit_caption()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)  # the layout has placed the labels by now
        self.fit_caption()

    def _arrange(self, *, stacked: bool) -> None:
        if stacked == self.stacked:
            return
        self.stacked = stacked
        grid = self._grid
        for widget in (self.title_label, self.caption_label, self.radius, self.slope, self.iteration):
            grid.removeWidget(widget)
        # Stacked: the title across the band above the caption and the readouts; otherwise the
        # title above the caption, the readouts beside both.
        grid.addWidget(self.title_label, 0, 0, 1, 4 if stacked else 1)
        for column, readout in enumerate((self.radius, self.slope, self.iteration), start=1):
            if stacked:
                grid.addWidget(readout, 1, column, 1, 1, Qt.AlignmentFlag.AlignVCenter)
            else:
                grid.addWidget(readout, 0, column, 2, 1, Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(self.caption_label, 1, 0)
        grid.setRowStretch(1, 1)

    def _caption_widths(self) -> tuple[int, int]:
        """The caption's width beside the readouts and across the band."""
        margins = self._grid.contentsMargins()
        full = self.width() - margins.left() - margins.right()
        readouts = sum(r.width() + self._grid.horizontalSpacing() for r in (self.radius, self.slope, self.iteration))
        return full - readouts, full

    def fit_caption(self) -> None:
        """Arrange the band (caption beside or under the readouts, whichever is lower), then set
        the caption in the largest type (up to the theme's) in which it takes at most
        ``CAPTION_LINES`` lines of the theme's type at the width it has."""
        label = self.caption_label
        sheet = label.styleSheet()
        if "/* fitted */" not in sheet:
            # The theme's own sheet (set anew on a change of theme or size): its size is the natural one.
            self._theme_sheet = sheet
            label.ensurePolished()
            self._natural_pt = label.font().pointSizeF()
        beside, across = self._caption_widths()
        if label.isHidden() or beside <= 20 or self._natural_pt <= 0:
            return
        font = QFont(label.font())
        font.setPointSizeF(self._natural_pt)
        self.title_label.ensurePolished()
        title_font = self.title_label.font()
        readouts = max(r.sizeHint().height() for r in (self.radius, self.slope, self.iteration))
        spacing = self._grid.verticalSpacing()
        caption = min(_wrapped_height(label, font, beside), CAPTION_LINES * QFontMetricsF(font).lineSpacing())
        side = max(readouts, _wrapped_height(self.title_label, title_font, beside) + spacing + caption)
        stacked = _wrapped_height(self.title_label, title_font, across) + spacing + max(readouts, caption)
        self._arrange(stacked=stacked < side)
        width = beside
        font = QFont(label.font())
        font.setPointSizeF(self._natural_pt)
        budget = CAPTION_LINES * QFontMetricsF(font).lineSpacing()
        point_size = self._natural_pt
        while point_size > self._natural_pt * MIN_CAPTION_SHARE and _wrapped_height(label, font, width) > budget:
            point_size = max(self._natural_pt * MIN_CAPTION_SHARE, point_size * 0.95)
            font.setPointSizeF(point_size)
        fitted = (
            self._theme_sheet
            if point_size == self._natural_pt
            else f"{self._theme_sheet} /* fitted */ QLabel#sceneCaption {{ font-size: {point_size:.1f}pt; }}"
        )
        if fitted != sheet:
            label.setStyleSheet(fitted)


class Notice(QFrame):
    """A message above the plots that stays until dismissed (× or Esc) or replaced."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setToolTip("Dismiss (Esc)")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self.hide)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    @property
    def text(self) -> str:
        return "" if self.isHidden() else self.label.text()


class Banner(QLabel):
    """A red band above the plots for what stopped the run (an error); hidden until then."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("banner")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.hide()

    def show_message(self, text: str) -> None:
        self.setText(text)
        self.show()


def _wrapped_height(label: QLabel, font: QFont, width: int) -> float:
    margins = label.contentsMargins()
    room = QRectF(0, 0, width - margins.left() - margins.right() - 2 * label.margin(), 1e6)
    return QFontMetricsF(font).boundingRect(room, Qt.TextFlag.TextWordWrap, label.text()).height()
