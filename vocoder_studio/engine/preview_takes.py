"""The two takes of a preview playback in the player's buffer: which sample holds which, and how one is
written over the other (no Qt).

A playback of a slow vocoder starts on a fast vocoder's *preview take*; the slow vocoder's chunks replace it as
they arrive (:mod:`vocoder_studio.engine.preview` runs the jobs that make both). :class:`PreviewTakes` keeps,
for every sample of the playback, which take it holds (:data:`PREVIEW`, :data:`SLOW` or :data:`MIXED` where
they fade into each other) and writes each chunk so that:

- only audio not yet played is replaced (:meth:`Player.splice` decides that under the lock the audio callback
  copies with, so the boundary is exact); where the replacement begins while the other take plays it
  crossfades over :data:`~vocoder_studio.engine.take_switch.CROSSFADE` samples, and where the other take goes
  on after it, it fades back, so there is never a gap or a click; two chunks of one take in a row join as the
  vocoder's own streaming splices them (the fade-out of the first is undone when the second arrives);
- an edit posted from another thread (:meth:`PreviewTakes.post_edit`) waits here for the play job to take it.
"""

from __future__ import annotations

import threading

import numpy as np

from vocoder_studio.engine.player import Player
from vocoder_studio.engine.render import Renderer
from vocoder_studio.engine.take_switch import CROSSFADE

#: The setting's default: vocoders predicted slower than this real-time factor start on a preview take.
PREVIEW_RTF = 0.5

#: What each sample of the player's buffer holds: the preview take, the slow take, or a fade between them.
PREVIEW, SLOW, MIXED = 0, 1, 2


