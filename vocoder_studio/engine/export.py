"""Export as a job: vocode a document (or its selection's frames) through the render cache and write a WAV.

Audio already vocoded (by render-ahead or playback) comes from the cache; only missing frames are vocoded.
The sample rate written is the vocoder's own (:attr:`Vocoder.sample_rate`). No Qt.

:func:`write_vocoded` is the command line's path (``vocoder-studio vocode``, one file or a batch): no cache,
long mels vocoded in blocks and written as they come, so memory stays flat whatever the length.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import numpy as np

from vocoder_studio.audio.io import MelFile, save_wav, write_wav_blocks
from vocoder_studio.document import Document
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.jobs import CancelToken, Progress, no_progress, run_job
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.vocoders.base import Vocoder, chunk_bounds
from vocoder_studio.vocoders.choice import VocoderChoice

#: :func:`write_vocoded` vocodes mels longer than this many frames (or the vocoder's ``max_frames_per_call``)
#: in blocks of that many frames.
STREAM_FRAMES = 2048


def export_frames(doc: Document, selection_only: bool = False) -> tuple[int, int]:
    """The frames ``[start, end)`` an export writes: the whole document, or the selection's frames.

    Raises:
        VocoderStudioError: ``selection_only`` and nothing is selected.
    """
    if not selection_only:
        return 0, doc.frames
    sel = doc.selection
    if sel is None or sel.empty:
        raise VocoderStudioError("export selection: nothing is selected")
    start, end = max(0, sel.frame0), min(doc.frames, sel.frame1)
    if start >= end:
        raise VocoderStudioError("export selection: the selection lies outside the document")
    return start, end


def export_job(
    doc: Document,
    path: str | os.PathLike[str],
    cache: RenderCache,
    choice: VocoderChoice,
    selection_only: bool = False,
    sample_format: str = "pcm16",
) -> Callable[[Progress, CancelToken], Path]:
    """A job that writes the vocoded audio of ``doc`` to the WAV file ``path`` and returns ``path``.

    The document is read now (a copy of its mel, version and range), so edits made while the job runs do not
    reach the file. The file has ``(end - start) * hop_length`` samples at the vocoder's sample rate.

    Args:
        sample_format: ``"pcm16"`` or ``"float32"`` (see :func:`vocoder_studio.audio.io.save_wav`).
    Raises:
        VocoderStudioError: (now) ``selection_only`` without a selection; (when run) the vocoder cannot run
            or the file cannot be written; JobCancelled: cancelled (no file is left behind).
    """
    start, end = export_frames(doc, selection_only)
    mel, version, doc_id, target = doc.mel.copy(), doc.version, doc.uid, Path(path)

    def job(progress: Progress, cancel: CancelToken) -> Path:
        renderer = cache.renderer(doc_id, choice)
        audio = renderer.render(mel, version, start, end, progress, cancel)
        cancel.check()
        progress(1.0, f"writing {target.name}")
        return save_wav(target, audio, renderer.vocoder.sample_rate, sample_format)

    return job


def export_wav(doc: Document, path: str | os.PathLike[str], cache: RenderCache, choice: VocoderChoice,
               selection_only: bool = False, sample_format: str = "pcm16", progress: Progress = no_progress,
               cancel: CancelToken | None = None) -> Path:
    """Run :func:`export_job` in this thread (scripts and tests); returns the file written."""
    return run_job(export_job(doc, path, cache, choice, selection_only, sample_format), progress, cancel)


def write_vocoded(mel: np.ndarray | MelFile, path: str | os.PathLike[str], vocoder: Vocoder,
                  sample_format: str = "pcm16", cancel: CancelToken | None = None) -> int:
    """Vocode the whole ln-mel ``mel`` (``(n_mels, frames)`` float32, or a :class:`MelFile` on disk) with
    ``vocoder`` into the WAV ``path``.

    Mels longer than :data:`STREAM_FRAMES` (or the vocoder's ``max_frames_per_call``) are vocoded block by block
    (exact splices: context ≥ the receptive field) and each block written as it comes; a :class:`MelFile` is
    read block by block too (with its context), so an hour-long mel never exists whole in memory — except for
    a vocoder whose audio depends on everything before (``local_edits`` False: WaveNet), which reads it whole.
    The write is atomic: nothing appears at ``path`` unless every block was written, whether it fails or is
    cancelled.

    Returns:
        the number of samples written, ``frames * hop_length``, at ``vocoder.sample_rate`` Hz.
    Raises:
        AudioFileError: unknown ``sample_format``, the file cannot be written, or a :class:`MelFile` range holds
            NaN values; JobCancelled: ``cancel`` was set (checked before each block and once more before the
            file is put in place).
    """
    token = cancel or CancelToken()
    chunk = getattr(vocoder, "max_frames_per_call", None) or STREAM_FRAMES
    if isinstance(mel, MelFile) and (not vocoder.local_edits or mel.frames <= chunk):
        mel = mel.read(0, mel.frames)

    def from_file(source: MelFile) -> Iterator[np.ndarray]:
        for start, end in chunk_bounds(source.frames, chunk, chunk):  # the chunks `stream` makes
            # vocode_range slices [..., start - context : end + context]: only that range is read from disk
            yield vocoder.vocode_range(cast(np.ndarray, source), start, end).numpy()
            token.check()

    def blocks() -> Iterator[np.ndarray]:
        token.check()
        if isinstance(mel, MelFile):
            yield from from_file(mel)
        elif mel.shape[1] <= chunk:
            yield vocoder.vocode(mel).numpy()
        else:
            for block in vocoder.stream(mel, chunk_frames=chunk, first_chunk_frames=chunk):
                yield block.numpy()
                token.check()
        token.check()  # inside the atomic write: a cancel now still leaves nothing behind

    return write_wav_blocks(path, blocks(), vocoder.sample_rate, sample_format)
