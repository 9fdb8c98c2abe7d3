"""Transport ▸ Continue live: when the playhead nears the end of the document, MelNet keeps sampling frames past
it; they appear on the canvas as they come and the chosen vocoder streams them after the document's own sound
until Stop. The work is :mod:`vocoder_studio.engine.continuation`'s; this is the action, the jobs' wiring, the
undo step's end and the status text.

Stop (or Space) keeps the frames heard, up to the playhead, and drops the ones sampled ahead of it; Esc
(Edit ▸ Cancel) drops the whole continuation, and Edit ▸ Redo brings it back. Either way it is one undo step.
An edit of the continued frames while they play is heard: the frames it reaches are re-vocoded into the sound
not yet played, as in a playing document.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QKeySequence

from vocoder_studio.document import Document
from vocoder_studio.engine.continuation import LABEL, ContinuationEdit, LiveContinuation, LiveSettings
from vocoder_studio.engine.generate import CHECKPOINT
from vocoder_studio.engine.jobs import CancelToken, JobHandle, Progress
from vocoder_studio.engine.player import Player
from vocoder_studio.engine.render import Renderer
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.ui.worker import LONG_LANE, JobRunner

#: The label of the jobs that vocode the continued frames (on the default lane, after the play job).
AUDIO_LABEL = f"{LABEL}: vocoding"
#: The label of the jobs that re-vocode continued frames after an edit.
UPDATE_LABEL = f"{LABEL}: updating the edited frames"
SHORTCUT = "C"


def _worker_job(job: Callable[[Progress, CancelToken], Any]) -> Callable[[Any, Any], Any]:
    """An engine job as the worker lanes take it (their progress callback is a plain function)."""

    def run(progress: Any, cancel: Any) -> Any:
        return job(progress, cancel)

    return run


@dataclass
class _Session:
    """One continued playback: the document, its sampler, the undo step, the jobs."""

    doc: Document
    player: Player
    renderer_of: Callable[[], Renderer]
    live: LiveContinuation
    edit: ContinuationEdit
    sampler: JobHandle | None = None
    audio: list[JobHandle] = field(default_factory=list)
    update: JobHandle | None = None  # the last edit's re-vocoding of the continued frames
    ended: bool = False  # the sampler stopped by itself (an error or max_seconds): the sound ends after its audio


class LiveContinue(QObject):
    """The *Continue live* action and the continuation of the playback under way.

    Args:
        runner: the worker lanes (the sampler runs on the long lane, the vocoding on the default lane after the
            play job).
    Attributes:
        action: the checkable action (Transport menu and toolbar, shortcut C).
        settings: how the continuation samples (:class:`LiveSettings`; a new seed each time).
        model_path: the MelNet checkpoint found (None: none usable, the action is refused with the reason).
    Signals:
        statusMessage(str): one line for the status bar.
    """

    statusMessage = Signal(str)

    def __init__(self, runner: JobRunner, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.settings = LiveSettings()
        self.model_path: Path | None = None
        self.action = QAction(LABEL, self, checkable=True)
        self.action.setShortcut(QKeySequence(SHORTCUT))
        tip = ("When the playhead nears the end of the document, MelNet keeps sampling frames past it and the "
               f"vocoder plays them until Stop ({SHORTCUT}). Stop keeps what you heard; Esc drops it")
        self.action.setToolTip(tip)
        self.action.setStatusTip(tip)
        self.action.toggled.connect(self._on_toggled)
        self._session: _Session | None = None
        #: set while this appends frames to the document (the transport need not re-vocode that change)
        self.appending = False

    # ----- the action -----
    def refresh_model(self) -> str | None:
        """Look for a usable MelNet (as ``vocoder-studio generate`` does): None if found, else why not."""
        from vocoder_studio.audio.mel import DEFAULT_CONFIG
        from vocoder_studio.vocoders.checkpoints import check_checkpoint, find_model

        self.model_path = None
        try:
            path = find_model(CHECKPOINT)
            check_checkpoint(path, DEFAULT_CONFIG)
        except VocoderStudioError as exc:
            return f"{LABEL} needs a trained MelNet: {exc}"
        self.model_path = path
        return None

    def _on_toggled(self, on: bool) -> None:
        if not on:  # turned off while continuing: no new frames; the sound ends after those sampled
            session = self._session
            if session is not None and not session.ended:
                if session.sampler is not None:
                    session.sampler.cancel()
                self._wind_down(session)
            return
        reason = self.refresh_model()
        if reason is not None:
            self.action.setChecked(False)
            self.statusMessage.emit(reason)

    def applies(self, doc: Document, end: int, loop: bool, soloing: bool) -> bool:
        """Whether a playback of ``doc`` up to frame ``end`` continues live: the action is on, the playback
        reaches the document's end, does not loop and plays the whole spectrum."""
        return (self.action.isChecked() and end >= doc.frames and not loop and not soloing
                and (self.model_path is not None or self.refresh_model() is None))

    # ----- a session -----
    @property
    def active(self) -> bool:
        """Whether a playback is being continued."""
        return self._session is not None

    def begin(self, doc: Document, player: Player, renderer_of: Callable[[], Renderer]) -> None:
        """Continue the playback of ``doc`` just started on ``player`` (open-ended) by its play job; the audio
        jobs use ``renderer_of()``, the document's renderer, on the default lane after it."""
        self.stop(keep=True)
        settings = replace(self.settings, seed=random.randrange(2**31))  # a new continuation each time
        live = LiveContinuation(doc.mel, settings, doc.config)
        session = _Session(doc, player, renderer_of, live, ContinuationEdit(doc))
        self._session = session
        session.sampler = self.runner.submit(LABEL, _worker_job(live.job(self.model_path)), lane=LONG_LANE,
                                             on_partial=lambda piece: self._on_block(session, piece),
                                             on_result=lambda _frames: self._on_sampler_end(session, None),
                                             on_error=lambda message: self._on_sampler_end(session, message))

    def tick(self, position_samples: int) -> None:
        """The playhead moved (the transport's timer): the sampler paces itself by it."""
        if self._session is not None:
            self._session.live.set_playhead(position_samples // self._session.doc.config.hop_length)

    def update_audio(self) -> None:
        """The continued document was edited while it plays: the continued frames the edit reaches whose audio
        the player holds are re-vocoded over the sound not yet played (after the transport's update of the
        document's own frames, on the same lane as the continuation's audio); an update still queued is out of
        date."""
        session = self._session
        if session is None:
            return
        if session.update is not None:
            session.update.cancel()
        doc = session.doc
        job = session.live.update_job(session.renderer_of, session.player, doc.mel.copy(), doc.version)
        session.update = self.runner.submit(UPDATE_LABEL, _worker_job(job), on_error=self.statusMessage.emit)
        session.audio = [h for h in session.audio if not h.done]
        session.audio.append(session.update)

    def state_text(self) -> str:
        """What the status bar says while continuing: empty before the continuation is heard."""
        session = self._session
        if session is None:
            return ""
        live, player = session.live, session.player
        if player.waiting and live.playhead >= live.doc_frames - 1:
            who = live.waiting_for()
            why = "sampling is slower than real time" if who == "MelNet" else "vocoding is slower than real time"
            return f"— waiting for {who} ({why})"
        if live.sampled and live.playhead >= live.doc_frames:
            return "— continuing live with MelNet"
        return ""

    def stop(self, keep: bool = True) -> None:
        """End the continuation: stop sampling and vocoding; ``keep``: keep the frames heard (up to the
        playhead), else drop them all (Esc). Call before or after the player stops (its position is kept)."""
        session, self._session = self._session, None
        if session is None:
            return
        if session.sampler is not None:
            session.sampler.cancel()
        for handle in session.audio:
            handle.cancel()
        self.appending = True
        try:
            if keep:
                heard = session.player.position // session.doc.config.hop_length
                kept = session.edit.keep(heard)
                if kept:
                    self.statusMessage.emit(f"{LABEL}: kept {kept * session.doc.config.frame_seconds:.1f} s "
                                            "(Undo removes it)")
            elif session.edit.frames:
                session.edit.discard()
                self.statusMessage.emit(f"{LABEL}: dropped (Redo brings it back)")
        finally:
            self.appending = False

    # ----- job callbacks (GUI thread) -----
    def _on_block(self, session: _Session, piece: tuple[int, np.ndarray]) -> None:
        if session is not self._session:
            return
        _, block = piece
        self.appending = True
        try:
            session.edit.add(block)
        finally:
            self.appending = False
        self._vocode(session, last=False)

    def _vocode(self, session: _Session, last: bool) -> None:
        doc = session.doc
        job = session.live.audio_job(session.renderer_of, session.player, doc.mel.copy(), doc.version, last)
        session.audio = [h for h in session.audio if not h.done]
        session.audio.append(self.runner.submit(AUDIO_LABEL, _worker_job(job), on_error=self.statusMessage.emit))

    def _on_sampler_end(self, session: _Session, message: str | None) -> None:
        """The sampler stopped by itself (``message``: why, if it failed)."""
        if session is not self._session:
            return
        if message is not None:
            self.statusMessage.emit(f"{LABEL}: {message}")
        self._wind_down(session)

    def _wind_down(self, session: _Session) -> None:
        """No more frames come: the rest is vocoded and the sound ends after it."""
        session.ended = True
        if session.edit.frames:
            self._vocode(session, last=True)
        player = session.player

        def finish(_progress: Any, _cancel: Any) -> None:
            player.finish()

        session.audio.append(self.runner.submit(f"{LABEL}: end", finish))
