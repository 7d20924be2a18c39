"""Colours, font sizes, line widths and marker sizes of the window, all in one re-appliable object.

Every widget takes its look from a ``Theme`` and has an ``apply_theme(theme)`` method, so a
presenter mode can scale everything at once (``theme.scaled(1.25)``) or switch light/dark.
The palette is Okabe–Ito, which stays distinguishable for the common colour-vision deficiencies.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Literal

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QApplication

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
]

_ROLE_COLOURS: dict[str, str] = {
    "latest": OKABE_ITO["blue"],
    "history": OKABE_ITO["sky_blue"],
    "cell_state": OKABE_ITO["bluish_green"],
    "theory": OKABE_ITO["vermillion"],
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
        """The same theme with every size multiplied by ``factor`` (presenter mode)."""
        return dataclasses.replace(self, scale=self.scale * factor)

    def with_dark(self, dark: bool) -> Theme:
        return dataclasses.replace(self, dark=dark)

    def pt(self, size_pt: float) -> float:
        return size_pt * self.scale

    def px(self, size: float) -> float:
        return size * self.scale

    @property
    def background(self) -> str:
        return "#121212" if self.dark else "#FFFFFF"

    @property
    def foreground(self) -> str:
        return "#E8E8E8" if self.dark else "#1A1A1A"

    def colour(self, role: Role, alpha: float = 1.0) -> QColor:
        name = (_DARK_OVERRIDES.get(role) if self.dark else None) or _ROLE_COLOURS[role]
        colour = QColor(name)
        colour.setAlphaF(max(0.0, min(1.0, alpha)))
        return colour

    def pen(
        self, role: Role, *, width: float | None = None, dashed: bool = False, alpha: float = 1.0
    ) -> QPen:
        pen = pg.mkPen(color=self.colour(role, alpha), width=self.px(width or self.line_width))
        if dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        return pen

    def font(self, size_pt: float, *, bold: bool = False) -> QFont:
        font = QFont()
        font.setPointSizeF(self.pt(size_pt))
        font.setBold(bold)
        return font

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
        plot.showGrid(x=False, y=y_grid, alpha=0.3 if self.dark else 0.2)

    def style_legend(self, legend: pg.LegendItem) -> None:
        legend.setLabelTextColor(self.foreground)
        legend.setLabelTextSize(f"{self.pt(self.axis_font_pt):.1f}pt")
        legend.setBrush(pg.mkBrush(QColor(self.background).lighter(100) if not self.dark else "#222222"))
        legend.setPen(pg.mkPen(self.foreground, width=1))

    def apply_to_app(self, app: QApplication) -> None:
        """The application-wide font and pyqtgraph's defaults for items created later."""
        font = app.font()
        font.setPointSizeF(self.pt(self.base_font_pt))
        app.setFont(font)
        # Antialiasing wide pens costs the raster engine ~35 ms a frame for the whole window, so it
        # is off by default and switched on per item for the few curves where it shows.
        pg.setConfigOptions(antialias=False, background=self.background, foreground=self.foreground)

    def stylesheet(self) -> str:
        """Style of the non-plot widgets (control panel, status bar, alert banner)."""
        alert = _ROLE_COLOURS["alert"]
        return (
            f"QLabel#alert {{ background: {alert}; color: white; font-weight: bold;"
            f" padding: {self.px(3):.0f}px {self.px(8):.0f}px; border-radius: {self.px(4):.0f}px; }}"
            f" QLabel#banner {{ background: {alert}; color: white; font-weight: bold;"
            f" padding: {self.px(6):.0f}px; }}"
            f" QLabel#note {{ color: #7F7F7F; font-style: italic; }}"
            f" QLabel#readout {{ font-size: {self.pt(self.label_font_pt):.1f}pt; }}"
        )


DEFAULT_THEME = Theme()
