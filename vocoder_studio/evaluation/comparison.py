"""Comparing vocoders on one mel: each renders the same frames, its audio is analysed again as a mel and
scored against what it was given (no Qt; the window's Compare view runs :meth:`CompareCache.job` on its
worker).

For each chosen vocoder (a :class:`~vocoder_studio.vocoders.choice.VocoderChoice`) a :class:`Take` holds the
audio of frames ``[start, end)`` (rendered with the whole document as context, as playback hears it), that
audio's ln-mel, the difference map against the document's mel in dB, and the scores:

- ``mel_l1``: mean |ln-mel of the output − the document's ln-mel| over the range (natural-log units, as
  :func:`vocoder_studio.evaluation.metrics.log_mel_l1` reports them): how faithfully the vocoder says what the
  spectrogram says. Always available.
- ``pesq_wb`` and ``stoi`` (:mod:`.metrics`, after alignment): only where there is a true reference — the
  document came from an audio file and the range's mel is still the one analysed from it (unedited) — and
  the ``pesq`` / ``pystoi`` packages are installed; otherwise None, with the reason in ``Comparison.note``.

Results are cached per (document uid, document version, range, vocoder settings): the same document and
settings give back the very same :class:`Take`; an edit (a new version) renders again, re-vocoding only the
frames the edit reaches (each (document, vocoder) keeps its own :class:`~vocoder_studio.engine.render.Renderer`).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, ln_to_db, wav_to_mel
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.jobs import CancelToken, Progress
from vocoder_studio.engine.render import Renderer
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.scales import auto_levels
from vocoder_studio.vocoders.choice import VocoderChoice

#: Takes kept in a :class:`CompareCache` (the oldest go first).
MAX_TAKES = 32


@dataclass(frozen=True)
class Scores:
    """A take's numbers: ``mel_l1`` (natural-log units, lower is better), PESQ wide-band (1.0–4.64) and STOI
    (0–1) against the reference recording, None where there is none or the scorer is not installed."""

    mel_l1: float
    pesq_wb: float | None = None
    stoi: float | None = None

    def describe(self) -> str:
        """``"mel-L1 0.231 · PESQ 3.12 · STOI 0.978"`` (the parts that exist)."""
        parts = [f"mel-L1 {self.mel_l1:.3f}"]
        if self.pesq_wb is not None:
            parts.append(f"PESQ {self.pesq_wb:.2f}")
        if self.stoi is not None:
            parts.append(f"STOI {self.stoi:.3f}")
        return " · ".join(parts)


@dataclass(frozen=True, eq=False)
class Take:
    """One vocoder's rendering of frames ``[start, end)``.

    Attributes:
        choice: the vocoder and its settings.
        audio: float32 ``((end - start) * hop_length,)`` at the front-end's rate, sample-aligned with the
            document (sample 0 is frame ``start``'s first sample).
        mel: float32 ln-mel ``(n_mels, end - start)`` of ``audio`` (analysed with the audio around it).
        diff_db: float32 ``(n_mels, end - start)``: ``mel`` − the document's mel in dB, both floored at the
            range's low colour level (differences in what cannot be seen do not count).
        scores: the take's :class:`Scores`.
    """

    choice: VocoderChoice
    audio: np.ndarray
    mel: np.ndarray
    diff_db: np.ndarray
    scores: Scores


@dataclass(frozen=True, eq=False)
class Comparison:
    """The result of one Compare: the document's range and each vocoder's :class:`Take`, in the order asked.

    Attributes:
        uid, version: the document (``Document.uid``) and its version the takes were made from.
        start, end: the frame range ``[start, end)``.
        mel: float32 ln-mel ``(n_mels, end - start)``: the document's mel over the range.
        reference: float32 audio of the range from the recording the document was analysed from, or None
            (no recording, or the range was edited since): take 0 of the Compare view, and the reference of
            PESQ and STOI.
        note: why PESQ/STOI are missing, or "".
    """

    uid: int
    version: int
    start: int
    end: int
    mel: np.ndarray
    reference: np.ndarray | None
    takes: tuple[Take, ...]
    note: str = ""
    config: MelConfig = DEFAULT_CONFIG


def context_frames(config: MelConfig) -> int:
    """Frames of audio on each side that the analysis window reaches: ``ceil(n_fft / hop_length)``."""
    return math.ceil(config.n_fft / config.hop_length)


def difference_db(test_ln: np.ndarray, reference_ln: np.ndarray, config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """``test − reference`` in dB, both floored at the reference's low colour level (see
    :func:`vocoder_studio.scales.auto_levels`; ``config.floor_ln`` is digital silence): float32, same shape."""
    ref_db = ln_to_db(np.asarray(reference_ln, np.float32))
    low, _ = auto_levels(ref_db, float(ln_to_db(np.array([config.floor_ln], np.float64))[0]))
    test_db = ln_to_db(np.asarray(test_ln, np.float32))
    return (np.maximum(test_db, low) - np.maximum(ref_db, low)).astype(np.float32)


def missing_scorers() -> list[str]:
    """The scoring packages (``pesq``, ``pystoi``) that are not installed."""
    from vocoder_studio.evaluation import metrics

    return metrics.missing_packages(metrics.SCORERS)


def _score(reference: np.ndarray | None, audio: np.ndarray, sample_rate: int, scorers: Sequence[str]) -> \
        tuple[float | None, float | None]:
    """PESQ-wb and STOI of ``audio`` against ``reference`` (None where not possible)."""
    if reference is None or not np.any(reference):
        return None, None
    from vocoder_studio.evaluation import metrics

    pesq = stoi = None
    if "pesq" in scorers:
        pesq = metrics.pesq_wb_or_none(reference, audio, sample_rate)  # None: silence-only or too short
    if "pystoi" in scorers:
        try:
            value = metrics.stoi(reference, audio, sample_rate)
            stoi = value if math.isfinite(value) else None
        except Exception:
            stoi = None
    return pesq, stoi


class CompareCache:
    """The Compare view's results, kept per (document, version, range, vocoder settings), and the renderers
    that made them.

    Args:
        render_cache: where the vocoders come from (shared with playback; each (document, vocoder) gets a
            private :class:`Renderer`, so a compare job may run on another worker lane than playback).
        max_takes: takes kept (least recently used go first).
    Attributes:
        renders: takes rendered (not found in the cache) since creation: a counter tests read.
    """

    def __init__(self, render_cache: RenderCache | None = None, max_takes: int = MAX_TAKES) -> None:
        self.render_cache = render_cache or RenderCache()
        self.max_takes = max_takes
        self.renders = 0
        self._lock = threading.Lock()
        self._takes: OrderedDict[tuple[Any, ...], Take] = OrderedDict()
        self._renderers: dict[tuple[Any, ...], Renderer] = {}
        self._sources: dict[tuple[str, float], tuple[np.ndarray, np.ndarray]] = {}

    # ----- cache ----------------------------------------------------------------------------------------
    @staticmethod
    def _key(uid: int, version: int, start: int, end: int, choice: VocoderChoice) -> tuple[Any, ...]:
        return (uid, version, start, end, choice.key)

    def cached(self, uid: int, version: int, start: int, end: int, choice: VocoderChoice) -> Take | None:
        """The take made for exactly this document version, range and vocoder settings, or None."""
        with self._lock:
            take = self._takes.get(self._key(uid, version, start, end, choice))
            if take is not None:
                self._takes.move_to_end(self._key(uid, version, start, end, choice))
            return take

    def _keep(self, key: tuple[Any, ...], take: Take) -> None:
        with self._lock:
            self._takes[key] = take
            while len(self._takes) > self.max_takes:
                self._takes.popitem(last=False)

    def forget(self, uid: int) -> None:
        """Drop the takes and renderers of a closed document."""
        with self._lock:
            for key in [k for k in self._takes if k[0] == uid]:
                del self._takes[key]
            for key in [k for k in self._renderers if k[0] == uid]:
                del self._renderers[key]

    def renderer(self, uid: int, choice: VocoderChoice) -> Renderer:
        """The compare jobs' own renderer of document ``uid`` for ``choice`` (kept, so an edit re-vocodes only
        the frames it reaches)."""
        key = (uid, choice.key)
        with self._lock:
            renderer = self._renderers.get(key)
        if renderer is None:
            renderer = self.render_cache.private_renderer(choice)
            with self._lock:
                renderer = self._renderers.setdefault(key, renderer)
        return renderer

    # ----- the reference recording ----------------------------------------------------------------------
    def reference_audio(self, source: str | None, mel: np.ndarray, start: int, end: int,
                        config: MelConfig = DEFAULT_CONFIG) -> tuple[np.ndarray | None, str]:
        """The recording's audio of frames ``[start, end)`` if the document's ``mel`` (the whole ln-mel
        ``(n_mels, frames)``) still holds, over that range, what the front-end made of the recording.

        Returns:
            ``(float32 ((end - start) * hop_length,), "")``, or ``(None, why not)``.
        """
        if not source:
            return None, "no recording to score against (PESQ/STOI need one)"
        path = Path(source)
        if path.suffix.lower() in (".npy", ".vsproj") or not path.is_file():
            return None, "no recording to score against (PESQ/STOI need one)"
        from vocoder_studio.audio.io import load_audio

        key = (str(path), path.stat().st_mtime)
        with self._lock:
            loaded = self._sources.get(key)
        if loaded is None:
            try:
                audio = load_audio(path, config)
            except VocoderStudioError:
                return None, "the recording cannot be read: PESQ/STOI left out"
            loaded = (audio, wav_to_mel(audio, config))
            with self._lock:
                self._sources[key] = loaded
        audio, source_mel = loaded
        if source_mel.shape != mel.shape or not np.allclose(source_mel[:, start:end], mel[:, start:end], atol=1e-4):
            return None, "edited since it was analysed: PESQ/STOI need the unedited range"
        hop = config.hop_length
        out = np.zeros((end - start) * hop, np.float32)
        piece = audio[start * hop : end * hop]
        out[: piece.size] = piece
        return out, ""

    # ----- the job ----------------------------------------------------------------------------------------
    def job(self, mel: np.ndarray, uid: int, version: int, start: int, end: int,
            choices: Sequence[VocoderChoice], source: str | None = None,
            config: MelConfig = DEFAULT_CONFIG) -> Callable[[Progress, CancelToken], Comparison]:
        """A job that renders frames ``[start, end)`` of ``mel`` with each of ``choices`` and scores them.

        Args:
            mel: the document's whole ln-mel ``(n_mels, frames)`` — a frozen copy (the job runs on a worker).
            uid, version: ``Document.uid`` and ``Document.version`` of that mel (the cache keys on them).
            start, end: the frame range, ``0 <= start < end <= frames``.
            source: the file the document came from (``Document.source``): its audio is the reference.
        Returns:
            ``job(progress, cancel) -> Comparison``.
        Raises (from the job):
            JobCancelled: cancelled between vocoders or between chunks.
            VocoderUnavailableError, ParameterError: a vocoder cannot be built.
        """
        if not 0 <= start < end <= mel.shape[1]:
            raise VocoderStudioError(f"compare range [{start}, {end}) is outside the document's "
                                     f"{mel.shape[1]} frames")
        mel = np.asarray(mel, np.float32)

        def job(progress: Progress, cancel: CancelToken) -> Comparison:
            cancel.check()
            progress(0.0, "reading the recording")
            reference, note = self.reference_audio(source, mel, start, end, config)
            scorers = [] if reference is None else [s for s in ("pesq", "pystoi") if s not in missing_scorers()]
            if reference is not None and len(scorers) < 2:
                note = f"{' and '.join(missing_scorers())} not installed: pip install vocoder-studio[eval]"
            takes = []
            for index, choice in enumerate(choices):
                cancel.check()
                take = self.cached(uid, version, start, end, choice)
                if take is None:
                    def part(fraction: float, message: str, i: int = index, name: str = choice.name) -> None:
                        progress((i + 0.9 * fraction) / len(choices), f"{name}: {message}")

                    take = self._render(mel, uid, version, start, end, choice, reference, scorers, config, part,
                                        cancel)
                    self._keep(self._key(uid, version, start, end, choice), take)
                takes.append(take)
                progress((index + 1) / len(choices), f"{choice.name} done")
            return Comparison(uid, version, start, end, mel[:, start:end].copy(), reference, tuple(takes), note,
                              config)

        return job

    def _render(self, mel: np.ndarray, uid: int, version: int, start: int, end: int, choice: VocoderChoice,
                reference: np.ndarray | None, scorers: Sequence[str], config: MelConfig, progress: Progress,
                cancel: CancelToken) -> Take:
        hop = config.hop_length
        context = context_frames(config)
        a, b = max(0, start - context), min(mel.shape[1], end + context)
        renderer = self.renderer(uid, choice)
        audio = renderer.render(mel, version, a, b, progress=progress, cancel=cancel)
        cancel.check()
        progress(1.0, "analysing and scoring")
        analysed = wav_to_mel(audio, config)[:, start - a : end - a]
        own = np.ascontiguousarray(audio[(start - a) * hop : (end - a) * hop], dtype=np.float32)
        original = mel[:, start:end]
        mel_l1 = float(np.mean(np.abs(analysed - original)))
        pesq, stoi = _score(reference, own, config.sample_rate, scorers)
        with self._lock:
            self.renders += 1
        return Take(choice, own, np.ascontiguousarray(analysed), difference_db(analysed, original, config),
                    Scores(mel_l1, pesq, stoi))