class PreviewTakes:
    """The preview take of one playback and the slow take replacing it, sample by sample in the player.

    Args:
        renderer: the preview vocoder's renderer of the document (None: no preview; set before the job runs).
        threshold: :data:`PREVIEW_RTF` (the setting); None turns the preview off.
        crossfade: samples of each fade where the takes meet.
    Attributes:
        active: the playback started on the preview (set by the play job); cleared when its vocoder turned out
            faster than ``threshold`` (its first chunk timed it), so that an edit is re-vocoded as usual.
        slow: the vocoder is slower than ``threshold`` (None: not timed yet).
        fed: the whole preview was written (the job may go on vocoding the slow take for the cache).
        spliced: the document sample ranges ``[lo, hi)`` where the slow take replaced the preview, in order.
        late_chunks: slow chunks that came after the playhead had passed them (kept in the cache only; the
            frames the slow vocoder skipped to join in time are not counted).
    """

    def __init__(self, renderer: Renderer | None = None, threshold: float | None = PREVIEW_RTF,
                 crossfade: int = CROSSFADE) -> None:
        self.renderer = renderer
        self.threshold = threshold
        self.crossfade = crossfade
        self.active = False
        self.slow: bool | None = None
        self.fed = False
        self.spliced: list[tuple[int, int]] = []
        self.late_chunks = 0
        self.player: Player | None = None
        self._start = 0
        self._labels = np.zeros(0, np.int8)
        self._tail: tuple[int, int, np.ndarray] | None = None  # (take, end sample, its last samples unfaded)
        self._lock = threading.Lock()
        self._edit: tuple[np.ndarray, int | None] | None = None
        self._open = False
        #: ``(perf_counter time, document sample)`` of each preview chunk written for an edit (the bench reads it)
        self.edits_written: list[tuple[float, int]] = []

    def begin(self, player: Player, start_sample: int, samples: int) -> None:
        """A playback of ``samples`` samples from document sample ``start_sample`` starts on the preview."""
        self.player, self._start = player, start_sample
        self._labels = np.full(samples, PREVIEW, np.int8)
        self.active, self.fed, self.spliced, self.late_chunks, self._tail = True, False, [], 0, None
        with self._lock:
            self._edit, self._open, self.edits_written = None, True, []

    def post_edit(self, mel: np.ndarray, version: int | None) -> bool:
        """Hand an edit to the play job under way (from any thread): it re-vocodes the frames that changed with
        the preview vocoder at once and the slow vocoder next. Returns False when no play job takes it (it
        has ended): then :func:`preview_update_job` must.

        Args:
            mel: a copy of the document's ln-mel ``(n_mels, frames)`` (the same frame count as when play was
                pressed); ``version``: its version.
        """
        with self._lock:
            if not self._open:
                return False
            self._edit = (mel, version)
            return True

    def take_edit(self) -> tuple[np.ndarray, int | None] | None:
        """The newest edit posted and not taken yet (the play job's side), or None."""
        with self._lock:
            edit, self._edit = self._edit, None
            return edit

    def close(self, force: bool = False) -> bool:
        """Stop taking edits unless one waits (``force``: in any case); True when closed."""
        with self._lock:
            if self._edit is not None and not force:
                return False
            self._open = False
            return True

    @property
    def joined_at(self) -> int | None:
        """The document sample where the slow take was first heard instead of the preview (None: not yet)."""
        return self.spliced[0][0] if self.spliced else None

    def slow_heard_after_s(self) -> float | None:
        """Seconds into the playback (from its first sample) where the slow take was first heard instead of the
        preview; None when it never was."""
        if self.joined_at is None or self.player is None:
            return None
        return (self.joined_at - self._start) / self.player.sample_rate

    def slow_share(self) -> float:
        """The fraction of the playback's samples that hold the slow take alone (fades not counted): what the
        benchmarks report as the slow vocoder's share of what was heard. 1.0 once the preview stood down
        (:attr:`active` cleared: the vocoder kept up by itself, or never needed the preview, so its own take
        is what plays), 0.0 before :meth:`begin`."""
        if not self.active:
            return 1.0
        return float(np.mean(self._labels == SLOW)) if self._labels.size else 0.0

    def playing_slow(self) -> bool:
        """Whether the playhead is in the slow take now."""
        if self.player is None or not self._labels.size:
            return False
        at = self.player.position - self._start
        return 0 <= at < self._labels.size and self._labels[at] == SLOW

    def labels(self) -> np.ndarray:
        """What each sample of the playback holds (:data:`PREVIEW`, :data:`SLOW`, :data:`MIXED`), a copy."""
        return self._labels.copy()

    def put(self, take: int, offset: int, audio: np.ndarray, played: bool = False) -> tuple[int, int] | None:
        """Write ``audio`` of ``take`` (:data:`PREVIEW` or :data:`SLOW`) at document sample ``offset`` over
        what the player has not played yet, fading in where another take comes before it and out where
        another take follows; ``played``: over the part played too (looping: the next pass plays it).

        Returns:
            the range written ahead of the playhead (see :meth:`Player.splice`); None: nothing was.
        """
        assert self.player is not None
        audio = np.asarray(audio, np.float32).reshape(-1)
        if self._tail is not None and self._tail[:2] == (take, offset):  # restore the fade of the last put
            audio = np.concatenate([self._tail[2], audio])
            offset -= self._tail[2].size
        self._tail = None
        base, n = offset - self._start, audio.size
        labels = self._labels
        before = labels[base - 1] if base > 0 else take
        after = labels[base + n] if base + n < labels.size else take
        done = self.player.splice(offset, audio, self.crossfade, fade_in=before != take, fade_out=after != take,
                                  played=played)
        if done is None:
            return None
        lo, hi = done[0] - self._start, done[1] - self._start
        labels[max(0, base) if played else lo : hi] = take
        if lo == hi:
            return done
        x = min(self.crossfade, (hi - lo) // 2)
        if (lo > base or before != take) and lo > 0:
            labels[lo : lo + x] = MIXED
        if after != take and hi == base + n and x:
            labels[hi - x : hi] = MIXED
            self._tail = (take, hi + self._start, audio[hi - x - base : hi - base].copy())
        if take == SLOW:
            self.spliced.append(done)
        return done
