"""The status bar: temporary messages on the left; the worker's state, the cursor read-out, the vocoder and the
playback state as permanent labels on the right (each message in one place only)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from vocoder_studio.ui.transport import Transport
from vocoder_studio.ui.worker import JobRunner

#: The job label when no job is queued or running.
IDLE_TEXT = "ready"
#: How long a temporary message stays, in ms.
MESSAGE_MS = 8000


class StatusBar(QObject):
    """Fills ``bar`` and keeps its labels true to the worker and the transport.

    Attributes:
        job_label: the running job and its progress message ("ready" when none).
        playback_label: "playing", "playback ready" or why playback cannot work.
    """

    def __init__(self, bar: QStatusBar, runner: JobRunner, transport: Transport) -> None:
        super().__init__(bar)
        self.bar, self.runner, self.transport = bar, runner, transport
        self.job_label = QLabel(IDLE_TEXT)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(160)
        self.progress.setMaximumHeight(14)
        self.progress.setVisible(False)
        self.cursor_label = QLabel("")
        self.cursor_label.setMinimumWidth(260)
        self.vocoder_label = QLabel("")
        self.playback_label = QLabel("")
        # permanent widgets, so that temporary messages (left) never paint over the worker's state
        for widget in (self.job_label, self.progress, self.cursor_label, self.vocoder_label, self.playback_label):
            bar.addPermanentWidget(widget)
        runner.jobStarted.connect(self._on_started)
        runner.jobProgress.connect(self._on_progress)
        for signal in (runner.jobFinished, runner.jobFailed, runner.jobCancelled, runner.idle):
            signal.connect(self._on_ended)
        self._playback_labels = [self.playback_label]
        transport.playingChanged.connect(self._on_playing)
        self._on_playing(transport.is_playing)

    def show_playback_in(self, label: object) -> None:
        """Keep another label (the vocoder panel's) showing the playback state too; ignores a non-label."""
        if isinstance(label, QLabel):
            self._playback_labels.append(label)
            label.setText(self.transport.state_text())

    def show(self, message: str, timeout_ms: int = MESSAGE_MS) -> None:
        """A temporary message on the left."""
        self.bar.showMessage(message, timeout_ms)

    def set_cursor(self, seconds: float, hz: float, db: float) -> None:
        self.cursor_label.setText(f"{seconds:7.3f} s   {hz:6.0f} Hz   {db:6.1f} dB")

    def set_vocoder(self, text: str) -> None:
        self.vocoder_label.setText(text)

    def _on_started(self, label: str) -> None:
        self.job_label.setText(f"{label}…")
        self.progress.setValue(0)
        self.progress.setVisible(True)

    def _on_progress(self, label: str, fraction: float, message: str) -> None:
        self.job_label.setText(f"{label}: {message}")
        self.progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))

    def _on_ended(self, *_: object) -> None:
        """A job ended (done, failed, cancelled) or the queue ran empty: back to "ready" when nothing is left."""
        if not self.runner.busy:
            self.job_label.setText(IDLE_TEXT)
            self.progress.setVisible(False)

    def _on_playing(self, _playing: bool) -> None:
        for label in self._playback_labels:
            label.setText(self.transport.state_text())
