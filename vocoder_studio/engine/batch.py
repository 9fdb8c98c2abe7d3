"""Batch export: vocode several files (audio, ``.npy`` mels, projects) into one folder, all cores busy (no Qt).

``vocoder-studio vocode A B C -o DIR`` writes ``DIR/A.wav``, ``DIR/B.wav``, ``DIR/C.wav``. :func:`plan_batch`
checks the folder and the names before any work; :func:`run_batch` vocodes the files on a pool of worker
threads that share one vocoder, each file written atomically (:func:`~vocoder_studio.engine.export.write_vocoded`).
A file that fails (unreadable, not a mel, …) gives its one-line error and the others still finish; a
cancellation (Ctrl-C) stops the files under way before they are put in place, so no partial output is left.

Threads, not processes. Measured on this 2-core CPU, shared with other work (8 alsa-utils speech clips, 11.4 s
in all, wall time of the whole batch, median of 3 after a warm-up round, default parameters):

=============  ==========================  ================  =================
vocoder        1 worker, 2 intra-op thr.   2 threads × 1     2 processes × 1
=============  ==========================  ================  =================
Griffin-Lim    0.25 s                      0.17 s            1.66 s
HiFi-GAN V1    14.9 s                      5.7 s             14.5 s
=============  ==========================  ================  =================

(load average 2–6 while it ran). Again through :func:`run_batch` itself, median of 5, with the machine far
busier (load average 9.5 on the 2 cores): Griffin-Lim 0.55 s with one worker vs 0.41 s with two; HiFi-GAN
6.2 s vs 6.9 s, a tie within that noise — and one-worker runs with two intra-op threads now and then took many
times longer (up to 22 s for Griffin-Lim: OpenMP threads waiting on a core that is busy elsewhere).

Processes pay a fresh interpreter, ``import torch`` and a model load each (and a model's memory each); the
vocoders are thread-safe (render-ahead and playback already share one) and torch releases the GIL in its
kernels, so files on threads with one intra-op thread each keep the cores busy without that cost. With one
intra-op thread HiFi-GAN's output can differ from the two-thread single-file run by float rounding (< 1e-6,
at most one 16-bit step); Griffin-Lim's is identical.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from vocoder_studio.engine.export import write_vocoded
from vocoder_studio.engine.jobs import CancelToken
from vocoder_studio.errors import AudioFileError, VocoderStudioError
from vocoder_studio.vocoders.base import Vocoder

#: Held while a worker reads a file and while ``on_done`` runs. Reading an audio file silences fd 2 for the
#: whole process while libsndfile runs (its C-level notes, :func:`vocoder_studio.audio.io.load_audio`; the
#: redirection is counted, so overlapping reads are safe): a message written meanwhile would be lost. Reading is
#: a small part of the work (vocoding is the rest), so taking turns costs little.
_READING = threading.Lock()


@dataclass(frozen=True)
class BatchItem:
    """One file of a batch: ``source`` (audio, ``.npy`` mel or project) is vocoded into the WAV ``output``."""

    source: Path
    output: Path


@dataclass(frozen=True)
class BatchOutcome:
    """What became of one :class:`BatchItem`: ``samples`` written at ``sample_rate`` Hz, or the one-line
    ``error`` (``"<file>: <reason>"``) when it failed."""

    item: BatchItem
    samples: int = 0
    sample_rate: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def plan_batch(inputs: Sequence[str | os.PathLike[str]], folder: str | os.PathLike[str]) -> list[BatchItem]:
    """The outputs of a batch: each input ``IN`` is written to ``folder / (stem of IN + ".wav")``.

    Nothing is read or written here: only names are checked, so a mistake costs no vocoding. An existing
    output is replaced (atomically), as the single-file ``vocode`` does.

    Raises:
        AudioFileError: ``folder`` does not exist or is not a folder (it is never created).
        VocoderStudioError: no inputs, or two inputs that would write the same output (``a.wav`` and
            ``a.npy``, or one file given twice).
    """
    out = Path(folder)
    if not out.is_dir():
        raise AudioFileError(out, "is not a folder" if out.exists() else "the output folder does not exist "
                                  "(several inputs are written into an existing folder)")
    if not inputs:
        raise VocoderStudioError("vocode: no input files")
    items: list[BatchItem] = []
    seen: dict[str, Path] = {}
    for name in inputs:
        source = Path(name)
        output = out / f"{source.stem}.wav"
        key = os.path.normcase(str(output))
        if key in seen:
            raise VocoderStudioError(f"{output}: both {seen[key]} and {source} would be written here "
                                     "(rename one, or vocode them into different folders)")
        seen[key] = source
        items.append(BatchItem(source, output))
    return items


def batch_workers(files: int, cores: int | None = None) -> tuple[int, int]:
    """``(worker threads, torch intra-op threads each)`` that keep ``cores`` busy with ``files`` files: one
    file per core, the cores left over shared out as intra-op threads (``cores`` defaults to
    ``os.cpu_count()``)."""
    cores = max(1, cores or os.cpu_count() or 1)
    workers = max(1, min(files, cores))
    return workers, max(1, cores // workers)


def vocode_item(item: BatchItem, vocoder: Vocoder, sample_format: str = "pcm16",
                cancel: CancelToken | None = None) -> BatchOutcome:
    """Open ``item.source`` and vocode it into ``item.output`` (atomically).

    Returns:
        the outcome: the samples written, or the file's one-line error (a
        :class:`~vocoder_studio.errors.VocoderStudioError`'s message) with nothing written.
    Raises:
        JobCancelled: ``cancel`` was set (nothing written for this file).
    """
    from vocoder_studio.document import open_document

    try:
        with _READING:
            doc = open_document(item.source, vocoder.config)
        samples = write_vocoded(doc.mel, item.output, vocoder, sample_format, cancel)
    except VocoderStudioError as exc:
        return BatchOutcome(item, error=str(exc))
    return BatchOutcome(item, samples, vocoder.sample_rate)


def run_batch(items: Sequence[BatchItem], vocoder: Vocoder, sample_format: str = "pcm16",
              workers: int | None = None, on_done: Callable[[BatchOutcome], None] | None = None,
              cancel: CancelToken | None = None) -> list[BatchOutcome]:
    """Vocode every item with ``vocoder`` on a pool of threads (see the module notes for why threads).

    ``torch``'s intra-op threads are set to the cores shared out among the workers for the run (see
    :func:`batch_workers`) and restored afterwards.

    Args:
        workers: threads (default: one per core, at most one per file).
        on_done: called in this thread with each outcome as its file finishes (in finishing order), while no
            worker reads a file (so what it writes to stderr is never silenced).
        cancel: set it (from another thread) to stop: files not started are skipped, files under way stop
            before they are put in place.
    Returns:
        the outcomes in the order of ``items``.
    Raises:
        KeyboardInterrupt, JobCancelled: interrupted or cancelled; the files under way are stopped and removed
            first, the files finished before stay (each complete).
    """
    import torch

    token = cancel or CancelToken()
    count = max(1, workers) if workers is not None else batch_workers(len(items))[0]
    intra = max(1, (os.cpu_count() or 1) // count)
    saved = torch.get_num_threads()
    torch.set_num_threads(intra)
    outcomes: dict[int, BatchOutcome] = {}
    pool = ThreadPoolExecutor(count, thread_name_prefix="vocoder-studio-batch")
    try:
        pending: dict[Future[BatchOutcome], int] = {
            pool.submit(vocode_item, item, vocoder, sample_format, token): i for i, item in enumerate(items)}
        while pending:
            done, _ = wait(pending, timeout=0.25, return_when=FIRST_COMPLETED)
            for future in done:
                index = pending.pop(future)
                outcomes[index] = future.result()
                token.check()  # cancelled meanwhile: that outcome is a stopped file, not a finished one
                if on_done is not None:
                    with _READING:  # no worker is silencing stderr meanwhile
                        on_done(outcomes[index])
            token.check()
    except BaseException:
        token.cancel()  # the workers stop at their next block and remove their partial files
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        torch.set_num_threads(saved)
    return [outcomes[i] for i in range(len(items))]

