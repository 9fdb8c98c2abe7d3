"""Vocoded audio of a document, cached per (document version, vocoder), re-vocoded only where it changed.

After an edit of frames ``[a, b)`` only the audio of frames ``[a - C, b + C)`` changes (C = the vocoder's
receptive field in frames); the renderer finds changed frames by comparing the mel with the one its audio was
made from, so it is right whatever changed the document. That holds when frames were inserted or deleted too:
the longest common head and tail of the old and new mel keep their audio (the tail's moved by the change of
length × hop samples) and only the frames between them, plus C on each side, are vocoded again.

An autoregressive vocoder (``Vocoder.local_edits`` False) cannot splice a chunk into audio it made
before: an edit invalidates from ``a - C`` to the end, and a missing run is vocoded by the vocoder's own
(stateful) ``stream`` from ``C`` frames before the run, in one pass.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator

import numpy as np
import torch

from vocoder_studio.engine.jobs import CancelToken, Progress, no_progress
from vocoder_studio.vocoders.base import Vocoder, chunk_bounds

#: Seconds a thread-count decision is kept (each change makes oneDNN build its kernels again for every shape).
THREADS_HOLD_S = 5.0

_threads_lock = threading.Lock()
_threads_state: dict[str, float | int] = {}


def _busy_jiffies() -> tuple[int, int] | None:
    """(busy jiffies of all CPUs together, this process's jiffies) now, or None without ``/proc``."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
        with open("/proc/self/stat") as f:
            own = f.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    guest = sum(fields[8:10]) if len(fields) > 9 else 0  # already counted in user and nice
    return sum(fields) - idle - guest, int(own[11]) + int(own[12])  # utime + stime


def free_cores_of(cores: int, others_busy: float) -> int:
    """Threads worth using on ``cores`` CPUs of which other processes keep ``others_busy`` busy (in cores, the
    share of time they ran): the idle cores, rounded, at least 1 and at most ``cores``."""
    return max(1, min(cores, round(cores - max(0.0, others_busy))))


def free_cores() -> int:
    """The CPU cores other processes leave idle, measured since the last call (``/proc/stat`` minus this
    process's own time; the 1-minute load average on the first call or without ``/proc``); at least 1.

    On this 2-core machine with a training run on the other core, two oneDNN threads made every HiFi-GAN
    chunk wait for the thread that shared the training's core: a chunk took 2× as long as with one thread,
    and playback started seconds later. The decision is kept :data:`THREADS_HOLD_S` seconds.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    now = time.monotonic()
    sample = _busy_jiffies()
    with _threads_lock:
        last = _threads_state
        if "threads" in last and now - float(last["decided"]) < THREADS_HOLD_S:
            return int(last["threads"])
        if sample is not None and "time" in last and now - float(last["time"]) > 0.2:
            ticks = os.sysconf("SC_CLK_TCK") * (now - float(last["time"]))
            others = ((sample[0] - int(last["busy"])) - (sample[1] - int(last["own"]))) / ticks
        else:
            others = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
        threads = free_cores_of(cores, others)
        _threads_state.update(threads=threads, decided=now, time=now)
        if sample is not None:
            _threads_state.update(busy=sample[0], own=sample[1])
        return threads


def _prime() -> None:
    """A first sample of the CPU's busy time, so that the first decision measures from the import on."""
    sample = _busy_jiffies()
    if sample is not None:
        _threads_state.update(time=time.monotonic(), busy=sample[0], own=sample[1])


_prime()


def use_free_cores() -> int:
    """Set the calling thread's torch (OpenMP/oneDNN) threads to :func:`free_cores`; returns the count."""
    threads = free_cores()
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return threads


def _runs(mask: np.ndarray) -> list[tuple[int, int, bool]]:
    """Runs of equal values in a bool array: ``[(start, end, value), ...]``."""
    if mask.size == 0:
        return []
    edges = np.flatnonzero(np.diff(mask.astype(np.int8))) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [mask.size]])
    return [(int(s), int(e), bool(mask[s])) for s, e in zip(starts, ends, strict=True)]


