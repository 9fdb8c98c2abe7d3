"""Play/stop, loop, "from cursor", the moving playhead, the time read-out and the output level meter.

Where play starts is :func:`vocoder_studio.engine.play_range.play_range` (render-ahead uses the same rule).
While playing, the time read-out follows the sound; stopped, it shows where Play would start in the canvas
the user looks at (so it never keeps a finished playback's position or carries it into another tab).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QProgressBar, QToolBar, QWidget

from vocoder_studio.document import Document, FrameShift
from vocoder_studio.engine.audio_output import playback_status
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.jobs import JobHandle
from vocoder_studio.engine.play_range import is_selection_range, play_range
from vocoder_studio.engine.playback import play_job, update_job
from vocoder_studio.engine.player import Player
from vocoder_studio.engine.preview_takes import PREVIEW_RTF, PreviewTakes
from vocoder_studio.engine.solo import PlaySource
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.live import LiveContinue
from vocoder_studio.ui.theme import METER_STYLE
from vocoder_studio.ui.worker import JobRunner
from vocoder_studio.vocoders.choice import VocoderChoice
from vocoder_studio.vocoders.registry import PREVIEW_PARAMS, PREVIEW_VOCODER, get_entry, preview_vocoder

PLAY_LABEL = "Play"
UPDATE_LABEL = "Update playback"
WARM_LABEL = "Load the preview vocoder"
#: Quiet time after an edit of the playing document before its audio is re-vocoded, in ms.
UPDATE_DELAY_MS = 120


def format_time(seconds: float) -> str:
    """``m:ss.mmm``."""
    minutes, rest = divmod(max(0.0, seconds), 60.0)
    return f"{int(minutes)}:{rest:06.3f}"


class LevelMeter(QProgressBar):
    """A horizontal peak meter, −60 … 0 dBFS."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setRange(0, 600)
        self.setTextVisible(False)
        self.setFixedSize(110, 10)
        self.setToolTip("Output level (peak, −60 … 0 dBFS)")
        self.setStyleSheet(METER_STYLE)

    def set_peak(self, peak: float) -> None:
        db = 20.0 * math.log10(peak) if peak > 1e-6 else -60.0
        self.setValue(int(round(10 * (max(-60.0, min(0.0, db)) + 60.0))))


