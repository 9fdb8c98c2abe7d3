"""Live continuation: MelNet samples frames past the end of a playing document, chunk by chunk, and the chosen
vocoder streams them to the player after the document's own sound, without a gap, until Stop (no Qt).

Transport ▸ *Continue live* (``ui/live.py``) puts three pieces together:

- **the sampler** (:meth:`LiveContinuation.job`, a job on the worker's long lane): chunk ``k`` is
  ``melnet.sample(model, chunk_frames, prime=<the last prime_frames frames so far>, seed=seed + k)``, a
  continuation conditioned on the document's frames (and the frames sampled before it) as ``vocoder-studio
  generate --prime`` samples one, at the same temperatures; each chunk is handed over as
  ``cancel.partial((at, block))``. MelNet samples a whole tier before the next, so a frame is final only when
  the last tier has passed it: chunks of about 0.5 s keep the first sound near and re-priming cheap (the
  prefix runs through the time-delayed stacks in one batched call). Sampling starts when the playhead is
  ``lead_seconds`` from the end and pauses while it is ``ahead_seconds`` ahead of the playhead.
- **the audio** (:func:`continuation_audio_job`, a job on the default lane, after the play job): once the
  document holds frames up to ``n``, the frames up to ``n - C`` (``C`` the vocoder's receptive field) have all
  the context they will ever have, so their audio is final: the renderer vocodes them with ``C`` frames of
  context on each side, which is what vocoding the whole continued document at once gives, within float
  rounding. The document's own last ``C`` frames were vocoded as the end of the sound; their new audio is
  spliced over the part not yet played (:meth:`Player.splice`, as a preview take is replaced in
  :mod:`vocoder_studio.engine.preview`) and the rest is appended to the open-ended player
  (:meth:`Player.write`). Where the sampler falls behind real time the player fades to silence and waits
  (:attr:`Player.waiting`): a gap, never a click.
- **edits while it plays** (:meth:`LiveContinuation.update_job`): an edit of continued frames whose audio the
  player already holds re-vocodes the frames it reaches over the audio not yet played, as an edit of a playing
  document does; frames not vocoded yet are vocoded from the edited document by the next audio job.
- **the undo step** (:class:`ContinuationEdit`): the blocks are appended to the document as they come, as one
  undo step. Stop keeps what was heard (the frames up to the playhead) and drops the frames sampled ahead of
  it, as a recorder keeps what it recorded; Esc (Cancel) drops the whole continuation, the document as it
  was, and Edit ▸ Redo brings it back.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.document import Document
from vocoder_studio.engine.generate import default_model_path
from vocoder_studio.engine.jobs import CancelToken, Progress
from vocoder_studio.engine.playback import update_job
from vocoder_studio.engine.player import Player
from vocoder_studio.engine.render import Renderer
from vocoder_studio.engine.take_switch import CROSSFADE
from vocoder_studio.errors import MelShapeError, VocoderStudioError

#: The undo step's name, the jobs' label and the action's text.
LABEL = "Continue live"

#: Seconds between two looks at the playhead while the sampler waits for it (the cancel check's latency too).
POLL_S = 0.05


@dataclass(frozen=True)
class LiveSettings:
    """How a live continuation samples.

    Attributes:
        chunk_frames: frames per sampler call (43 ≈ 0.5 s): smaller chunks reach the canvas and the speakers
            sooner, larger ones pay the re-priming less often.
        prime_frames: the frames each chunk is conditioned on, at most (172 ≈ 2 s, the ``--prime-seconds`` of
            the held-out check; the prefix costs one batched pass, not a frame-by-frame one).
        lead_seconds: sampling starts when the playhead is this close to the document's end; None: at once.
        ahead_seconds: the sampler pauses while its frames reach this far past the playhead; None: never.
        max_seconds: the continuation stops after this many seconds (the document stays bounded).
        temperature: ``τ`` (each tier at ``τ`` times ``melnet.sampling.default_tier_temperatures``, as
            ``generate --prime`` draws).
        seed: chunk ``k`` draws with seed ``seed + k`` (the same document and seed give the same frames).
    """

    chunk_frames: int = 43
    prime_frames: int = 172
    lead_seconds: float | None = 3.0
    ahead_seconds: float | None = 4.0
    max_seconds: float = 600.0
    temperature: float = 1.0
    seed: int = 0

    def check(self) -> None:
        """Raises VocoderStudioError naming the first setting out of range."""
        if self.chunk_frames < 1 or self.prime_frames < 1:
            raise VocoderStudioError(f"live continuation: chunk_frames and prime_frames must be at least 1, not "
                                     f"{self.chunk_frames} and {self.prime_frames}")
        for name in ("lead_seconds", "ahead_seconds", "max_seconds", "temperature"):
            value = getattr(self, name)
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise VocoderStudioError(f"live continuation: {name} must be a finite number >= 0, not {value}")


class LiveContinuation:
    """The frames a live continuation samples after a document, shared by the sampler (its job's thread) and
    whoever plays them (the window's thread), who tells it where the playhead is.

    Args:
        mel: the document's ln-mel ``(n_mels, frames)`` when the continuation starts (the last
            ``settings.prime_frames`` frames are kept as the first chunk's prefix).
        settings: :class:`LiveSettings`.
        config: the front-end (``frame_seconds``, ``floor_ln``).
    Attributes:
        doc_frames: the document's frames when the continuation started (where it begins).
        sampled: frames sampled past them so far.
        fed: the frame where the continued audio in the player ends (:meth:`audio_job`; None before the first).
        receptive_field: the vocoder's receptive field in frames (known after the first :meth:`audio_job`).
    Raises:
        MelShapeError: ``mel`` is not ``(n_mels, frames ≥ 1)`` or holds non-finite values.
        VocoderStudioError: a setting out of range.
    """

    def __init__(self, mel: np.ndarray, settings: LiveSettings | None = None,
                 config: MelConfig = DEFAULT_CONFIG) -> None:
        self.settings = settings or LiveSettings()
        self.settings.check()
        self.config = config
        arr = np.asarray(mel)
        if arr.ndim != 2 or arr.shape[0] != config.n_mels or arr.shape[1] < 1:
            raise MelShapeError(f"live continuation: expected a mel of shape ({config.n_mels}, frames >= 1), "
                                f"got {arr.shape}")
        if not np.isfinite(arr).all():
            raise MelShapeError("live continuation: the mel holds non-finite values")
        self.doc_frames = int(arr.shape[1])
        self._context = np.array(arr[:, -self.settings.prime_frames :], dtype=np.float32)
        self.sampled = 0
        self.fed: int | None = None
        self.receptive_field: int | None = None
        self._playhead = 0
        self._cond = threading.Condition()

    def seconds_to_frames(self, seconds: float) -> int:
        return round(seconds / self.config.frame_seconds)

    @property
    def end(self) -> int:
        """The frame after the last one sampled (document frames + :attr:`sampled`)."""
        return self.doc_frames + self.sampled

    @property
    def playhead(self) -> int:
        """The frame playing now, as last told (:meth:`set_playhead`)."""
        return self._playhead

    def set_playhead(self, frame: int) -> None:
        """Say which frame is playing now (the sampler starts and paces itself by it); any thread."""
        with self._cond:
            self._playhead = int(frame)
            self._cond.notify_all()

    def chunks(self, model: Any, cancel: CancelToken | None = None) -> Iterator[np.ndarray]:
        """Sample chunk after chunk, each conditioned on the frames before it, without end.

        Args:
            model: a trained :class:`~vocoder_studio.melnet.MelNet` (``melnet.load_model``).
            cancel: checked between frames.
        Yields:
            float32 ln-mel blocks ``(n_mels, chunk_frames)`` (at least ``MelConfig.floor_ln``), in order.
        Raises:
            JobCancelled: ``cancel`` was set.
        """
        from vocoder_studio.melnet import sample
        from vocoder_studio.melnet.sampling import default_tier_temperatures

        s = self.settings
        tiers = default_tier_temperatures(model.config.n_tiers)
        k = 0
        while True:
            prime = self._context
            out = sample(model, s.chunk_frames, prime=prime, temperature=s.temperature, tier_temperatures=tiers,
                         seed=s.seed + k, cancel=cancel, floor=self.config.floor_ln, threads=1)
            block = np.ascontiguousarray(out[:, prime.shape[1] :])
            self._context = np.concatenate([prime, block], axis=1)[:, -s.prime_frames :]
            k += 1
            yield block

    def _wait_until(self, ready: Callable[[], bool], cancel: CancelToken) -> None:
        with self._cond:
            while not ready():
                cancel.check()
                self._cond.wait(POLL_S)
        cancel.check()

    def job(self, model_path: Path | None = None) -> Callable[[Progress, CancelToken], int]:
        """The sampler as a job ``fn(progress, cancel) -> frames sampled``: waits for the playhead to come
        within ``lead_seconds`` of the end, then samples (:meth:`chunks`), handing each block to
        ``cancel.partial((at, block))`` (``at``: the document frame of its first frame, counting from the
        document's first frame), pausing while its frames reach ``ahead_seconds`` past the playhead. It runs
        until cancelled (the usual end: Stop) or ``max_seconds``.

        Raises (inside the job):
            VocoderUnavailableError: no usable trained MelNet (``model_path`` None: the shipped one).
            JobCancelled: cancelled.
        """
        s = self.settings

        def job(progress: Progress, cancel: CancelToken) -> int:
            from vocoder_studio.melnet import load_model

            model = load_model(model_path or default_model_path(self.config), self.config)
            from vocoder_studio.melnet import kernels

            kernels.warm_up()  # numba's start (seconds on a busy machine) while the playhead is still far
            lead = None if s.lead_seconds is None else self.seconds_to_frames(s.lead_seconds)
            ahead = None if s.ahead_seconds is None else max(1, self.seconds_to_frames(s.ahead_seconds))
            limit = max(1, self.seconds_to_frames(s.max_seconds))
            progress(0.0, "waiting for the playhead to near the end")
            self._wait_until(lambda: lead is None or self._playhead >= self.doc_frames - lead, cancel)
            for block in self.chunks(model, cancel):
                block = block[:, : limit - self.sampled]
                at = self.end
                with self._cond:
                    self.sampled += block.shape[1]
                    self._cond.notify_all()
                cancel.partial((at, block))
                progress(self.sampled / limit, f"{self.sampled * self.config.frame_seconds:.1f} s sampled")
                if self.sampled >= limit:
                    break
                self._wait_until(lambda: ahead is None or self.end - self._playhead < ahead, cancel)
            return self.sampled

        return job

    def audio_job(self, renderer_of: Callable[[], Renderer], player: Player, mel: np.ndarray, version: int | None,
                  last: bool = False) -> Callable[[Progress, CancelToken], int]:
        """:func:`continuation_audio_job` from where the previous one stopped (the first: the document's last
        ``C`` frames) to the frames final in ``mel`` (all of them when ``last``: no frame follows). Run these
        jobs in order on one lane; each updates :attr:`fed` and returns it.

        Args:
            renderer_of: gives the document's renderer (called on the worker thread: it may build the vocoder).
            mel: the document's ln-mel now (a copy), the continued frames included.
        """

        def job(progress: Progress, cancel: CancelToken) -> int:
            renderer = renderer_of()
            self.receptive_field = renderer.vocoder.receptive_field_frames
            start = self.fed if self.fed is not None else final_frames(self.doc_frames, renderer)
            end = mel.shape[1] if last else final_frames(mel.shape[1], renderer)
            self.fed = continuation_audio_job(renderer, player, mel, version, start, end)(progress, cancel)
            return self.fed

        return job

    def update_job(self, renderer_of: Callable[[], Renderer], player: Player, mel: np.ndarray,
                   version: int | None) -> Callable[[Progress, CancelToken], int]:
        """After an edit while the continued document plays: the continued frames whose audio the player holds
        (from :attr:`doc_frames` to where its audio ends when the job runs) are brought up to date with ``mel``
        as :func:`~vocoder_studio.engine.playback.update_job` does for a playing document's own frames: the
        renderer re-vocodes the frames the edit reaches and they are written over the audio not yet played.
        Continued frames past them get the edit from the next :meth:`audio_job`. Run it on the lane of the audio
        jobs; returns the frames re-vocoded.

        Args:
            mel: the document's ln-mel now (a copy), with the edit and the frames continued so far.
        """

        def job(progress: Progress, cancel: CancelToken) -> int:
            renderer = renderer_of()
            end = min(mel.shape[1], player.supplied_end // renderer.hop_length)
            if not player.is_playing or end <= self.doc_frames:
                return 0
            return update_job(renderer, player, mel, version, self.doc_frames, end)(progress, cancel)

        return job

    def waiting_for(self) -> str:
        """Who the player waits for when it runs dry: ``"MelNet"`` when every frame sampled is vocoded as far as
        it can be (sampling is slower than real time), else ``"the vocoder"``."""
        if self.fed is None or self.receptive_field is None:
            return "MelNet" if self.sampled == 0 else "the vocoder"
        return "MelNet" if self.fed >= self.end - self.receptive_field else "the vocoder"


def final_frames(known: int, renderer: Renderer) -> int:
    """Of a document with ``known`` frames that will go on growing, the frames whose audio is final: those with
    the renderer's vocoder's full receptive field to their right (``known - C``, at least 0)."""
    return max(0, known - renderer.vocoder.receptive_field_frames)


def continuation_audio_job(renderer: Renderer, player: Player, mel: np.ndarray, version: int | None, start: int,
                           end: int) -> Callable[[Progress, CancelToken], int]:
    """A job that vocodes frames ``[start, end)`` of the continued document ``mel`` and puts them in the
    open-ended ``player``: the part the player was already given (the document's own end, vocoded without the
    frames after it) is spliced over what has not played yet, crossfading where the playhead is inside it; the
    rest is appended. Frames the player was never given before ``start`` are vocoded too (nothing is skipped).
    Returns the frame where the player's audio now ends; nothing happens once the player stopped.

    Call with ``end <= final_frames(mel.shape[1], renderer)``: the audio is then what vocoding the whole
    continued document at once gives (each chunk has the vocoder's receptive field of context on both sides).

    Args:
        renderer: the document's renderer (its cache keeps the audio for the next Play).
        mel: the document's ln-mel ``(n_mels, frames)`` now (a copy: the job runs on a worker thread).
        version: the document's version (the renderer's shortcut).
    Raises:
        JobCancelled: cancelled between vocoder chunks.
    """
    hop = renderer.hop_length

    def job(progress: Progress, cancel: CancelToken) -> int:
        if not player.is_playing:
            return player.supplied_end // hop
        first = min(start, player.supplied_end // hop)
        if end <= first:
            return player.supplied_end // hop
        for frame, audio in renderer.stream(mel, version, first, end, chunk_frames=256, first_chunk_frames=256,
                                            progress=progress, cancel=cancel):
            at, supplied = frame * hop, player.supplied_end
            head = min(audio.size, max(0, supplied - at))
            if head:
                player.splice(at, audio[:head], CROSSFADE)
            if head < audio.size:
                player.write(audio[head:])
        return player.supplied_end // hop

    return job


class ContinuationEdit:
    """A continuation's frames in ``doc``, appended block by block as one undo step named ``label``.

    Args:
        doc: the document continued; the continuation starts at its last frame as it is now.
    Attributes:
        start: the document's frames before the continuation.
        frames: frames appended so far.
    """

    def __init__(self, doc: Document, label: str = LABEL) -> None:
        self.doc, self.label = doc, label
        self.start = doc.frames
        self.frames = 0

    def add(self, block: np.ndarray) -> None:
        """Append ``block`` (ln-mel ``(n_mels, k)``) after the frames appended before, joining their undo step
        (a new step if the user edited in between)."""
        self.doc.append_frames(block, self.label, extend=self.frames > 0)
        self.frames += int(block.shape[1])

    def _intact(self) -> bool:
        """Whether the document still ends with exactly the appended frames (nothing inserted or deleted)."""
        return self.frames > 0 and self.doc.frames == self.start + self.frames

    def _newest_step(self) -> bool:
        """Whether the newest undo step is this continuation's, whole (nothing edited since)."""
        return self._intact() and self.doc.undo_label == self.label and not self.doc.can_redo

    def keep(self, until: int) -> int:
        """Keep the appended frames before document frame ``until`` (the playhead at Stop: what was heard) and
        drop the rest; still one undo step. Returns the frames kept."""
        if not self._intact():
            return self.frames
        until = min(max(until, self.start), self.start + self.frames)
        if until == self.start:
            self.discard()
            return 0
        if until < self.start + self.frames:
            if self._newest_step():
                kept = self.doc.mel[:, self.start : until].copy()
                self.doc.undo()
                self.doc.append_frames(kept, self.label)
            else:
                self.doc.delete_frames(until, self.start + self.frames, f"{self.label}: drop the frames not heard")
            self.frames = until - self.start
        return self.frames

    def discard(self) -> None:
        """Drop every appended frame: the document as it was (by undoing the step, so that Redo brings it
        back, when nothing was edited since; else as a deletion)."""
        if not self._intact():
            return
        if self._newest_step():
            self.doc.undo()
        else:
            self.doc.delete_frames(self.start, self.start + self.frames, f"{self.label}: dropped")
        self.frames = 0