class Renderer:
    """The audio cache of one document for one vocoder.

    Not thread-safe: one thread uses it at a time. Render-ahead lends it to a thread of its own
    (:meth:`lend`, :mod:`vocoder_studio.engine.prerender`), so that its job can let go of the worker at once;
    whoever uses the renderer next first takes it back (:meth:`settle`, which :meth:`update`, :meth:`plan` and
    :meth:`stream` call): the chunk that thread is vocoding is finished and kept, and it makes no other.

    Args:
        vocoder: the vocoder (its ``receptive_field_frames`` sets how far an edit reaches).
    Attributes:
        timings: the last vocoding calls as ``(frames computed, seconds)``; :meth:`predict_seconds` fits them.
        version: the document version the cache was last brought up to date with (None: never).
        vocoded_frames: frames vocoded since creation (a counter tests and benchmarks read).
    """

    def __init__(self, vocoder: Vocoder) -> None:
        self.vocoder = vocoder
        self.hop_length = vocoder.hop_length
        self.version: int | None = None
        self.vocoded_frames = 0
        self.timings: list[tuple[int, float]] = []
        #: torch threads the calling thread vocodes with (None: :func:`free_cores`)
        self.threads: int | None = None
        self._mel: np.ndarray | None = None
        self._audio = np.zeros(0, np.float32)
        self._valid = np.zeros(0, bool)
        self._lent: tuple[threading.Thread, threading.Event] | None = None
        self._lent_lock = threading.Lock()

    def lend(self, thread: threading.Thread, stop: threading.Event) -> None:
        """Let ``thread`` (started) vocode with this renderer while the lender goes on with other work: until
        another thread calls :meth:`settle`, which sets ``stop`` and waits for ``thread`` to end. ``thread``
        looks at ``stop`` between its chunks and keeps what it made (render-ahead's
        :func:`~vocoder_studio.engine.prerender.render_ahead_job` lends its renderer this way)."""
        self.settle()
        with self._lent_lock:
            self._lent = (thread, stop)

    def settle(self) -> None:
        """Take the renderer back from the thread it was lent to (:meth:`lend`): ask it to stop and wait until
        the chunk it is vocoding is done and kept (at most one chunk: about 1 s for HiFi-GAN's 96 frames on a
        2-core AVX2 CPU). Nothing to do when it was not lent, or on the borrowing thread itself."""
        with self._lent_lock:
            lent = self._lent
        if lent is None or lent[0] is threading.current_thread():
            return
        lent[1].set()
        lent[0].join()
        with self._lent_lock:
            if self._lent is lent:
                self._lent = None

    def update(self, mel: np.ndarray, version: int | None = None) -> tuple[int, int] | None:
        """Bring the cache's idea of the mel up to date; invalidate the audio the change reaches.

        The mel may have a different frame count than last time (frames inserted, appended or deleted): the
        frames equal at the start and at the end of both mels keep their audio (the end's shifted to its new
        place), the frames between them plus ``receptive_field_frames`` on each side are invalidated (to the
        end of the mel for a vocoder without ``local_edits``). A longer mel whose old frames were edited in place
        (frames appended while others were edited: a live continuation) is read that way instead when it
        re-vocodes fewer frames: the edit's reach and the appended frames' are invalidated, not all between them.

        Args:
            mel: the document's ln-mel ``(n_mels, frames)``.
            version: the document version; the same version as last time skips the comparison.
        Returns:
            the frame range ``[a, b)`` (new numbering) whose audio must be re-vocoded, or None if nothing
            changed.
        """
        self.settle()
        if version is not None and version == self.version and self._mel is not None:
            return None
        frames = mel.shape[1]
        old = self._mel
        if old is None or old.shape[0] != mel.shape[0]:
            self._mel = np.array(mel, dtype=np.float32)
            self._audio = np.zeros(frames * self.hop_length, np.float32)
            self._valid = np.zeros(frames, bool)
            self.version = version
            return (0, frames)
        self.version = version
        old_frames = old.shape[1]
        common = min(old_frames, frames)
        differs = np.any(old[:, :common] != mel[:, :common], axis=0)
        head = int(np.argmax(differs)) if differs.any() else common
        if head == common and frames == old_frames:
            return None
        room = common - head  # the equal tail may not overlap the equal head
        tail_differs = np.any(old[:, old_frames - room :] != mel[:, frames - room :], axis=0)[::-1]
        tail = int(np.argmax(tail_differs)) if tail_differs.any() else room
        hop = self.hop_length
        c = self.vocoder.receptive_field_frames
        if frames > old_frames and head < common and self.vocoder.local_edits:
            last = common - int(np.argmax(differs[::-1]))  # the frame after the last one edited in place
            if (last - head) + (frames - old_frames) + 3 * c < (frames - tail) - head + 2 * c:
                return self._edited_and_appended(mel, head, last)
        if frames == old_frames:
            old[:, head : frames - tail] = mel[:, head : frames - tail]
        else:
            audio = np.zeros(frames * hop, np.float32)
            valid = np.zeros(frames, bool)
            audio[: head * hop], valid[:head] = self._audio[: head * hop], self._valid[:head]
            if tail:
                audio[(frames - tail) * hop :] = self._audio[(old_frames - tail) * hop :]
                valid[frames - tail :] = self._valid[old_frames - tail :]
            self._mel, self._audio, self._valid = np.array(mel, dtype=np.float32), audio, valid
        a = max(0, head - c)
        b = min(frames, frames - tail + c) if self.vocoder.local_edits else frames
        self._valid[a:b] = False
        return (a, b)

    def _edited_and_appended(self, mel: np.ndarray, head: int, last: int) -> tuple[int, int]:
        """:meth:`update` for frames ``[head, last)`` edited in place and frames appended after the old ones (a
        live continuation growing while its frames are edited), when that reading re-vocodes fewer frames than
        the reading as an insertion: the edit's reach and the new frames' (the old end's ``C`` frames and the
        appended ones) are invalidated, the audio between them is kept."""
        assert self._mel is not None
        old_frames, frames, hop = self._mel.shape[1], mel.shape[1], self.hop_length
        c = self.vocoder.receptive_field_frames
        audio, valid = np.zeros(frames * hop, np.float32), np.zeros(frames, bool)
        audio[: old_frames * hop], valid[:old_frames] = self._audio, self._valid
        valid[max(0, head - c) : last + c] = False
        valid[max(0, old_frames - c) :] = False
        self._mel, self._audio, self._valid = np.array(mel, dtype=np.float32), audio, valid
        return (max(0, head - c), frames)

    def cached_audio(self) -> np.ndarray:
        """A copy of the audio made so far, float32 ``(frames * hop_length,)``: silence where a frame's audio is
        not made yet or an edit made it stale (the waveform lane draws it)."""
        audio = self._audio.copy()
        audio.reshape(-1, self.hop_length)[~self._valid] = 0.0
        return audio

    def is_complete(self, start: int = 0, end: int | None = None) -> bool:
        """Whether frames ``[start, end)`` are all cached."""
        return bool(self._valid[start:end].all()) if self._valid.size else False

    def plan(self, start: int, end: int, chunk_frames: int = 256,
             first_chunk_frames: int = 16) -> list[tuple[int, int, bool]]:
        """The blocks :meth:`stream` will yield for frames ``[start, end)``: ``(a, b, cached)`` in order.

        Cached runs come as blocks of up to 1024 frames; missing runs as growing chunks, the first small.
        """
        self.settle()
        blocks: list[tuple[int, int, bool]] = []
        first = True
        for run_start, run_end, valid in _runs(self._valid[start:end]):
            run_start, run_end = run_start + start, run_end + start
            size, first_size = (1024, None) if valid else (chunk_frames, first_chunk_frames if first else None)
            for a, b in chunk_bounds(run_end - run_start, size, first_size):
                blocks.append((run_start + a, run_start + b, valid))
            first = first and valid
        return blocks

    def cost_frames(self, a: int, b: int) -> int:
        """Frames the vocoder computes to make frames ``[a, b)``: the range plus its context on each side
        (a vocoder without ``local_edits`` streams a run in one pass: just the range)."""
        if not self.vocoder.local_edits:
            return b - a
        c = self.vocoder.receptive_field_frames
        return min(self._valid.size, b + c) - max(0, a - c)

    def stream(
        self,
        mel: np.ndarray,
        version: int | None = None,
        start: int = 0,
        end: int | None = None,
        chunk_frames: int = 256,
        first_chunk_frames: int = 16,
        progress: Progress = no_progress,
        cancel: CancelToken | None = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Audio of frames ``[start, end)`` in order, as ``(first_frame, samples)`` blocks (see :meth:`plan`).

        Cached audio comes at once; missing audio is vocoded chunk by chunk (the first chunk small) and kept.
        :attr:`timings` records the vocoder's speed on the way. On the CPU the calling thread vocodes with
        :func:`free_cores` threads.

        Args:
            mel: the document's ln-mel ``(80, frames)``.
            version: the document version (skips the comparison when unchanged).
        Yields:
            ``(frame, float32 array ((chunk frames) * 256,))``.
        Raises:
            JobCancelled: ``cancel`` was set.
        """
        self.update(mel, version)
        assert self._mel is not None
        if self.vocoder.device.type == "cpu":
            if self.threads is None:
                use_free_cores()
            elif torch.get_num_threads() != self.threads:
                torch.set_num_threads(self.threads)
        end = mel.shape[1] if end is None else min(end, mel.shape[1])
        total = max(1, end - start)
        done = 0
        blocks = self.plan(start, end, chunk_frames, first_chunk_frames)
        local = self.vocoder.local_edits
        made: Iterator[np.ndarray] = iter(())  # a vocoder without local edits: its stream of the missing run
        for index, (a, b, cached) in enumerate(blocks):
            if cached:
                done += b - a
                progress(done / total, "cached audio")
                yield a, self._audio[a * self.hop_length : b * self.hop_length]
                continue
            if cancel is not None:
                cancel.check()
            began = time.perf_counter()
            if local:
                audio = self.vocoder.vocode_range(self._mel, a, b).numpy()
            else:
                if index == 0 or blocks[index - 1][2]:  # a missing run starts here
                    run_end = next((x for x, _, c in blocks[index:] if c), end)
                    made = self._stream_run(a, run_end, [y - x for x, y, _ in blocks[index:] if y <= run_end])
                audio = next(made)
            self.timings = [*self.timings[-7:], (self.cost_frames(a, b), time.perf_counter() - began)]
            self._audio[a * self.hop_length : b * self.hop_length] = audio
            self._valid[a:b] = True
            self.vocoded_frames += b - a
            done += b - a
            progress(done / total, f"vocoding with {self.vocoder.name}")
            yield a, audio

    def _stream_run(self, start: int, end: int, sizes: list[int]) -> Iterator[np.ndarray]:
        """Audio of frames ``[start, end)`` from the vocoder's own ``stream`` in one pass (for vocoders
        without ``local_edits``), cut into blocks of ``sizes`` frames.

        The stream starts ``receptive_field_frames`` before ``start`` (that audio only warms up the vocoder's
        state and is dropped); its first chunk covers the warm-up and the first block, so the first sound
        comes as soon as the vocoder can make it.
        """
        assert self._mel is not None
        hop = self.hop_length
        warm = start - max(0, start - self.vocoder.receptive_field_frames)
        chunk = max(sizes)
        pieces = self.vocoder.stream(self._mel[:, start - warm : end], chunk_frames=chunk,
                                     first_chunk_frames=min(chunk, warm + sizes[0]))
        pending = np.zeros(0, np.float32)
        skip = warm * hop
        for size in sizes:
            while pending.size < size * hop:
                piece = next(pieces).numpy()
                if skip:
                    piece, skip = piece[skip:], max(0, skip - piece.size)
                pending = np.concatenate([pending, piece])
            yield pending[: size * hop]
            pending = pending[size * hop :]

    def predict_seconds(self, frames: int) -> float | None:
        """Predicted compute seconds to vocode ``frames`` frames (context included), or None before any timing.

        A least-squares line ``fixed + per_frame × frames`` through the recent timings (both kept ≥ 0), so the
        fixed cost of a call (which dominates small chunks of a fast vocoder) is not charged to every frame;
        with one chunk size seen so far, the cost is taken as proportional (pessimistic for larger chunks).
        """
        if not self.timings:
            return None
        n = np.array([t[0] for t in self.timings], float)
        seconds = np.array([t[1] for t in self.timings], float)
        if np.ptp(n) == 0:
            return float(seconds.mean() / n.mean() * frames)
        per_frame, fixed = np.polyfit(n, seconds, 1)
        if per_frame <= 0:
            return float(seconds.max() / n.min() * frames)
        return float(max(fixed, 0.0) + per_frame * frames)

    def render(self, mel: np.ndarray, version: int | None = None, start: int = 0, end: int | None = None,
               progress: Progress = no_progress, cancel: CancelToken | None = None,
               chunk_frames: int = 256) -> np.ndarray:
        """All audio of frames ``[start, end)`` as one float32 array ``((end - start) * 256,)``."""
        blocks = [audio for _, audio in self.stream(mel, version, start, end, chunk_frames, chunk_frames,
                                                     progress, cancel)]
        return np.concatenate(blocks) if blocks else np.zeros(0, np.float32)



def can_start_playback(buffered_seconds: float, costs: list[float], durations: list[float]) -> bool:
    """Whether playback can start now without a gap, given the audio already buffered.

    The remaining blocks are computed one after another (``costs``, predicted seconds each, 0 for cached
    audio) and play one after another (``durations``, seconds of audio each); block ``k`` is needed once the
    buffer and the blocks before it have played.
    """
    finish = np.cumsum(costs)
    needed = buffered_seconds + np.concatenate([[0.0], np.cumsum(durations)[:-1]])
    return bool(np.all(finish <= needed))
