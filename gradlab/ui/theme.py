"""Colours, font sizes, line widths and marker sizes of the window, all in one re-appliable object.

Every widget takes its look from a ``Theme`` and has an ``apply_theme(theme)`` method, so a
presenter mode can scale everything at once (``theme.scaled(1.25)``) or switch between the two
themes: "projector" (white, black text, high contrast) and "dark". Both use the Okabe–Ito
palette, which stays distinguishable for the common colour-vision deficiencies; the pinned
(ghost) curves differ from the live ones by dash pattern as well as by colour.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPalette, QPen
from PySide6.QtWidgets import QApplication, QSizePolicy, QWidget

ThemeName = Literal["projector", "dark"]
THEME_NAMES: tuple[ThemeName, ...] = ("projector", "dark")
MIN_SCALE, MAX_SCALE = 0.6, 3.0

# Okabe & Ito (2008), "Color Universal Design".
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

Role = Literal[
    "latest",
    "history",
    "cell_state",
    "theory",
    "prediction",
    "zero_marker",
    "inf_marker",
    "nan_marker",
    "grad_before",
    "grad_after",
    "threshold",
    "loss",
    "baseline",
    "hist_weights",
    "hist_grad",
    "eigenvalues",
    "unit_circle",
    "gamma_circle",
    "alert",
    "pin0",
    "pin1",
    "pin2",
]

# One dash pattern per pin, so pins differ without colour too.
PIN_DASHES: tuple[Qt.PenStyle, ...] = (Qt.PenStyle.DashLine, Qt.PenStyle.DotLine, Qt.PenStyle.DashDotLine)

_ROLE_COLOURS: dict[str, str] = {
    "latest": OKABE_ITO["blue"],
    "history": OKABE_ITO["sky_blue"],
    "cell_state": OKABE_ITO["bluish_green"],
    "theory": OKABE_ITO["vermillion"],
    # The predicted curve: a wide band in a light orange under the measured curve, so that where
    # the two agree the measured line runs inside it, and it reads unlike the thin dashed bound.
    "prediction": OKABE_ITO["orange"],
    "zero_marker": OKABE_ITO["bluish_green"],
    "inf_marker": OKABE_ITO["vermillion"],
    "nan_marker": OKABE_ITO["reddish_purple"],
    "grad_before": OKABE_ITO["orange"],
    "grad_after": OKABE_ITO["blue"],
    "threshold": OKABE_ITO["vermillion"],
    "loss": OKABE_ITO["bluish_green"],
    "baseline": "#7F7F7F",
    "hist_weights": OKABE_ITO["blue"],
    "hist_grad": OKABE_ITO["orange"],
    "eigenvalues": OKABE_ITO["blue"],
    "unit_circle": "#7F7F7F",
    "gamma_circle": OKABE_ITO["vermillion"],
    "alert": OKABE_ITO["vermillion"],
    # Pins: none of the live curves', the theory line's or the clipping threshold's colours
    # (vermillion, orange, blues, green); told apart by dash pattern too.
    "pin0": OKABE_ITO["reddish_purple"],
    "pin1": "#555555",
    "pin2": "#8C7A00",  # a dark yellow: Okabe-Ito's yellow vanishes on white
}

# On a dark background the darkest Okabe–Ito blue is hard to see; use its lighter sibling.
_DARK_OVERRIDES: dict[str, str] = {
    "latest": OKABE_ITO["sky_blue"],
    "history": "#9CCFEF",
    "grad_after": OKABE_ITO["sky_blue"],
    "hist_weights": OKABE_ITO["sky_blue"],
    "eigenvalues": OKABE_ITO["sky_blue"],
    "unit_circle": "#B0B0B0",
    "baseline": "#B0B0B0",
    "pin1": "#D0D0D0",
    "pin2": OKABE_ITO["yellow"],
}


@dataclass(frozen=True)
class Theme:
    """All sizes are at ``scale`` 1 for a 1280×720 screen seen from the back of a room."""

    dark: bool = False
    scale: float = 1.0
    base_font_pt: float = 11.0
    axis_font_pt: float = 11.0
    label_font_pt: float = 12.0
    title_font_pt: float = 13.0
    line_width: float = 3.0
    thin_line_width: float = 1.6
    marker_size: float = 12.0
    eigen_marker_size: float = 9.0

    # ---- derived values -------------------------------------------------------------------
    def scaled(self, factor: float) -> Theme:
        """The same theme with every size multiplied by ``factor`` (presenter mode), kept within
        [MIN_SCALE, MAX_SCALE]."""
        return self.with_scale(self.scale * factor)

    def with_scale(self, scale: float) -> Theme:
        scale = round(min(max(float(scale), MIN_SCALE), MAX_SCALE), 4)
        return dataclasses.replace(self, scale=scale)

    def with_dark(self, dark: bool) -> Theme:
        return dataclasses.replace(self, dark=dark)

    @property
    def name(self) -> ThemeName:
        return "dark" if self.dark else "projector"

    @staticmethod
    def named(name: str, scale: float = 1.0) -> Theme:
        """The theme called ``name`` ("projector" or "dark") at ``scale``."""
        if name not in THEME_NAMES:
            raise ValueError(f"theme: {name!r} is not one of {', '.join(THEME_NAMES)}")
        return Theme(dark=name == "dark").with_scale(scale)

    def pt(self, size_pt: float) -> float:
        return size_pt * self.scale

    def px(self, size: float) -> float:
        return size * self.scale

    @property
    def background(self) -> str:
        return "#121212" if self.dark else "#FFFFFF"

    @property
    def foreground(self) -> str:
        # Pure black on white: a projector washes out anything lighter.
        return "#E8E8E8" if self.dark else "#000000"

    @property
    def muted(self) -> str:
        """Secondary text (notes, the "custom" caption)."""
        return "#A0A0A0" if self.dark else "#555555"

    @property
    def panel(self) -> str:
        """Background of bands and legends, a step away from the plot background."""
        return "#1E1E1E" if self.dark else "#F2F2F2"

    def line_px(self, width: float) -> int:
        """A line width in whole pixels (at least 1): whole-pixel, non-antialiased wide lines are
        several times cheaper for the raster engine than fractional or antialiased ones."""
        return max(1, int(round(self.px(width))))

    def colour(self, role: Role, alpha: float = 1.0) -> QColor:
        name = (_DARK_OVERRIDES.get(role) if self.dark else None) or _ROLE_COLOURS[role]
        colour = QColor(name)
        colour.setAlphaF(max(0.0, min(1.0, alpha)))
        return colour

    def faded(self, role: Role, amount: float) -> QColor:
        """The role's colour mixed with the background (0: the colour, 1: the background), opaque:
        blending with alpha would cost the raster engine on every repaint."""
        amount = max(0.0, min(1.0, amount))
        colour, background = self.colour(role), QColor(self.background)
        return QColor(
            round(colour.red() * (1 - amount) + background.red() * amount),
            round(colour.green() * (1 - amount) + background.green() * amount),
            round(colour.blue() * (1 - amount) + background.blue() * amount),
        )

    def pen(
        self,
        role: Role,
        *,
        width: float | None = None,
        dashed: bool = False,
        alpha: float = 1.0,
        style: Qt.PenStyle | None = None,
        colour: QColor | None = None,
    ) -> QPen:
        pen: QPen = pg.mkPen(
            color=colour if colour is not None else self.colour(role, alpha),
            width=self.line_px(width or self.line_width),
        )
        if style is not None:
            pen.setStyle(style)
        elif dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        return pen

    def pin_pen(self, index: int, *, width: float | None = None) -> QPen:
        """The ghost pen of pin ``index`` (0, 1, 2): its own colour and dash pattern."""
        roles: tuple[Role, Role, Role] = ("pin0", "pin1", "pin2")
        role = roles[index % 3]
        return self.pen(role, width=width or self.thin_line_width * 1.25, style=PIN_DASHES[index % 3])

    def font(self, size_pt: float, *, bold: bool = False) -> QFont:
        font = QFont()
        font.setPointSizeF(self.pt(size_pt))
        font.setBold(bold)
        return font

    def title_font(self) -> QFont:
        """The font of plot titles (``style_plot``)."""
        return self.font(self.title_font_pt, bold=True)

    def style_plot(self, plot: pg.PlotItem, *, title: str | None = None, y_grid: bool = False) -> None:
        """Fonts, pens and colours of one plot's axes and title.

        Grid lines only where asked: an axis with a grid spans the whole plot, so every curve
        update repaints it with all its tick labels, which costs frames.
        """
        fg = self.foreground
        for name in ("left", "bottom", "right", "top"):
            axis = plot.getAxis(name)
            axis.setPen(pg.mkPen(fg, width=self.px(1.2)))
            axis.setTextPen(pg.mkPen(fg))
            axis.setStyle(tickFont=self.font(self.axis_font_pt), tickTextOffset=int(self.px(4)))
            axis.label.setFont(self.font(self.label_font_pt))
            if axis.labelText:
                axis.setLabel(axis.labelText, units=axis.labelUnits, color=fg)
        if title is not None:
            plot.setTitle(title, color=fg, size=f"{self.pt(self.title_font_pt):.1f}pt", bold=True)
            # pyqtgraph gives a title 30 px whatever its size (large fonts lose their lower half),
            # and lets a long title widen the plot: the row fits the font, the width the plot.
            height = int(QFontMetricsF(self.title_font()).height() + self.px(6))
            plot.layout.setRowFixedHeight(0, height)
            plot.titleLabel.setMaximumHeight(height)
            plot.titleLabel.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            plot.titleLabel.setMinimumWidth(0)  # pyqtgraph makes the text's width the minimum
        plot.showGrid(x=False, y=y_grid, alpha=0.3 if self.dark else 0.2)

    def style_legend(self, legend: pg.LegendItem) -> None:
        legend.setLabelTextColor(self.foreground)
        legend.setLabelTextSize(f"{self.pt(self.axis_font_pt):.1f}pt")
        # Legends stand outside the data, in rows of their own: no frame, and rows as tight as
        # the text (pyqtgraph pads each label by 4 px above and below).
        legend.setBrush(pg.mkBrush(QColor(self.background)))
        legend.setPen(pg.mkPen(None))
        legend.layout.setVerticalSpacing(0)
        legend.layout.setContentsMargins(self.px(2), 0, self.px(2), 0)
        for _, label in legend.items:
            label.item.document().setDocumentMargin(self.px(1))
            label.setText(label.text, color=self.foreground, size=f"{self.pt(self.axis_font_pt):.1f}pt")

    def palette(self) -> QPalette:
        """Widget colours for this theme (the control panel, menus, bands)."""
        palette = QPalette()
        background, foreground = QColor(self.background), QColor(self.foreground)
        base = QColor("#1B1B1B") if self.dark else QColor("#FFFFFF")
        window = QColor("#202020") if self.dark else QColor("#F0F0F0")
        button = QColor("#2C2C2C") if self.dark else QColor("#E6E6E6")
        for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
            palette.setColor(group, QPalette.ColorRole.Window, window)
            palette.setColor(group, QPalette.ColorRole.WindowText, foreground)
            palette.setColor(group, QPalette.ColorRole.Base, base)
            palette.setColor(group, QPalette.ColorRole.AlternateBase, background)
            palette.setColor(group, QPalette.ColorRole.Text, foreground)
            palette.setColor(group, QPalette.ColorRole.Button, button)
            palette.setColor(group, QPalette.ColorRole.ButtonText, foreground)
            palette.setColor(group, QPalette.ColorRole.ToolTipBase, base)
            palette.setColor(group, QPalette.ColorRole.ToolTipText, foreground)
            palette.setColor(group, QPalette.ColorRole.Highlight, QColor(OKABE_ITO["blue"]))
            palette.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#FFFFFF"))
            palette.setColor(group, QPalette.ColorRole.PlaceholderText, QColor(self.muted))
        disabled = QColor("#707070") if self.dark else QColor("#8A8A8A")
        for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
            palette.setColor(QPalette.ColorGroup.Disabled, role, disabled)
        for role, colour in (
            (QPalette.ColorRole.Window, window),
            (QPalette.ColorRole.Base, window),
            (QPalette.ColorRole.Button, button),
        ):
            palette.setColor(QPalette.ColorGroup.Disabled, role, colour)
        return palette

    def apply_to_app(self, app: QApplication) -> None:
        """The application-wide font and palette, and pyqtgraph's defaults for items created later."""
        font = app.font()
        if font.pointSizeF() != self.pt(self.base_font_pt):
            # Both propagate to every widget: only when they change.
            font.setPointSizeF(self.pt(self.base_font_pt))
            app.setFont(font)
        palette = self.palette()
        if app.palette() != palette:
            app.setPalette(palette)
        # Antialiasing wide pens costs the raster engine several ms per curve and frame, so it is
        # off by default and switched on only for short curves (circles, the theory line).
        pg.setConfigOptions(antialias=False, background=self.background, foreground=self.foreground)

    def window_stylesheet(self) -> str:
        """The main window's style sheet: colours only, the same at every size. (That the window
        has a sheet at all gives every widget the compact style-sheet look.)"""
        return (
            f"QToolTip {{ color: {self.foreground}; background: {self.panel}; border: 1px solid {self.foreground}; }}"
        )

    def stylesheets(self) -> dict[str, str]:
        """Style sheets of the named non-plot widgets (banners, caption, readouts, notes), by
        object name. Each is set on its own widget: a sheet on the whole window would make every
        widget re-style on each change of size (~0.1-0.2 s of the GUI thread)."""
        alert = _ROLE_COLOURS["alert"]
        notice = "#3A3000" if self.dark else "#FFF4C2"
        return {
            "alert": f"QLabel#alert {{ background: {alert}; color: white; font-weight: bold;"
            f" padding: {self.px(3):.0f}px {self.px(8):.0f}px; border-radius: {self.px(4):.0f}px; }}",
            "banner": f"QLabel#banner {{ background: {alert}; color: white; font-weight: bold;"
            f" padding: {self.px(6):.0f}px; }}",
            "notice": f"QFrame#notice {{ background: {notice}; border: 1px solid {self.foreground}; }}"
            f" QFrame#notice QLabel {{ color: {self.foreground}; }}",
            "note": f"QLabel#note {{ color: {self.muted}; font-style: italic; }}",
            "readout": f"QLabel#readout {{ font-size: {self.pt(self.label_font_pt):.1f}pt; }}",
            "captionBand": f"QFrame#captionBand {{ background: {self.panel};"
            f" border-bottom: {self.line_px(2)}px solid {self.foreground}; }}",
            "sceneTitle": f"QLabel#sceneTitle {{ color: {self.foreground}; font-weight: bold;"
            f" font-size: {self.pt(self.title_font_pt * 1.3):.1f}pt; }}",
            "sceneCaption": f"QLabel#sceneCaption {{ color: {self.foreground};"
            f" font-size: {self.pt(self.title_font_pt * 1.15):.1f}pt; }}"
            f' QLabel#sceneCaption[custom="true"] {{ color: {self.muted}; font-style: italic; }}',
            "bigValue": f"QLabel#bigValue {{ color: {self.foreground}; font-weight: bold;"
            f" font-size: {self.pt(self.title_font_pt * 1.6):.1f}pt; }}",
            "bigName": f"QLabel#bigName {{ color: {self.muted}; font-size: {self.pt(self.base_font_pt):.1f}pt; }}",
            # Fusion draws a check box's frame a shade darker than the window: on the dark theme
            # that is black on near-black, and the box all but vanishes.
            "freezeBox": f"QCheckBox#freezeBox {{ color: {self.foreground}; }}"
            f" QCheckBox#freezeBox::indicator {{ width: {self.px(14):.0f}px; height: {self.px(14):.0f}px;"
            f" border: {self.line_px(2)}px solid {self.foreground}; background: {self.background}; }}"
            f" QCheckBox#freezeBox::indicator:checked {{ background: {self.colour('latest').name()}; }}",
            "helpOverlay": f"QFrame#helpOverlay {{ background: {self.panel};"
            f" border: {self.line_px(2)}px solid {self.foreground}; }}"
            f" QFrame#helpOverlay QLabel {{ color: {self.foreground};"
            f" font-size: {self.pt(self.base_font_pt * 1.1):.1f}pt; }}",
        }

    def style_widgets(self, root: QWidget) -> None:
        """Give ``root`` and each named widget inside it its own style sheet."""
        sheets = self.stylesheets()
        for widget in [root, *root.findChildren(QWidget)]:
            sheet = sheets.get(widget.objectName())
            if sheet is not None and widget.styleSheet() != sheet:
                widget.setStyleSheet(sheet)


DEFAULT_THEME = Theme()