class Transport(QObject):
    """Playback of the active canvas's document through one shared :class:`Player`.

    Play runs :func:`play_job` on the worker thread; a 30 Hz timer moves the playhead.

    Attributes:
        view_canvas: returns the canvas the user looks at (the window sets it); stopped, the time read-out
            shows where Play would start there.
        failure: why the last playback failed (e.g. the output device cannot be opened), until the next try.
    """

    statusMessage = Signal(str)
    playingChanged = Signal(bool)

    def __init__(self, runner: JobRunner, cache: RenderCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.cache = cache
        self.player: Player | None = None
        self.output_device: int | None = None
        self.blocksize = 512
        self.canvas: SpectrogramCanvas | None = None
        #: what Play vocodes: the document's mel, or its solo band (engine/solo.py)
        self.source = PlaySource(cache)
        self.view_canvas: Callable[[], SpectrogramCanvas | None] = lambda: None
        self.failure: str | None = None
        self._active = False
        self._play_job: JobHandle | None = None
        self._update_job: JobHandle | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self._tick)
        #: what is playing: (document, vocoder choice, first frame, end frame)
        self._session: tuple[Document, VocoderChoice, int, int] | None = None
        #: the playing preview take and the chosen vocoder's replacing it (None: no preview this time)
        self.takes: PreviewTakes | None = None
        self._take_text = ""
        self._update_timer = QTimer(self)
        self._update_timer.setSingleShot(True)
        self._update_timer.setInterval(UPDATE_DELAY_MS)
        self._update_timer.timeout.connect(self._update_audio)
        self.meter = LevelMeter()
        self.time_label = QLabel(format_time(0.0))
        self.time_label.setMinimumWidth(80)
        self.time_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.time_label.setToolTip("Play position")

        self.play_action = QAction("▶ Play", self)
        self.play_action.setShortcut(QKeySequence(Qt.Key.Key_Space))
        self.play_action.setToolTip("Play / stop (Space)")
        self.stop_action = QAction("■ Stop", self)
        self.stop_action.setToolTip("Stop playback")
        self.loop_action = QAction("Loop selection", self, checkable=True)
        self.loop_action.setShortcut(QKeySequence("L"))
        self.loop_action.setToolTip("Loop the selection while playing (L)")
        self.from_cursor_action = QAction("From cursor", self, checkable=True)
        self.from_cursor_action.setChecked(True)
        self.from_cursor_action.setToolTip("Start at the last clicked time or the selection start")
        self.preview_action = QAction("Preview", self, checkable=True)
        self.preview_action.setChecked(True)
        self.preview_action.setToolTip(
            f"When the vocoder needs more than {PREVIEW_RTF:g} s per second of audio, start at once on the iSTFT "
            "vocoder's preview and replace it with the vocoder's own audio as it arrives")
        #: Continue live: MelNet goes on past the document's end while it plays (ui/live.py)
        self.live = LiveContinue(runner, self)
        self.live_action = self.live.action
        self.live.statusMessage.connect(self.statusMessage)
        self.stop_action.triggered.connect(self.stop)
        self.from_cursor_action.toggled.connect(self.refresh_time)
        #: the preview vocoder is built and warmed once the event loop runs (the first press then plays at once)
        self._warm_timer = QTimer(self)
        self._warm_timer.setSingleShot(True)
        self._warm_timer.timeout.connect(self.warm_preview)
        self._warm_timer.start(0)

    def warm_preview(self) -> None:
        """Build the preview vocoder and run it once, in the background (:meth:`RenderCache.warm`)."""
        if preview_vocoder() != PREVIEW_VOCODER:
            return
        choice, cache = VocoderChoice.make(PREVIEW_VOCODER, **PREVIEW_PARAMS), self.cache
        self.runner.submit(WARM_LABEL, lambda _progress, _cancel: cache.warm(choice), background=True,
                           on_error=lambda _message: None)

    # ----- settings -----
    def configure_output(self, device: int | None, blocksize: int) -> None:
        """Use output ``device`` (None = system default) with ``blocksize`` frames per callback."""
        self.stop()
        self.output_device, self.blocksize = device, blocksize
        self.player = None
        self.failure = None
        self.playingChanged.emit(False)

    def _player(self, sample_rate: int) -> Player:
        if self.player is None or self.player.sample_rate != sample_rate:
            self.player = Player(sample_rate=sample_rate, device=self.output_device, blocksize=self.blocksize)
        return self.player

    @property
    def is_playing(self) -> bool:
        return self._feeding or (self.player is not None and self.player.is_playing)

    @property
    def _feeding(self) -> bool:
        """The play job still feeds the sound (a preview playback's job goes on vocoding for the cache after
        the feed is complete, maybe after the sound ended: that is not playing)."""
        return self._active and not (self.takes is not None and self.takes.fed)

    def state_text(self) -> str:
        """The playback state for the status bar: why it cannot work, "playing", or "playback ready"."""
        reason = playback_status() or self.failure
        if reason is not None:
            return reason
        if self.is_playing and self._take_text:
            return f"playing {self._take_text}"
        return "playing" if self.is_playing else "playback ready"

    def _takes_text(self) -> str:
        """``"preview (iSTFT) → HiFi-GAN V1 (universal)"`` while the preview take plays for a vocoder timed
        slower than the preview's threshold; what a live continuation is doing once it is heard; empty
        otherwise (its own take plays)."""
        if live := self.live.state_text():
            return live
        takes = self.takes
        if takes is None or not takes.active or not takes.slow or self._session is None or takes.playing_slow():
            return ""
        return f"preview (iSTFT) → {get_entry(self._session[1].name).label}"

    def range_for(self, canvas: SpectrogramCanvas) -> tuple[int, int]:
        """The frames Play plays in ``canvas`` (see :func:`play_range`)."""
        doc = canvas.doc
        return play_range(doc.frames, doc.selection, canvas.cursor_frame, self.from_cursor_action.isChecked())

    def refresh_time(self) -> None:
        """Stopped: show where Play would start in :attr:`view_canvas` (0 without one)."""
        if self.is_playing or self._timer.isActive():
            return
        canvas = self.view_canvas()
        seconds = self.range_for(canvas)[0] * canvas.doc.config.frame_seconds if canvas is not None else 0.0
        self.time_label.setText(format_time(seconds))

    # ----- control -----
    def toggle(self, canvas: SpectrogramCanvas | None, choice: VocoderChoice) -> bool:
        """Stop if playing, else play; True if playback started."""
        if self.is_playing:
            self.stop()
            return False
        return self.play(canvas, choice)

    def play(self, canvas: SpectrogramCanvas | None, choice: VocoderChoice) -> bool:
        """Play ``canvas``'s document with ``choice``; False (and a status message) if it cannot."""
        if canvas is None:
            return False
        reason = playback_status()
        if reason is not None:
            self.statusMessage.emit(f"{reason} (editing, vocoding and export still work)")
            return False
        self.stop()
        doc = canvas.doc
        start, end = self.range_for(canvas)
        loop = self.loop_action.isChecked() and is_selection_range(doc.frames, doc.selection)
        live = self.live.applies(doc, end, loop, self.source.soloing(doc))
        mel, version, renderer_of = self.source.prepare(doc, choice)
        player = self._player(doc.config.sample_rate)
        self.failure = player.check()  # the device opens on the worker thread: check it now (issue 7)
        if self.failure is not None:
            self.statusMessage.emit(self.failure)
            self.playingChanged.emit(False)  # the playback labels show why
            return False

        takes = None  # a solo band (version None) plays without the preview: its renderer is private
        if (self.preview_action.isChecked() and version is not None and choice.name != PREVIEW_VOCODER
                and preview_vocoder() == PREVIEW_VOCODER):
            takes = PreviewTakes()
        preview_choice = VocoderChoice.make(PREVIEW_VOCODER, choice.device, **PREVIEW_PARAMS)
        cache, uid = self.source.cache, doc.uid

        def job(progress: Any, cancel: Any) -> int:
            # with the preview, the vocoder is built (if it must be) beside the preview's first sound
            renderer = renderer_of if takes is not None else renderer_of()
            if takes is not None:
                takes.renderer = cache.renderer(uid, preview_choice)
            return play_job(renderer, player, mel, version, start, end, loop, preview=takes,
                            open_end=live)(progress, cancel)

        self.takes, self._take_text = takes, ""

        self.canvas = canvas
        self._active = True
        self._session = (doc, choice, start, end)
        doc.subscribe_frames(self._on_frames)
        self._play_job = self.runner.submit(PLAY_LABEL, job, on_result=self._on_fed, on_error=self._on_error)
        self._play_job.events.cancelled.connect(self._on_play_cancelled)
        if live:
            self.live.begin(doc, player, renderer_of)
        canvas.set_playhead(start * doc.config.frame_seconds)
        self._timer.start()
        self.playingChanged.emit(True)
        band = "the selected band " if self.source.soloing(doc) else ""
        then = ", then MelNet live" if live else ""
        self.statusMessage.emit(f"playing {band}with {choice.describe()}{then}")
        return True

    def document_changed(self, doc: Document) -> bool:
        """An edit of ``doc``: if it is playing, re-vocode what the edit reaches and swap it into the sound
        (the rest of this pass, or the next pass of a loop, plays the edit). True if ``doc`` is playing."""
        if not self.is_playing or self._session is None or self._session[0] is not doc:
            return False
        if self.live.appending:  # the continuation's own frames are vocoded by its own jobs
            return True
        if not self._post_edit(doc, self._session[1]):
            self._update_timer.start()
        return True

    def _post_edit(self, doc: Document, choice: VocoderChoice) -> bool:
        """Hand the edit to the preview playback's job under way (it answers at once, the preview vocoder
        first: no quiet time, no queue); False where there is none."""
        takes = self.takes
        if takes is None or not takes.active or self.source.soloing(doc):
            return False
        mel, version, _ = self.source.prepare(doc, choice)
        return takes.post_edit(mel, version)

    def _update_audio(self) -> None:
        if not self.is_playing or self._session is None or self.player is None:
            return
        doc, choice, start, end = self._session
        if self._post_edit(doc, choice):
            return
        (mel, version, renderer_of), player = self.source.prepare(doc, choice), self.player
        takes = self.takes
        self._cancel_update()  # an update still queued is out of date

        def job(progress: Any, cancel: Any) -> int:
            return update_job(renderer_of(), player, mel, version, start, end, preview=takes)(progress, cancel)

        self._update_job = self.runner.submit(UPDATE_LABEL, job, on_error=self.statusMessage.emit)
        self.live.update_audio()  # and the continued frames the edit reaches, while continuing live

    def _cancel_update(self) -> None:
        if self._update_job is not None:
            self._update_job.cancel()
        self._update_job = None

    def cancel(self) -> None:
        """Stop, and drop a live continuation's frames (Esc); :meth:`stop` keeps the frames heard."""
        self.live.stop(keep=False)
        self.stop()

    def stop(self) -> None:
        """Stop the sound and cancel the feeding job (safe at any time); a live continuation keeps the frames
        heard (up to the playhead)."""
        self._update_timer.stop()
        if self._session is not None:
            self._session[0].unsubscribe_frames(self._on_frames)
        self._session = None
        self._take_text = ""
        self._cancel_update()
        if self._play_job is not None:
            self._play_job.cancel()
        self._play_job = None
        if self.player is not None:
            self.player.stop()
        self.live.stop(keep=True)
        was = self._active or self._timer.isActive()
        self._active = False
        self._finish_ui()
        if was:
            self.playingChanged.emit(False)

    # ----- callbacks -----
    def _on_frames(self, doc: Document, shift: FrameShift) -> None:
        """Frames inserted or deleted in the playing document: the played range's numbering no longer holds
        before its end, so playback stops (an append after the range plays on; while continuing live, only the
        continuation's own)."""
        if self._session is None or self._session[0] is not doc:
            return
        if shift.at >= self._session[3] and (self.live.appending or not self.live.active):
            return
        self.stop()
        self.statusMessage.emit("playback stopped: frames were inserted or deleted in the playing range")

    def _on_fed(self, _samples: object) -> None:
        self._active = False  # the feed is complete; the timer ends when the sound does

    def _on_error(self, message: str) -> None:
        self._active = False
        self.failure = message
        self.statusMessage.emit(message)
        self.stop()
        self.playingChanged.emit(False)

    def _on_play_cancelled(self) -> None:
        self._active = False

    def _tick(self) -> None:
        player = self.player
        playing = player is not None and player.is_playing
        if player is not None and self.canvas is not None and (playing or self._feeding):
            self.live.tick(player.position)
            seconds = player.position / player.sample_rate
            self.canvas.set_playhead(seconds)
            self.time_label.setText(format_time(seconds))
            self.meter.set_peak(player.level if playing else 0.0)
            text = self._takes_text()
            if text != self._take_text:  # the status line says which take plays
                self._take_text = text
                self.playingChanged.emit(True)
        if not playing and not self._feeding:
            self.live.stop(keep=True)  # a continuation that ended by itself: all of it was heard
            self._finish_ui()
            self.playingChanged.emit(False)

    def _finish_ui(self) -> None:
        self._timer.stop()
        self.meter.set_peak(0.0)
        if self.canvas is not None:
            self.canvas.set_playhead(None)
        if not self._feeding:
            self.refresh_time()


class TransportBar(QToolBar):
    """The transport toolbar: play, stop, from cursor, loop, time and level meter."""

    def __init__(self, transport: Transport, parent: QWidget | None = None) -> None:
        super().__init__("Transport", parent)
        self.setObjectName("transport")
        self.addAction(transport.play_action)
        self.addAction(transport.stop_action)
        self.addSeparator()
        self.addAction(transport.from_cursor_action)
        self.addAction(transport.loop_action)
        self.addAction(transport.preview_action)
        self.addAction(transport.live_action)
        self.addSeparator()
        self.addWidget(transport.time_label)
        self.addWidget(transport.meter)
