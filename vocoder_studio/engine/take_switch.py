"""Switching between takes while they play: A/B listening to several renderings of the same frames (no Qt).

Every take covers the same samples (the same frames, rendered by different vocoders, or the recording), so a
switch keeps the play position: the :class:`~vocoder_studio.engine.player.Player` keeps its stream and its
read position, and the audio it has not read yet is overwritten with the other take (:meth:`Player.overwrite`).
Measured through a PulseAudio null sink (the Compare view's module docstring has the figures), this is
seamless: no gap and no jump in time, where stopping and restarting the stream at the same position left a
gap of tens of milliseconds.

The new take starts one audio block after the read position (the callback may be copying the next block while
the switch is written) and fades in over :data:`CROSSFADE` samples, so the switch makes no click; the part
between the read position and the end of that fade is patched to the new take once the playhead has passed it
(:meth:`TakeSwitcher.settle`), so a loop's next pass plays the new take throughout.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from vocoder_studio.engine.player import Player

#: Samples over which a switch fades from one take into the other (≈ 6 ms at 22050 Hz).
CROSSFADE = 128


class TakeSwitcher:
    """Plays one of several sample-aligned takes through ``player`` and switches between them in place.

    Args:
        player: the output (its ``blocksize`` sets how far ahead of the read position a switch lands).
        crossfade: samples of the fade from the old take into the new one.
    Attributes:
        takes: the float32 takes, all ``(samples,)`` long (shorter ones are padded with silence).
        current: the index of the take playing (or about to play).
        offset: the document sample of the takes' first sample.
    """

    def __init__(self, player: Player, crossfade: int = CROSSFADE) -> None:
        self.player = player
        self.crossfade = crossfade
        self.takes: list[np.ndarray] = []
        self.current = 0
        self.offset = 0
        self._pending: tuple[int, int] | None = None  # buffer range still holding the old take

    @property
    def samples(self) -> int:
        return self.takes[0].size if self.takes else 0

    def set_takes(self, takes: Sequence[np.ndarray], offset: int = 0) -> None:
        """New takes (``(samples,)`` float32 each, sample-aligned; the longest sets the length); stops playback."""
        self.stop()
        n = max((t.size for t in takes), default=0)
        self.takes = [_padded(take, n) for take in takes]
        self.offset = offset
        self.current = min(self.current, max(0, len(self.takes) - 1))

    def play(self, index: int | None = None, loop: bool = True) -> None:
        """Start playing take ``index`` (default: the current one) from its start.

        Raises:
            PlaybackUnavailableError: no output device.
            IndexError: no such take.
        """
        if index is not None:
            self._check(index)
            self.current = index
        self._pending = None
        self.player.start(self.samples, self.offset, loop=loop)
        self.player.write(self.takes[self.current])
        self.player.finish()

    def stop(self) -> None:
        self._pending = None
        self.player.stop()

    @property
    def is_playing(self) -> bool:
        return self.player.is_playing

    @property
    def position(self) -> int:
        """The sample being played, counted from the takes' start."""
        return self.player.position - self.offset

    def _check(self, index: int) -> None:
        if not 0 <= index < len(self.takes):
            raise IndexError(f"no take {index}: there are {len(self.takes)}")

    def switch(self, index: int) -> int:
        """Play take ``index`` from where playback is now (or just select it when stopped).

        Returns:
            the sample (from the takes' start) where the new take is fully in: the read position + one block
            + the crossfade (0 when stopped).
        Raises:
            IndexError: no such take.
        """
        self._check(index)
        if index == self.current or not self.player.is_playing:
            self.current = index
            return 0
        self.settle(force=True)
        old = self.takes[self.current]
        self.current = index
        return self._splice(old, self.takes[index])

    def replace(self, takes: Sequence[np.ndarray], offset: int = 0, current: int | None = None) -> bool:
        """New takes of the same samples (the document re-rendered after an edit) without stopping: the audio
        not yet played becomes take ``current`` (default: the one playing) from one block ahead, with the
        same crossfade as :meth:`switch`, so the play position is kept to the sample.

        Args:
            takes: ``(samples,)`` float32 each, sample-aligned, as for :meth:`set_takes`.
            current: the take to play from now on.
        Returns:
            True if it replaced in place; False if playback was stopped or the takes cover other samples
            (another length or ``offset``): then it did what :meth:`set_takes` does.
        Raises:
            IndexError: no take ``current``.
        """
        n = max((t.size for t in takes), default=0)
        if not self.player.is_playing or offset != self.offset or n != self.samples:
            self.set_takes(takes, offset)
            if current is not None:
                self._check(current)
                self.current = current
            return False
        self.settle(force=True)
        old = self.takes[self.current]
        self.takes = [_padded(take, n) for take in takes]
        index = min(self.current, len(self.takes) - 1) if current is None else current
        self._check(index)
        self.current = index
        self._splice(old, self.takes[index])
        return True

    def _splice(self, old: np.ndarray, new: np.ndarray) -> int:
        """While ``old`` plays, make ``new`` play from one block past the read position (faded in); returns the
        sample where it is fully in."""
        n = new.size
        read = min(self.position, n)
        at = min(n, read + max(self.player.blocksize, 1))  # the callback may be copying the block at ``read``
        fade_end = min(n, at + self.crossfade)
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade_end - at) + 0.5) / max(1, self.crossfade))
        faded = (old[at:fade_end] * (1.0 - ramp) + new[at:fade_end] * ramp).astype(np.float32)
        self.player.overwrite(self.offset + at, np.concatenate([faded, new[fade_end:]]))
        self.player.overwrite(self.offset, new[:read])  # already played: a loop's next pass hears the new take
        self._pending = (read, fade_end)
        return fade_end

    def settle(self, force: bool = False) -> None:
        """Replace what is left of the old take (between the read position at the switch and the end of the
        fade) once the playhead is outside that range; ``force`` replaces it at once (a new switch)."""
        if self._pending is None:
            return
        lo, hi = self._pending
        position = self.position
        if force or not lo <= position < hi + max(self.player.blocksize, 1):
            self.player.overwrite(self.offset + lo, self.takes[self.current][lo:hi])
            self._pending = None


def _padded(take: np.ndarray, n: int) -> np.ndarray:
    """``take`` as float32 ``(n,)``, padded with silence."""
    out = np.zeros(n, np.float32)
    out[: take.size] = take[:n]
    return out
