"""The control panel: every Config field as a widget, both ways (Config -> widgets -> Config).

Choices and ranges come from ``gradlab.core.FIELDS``; this module only decides how each field is
shown. Slider drags are throttled, so a drag restarts the simulation at most every
``SLIDER_THROTTLE_MS`` and always ends on the value the slider was released at.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible, QLargeIntSpinBox
from superqt.utils import qthrottled

from gradlab.core import FIELDS, Config
from gradlab.ui.slider_scales import (
    SCALE_SLIDER_STEPS,
    SEQ_SLIDER_STEPS,
    position_from_scale,
    position_from_seq_len,
    scale_from_position,
    seq_len_from_position,
)

log = logging.getLogger(__name__)

SLIDER_THROTTLE_MS = 60
COMBO_MIN_CHARACTERS = 9  # a closed choice box shows this many characters at least

# What the user reads for each choice; the values themselves come from FIELDS.
CHOICE_LABELS: dict[str, dict[str, str]] = {
    "cell": {"rnn": "RNN", "lstm": "LSTM", "gru": "GRU", "mlp": "deep MLP"},
    "activation": {"tanh": "tanh", "sigmoid": "sigmoid", "relu": "ReLU", "linear": "linear"},
    "clip": {"none": "off", "norm": "by norm", "value": "by value"},
    "init": {
        "gaussian": "Gaussian",
        "orthogonal": "orthogonal",
        "identity": "identity",
        "xavier": "Xavier",
        "he": "He",
        "std": "std (absolute)",
        "zero": "zero",
    },
    "task": {"probe": "probe", "adding": "adding problem", "spirals": "spirals"},
    "norm": {"none": "off", "batch": "BatchNorm", "layer": "LayerNorm"},
    "optimizer": {"sgd": "SGD", "adam": "Adam"},
    "dtype": {"float64": "float64", "float32": "float32"},
    "forget_bias_init": {"one": "+1", "zero": "0 (PyTorch)", "chrono": "chrono"},
}
# What a short choice means, as the tooltip of its entry in the list that opens.
CHOICE_DETAILS: dict[str, dict[str, str]] = {
    "task": {"probe": "probe (loss at the end)", "spirals": "spirals (points)"},
    "forget_bias_init": {"one": "+1 (forget gate)", "chrono": "chrono (log U[1, T-1])"},
}


class ControlPanel(QWidget):
    """Widgets for every field of a Config. Emits ``config_changed`` when the user changes one."""

    config_changed = Signal(object)  # Config
    refused = Signal(str)  # why a value typed or chosen was not taken (the widgets show the old one)

    def __init__(self, config: Config | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._config = config or Config()
        self._last_emitted = self._config
        self._updating = False
        self.widgets: dict[str, QWidget] = {}

        self._emit_throttled = qthrottled(self._emit, timeout=SLIDER_THROTTLE_MS, leading=True, parent=self)

        # ---- main controls ----
        self.cell = self._combo("cell")
        self.activation = self._combo("activation")
        self.activation_note = QLabel("LSTM/GRU gates have fixed σ and tanh")
        self.activation_note.setObjectName("note")
        self.activation_note.setWordWrap(True)

        self.scale_slider = QSlider(Qt.Orientation.Horizontal)
        self.scale_slider.setRange(0, SCALE_SLIDER_STEPS)
        self.scale_slider.setPageStep(SCALE_SLIDER_STEPS // 20)
        self.scale_slider.setToolTip(FIELDS["w_rec_scale"].help + " (finer steps near 1)")
        self.scale_spin = QDoubleSpinBox()
        spec = FIELDS["w_rec_scale"]
        self.scale_spin.setDecimals(3)
        self.scale_spin.setRange(0.001, float(spec.high or 10.0))
        self.scale_spin.setSingleStep(0.01)
        self.scale_spin.setToolTip(spec.help)
        self.scale_slider.valueChanged.connect(self._scale_slider_moved)
        self.scale_spin.valueChanged.connect(self._scale_spin_changed)
        self.widgets["w_rec_scale"] = self.scale_spin

        self.seq_slider = QSlider(Qt.Orientation.Horizontal)
        self.seq_slider.setRange(0, SEQ_SLIDER_STEPS)
        self.seq_slider.setPageStep(SEQ_SLIDER_STEPS // 20)
        self.seq_slider.setToolTip("sequence length T (logarithmic)")
        self.seq_spin = self._int_spin("seq_len", connect=False)
        self.seq_slider.valueChanged.connect(self._seq_slider_moved)
        self.seq_spin.valueChanged.connect(self._seq_spin_changed)

        self.clip = self._combo("clip")
        self.clip_threshold = self._float_spin("clip_threshold", decimals=3, minimum=0.001)

        # ---- advanced ----
        self.hidden_size = self._int_spin("hidden_size")
        self.batch_size = self._int_spin("batch_size")
        self.init = self._combo("init")
        self.task = self._combo("task")
        self.optimizer = self._combo("optimizer")
        self.lr = self._float_spin("lr", decimals=5, minimum=1e-5)
        self.weight_decay = self._float_spin("weight_decay", decimals=5, minimum=0.0)
        self.truncation = QSpinBox()
        spec = FIELDS["truncation"]
        self.truncation.setRange(0, int(spec.high or 10000))
        self.truncation.setSpecialValueText("off")
        self.truncation.setToolTip(spec.help + " (0 = off: full BPTT)")
        self.truncation.valueChanged.connect(self._truncation_changed)
        self.widgets["truncation"] = self.truncation
        self.dtype = self._combo("dtype")
        self.forget_bias_init = self._combo("forget_bias_init")
        # depth mode (the deep feed-forward cell): skip connections, normalisation; σ_b for all
        self.residual = self._float_spin("residual", decimals=4, minimum=0.0)
        self.residual_root = QToolButton()
        self.residual_root.setText("1/√L")
        self.residual_root.setToolTip("α = 1/√L: the residual branches' sum stays of order 1 at any depth")
        self.residual_root.clicked.connect(
            lambda: self._change("residual", round(1.0 / math.sqrt(self._config.seq_len), 4))
        )
        self.norm = self._combo("norm")
        self.bias_scale = QDoubleSpinBox()
        self.bias_scale.setDecimals(3)
        self.bias_scale.setRange(0.0, float(FIELDS["bias_scale"].high or 10.0))
        self.bias_scale.setSingleStep(0.05)
        self.bias_scale.setSpecialValueText("default")  # 0 shows the cell's own default (None)
        self.bias_scale.setKeyboardTracking(False)
        self.bias_scale.setToolTip(FIELDS["bias_scale"].help + " (0 = the default)")
        self.bias_scale.valueChanged.connect(lambda value: self._change("bias_scale", float(value) or None))
        self.widgets["bias_scale"] = self.bias_scale
        self.seed = QLargeIntSpinBox()
        self.seed.setRange(0, int(FIELDS["seed"].high or 0))  # type: ignore[no-untyped-call]  # superqt leaves it untyped
        self.seed.setToolTip(FIELDS["seed"].help)
        self.seed.valueChanged.connect(lambda value: self._change("seed", int(value)))
        self.widgets["seed"] = self.seed

        self._build_layout()
        self.set_config(self._config)
        for widget in self.widgets.values():
            if isinstance(widget, QAbstractSpinBox):
                # Return gives the keyboard back to the window: scene keys, Space and H work
                # again (a spin box that kept the focus would take "3" as a digit).
                widget.editingFinished.connect(widget.clearFocus)

    # ---- public -----------------------------------------------------------------------------
    @property
    def config(self) -> Config:
        """The Config the widgets show."""
        return self._config

    def set_config(self, config: Config) -> None:
        """Show ``config`` in every widget without emitting ``config_changed``."""
        self._emit_throttled.cancel()
        self._config = config
        self._last_emitted = config
        self._updating = True
        try:
            combos = ("cell", "activation", "clip", "init", "task", "optimizer", "dtype", "forget_bias_init", "norm")
            for name in combos:
                combo = self.widgets[name]
                assert isinstance(combo, QComboBox)
                combo.setCurrentIndex(combo.findData(getattr(config, name)))
            self.scale_spin.setValue(config.w_rec_scale)
            self.scale_slider.setValue(position_from_scale(config.w_rec_scale))
            self.seq_spin.setValue(config.seq_len)
            self.seq_slider.setValue(position_from_seq_len(config.seq_len))
            self.clip_threshold.setValue(config.clip_threshold)
            self.hidden_size.setValue(config.hidden_size)
            self.batch_size.setValue(config.batch_size)
            self.lr.setValue(config.lr)
            self.weight_decay.setValue(config.weight_decay)
            self.truncation.setValue(config.truncation or 0)
            self.residual.setValue(config.residual)
            self.bias_scale.setValue(config.bias_scale or 0.0)
            self.seed.setValue(config.seed)  # type: ignore[no-untyped-call]
        finally:
            self._updating = False
        self._update_enabled()

    # ---- building ---------------------------------------------------------------------------
    def _combo(self, name: str) -> QComboBox:
        combo = QComboBox()
        # As wide as the column gives, not as the longest choice ("chrono (log U[1, T-1])"): at
        # large fonts that width took a third of a 1280 px window from the plots.
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        combo.setMinimumContentsLength(COMBO_MIN_CHARACTERS)
        labels = CHOICE_LABELS.get(name, {})
        details = CHOICE_DETAILS.get(name, {})
        for choice in FIELDS[name].choices:
            combo.addItem(labels.get(choice, choice), choice)
            if choice in details:
                combo.setItemData(combo.count() - 1, details[choice], Qt.ItemDataRole.ToolTipRole)
        combo.setToolTip(FIELDS[name].help)
        combo.currentIndexChanged.connect(lambda _index: self._change(name, combo.currentData()))
        self.widgets[name] = combo
        return combo

    def _int_spin(self, name: str, *, connect: bool = True) -> QSpinBox:
        spec = FIELDS[name]
        spin = QSpinBox()
        spin.setRange(int(spec.low or 0), int(spec.high or 0))
        spin.setToolTip(spec.help)
        spin.setKeyboardTracking(False)  # typing "128" is one change, not three
        if connect:
            spin.valueChanged.connect(lambda value: self._change(name, int(value)))
        self.widgets[name] = spin
        return spin

    def _float_spin(self, name: str, *, decimals: int, minimum: float) -> QDoubleSpinBox:
        spec = FIELDS[name]
        spin = QDoubleSpinBox()
        spin.setDecimals(decimals)
        spin.setRange(minimum, float(spec.high or 0.0))
        spin.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        spin.setKeyboardTracking(False)
        spin.setToolTip(spec.help)
        spin.valueChanged.connect(lambda value: self._change(name, float(value)))
        self.widgets[name] = spin
        return spin

    def _build_layout(self) -> None:
        self.scale_spin.setKeyboardTracking(False)
        for spin in (self.scale_spin, self.seq_spin):
            spin.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            spin.setMinimumWidth(spin.fontMetrics().horizontalAdvance("00000.000") + 16)

        main = QFormLayout()
        main.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        main.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        main.addRow("Cell", self.cell)
        main.addRow("Activation", self.activation)
        main.addRow("", self.activation_note)
        self._scale_row = _pair(self.scale_slider, self.scale_spin)
        self._length_row = _pair(self.seq_slider, self.seq_spin)
        main.addRow("W_rec scale", self._scale_row)
        main.addRow("Length T", self._length_row)
        self._main_form = main
        main.addRow("Clipping", self.clip)
        main.addRow("Threshold", self.clip_threshold)

        advanced_form = QFormLayout()
        advanced_form.addRow("Hidden size H", self.hidden_size)
        advanced_form.addRow("Batch size", self.batch_size)
        advanced_form.addRow("Initialisation", self.init)
        self._residual_row = _pair(self.residual, self.residual_root)
        advanced_form.addRow("Residual α", self._residual_row)
        advanced_form.addRow("Normalisation", self.norm)
        advanced_form.addRow("Bias scale σ_b", self.bias_scale)
        advanced_form.addRow("Task", self.task)
        advanced_form.addRow("Optimiser", self.optimizer)
        advanced_form.addRow("Learning rate", self.lr)
        advanced_form.addRow("Weight decay", self.weight_decay)
        advanced_form.addRow("Truncation", self.truncation)
        advanced_form.addRow("Precision", self.dtype)
        advanced_form.addRow("Gate bias", self.forget_bias_init)
        advanced_form.addRow("Seed", self.seed)
        self._advanced_form = advanced_form
        advanced_widget = QWidget()
        advanced_widget.setLayout(advanced_form)
        self.advanced = QCollapsible("Advanced")
        self.advanced.addWidget(advanced_widget)
        self.advanced.expand(animate=False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(main)
        layout.addWidget(self.advanced)
        layout.addStretch(1)

    # ---- widget -> Config -------------------------------------------------------------------
    def _change(self, name: str, value: Any, *, throttled: bool = False) -> None:
        if self._updating:
            return
        if getattr(self._config, name) == value:
            return
        try:
            config = self._config.replace(**{name: value})
        except ValueError as exc:
            log.warning("ignored invalid %s: %s", name, exc)
            self.set_config(self._config)
            shown = getattr(self._config, name)
            self.refused.emit(f"Not changed: {exc}. {name} stays at {shown}.")
            return
        self._config = config
        self._update_enabled()
        if throttled:
            self._emit_throttled()
        else:
            self._emit_throttled.cancel()
            self._emit()

    def _emit(self) -> None:
        if self._config != self._last_emitted:
            self._last_emitted = self._config
            self.config_changed.emit(self._config)

    def _scale_slider_moved(self, position: int) -> None:
        if self._updating:
            return
        value = scale_from_position(position)
        self._updating = True
        self.scale_spin.setValue(value)
        self._updating = False
        self._change("w_rec_scale", value, throttled=True)

    def _scale_spin_changed(self, value: float) -> None:
        if self._updating:
            return
        self._updating = True
        self.scale_slider.setValue(position_from_scale(value))
        self._updating = False
        self._change("w_rec_scale", float(value))

    def _seq_slider_moved(self, position: int) -> None:
        if self._updating:
            return
        value = seq_len_from_position(position)
        self._updating = True
        self.seq_spin.setValue(value)
        self._updating = False
        self._change("seq_len", value, throttled=True)

    def _seq_spin_changed(self, value: int) -> None:
        if self._updating:
            return
        self._updating = True
        self.seq_slider.setValue(position_from_seq_len(value))
        self._updating = False
        self._change("seq_len", int(value))

    def _residual_root_clicked(self) -> None:
        self._change("residual", round(1.0 / math.sqrt(self._config.seq_len), 4))

    def _truncation_changed(self, value: int) -> None:
        self._change("truncation", None if value == 0 else int(value))

    def _update_enabled(self) -> None:
        gated = self._config.cell in ("lstm", "gru")  # the rnn and the mlp take an activation
        self.activation.setEnabled(not gated)
        self.activation_note.setVisible(gated)
        self.forget_bias_init.setEnabled(gated)  # the vanilla RNN has no gate
        self.clip_threshold.setEnabled(self._config.clip != "none")
        # Depth mode names the controls as a deep net's and shows its own rows (and no BPTT ones).
        deep = self._config.cell == "mlp"
        for form, widget, names in (
            (self._main_form, self._scale_row, ("W_rec scale", "Weight scale")),
            (self._main_form, self._length_row, ("Length T", "Depth L")),
            (self._advanced_form, self.hidden_size, ("Hidden size H", "Width H")),
        ):
            label = form.labelForField(widget)
            if isinstance(label, QLabel):
                label.setText(names[deep])
        for widget, shown in (
            (self._residual_row, deep),
            (self.norm, deep),
            (self.truncation, not deep),
            (self.forget_bias_init, not deep),
        ):
            self._advanced_form.setRowVisible(widget, shown)
        self.seq_slider.setToolTip("depth L: layers (logarithmic)" if deep else "sequence length T (logarithmic)")


def _pair(wide: QWidget, narrow: QWidget) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(wide, 1)
    layout.addWidget(narrow)
    return row
