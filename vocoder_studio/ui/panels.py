"""The vocoder dock: vocoder and device choice, each vocoder's parameters, and the audio output settings."""

from __future__ import annotations

import math
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.engine.audio_output import output_devices, playback_status
from vocoder_studio.engine.device import device_choices
from vocoder_studio.ui.theme import HINT_STYLE
from vocoder_studio.vocoders.choice import VocoderChoice
from vocoder_studio.vocoders.entry import VocoderEntry
from vocoder_studio.vocoders.params import Parameter, resolve
from vocoder_studio.vocoders.registry import list_vocoders, preview_vocoder

BLOCKSIZES = [256, 512, 1024, 2048, 4096]


def _control_for(param: Parameter) -> QWidget:
    """One control for one schema entry: a spin box (int), a decimal spin box (float), a combo box (choice) or
    a check box (bool), bounded by the schema, with its help as tooltip and its unit as suffix."""
    control: QWidget
    suffix = f" {param.unit}" if param.unit else ""
    if param.kind == "int":
        spin = QSpinBox()
        spin.setRange(int(param.min if param.min is not None else -(2**31)),
                      int(param.max if param.max is not None else 2**31 - 1))
        spin.setValue(int(param.default))
        spin.setSuffix(suffix)
        control = spin
    elif param.kind == "float":
        dspin = QDoubleSpinBox()
        dspin.setDecimals(3)
        dspin.setRange(param.min if param.min is not None else -1e9, param.max if param.max is not None else 1e9)
        span = (param.max - param.min) if param.min is not None and param.max is not None else 10.0
        dspin.setSingleStep(10 ** math.floor(math.log10(max(span, 1e-3))) / 100)
        dspin.setValue(float(param.default))
        dspin.setSuffix(suffix)
        control = dspin
    elif param.kind == "choice":
        combo = QComboBox()
        combo.addItems(list(param.choices))
        combo.setCurrentText(str(param.default))
        control = combo
    else:
        check = QCheckBox()
        check.setChecked(bool(param.default))
        control = check
    control.setToolTip(f"{param.help} ({param.describe_range()})")
    return control


