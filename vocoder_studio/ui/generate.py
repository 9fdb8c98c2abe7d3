"""The Generate dock: MelNet invents a new utterance, continues the sound from the cursor, or fills the selection;
the frames appear on the canvas as they are sampled (one undo step), beside playback and editing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.document import Document
from vocoder_studio.engine.generate import CHECKPOINT, GenerateRequest, default_temperature, generation_job
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.ui.theme import HINT_STYLE
from vocoder_studio.ui.worker import LONG_LANE

LABEL = "Generate"
_MODES = [("new", "New utterance"), ("continue", "Continue from the cursor"), ("fill", "Fill the selection")]


class GeneratePanel(QWidget):
    """Mode, length, temperature, seed and model; Generate / Cancel; "play when done".

    Args:
        window: the main window (its ``runner``, ``active_canvas()``, ``active_document()``, ``add_document``,
            ``toggle_play`` and ``show_status`` are used).
    Signals:
        finished(frames): a generation ended and its frames are in the document.
    """

    finished = Signal(int)

    def __init__(self, window: Any) -> None:
        super().__init__()
        self.main = window
        self.model_path: Path | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        form = QFormLayout()
        self.mode_combo = QComboBox()
        for key, text in _MODES:
            self.mode_combo.addItem(text, key)
        self.seconds_spin = QDoubleSpinBox()
        self.seconds_spin.setRange(0.1, 60.0)
        self.seconds_spin.setValue(2.0)
        self.seconds_spin.setSuffix(" s")
        self.seconds_spin.setToolTip("length of the new sound (new utterance, continuation)")
        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setRange(0.0, 1.5)
        self.temperature_spin.setSingleStep(0.05)
        self.temperature_spin.setValue(1.0)
        self.temperature_spin.setToolTip("0 = the most likely frames (smooth, dull; new sound fades to silence "
                                         "below about 0.8); 1 = the model's own spread, each tier scaled for a "
                                         "voice (see generate --tier-temperatures). Each mode keeps its own: "
                                         "a fill starts at 0, the fills closest to the truth")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2**31 - 1)
        self.seed_spin.setToolTip("the same seed gives the same frames")
        self.play_check = QCheckBox("Play when done")
        self.play_check.setChecked(True)
        form.addRow("Mode", self.mode_combo)
        form.addRow("Length", self.seconds_spin)
        form.addRow("Temperature", self.temperature_spin)
        form.addRow("Seed", self.seed_spin)
        layout.addLayout(form)
        layout.addWidget(self.play_check)
        buttons = QHBoxLayout()
        self.generate_button = QPushButton("Generate")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.model_label.setStyleSheet(HINT_STYLE)
        layout.addWidget(self.model_label)
        layout.addStretch(1)
        self.generate_button.clicked.connect(self.generate)
        self.cancel_button.clicked.connect(self.cancel)
        self.mode_combo.currentIndexChanged.connect(self._on_mode)
        window.runner.jobCancelled.connect(lambda label: self._reset() if label == LABEL else None)
        self._doc: Document | None = None
        self._first = True
        self._request: GenerateRequest | None = None
        #: the temperature of each mode, as last set (each starts at its default: a fill 0, new sound 1)
        self._temperatures = {key: default_temperature(key) for key, _ in _MODES}
        self._mode = str(self.mode_combo.currentData())
        self.refresh_model()
        self._on_mode()

    def refresh_model(self) -> bool:
        """Look for a trained MelNet; disable Generate with the reason when there is none or the one found is
        unusable (its card missing or invalid: the check ``vocoder-studio generate`` makes)."""
        from vocoder_studio.vocoders.checkpoints import check_checkpoint, find_model

        self.model_path = None
        try:
            path = find_model(CHECKPOINT)
        except VocoderStudioError:
            return self._unavailable("No trained MelNet model yet: train one with `vocoder-studio train melnet` "
                                     f"(it is looked for as {CHECKPOINT} in the models folders).")
        try:
            card = check_checkpoint(path, DEFAULT_CONFIG)
        except VocoderStudioError as exc:
            return self._unavailable(f"MelNet cannot be used: {exc}")
        self.model_path = path
        self.model_label.setText(card.summary)
        self.generate_button.setEnabled(True)
        return True

    def _unavailable(self, reason: str) -> bool:
        self.model_label.setText(reason)
        self.generate_button.setEnabled(False)
        return False

    def _on_mode(self) -> None:
        mode = str(self.mode_combo.currentData())
        self.seconds_spin.setEnabled(mode != "fill")
        self._temperatures[self._mode] = self.temperature_spin.value()
        self._mode = mode
        self.temperature_spin.setValue(self._temperatures[mode])

    def set_mode(self, mode: str) -> None:
        """Choose ``"new"``, ``"continue"`` or ``"fill"``."""
        self.mode_combo.setCurrentIndex(self.mode_combo.findData(mode))

    def request(self) -> GenerateRequest:
        """What the controls ask for, on the active canvas (its cursor and selection)."""
        mode = str(self.mode_combo.currentData())
        canvas = self.main.active_canvas()
        cursor = int(canvas.cursor_frame) if canvas is not None else 0
        selection = canvas.doc.selection if canvas is not None else None
        start, end = (selection.frame0, selection.frame1) if selection is not None else (0, 0)
        return GenerateRequest(mode, self.seconds_spin.value(), cursor, start, end,  # type: ignore[arg-type]
                               self.temperature_spin.value(), self.seed_spin.value())

    def generate(self) -> bool:
        """Start sampling on the worker's long lane; False (with a status message) when it cannot start."""
        if self.model_path is None and not self.refresh_model():
            self.main.show_status("Generate: no trained MelNet model")
            return False
        request = self.request()
        canvas = self.main.active_canvas()
        if request.mode != "new" and canvas is None:
            self.main.show_status("Generate: open a document first")
            return False
        if request.mode == "fill" and request.end <= request.start:
            self.main.show_status("Generate: select the frames to fill first")
            return False
        doc = None if request.mode == "new" else canvas.doc
        mel = doc.mel if doc is not None else np.zeros((DEFAULT_CONFIG.n_mels, 0), np.float32)
        self._doc, self._first, self._request = doc, True, request
        job = generation_job(request, mel, self.model_path)
        self.generate_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.main.runner.submit(LABEL, job, on_result=self._done, on_error=self._failed,
                                  on_partial=self._block, lane=LONG_LANE)
        return True

    def cancel(self) -> None:
        """Stop sampling; the frames already in the document stay (one undo step removes them)."""
        self.main.runner.cancel(LABEL)

    def _block(self, piece: tuple[int, np.ndarray]) -> None:
        at, block = piece
        request = self._request
        if request is None:
            return
        if request.mode == "new" and self._doc is None:
            self._doc = Document(block, source="MelNet sample")
            self.main.add_document(self._doc)
            return
        if self._doc is None:
            return
        request.apply(self._doc, at, block, self._first)
        self._first = False

    def _reset(self) -> None:
        self.generate_button.setEnabled(self.model_path is not None)
        self.cancel_button.setEnabled(False)

    def _done(self, frames: object) -> None:
        self._reset()
        self.main.show_status(f"Generate: {frames} frames sampled")
        self.finished.emit(int(frames))  # type: ignore[call-overload]
        if self.play_check.isChecked() and self._doc is not None and self.main.active_document() is self._doc:
            self.main.toggle_play()

    def _failed(self, message: str) -> None:
        self._reset()
        self.main.show_status(f"Generate: {message}")
