"""Audio playback through sounddevice: an ``OutputStream`` whose callback reads a buffer the vocoder fills.

The buffer is written in order by the streaming vocoder (:meth:`Player.write`) and read by PortAudio's
callback; when the reader catches up with the writer (an underrun) the callback plays silence, counts it,
and waits for more. The play position drives the canvas playhead.

An open-ended playback (``start(..., open_end=True)``: MelNet continuing past the document's end) has no
length: :meth:`Player.write` appends as long as audio comes, and the sound ends only at :meth:`Player.stop`
or after :meth:`Player.finish`. When its feed runs dry it never cuts the sound mid-waveform: the last
samples before the gap fade out over :data:`GAP_FADE` samples, the output plays silence until
:data:`REFILL_S` seconds are buffered again, and the audio after the gap fades in (a gap of silence, never a
click); :attr:`Player.waiting` says that it waits.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.engine.audio_output import playback_status, sounddevice_module
from vocoder_studio.errors import PlaybackUnavailableError

#: Samples over which an open-ended playback fades out before a gap and in after it (≈ 12 ms at 22050 Hz;
#: the take switch's 6 ms crossfade is between two sounds, this one is to and from silence).
GAP_FADE = 256
#: Seconds of audio an open-ended playback waits for after running dry before it plays on (one gap of a few
#: hundred ms rather than a stutter of short ones while the feed is slower than real time).
REFILL_S = 0.5


class Player:
    """Plays mono float32 audio at ``sample_rate`` Hz, fed while it plays.

    Args:
        sample_rate: Hz (the front-end's, ``MelConfig.sample_rate``, unless told otherwise).
        device: PortAudio device index or name; None = the system default.
        blocksize: frames per callback (0 = PortAudio's choice); with ``latency`` sets the buffer size.
        latency: ``"low"``, ``"high"`` or seconds.
    Attributes:
        underruns: callbacks that found no audio ready while more was still to come (an open-ended playback:
            the times it ran dry).
        gaps: times an open-ended playback ran dry and went silent (faded) to wait for more audio.
        loops: times a looped playback went back to its start.
        first_sound_time: ``time.perf_counter()`` of the first callback that played non-silent audio.
        level: peak absolute sample of the last block (the level meter).
    """

    def __init__(self, sample_rate: int = DEFAULT_CONFIG.sample_rate, device: int | str | None = None,
                 blocksize: int = 512, latency: str | float = "low") -> None:
        self.sample_rate = sample_rate
        self.device = device
        self.blocksize = blocksize
        self.latency = latency
        self._lock = threading.Lock()
        #: held while the output stream is opened, started, aborted or closed: PortAudio must never abort a
        #: stream that another thread is starting (a worker's start against the GUI thread's stop crashed the
        #: process in PortAudio with PulseAudio)
        self._control = threading.RLock()
        self._stream: Any = None
        self._sd: Any = None
        self._buffer = np.zeros(0, np.float32)
        self._filled = 0
        self._read = 0
        self._total = 0
        self._offset = 0
        self._loop = False
        self._finished_feed = False
        self._held = False
        self._open_end = False
        self._waiting = False
        self._fade_in_at = GAP_FADE  # samples of the fade-in after a gap already played (GAP_FADE: none due)
        self._done = threading.Event()
        self.underruns = 0
        self.gaps = 0
        self.loops = 0
        self.first_sound_time: float | None = None
        self.start_time: float | None = None
        self.level = 0.0

    # ----- control --------------------------------------------------------------------------------------
    def start(self, total_samples: int, offset_samples: int = 0, loop: bool = False, hold: bool = False,
              open_end: bool = False) -> None:
        """Open the output and start playing ``total_samples`` samples that :meth:`write` will supply.

        Args:
            offset_samples: where in the document the first sample sits (for :attr:`position`).
            loop: when the end is reached, start again from the first sample (until :meth:`stop`).
            hold: open the output but play silence until :meth:`release` (to buffer ahead of a slow vocoder).
            open_end: more audio may follow the ``total_samples``: :meth:`write` appends past them, and the
                sound goes on, with faded gaps where the feed runs dry, until :meth:`stop`, or :meth:`finish`
                and its last sample (see the module's docstring). Not with ``loop``.
        Raises:
            PlaybackUnavailableError: no PortAudio or no output device, or the device failed to open.
            ValueError: ``loop`` and ``open_end`` together.
        """
        if loop and open_end:
            raise ValueError("an open-ended playback cannot loop")
        reason = playback_status()
        if reason is not None:
            raise PlaybackUnavailableError(reason)
        with self._control:
            self._start(total_samples, offset_samples, loop, hold, open_end)

    def _start(self, total_samples: int, offset_samples: int, loop: bool, hold: bool, open_end: bool) -> None:
        self.stop()
        with self._lock:
            self._buffer = np.zeros(max(0, total_samples), np.float32)
            self._filled = self._read = 0
            self._total = max(0, total_samples)
            self._offset = offset_samples
            self._loop = loop
            self._finished_feed = False
            self._held = hold
            self._open_end = open_end
            self._waiting = False
            self._fade_in_at = GAP_FADE
            self._done.clear()
            self.underruns = 0
            self.gaps = 0
            self.loops = 0
            self.first_sound_time = None
            self.level = 0.0
        self.start_time = time.perf_counter()
        sd = self._sd = sounddevice_module()
        try:
            self._stream = sd.OutputStream(
                samplerate=self.sample_rate, channels=1, dtype="float32", device=self.device,
                blocksize=self.blocksize, latency=self.latency, callback=self._callback,
                finished_callback=self._done.set,
            )
            self._stream.start()
        except Exception as exc:  # PortAudioError and friends
            self._stream = None
            raise PlaybackUnavailableError(f"playback unavailable: cannot open the audio output ({exc})") from None

    def check(self) -> str | None:
        """Open and close the output once, now: None if it opens, else why not (one line).

        :meth:`start` may run on a worker thread; a caller that must say at once whether playback started
        (the window's Play command) checks first.
        """
        reason = playback_status()
        if reason is not None:
            return reason
        sd = sounddevice_module()
        try:
            stream = sd.OutputStream(samplerate=self.sample_rate, channels=1, dtype="float32", device=self.device,
                                     blocksize=self.blocksize, latency=self.latency)
            stream.close()
        except Exception as exc:  # PortAudioError, ValueError for an unknown device, ...
            return f"playback unavailable: cannot open the audio output ({exc})"
        return None

    def write(self, samples: np.ndarray) -> None:
        """Append audio after what was written before (in order); extra samples past the total are dropped
        (an open-ended playback keeps them: its buffer grows)."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        with self._lock:
            if self._open_end:
                need = self._filled + samples.size
                if need > self._buffer.size:  # grows geometrically: appending costs amortised O(n)
                    grown = np.zeros(max(need, 2 * self._buffer.size), np.float32)
                    grown[: self._filled] = self._buffer[: self._filled]
                    self._buffer = grown
                self._total = max(self._total, need)
            n = min(samples.size, self._total - self._filled)
            self._buffer[self._filled : self._filled + n] = samples[:n]
            self._filled += n

    def overwrite(self, offset_samples: int, samples: np.ndarray) -> int:
        """Replace audio already supplied, at document sample ``offset_samples`` (an edit re-vocoded while it
        plays: the part not yet played, or the next pass of a loop, sounds the new way). Parts outside what
        was supplied are ignored. Returns the samples replaced."""
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        with self._lock:
            lo = max(0, offset_samples - self._offset)
            hi = min(self._filled, offset_samples - self._offset + samples.size)
            if hi <= lo:
                return 0
            start = lo - (offset_samples - self._offset)
            self._buffer[lo:hi] = samples[start : start + hi - lo]
            return hi - lo

    def splice(self, offset_samples: int, samples: np.ndarray, crossfade: int = 0, fade_in: bool = False,
               fade_out: bool = False, played: bool = False) -> tuple[int, int] | None:
        """Replace audio supplied but not yet played with another take of the same samples (a preview take
        replaced by the slow vocoder's, see :mod:`vocoder_studio.engine.preview_takes`), never what was played.

        Decided under the lock the audio callback holds while it copies, so the first sample replaced is
        exactly the first the callback has not taken yet (what PortAudio already holds is behind it). Where
        the replacement begins while the old take plays (the playhead is inside the range, or ``fade_in``)
        it fades in from the old audio over ``crossfade`` samples (raised cosine, equal gain); ``fade_out``
        fades back into the old audio over the range's last ``crossfade`` samples (the old take goes on
        after it).

        Args:
            offset_samples: the document sample of ``samples[0]``.
            samples: float32 ``(n,)``.
            crossfade: samples of each fade (shortened to half the part replaced).
            played: also write the part already played, as it is (a loop's next pass plays it).
        Returns:
            the document sample range ``[lo, hi)`` replaced ahead of the playhead (``lo == hi``: only the
            played part was written), or None when nothing was written (all of it played, or never supplied).
        """
        samples = np.asarray(samples, dtype=np.float32).reshape(-1)
        with self._lock:
            base = offset_samples - self._offset
            start, hi = max(base, 0), min(self._filled, base + samples.size)
            if hi <= start:
                return None
            lo = min(max(start, self._read), hi)
            if played and lo > start:
                self._buffer[start:lo] = samples[start - base : lo - base]
            elif lo == hi:
                return None
            seg = samples[lo - base : hi - base].copy()
            old = self._buffer[lo:hi]
            x = min(crossfade, (hi - lo) // 2)
            if x > 0:
                ramp = (0.5 - 0.5 * np.cos(np.pi * (np.arange(x) + 0.5) / x)).astype(np.float32)
                if (lo > base or fade_in) and lo > 0:
                    seg[:x] = old[:x] * (1.0 - ramp) + seg[:x] * ramp
                if fade_out and hi == base + samples.size:
                    seg[-x:] = seg[-x:] * ramp[::-1] + old[-x:] * (1.0 - ramp[::-1])
            self._buffer[lo:hi] = seg
            return lo + self._offset, hi + self._offset

    @property
    def supplied_end(self) -> int:
        """The document sample where the audio supplied so far ends (offset + samples written)."""
        return self._offset + self._filled

    def snapshot(self) -> np.ndarray:
        """A copy of the audio supplied so far (the played range, from its first sample)."""
        with self._lock:
            return self._buffer[: self._filled].copy()

    def release(self) -> None:
        """Start playing what :meth:`write` supplied (after ``start(..., hold=True)``)."""
        with self._lock:
            self._held = False

    @property
    def held(self) -> bool:
        """Whether the output is open but holding (silence) until :meth:`release`."""
        return self._held

    def finish(self) -> None:
        """No more audio is coming (a short feed then ends playback rather than counting underruns)."""
        with self._lock:
            self._finished_feed = True

    def stop(self) -> None:
        """Stop and close the output (safe to call at any time)."""
        with self._control:
            stream, self._stream = self._stream, None
            if stream is not None:
                try:
                    stream.abort()
                    stream.close()
                except Exception:
                    pass
            self._done.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until playback ends; True if it ended within ``timeout`` seconds."""
        return self._done.wait(timeout)

    # ----- state ----------------------------------------------------------------------------------------
    @property
    def is_playing(self) -> bool:
        return self._stream is not None and not self._done.is_set()

    @property
    def position(self) -> int:
        """The sample being played now, in document samples (offset + samples read)."""
        return self._offset + self._read

    @property
    def waiting(self) -> bool:
        """Whether an open-ended playback ran dry and plays silence until more audio is buffered."""
        return self._waiting

    @property
    def open_end(self) -> bool:
        """Whether this playback is open-ended (set by :meth:`start`)."""
        return self._open_end

    @property
    def looping(self) -> bool:
        """Whether this playback loops (set by :meth:`start`)."""
        return self._loop

    # ----- PortAudio thread -----------------------------------------------------------------------------
    def _callback(self, outdata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        out = outdata[:, 0]
        with self._lock:
            if self._held:
                out[:] = 0.0
                self.level = 0.0
                return
            if self._open_end:
                finished = self._play_open(out, frames)
            else:
                finished = self._play(out, frames)
        peak = float(np.max(np.abs(out))) if frames else 0.0
        self.level = peak
        if self.first_sound_time is None and peak > 1e-4:
            self.first_sound_time = time.perf_counter()
        if finished:
            raise self._sd.CallbackStop

    def _play(self, out: np.ndarray, frames: int) -> bool:
        """Fill ``out`` (``frames`` samples) from the buffer (under the lock); True when the playback is over."""
        written = 0
        while written < frames:
            if self._read >= self._total:
                if self._loop and self._filled >= self._total and self._total > 0:
                    self._read = 0
                    self.loops += 1
                    continue
                break
            ready = self._filled - self._read
            if ready <= 0:
                if not self._finished_feed and self._filled > 0:
                    self.underruns += 1
                break
            n = min(ready, frames - written)
            out[written : written + n] = self._buffer[self._read : self._read + n]
            self._read += n
            written += n
        out[written:] = 0.0
        return not self._loop and (
            self._read >= self._total or (self._finished_feed and self._read >= self._filled)
        )

    def _play_open(self, out: np.ndarray, frames: int) -> bool:
        """An open-ended playback's :meth:`_play`: where the feed runs dry (less than a block and a fade left),
        what is left plays fading out, then silence until :data:`REFILL_S` seconds (at least a block and a
        fade) are buffered, and the audio after the gap fades in; after :meth:`finish` it plays out to the
        last sample."""
        ready = self._filled - self._read
        enough = frames + GAP_FADE
        if self._waiting:
            if not self._finished_feed and ready < max(enough, round(REFILL_S * self.sample_rate)):
                out[:] = 0.0
                return False
            self._waiting, self._fade_in_at = False, 0
        if self._finished_feed or ready >= enough:
            n = min(ready, frames)
        else:  # running dry: the rest fades out now, rather than the sound stopping mid-waveform later
            n = min(ready, frames)
            self._waiting = True
            if self._read > 0:
                self.gaps += 1
                self.underruns += 1
        out[:n] = self._buffer[self._read : self._read + n]
        out[n:] = 0.0
        if self._fade_in_at < GAP_FADE and n:
            k = min(n, GAP_FADE - self._fade_in_at)
            out[:k] *= _fade(self._fade_in_at, k)
            self._fade_in_at += k
        if self._waiting and n:
            k = min(n, GAP_FADE)
            out[n - k : n] *= _fade(GAP_FADE - k, k)[::-1]
        self._read += n
        return self._finished_feed and self._read >= self._filled


def _fade(at: int, n: int) -> np.ndarray:
    """Samples ``[at, at + n)`` of a raised-cosine fade-in of :data:`GAP_FADE` samples, float32."""
    x = (np.arange(at, at + n) + 0.5) / GAP_FADE
    return (0.5 - 0.5 * np.cos(np.pi * x)).astype(np.float32)