class ParameterPanel(QWidget):
    """Controls for one vocoder, generated from its parameter schema (``VocoderEntry.parameters``)."""

    changed = Signal()

    def __init__(self, entry: VocoderEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.controls: dict[str, QWidget] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for param in entry.parameters:
            control = _control_for(param)
            if isinstance(control, (QSpinBox, QDoubleSpinBox)):
                control.valueChanged.connect(self.changed)
            elif isinstance(control, QComboBox):
                control.currentTextChanged.connect(self.changed)
            elif isinstance(control, QCheckBox):
                control.toggled.connect(self.changed)
            self.controls[param.name] = control
            form.addRow(param.name.replace("_", " ").capitalize(), control)
        if not entry.parameters:
            form.addRow(QLabel("no parameters"))
        source = QLabel(f"Weights: {entry.weights}")
        source.setWordWrap(True)
        source.setStyleSheet(HINT_STYLE)
        form.addRow(source)
        #: how the vocoder behaves in the studio (``VocoderEntry.note``), or None
        self.note_label: QLabel | None = None
        if entry.note:
            self.note_label = QLabel(entry.note)
            self.note_label.setWordWrap(True)
            self.note_label.setStyleSheet(HINT_STYLE)
            form.addRow(self.note_label)

    def values(self) -> dict[str, Any]:
        """The current values by parameter name, as Python values the schema accepts."""
        out: dict[str, Any] = {}
        for name, control in self.controls.items():
            if isinstance(control, QSpinBox):
                out[name] = int(control.value())
            elif isinstance(control, QDoubleSpinBox):
                out[name] = float(control.value())
            elif isinstance(control, QComboBox):
                out[name] = control.currentText()
            elif isinstance(control, QCheckBox):
                out[name] = control.isChecked()
        return out

    def set_values(self, **values: Any) -> None:
        """Set controls by parameter name (values are checked against the schema first).

        Raises:
            ParameterError: an unknown name or a bad value.
        """
        checked = resolve(self.entry.parameters, values, self.entry.name)
        for name in values:
            control, value = self.controls[name], checked[name]
            if isinstance(control, (QSpinBox, QDoubleSpinBox)):
                control.setValue(value)
            elif isinstance(control, QComboBox):
                control.setCurrentText(str(value))
            elif isinstance(control, QCheckBox):
                control.setChecked(bool(value))


class VocoderPanel(QWidget):
    """Vocoder selector (unavailable ones disabled, reason as tooltip), device, parameters, audio output.

    Signals:
        changed(): the vocoder choice changed.
        outputChanged(device index or None, blocksize)
    """

    changed = Signal()
    outputChanged = Signal(object, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        first_ready = self._build_model_group(layout)
        self._build_output_group(layout)
        layout.addStretch(1)

        self.vocoder_combo.currentIndexChanged.connect(self._on_vocoder)
        self.device_combo.currentIndexChanged.connect(self.changed)
        self.output_combo.currentIndexChanged.connect(self._emit_output)
        self.blocksize_combo.currentIndexChanged.connect(self._emit_output)
        self.vocoder_combo.setCurrentIndex(first_ready or 0)
        self._on_vocoder(self.vocoder_combo.currentIndex())

    def _build_model_group(self, layout: QVBoxLayout) -> int | None:
        """The *Model* group (vocoder and device) and the *Parameters* group (one :class:`ParameterPanel` per
        vocoder, stacked); returns the row to select first: the preview vocoder if ready, else the first ready
        one (None: none is ready)."""
        group = QGroupBox("Model")
        form = QFormLayout(group)
        self.vocoder_combo = QComboBox()
        self.params = QStackedWidget()
        self.panels: dict[str, ParameterPanel] = {}
        self.entries = list_vocoders()
        self.reasons: dict[str, str | None] = {}
        first_ready = None
        preferred = preview_vocoder()
        for i, entry in enumerate(self.entries):
            self._add_vocoder(i, entry)
            if self.reasons[entry.name] is None and (first_ready is None or entry.name == preferred):
                first_ready = i
        self.device_combo = QComboBox()
        self.device_combo.addItems(device_choices())
        self.device_combo.setToolTip("auto = the GPU when there is one, else the CPU")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet(HINT_STYLE)
        form.addRow("Vocoder", self.vocoder_combo)
        form.addRow("Device", self.device_combo)
        layout.addWidget(group)
        pgroup = QGroupBox("Parameters")
        playout = QVBoxLayout(pgroup)
        playout.addWidget(self.params)
        playout.addWidget(self.status_label)
        layout.addWidget(pgroup)
        return first_ready

    def _add_vocoder(self, row: int, entry: VocoderEntry) -> None:
        """Row ``row`` of the selector (disabled with the reason as tooltip when unavailable, else the summary as
        tooltip) and the entry's parameter panel."""
        reason = entry.unavailable_reason()
        self.reasons[entry.name] = reason
        self.vocoder_combo.addItem(entry.label, entry.name)
        model = self.vocoder_combo.model()
        if reason is not None:
            if isinstance(model, QStandardItemModel):
                item = model.item(row)
                item.setEnabled(False)
                item.setToolTip(f"unavailable: {reason}")
        else:
            self.vocoder_combo.setItemData(row, entry.summary() or entry.weights, Qt.ItemDataRole.ToolTipRole)
        panel = ParameterPanel(entry)
        panel.changed.connect(self.changed)
        self.panels[entry.name] = panel
        self.params.addWidget(panel)

    def _build_output_group(self, layout: QVBoxLayout) -> None:
        """The *Audio output* group: the output device, the buffer size and the playback status."""
        agroup = QGroupBox("Audio output")
        aform = QFormLayout(agroup)
        self.output_combo = QComboBox()
        self.output_combo.addItem("System default", None)
        for dev in output_devices():
            self.output_combo.addItem(f"{dev.name} ({dev.hostapi})", dev.index)
        self.blocksize_combo = QComboBox()
        for size in BLOCKSIZES:
            self.blocksize_combo.addItem(f"{size} samples ({1000 * size / DEFAULT_CONFIG.sample_rate:.0f} ms)", size)
        self.blocksize_combo.setCurrentIndex(BLOCKSIZES.index(512))
        self.playback_label = QLabel(playback_status() or "playback ready")
        self.playback_label.setWordWrap(True)
        self.playback_label.setStyleSheet(HINT_STYLE)
        aform.addRow("Device", self.output_combo)
        aform.addRow("Buffer", self.blocksize_combo)
        aform.addRow(self.playback_label)
        layout.addWidget(agroup)

    def _on_vocoder(self, index: int) -> None:
        name = self.vocoder_combo.itemData(index)
        if name in self.panels:
            self.params.setCurrentWidget(self.panels[name])
            entry = self.panels[name].entry
            reason = self.reasons.get(name)
            self.status_label.setText(entry.summary() if reason is None else f"unavailable: {reason}")
        self.changed.emit()

    def _emit_output(self, *_: object) -> None:
        self.outputChanged.emit(self.output_combo.currentData(), int(self.blocksize_combo.currentData()))

    def choice(self) -> VocoderChoice:
        """The current vocoder choice."""
        name = str(self.vocoder_combo.currentData())
        return VocoderChoice.make(name, self.device_combo.currentText(), **self.panels[name].values())

    def set_vocoder(self, name: str, device: str | None = None, **params: Any) -> None:
        """Select vocoder ``name`` (and optionally device and parameter values)."""
        index = self.vocoder_combo.findData(name)
        if index < 0:
            raise KeyError(name)
        self.vocoder_combo.setCurrentIndex(index)
        if device is not None:
            self.device_combo.setCurrentText(device)
        self.panels[name].set_values(**params)
