"""The one protocol every vocoder follows, and the chunked streaming they share.

Streaming follows the design card: vocode chunks of N frames with C context frames on each side and keep only
the middle (a hard cut). With C at least the model's receptive field the streamed audio equals the full-file
audio; a small first chunk gives the first sound quickly.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, validate_mel
from vocoder_studio.errors import MelShapeError
from vocoder_studio.vocoders.stft import MAX_MEL_MATCH_STEPS, MAX_PHASE_REFINE, match_waveform


@runtime_checkable
class VocoderProtocol(Protocol):
    """What the engine, CLI and UI rely on.

    ``stream`` yields the audio of a mel in order. The default (:class:`Vocoder`) splices chunks vocoded with
    ``receptive_field_frames`` of context; an autoregressive vocoder (WaveNet) overrides it with its own
    stateful generator and sets ``local_edits`` False, so an edit is re-vocoded from its start to the end.
    """

    name: str
    sample_rate: int
    receptive_field_frames: int
    local_edits: bool

    def vocode(self, mel: torch.Tensor | np.ndarray) -> torch.Tensor: ...

    def stream(self, mel: torch.Tensor | np.ndarray, chunk_frames: int = 64) -> Iterator[torch.Tensor]: ...


def as_mel_tensor(mel: torch.Tensor | np.ndarray, config: MelConfig = DEFAULT_CONFIG) -> torch.Tensor:
    """A mel as a float32 tensor ``(n_mels, frames)`` or ``(batch, n_mels, frames)``.

    Raises:
        MelShapeError: wrong number of bands or dimensions, or no frames.
    """
    if isinstance(mel, np.ndarray):
        if mel.ndim == 2:
            mel = validate_mel(mel, config)
        mel = np.ascontiguousarray(mel, dtype=np.float32)
        if not mel.flags.writeable:  # e.g. Document.mel, a read-only view: torch needs its own copy
            mel = mel.copy()
        mel = torch.from_numpy(mel)
    if mel.ndim not in (2, 3) or mel.shape[-2] != config.n_mels or mel.shape[-1] < 1:
        raise MelShapeError(f"mel must be ({config.n_mels}, frames) or (batch, {config.n_mels}, frames), "
                            f"got {tuple(mel.shape)}")
    return mel.float()


def finite_audio(audio: torch.Tensor) -> torch.Tensor:
    """``audio`` clipped to [-1, 1] with NaN → 0 and ±inf → ±1: no vocoder ever writes a non-finite sample
    (a WAV of NaN plays as silence or noise, and float32 WAVs keep them)."""
    return torch.nan_to_num(audio, nan=0.0, posinf=1.0, neginf=-1.0).clamp(-1.0, 1.0)


class Vocoder(ABC):
    """Base class: mel ``(80, T)`` → audio ``(T * 256,)`` float32 in [-1, 1] at 22050 Hz.

    Subclasses implement :meth:`_synthesize` on a batch already on ``self.device``.

    Attributes:
        name: registry name (``"griffin-lim"``, ``"hifigan"``, …).
        sample_rate: output rate in Hz (22050).
        receptive_field_frames: mel frames of context a chunk needs on each side for an exact splice.
        device: the torch device the vocoder runs on.
    """

    name: str = "vocoder"
    receptive_field_frames: int = 0
    #: whether an edit of frames [a, b) can be re-vocoded from [a - C, b + C) alone and spliced in. An
    #: autoregressive vocoder (WaveNet) says False: its audio after an edit depends on everything before it, so
    #: the renderer re-vocodes from the edit's start to the end.
    local_edits: bool = True
    #: longer mels are vocoded in chunks of this many frames (exact with context ≥ the receptive field), so
    #: memory stays flat however long the file; None vocodes any length in one call.
    max_frames_per_call: int | None = None
    #: mel-matching steps after :meth:`_synthesize` (:func:`~vocoder_studio.vocoders.stft.match_waveform`): the
    #: output's STFT magnitudes corrected so that its mel follows the input's. 0: the vocoder's own output. Set
    #: with :meth:`set_mel_match`, which widens ``receptive_field_frames`` to match.
    mel_match_steps: int = 0
    #: a subclass that applies mel matching inside ``_synthesize`` itself (from its own spectrum) sets this
    mel_match_inside: bool = False
    #: Griffin-Lim iterations after the mel matching, from the vocoder's own phase
    #: (:func:`~vocoder_studio.vocoders.stft.refine_phase`); set with :meth:`set_mel_match`
    phase_refine: int = 0

    def __init__(self, device: str | torch.device = "cpu", config: MelConfig = DEFAULT_CONFIG) -> None:
        self.config = config
        self.sample_rate = config.sample_rate
        self.hop_length = config.hop_length
        self.device = torch.device(device)

    @abstractmethod
    def _synthesize(self, mel: torch.Tensor) -> torch.Tensor:
        """Vocode ``(B, n_mels, T)`` on ``self.device`` → ``(B, T * hop_length)`` float32."""

    def set_mel_match(self, steps: int, widen: int | None = None, refine: int = 0) -> None:
        """Run ``steps`` mel-matching steps and then ``refine`` Griffin-Lim iterations after the vocoder, and widen
        ``receptive_field_frames`` by what they reach: ``widen`` frames, by default
        ``2 o + (n_fft / hop_length - 1) (steps + refine - 1)`` with ``o`` the hops a frame reaches past its own
        (``ceil(pad / hop_length)``): the first step sees the vocoder's audio within ±o hops through the analysis
        and ±o through the synthesis, each further step or iteration STFT frames ±(n_fft / hop - 1) away
        (4 + 3 (steps + refine - 1) for the shared front-end). Call once, from ``__init__``.

        Raises:
            ValueError: ``steps`` outside ``[0, MAX_MEL_MATCH_STEPS]`` or ``refine`` outside
                ``[0, MAX_PHASE_REFINE]``.
        """
        if not 0 <= steps <= MAX_MEL_MATCH_STEPS:
            raise ValueError(f"mel_match must be in [0, {MAX_MEL_MATCH_STEPS}], got {steps}")
        if not 0 <= refine <= MAX_PHASE_REFINE:
            raise ValueError(f"phase_refine must be in [0, {MAX_PHASE_REFINE}], got {refine}")
        self.mel_match_steps = steps
        self.phase_refine = refine
        if steps or refine:
            c = self.config
            reach = -(-c.pad // c.hop_length)
            self.receptive_field_frames += (2 * reach + (c.n_fft // c.hop_length - 1) * (steps + refine - 1)
                                            if widen is None else widen)

    def _synthesize_matched(self, mel: torch.Tensor) -> torch.Tensor:
        """:meth:`_synthesize`, then :attr:`mel_match_steps` of mel matching (unless the subclass does it)."""
        audio = self._synthesize(mel)
        if (self.mel_match_steps or self.phase_refine) and not self.mel_match_inside:
            audio = match_waveform(audio.float(), mel, self.mel_match_steps, self.config, self.phase_refine)
        return audio

    def vocode(self, mel: torch.Tensor | np.ndarray) -> torch.Tensor:
        """Vocode a whole mel-spectrogram.

        Args:
            mel: ln-mel ``(80, T)`` or ``(B, 80, T)``, numpy or torch.
        Returns:
            CPU float32 tensor ``(T * 256,)`` or ``(B, T * 256)``, clipped to [-1, 1] and always finite (a
            non-finite sample a model produced becomes 0, or ±1 for ±inf: see :func:`finite_audio`).
        """
        x = as_mel_tensor(mel, self.config)
        single = x.ndim == 2
        limit = self.max_frames_per_call
        if single and limit is not None and x.shape[-1] > limit + 2 * self.receptive_field_frames:
            return torch.cat(list(self.stream(x, chunk_frames=limit, first_chunk_frames=limit)))
        batch = x.unsqueeze(0) if single else x
        with torch.inference_mode():
            audio = finite_audio(self._synthesize_matched(batch.to(self.device)).float()).cpu()
        return audio[0] if single else audio

    def vocode_range(
        self, mel: torch.Tensor | np.ndarray, start: int, end: int, context_frames: int | None = None
    ) -> torch.Tensor:
        """Audio of frames ``[start, end)`` of ``mel``, vocoded with context on each side and cut hard.

        Returns:
            CPU float32 tensor ``((end - start) * 256,)``.
        Raises:
            ValueError: the range is empty or outside the mel.
        """
        frames = mel.shape[-1]
        if not 0 <= start < end <= frames:
            raise ValueError(f"frame range [{start}, {end}) is outside the mel's {frames} frames")
        context = self.receptive_field_frames if context_frames is None else context_frames
        lo, hi = max(0, start - context), min(frames, end + context)
        audio = self.vocode(mel[..., lo:hi])  # only this slice is converted (a long mel is never copied whole)
        offset = (start - lo) * self.hop_length
        return audio[..., offset : offset + (end - start) * self.hop_length]

    def stream(
        self,
        mel: torch.Tensor | np.ndarray,
        chunk_frames: int = 64,
        first_chunk_frames: int | None = 16,
        context_frames: int | None = None,
    ) -> Iterator[torch.Tensor]:
        """Vocode ``(80, T)`` chunk by chunk, in order; the blocks concatenate to ``(T * 256,)``.

        Args:
            chunk_frames: frames per chunk after the first.
            first_chunk_frames: frames of the first chunk (small → first sound sooner); None = chunk_frames.
            context_frames: context on each side; default ``receptive_field_frames``.
        Yields:
            CPU float32 tensors ``(chunk * 256,)``.
        """
        if isinstance(mel, np.ndarray):  # checked whole, converted chunk by chunk: flat memory for an hour
            if mel.ndim == 2:
                validate_mel(mel, self.config)
            x: torch.Tensor | np.ndarray = mel
        else:
            x = as_mel_tensor(mel, self.config)
        if x.ndim != 2:
            raise MelShapeError(f"stream takes one mel (80, frames), got {tuple(x.shape)}")
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be at least 1, got {chunk_frames}")
        for start, end in chunk_bounds(x.shape[-1], chunk_frames, first_chunk_frames):
            yield self.vocode_range(x, start, end, context_frames)

    def to(self, device: str | torch.device) -> Vocoder:
        """Move the vocoder to ``device`` and return it."""
        self.device = torch.device(device)
        return self

    def describe(self) -> str:
        """One line for lists and status bars."""
        return f"{self.name} ({self.device})"


class PositionedVocoder(Vocoder):
    """A vocoder whose output at a frame depends on where the frame lies in the whole mel, not only on the frames
    around it (a starting phase drawn per absolute frame, or integrated in absolute blocks by PGHI): while
    :meth:`vocode_range` runs, :meth:`range_position` gives the vocoded slice's first absolute frame and the whole
    mel, per thread (one instance serves render-ahead, playback and long jobs on different worker threads)."""

    def range_position(self) -> tuple[int, torch.Tensor | np.ndarray | None]:
        """``(first frame, whole mel)`` of the slice being vocoded by :meth:`vocode_range` on this thread;
        ``(0, None)`` when a whole mel is vocoded (it is its own source)."""
        local = self.__dict__.get("_position")
        if local is None:
            return 0, None
        return getattr(local, "frame_offset", 0), getattr(local, "source", None)

    def vocode_range(self, mel, start, end, context_frames=None):  # type: ignore[no-untyped-def]
        """As :meth:`Vocoder.vocode_range`, with the slice's absolute position known to :meth:`range_position`
        (a batch of mels has none: each is vocoded as its own whole)."""
        local = self.__dict__.setdefault("_position", threading.local())
        context = self.receptive_field_frames if context_frames is None else context_frames
        local.frame_offset = max(0, start - context)
        local.source = mel if mel.ndim == 2 else None
        try:
            return super().vocode_range(mel, start, end, context_frames)
        finally:
            local.frame_offset = 0
            local.source = None


#: Each streamed chunk is this much longer than the one before (up to ``chunk_frames``). HiFi-GAN at about
#: 0.45 × real time with 14 context frames on each side started gapless playback after 0.7 s with 1.25,
#: 1.7 s with 1.5 and 1.3 s with doubling (warm, 2-core CPU); Griffin-Lim started after its first chunk
#: (49 ms) with any of them.
CHUNK_GROWTH = 1.25


def chunk_bounds(frames: int, chunk_frames: int, first_chunk_frames: int | None = None,
                 growth: float = CHUNK_GROWTH) -> list[tuple[int, int]]:
    """Split ``frames`` into ``[start, end)`` chunks: ``first_chunk_frames`` first, each next chunk ``growth``
    times the one before (at least one frame more), up to ``chunk_frames``.

    The small first chunk gives the first sound quickly; growing chunks then cut the share of context frames
    computed twice, so a vocoder near real time gets ahead of playback.
    """
    bounds = []
    start = 0
    size = min(first_chunk_frames or chunk_frames, chunk_frames)
    while start < frames:
        end = min(frames, start + size)
        bounds.append((start, end))
        start, size = end, min(max(size + 1, int(size * growth)), chunk_frames)
    return bounds
