"""The slow vocoder's take of a preview playback, made on a thread of its own (no Qt).

:func:`vocoder_studio.engine.preview.preview_play_job` plays the fast preview take; this thread builds the
slow vocoder (loading its weights is no longer in front of the first sound), vocodes its chunks where they
can join before the playhead (:func:`vocoder_studio.engine.preview.join_frame`) and hands each to the play
job through a queue. The play job keeps feeding the preview meanwhile, so a slow chunk (WaveNet's first one
takes seconds) never starves the output, and it answers an edit with the preview vocoder at once; the edit
reaches this thread at its next chunk, which then re-vocodes the edited frames ahead of the playhead first.

Messages on :attr:`SlowTake.messages`, in order: ``("chunk", frame, audio, version, played)``,
``("error", exception)``, and always last ``("done",)``.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from vocoder_studio.engine.jobs import CancelToken
from vocoder_studio.engine.render import Renderer
from vocoder_studio.errors import JobCancelled

#: Where the slow vocoder's renderer comes from: the renderer itself, or a function that makes it (builds
#: the vocoder: HiFi-GAN reads 55 MB) on the slow take's thread.
RendererSource = Renderer | Callable[[], Renderer]

#: The slow take's thread runs this much nicer than the process (Linux), so that on a busy CPU the preview's
#: feed and an edit's answer, on the play job's thread, get the CPU first (each nice step is about 1.25x less).
SLOW_NICE = 3


class SlowTake:
    """Vocodes frames ``[start, end)`` of a preview playback with the slow vocoder, on its own thread.

    Args:
        source: the slow vocoder's renderer, or a function making it (called on the thread).
        mel, version: the document's ln-mel ``(n_mels, frames)`` and version when play was pressed.
        playhead: returns the frame playing now; ``playing``: whether the sound is still on.
        chunk_frames, first_chunk_frames: chunk sizes (:meth:`Renderer.plan`).
        join: ``join(renderer, at, end, size, playhead) -> (frame, size)``: where the next chunk joins in time.
        loop: the playback loops: the whole take is handed over at the end, for every later pass.
    Attributes:
        renderer: the slow vocoder's renderer, once made (None before).
        messages: what the thread hands to the play job (see the module's docstring).
    """

    def __init__(self, source: RendererSource, mel: np.ndarray, version: int | None, start: int, end: int,
                 playhead: Callable[[], int], playing: Callable[[], bool], chunk_frames: int,
                 first_chunk_frames: int, join: Callable[[Renderer, int, int, int, int], tuple[int, int]],
                 cancel: CancelToken, loop: bool = False) -> None:
        self.source = source
        self.renderer: Renderer | None = source if isinstance(source, Renderer) else None
        self.mel, self.version = mel, version
        self.start, self.end, self.loop = start, end, loop
        self.playhead, self.playing, self.join = playhead, playing, join
        self.chunk_frames, self.first_chunk_frames = chunk_frames, first_chunk_frames
        self.cancel = cancel
        self.messages: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self._lock = threading.Lock()
        self._edit: tuple[np.ndarray, int | None] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="vocoder-studio-slow-take", daemon=True)

    def begin(self) -> None:
        self._thread.start()

    def post(self, mel: np.ndarray, version: int | None) -> None:
        """An edit: vocode from ``mel`` (version ``version``) from the next chunk on."""
        with self._lock:
            self._edit = (mel, version)

    def pending_edit(self) -> tuple[np.ndarray, int | None] | None:
        """The edit posted that the thread has not taken (it ended first), or None."""
        with self._lock:
            return self._edit

    def stop(self, timeout: float | None = 30.0) -> None:
        """Stop after the chunk under way and wait for the thread."""
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    def _check(self) -> None:
        if self._stop.is_set():
            raise JobCancelled("the playback ended")
        self.cancel.check()

    def _run(self) -> None:
        try:  # a thread's own priority: Linux takes its thread id where a process id goes
            tid = threading.get_native_id()
            os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + SLOW_NICE)
        except (AttributeError, OSError):  # not on this platform
            pass
        try:
            self._produce()
        except JobCancelled:
            pass
        except Exception as exc:  # handed to the play job, which raises it on its own thread
            self.messages.put(("error", exc))
        finally:
            self.messages.put(("done",))

    def _send(self, frame: int, audio: np.ndarray, played: bool = False) -> None:
        self.messages.put(("chunk", frame, audio, self.version, played or self.loop))

    def _stream(self, renderer: Renderer, at: int, end: int, size: int) -> tuple[
            Iterator[tuple[int, np.ndarray]], list[tuple[int, int, bool]]]:
        return (renderer.stream(self.mel, self.version, at, end, self.chunk_frames, size, cancel=self.cancel),
                renderer.plan(at, end, self.chunk_frames, size))

    def _apply_edit(self, renderer: Renderer, at: int, skipped: list[tuple[int, int]]) -> None:
        """Take the newest edit: the edited frames the take had passed are re-vocoded now where the playhead
        has not reached them, later (for the cache) where it has."""
        with self._lock:
            edit, self._edit = self._edit, None
        if edit is None:
            return
        self.mel, self.version = edit
        changed = renderer.update(self.mel, self.version)
        if changed is None:
            return
        a, b = max(self.start, changed[0]), min(at, changed[1])  # what the take had already made
        if b <= a:
            return
        ahead = min(b, max(a, self.playhead()))
        if ahead > a:
            skipped.append((a, ahead))
        if b > ahead:
            for frame, audio in renderer.stream(self.mel, self.version, ahead, b, self.chunk_frames,
                                                self.first_chunk_frames, cancel=self.cancel):
                self._send(frame, audio)
                self._check()

    def _produce(self) -> None:
        renderer = self.renderer = self.source if isinstance(self.source, Renderer) else self.source()
        renderer.update(self.mel, self.version)
        start, end = self.start, self.end
        skipped: list[tuple[int, int]] = []
        made, blocks = self._stream(renderer, start, end, self.first_chunk_frames)
        index = 0
        while index < len(blocks):
            self._check()
            a, b, cached = blocks[index]
            version = self.version
            self._apply_edit(renderer, a, skipped)
            if self.version != version:  # the mel changed: plan again from here
                made, blocks = self._stream(renderer, a, end, b - a)
                index = 0
                continue
            if not cached and renderer.vocoder.local_edits and self.playing():
                join, size = self.join(renderer, a, end, b - a, self.playhead())
                if a < join < end:  # in order it comes too late: join further on, fill this in afterwards
                    skipped.append((a, join))
                    made, blocks = self._stream(renderer, join, end, size)
                    index = 0
                    continue
            frame, audio = next(made)
            self._send(frame, audio)
            index += 1
        while True:  # the frames skipped, for the cache (the next press) and a loop's next pass
            self._apply_edit(renderer, end, skipped)  # an edit while the last chunk was made: heard first
            if not skipped:
                break
            a, b = skipped.pop(0)
            for frame, audio in renderer.stream(self.mel, self.version, a, b, self.chunk_frames, self.chunk_frames,
                                                cancel=self.cancel):
                self._send(frame, audio)
        if self.loop and renderer.is_complete(start, end):  # the whole take, seams included, for every pass
            self._send(start, renderer.render(self.mel, self.version, start, end, cancel=self.cancel), played=True)
