"""MelNet generation as a job: new, continued or inpainted frames, delivered as partial results while sampling.

The job never touches the document: it samples from a frozen copy of the mel and hands each finished block
of frames to ``cancel.partial((at, block))``; the window applies the blocks to the document as one undo step
(:meth:`GenerateRequest.apply`), so the canvas shows the frames as they come and playback or editing elsewhere
carries on (the job runs on the worker's long lane).

Threads: MelNet samples on one torch intra-op thread (many tiny ops; two threads with the other core busy run
10-100x slower). ``sample`` sets that for the worker thread it runs on and restores the worker's count when it
returns (``melnet.intra_op_threads``): ``torch.set_num_threads`` is per calling thread under OpenMP, so the UI
thread and the other lane keep theirs; MKL's process-wide count is 1 only while a MelNet job runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.document import Document
from vocoder_studio.engine.jobs import CancelToken, Progress
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.vocoders.checkpoints import find_checked

Mode = Literal["new", "continue", "fill"]
MODES: tuple[str, ...] = ("new", "continue", "fill")
CHECKPOINT = "melnet.pt"
#: the prefix a continuation is conditioned on, at most (MelNet's tiers see the whole prefix: longer costs time)
MAX_PRIME_SECONDS = 6.0


def default_model_path(config: MelConfig = DEFAULT_CONFIG) -> Path:
    """``melnet.pt`` in the first models directory that has it, checked with its model card as
    ``vocoder-studio generate`` checks it (the window and the command agree on what is usable).

    Raises:
        VocoderUnavailableError: none is trained yet (the message says where it looked), or the one found is
            unusable: its card is missing, invalid or for another front-end, or the file is truncated.
    """
    return find_checked(CHECKPOINT, config)[0]


@dataclass(frozen=True)
class GenerateRequest:
    """What to generate.

    Attributes:
        mode: ``"new"`` (a new document of ``seconds``), ``"continue"`` (``seconds`` of new frames inserted at
            ``cursor``, conditioned on the frames before it) or ``"fill"`` (frames ``[start, end)`` regenerated).
        seconds: length of new material (new, continue).
        cursor: frame where a continuation is inserted.
        start, end: the frame range to fill.
        temperature: sampling temperature (0 = the most likely value; 1 = the model's distribution).
        seed: random seed (the same seed gives the same frames).
    """

    mode: Mode
    seconds: float = 2.0
    cursor: int = 0
    start: int = 0
    end: int = 0
    temperature: float = 0.8
    seed: int = 0

    def frames(self, config: MelConfig = DEFAULT_CONFIG) -> int:
        """New frames to sample (new, continue)."""
        return max(1, round(self.seconds / config.frame_seconds))

    def label(self) -> str:
        """The undo step's name."""
        return {"new": "Generate", "continue": "Continue", "fill": "Fill selection"}[self.mode]

    def apply(self, doc: Document, at: int, block: np.ndarray, first: bool) -> None:
        """Put a sampled block (frames ``at`` … of the generated output) into ``doc``, extending one undo step.

        For ``new`` the document is the generated one (its first block was made by :func:`new_document`).
        """
        if self.mode == "fill":
            doc.splice_frames(at, at + block.shape[1], block, self.label(), extend=not first)
        elif self.mode == "continue":
            doc.splice_frames(at, at, block, self.label(), extend=not first)
        else:
            doc.append_frames(block, self.label(), extend=not first)


def generation_job(request: GenerateRequest, mel: np.ndarray, model_path: Path | None = None,
                   config: MelConfig = DEFAULT_CONFIG) -> Any:
    """A job ``fn(progress, cancel) -> frames generated`` sampling ``request`` from ``mel`` (a copy is taken).

    Partial results: ``cancel.partial((at, block))`` with ``block`` ``(n_mels, k)`` float32 ln-mel meant for
    document frames ``at`` … ``at + k`` (fill, continue) or the new document's frames (new), in order.
    Raises (inside the job):
        VocoderStudioError: no trained model, a bad range, a model for another front-end.
    """
    mel = np.array(mel, dtype=np.float32, copy=True)

    def job(progress: Progress, cancel: CancelToken) -> int:
        from vocoder_studio.melnet import load_model, sample

        model = load_model(model_path or default_model_path(config), config)
        seen = [0]
        offset = 0
        kwargs: dict[str, Any] = {}
        if request.mode == "fill":
            if not 0 <= request.start < request.end <= mel.shape[1]:
                raise VocoderStudioError(f"fill: select frames inside the document (got {request.start}:"
                                         f"{request.end} of {mel.shape[1]})")
            lo = max(0, request.start - round(MAX_PRIME_SECONDS / config.frame_seconds))
            source = mel[:, lo : min(mel.shape[1], request.end + (request.end - request.start))]
            kwargs = {"source": source, "inpaint": (request.start - lo, request.end - lo)}
            offset, keep = lo, (request.start - lo, request.end - lo)
        elif request.mode == "continue":
            cursor = min(max(request.cursor, 0), mel.shape[1])
            prime = mel[:, max(0, cursor - round(MAX_PRIME_SECONDS / config.frame_seconds)) : cursor]
            kwargs = {"prime": prime if prime.shape[1] else None, "frames": request.frames(config)}
            offset, keep = cursor - prime.shape[1], (prime.shape[1], prime.shape[1] + request.frames(config))
        else:
            kwargs = {"frames": request.frames(config)}
            keep = (0, request.frames(config))

        def on_frames(start: int, block: np.ndarray) -> None:
            a, b = max(start, keep[0]), min(start + block.shape[1], keep[1])
            if a < b:
                cancel.partial((offset + a if request.mode != "new" else a, block[:, a - start : b - start]))
                seen[0] += b - a

        sample(model, temperature=request.temperature, seed=request.seed, progress=progress, cancel=cancel,
               on_frames=on_frames, floor=config.floor_ln, threads=1, **kwargs)
        return seen[0]

    return job
