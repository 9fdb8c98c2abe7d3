"""The vocoder dock: vocoder and device choice, each vocoder's parameters, and the audio output settings."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from vocoder_studio.engine.cache import VocoderChoice
from vocoder_studio.engine.device import device_choices
from vocoder_studio.engine.player import output_devices, playback_status
from vocoder_studio.vocoders.registry import DEFAULT_VOCODER, VocoderInfo, list_vocoders

PRECISIONS = ["float32", "bfloat16"]
BLOCKSIZES = [256, 512, 1024, 2048, 4096]


class ParameterPanel(QWidget):
    """Controls for one vocoder's parameters, built from ``VocoderInfo.parameters``."""

    changed = Signal()

    def __init__(self, info: VocoderInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.info = info
        self.controls: dict[str, QWidget] = {}
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        for name, default in info.parameters.items():
            control: QWidget
            if isinstance(default, bool):
                box = QComboBox()
                box.addItems(["off", "on"])
                box.setCurrentIndex(int(default))
                box.currentIndexChanged.connect(self.changed)
                control = box
            elif isinstance(default, int):
                spin = QSpinBox()
                spin.setRange(1, 1000)
                spin.setValue(default)
                spin.valueChanged.connect(self.changed)
                control = spin
            elif isinstance(default, float):
                dspin = QDoubleSpinBox()
                dspin.setRange(0.0, 1.0 if name == "momentum" else 1000.0)
                dspin.setDecimals(3)
                dspin.setSingleStep(0.01)
                dspin.setValue(default)
                dspin.valueChanged.connect(self.changed)
                control = dspin
            elif name == "precision":
                combo = QComboBox()
                combo.addItems(PRECISIONS)
                combo.setCurrentText(str(default))
                combo.setToolTip("bfloat16 autocast: faster on a GPU or on a CPU with AVX512-BF16/AMX, same quality; "
                                 "refused where the CPU would only emulate it")
                combo.currentTextChanged.connect(self.changed)
                control = combo
            else:
                line = QLineEdit(str(default))
                line.editingFinished.connect(self.changed)
                control = line
            self.controls[name] = control
            form.addRow(name.replace("_", " ").capitalize(), control)
        if not info.parameters:
            form.addRow(QLabel("no parameters"))
        source = QLabel(f"Weights: {info.weights_source}")
        source.setWordWrap(True)
        source.setStyleSheet("color: #8a909c;")
        form.addRow(source)

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, control in self.controls.items():
            default = self.info.parameters[name]
            if isinstance(control, QSpinBox):
                out[name] = int(control.value())
            elif isinstance(control, QDoubleSpinBox):
                out[name] = float(control.value())
            elif isinstance(control, QComboBox):
                is_bool = isinstance(default, bool)
                out[name] = bool(control.currentIndex()) if is_bool else control.currentText()
            elif isinstance(control, QLineEdit):
                out[name] = control.text()
        return out

    def set_values(self, **values: Any) -> None:
        for name, value in values.items():
            control = self.controls[name]
            if isinstance(control, (QSpinBox, QDoubleSpinBox)):
                control.setValue(value)
            elif isinstance(control, QComboBox):
                if isinstance(value, bool):
                    control.setCurrentIndex(int(value))
                else:
                    control.setCurrentText(str(value))
            elif isinstance(control, QLineEdit):
                control.setText(str(value))


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

        group = QGroupBox("Model")
        form = QFormLayout(group)
        self.vocoder_combo = QComboBox()
        self.params = QStackedWidget()
        self.panels: dict[str, ParameterPanel] = {}
        self.infos = list_vocoders()
        model = self.vocoder_combo.model()
        first_ready = None
        for i, info in enumerate(self.infos):
            reason = info.check()
            self.vocoder_combo.addItem(info.title, info.name)
            if reason is not None:
                if isinstance(model, QStandardItemModel):
                    item = model.item(i)
                    item.setEnabled(False)
                    item.setToolTip(f"unavailable: {reason}")
            else:
                self.vocoder_combo.setItemData(i, info.weights_source, Qt.ItemDataRole.ToolTipRole)
                if first_ready is None or info.name == DEFAULT_VOCODER:
                    first_ready = i
            panel = ParameterPanel(info)
            panel.changed.connect(self.changed)
            self.panels[info.name] = panel
            self.params.addWidget(panel)
        self.device_combo = QComboBox()
        self.device_combo.addItems(device_choices())
        self.device_combo.setToolTip("auto = the GPU when there is one, else the CPU")
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet("color: #8a909c;")
        form.addRow("Vocoder", self.vocoder_combo)
        form.addRow("Device", self.device_combo)
        layout.addWidget(group)
        pgroup = QGroupBox("Parameters")
        playout = QVBoxLayout(pgroup)
        playout.addWidget(self.params)
        playout.addWidget(self.status_label)
        layout.addWidget(pgroup)

        agroup = QGroupBox("Audio output")
        aform = QFormLayout(agroup)
        self.output_combo = QComboBox()
        self.output_combo.addItem("System default", None)
        for dev in output_devices():
            self.output_combo.addItem(f"{dev.name} ({dev.hostapi})", dev.index)
        self.blocksize_combo = QComboBox()
        for size in BLOCKSIZES:
            self.blocksize_combo.addItem(f"{size} samples ({1000 * size / 22050:.0f} ms)", size)
        self.blocksize_combo.setCurrentIndex(BLOCKSIZES.index(512))
        self.playback_label = QLabel(playback_status() or "playback ready")
        self.playback_label.setWordWrap(True)
        self.playback_label.setStyleSheet("color: #8a909c;")
        aform.addRow("Device", self.output_combo)
        aform.addRow("Buffer", self.blocksize_combo)
        aform.addRow(self.playback_label)
        layout.addWidget(agroup)
        layout.addStretch(1)

        self.vocoder_combo.currentIndexChanged.connect(self._on_vocoder)
        self.device_combo.currentIndexChanged.connect(self.changed)
        self.output_combo.currentIndexChanged.connect(self._emit_output)
        self.blocksize_combo.currentIndexChanged.connect(self._emit_output)
        self.vocoder_combo.setCurrentIndex(first_ready or 0)
        self._on_vocoder(self.vocoder_combo.currentIndex())

    def _on_vocoder(self, index: int) -> None:
        name = self.vocoder_combo.itemData(index)
        if name in self.panels:
            self.params.setCurrentWidget(self.panels[name])
            info = self.panels[name].info
            self.status_label.setText(info.status())
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
