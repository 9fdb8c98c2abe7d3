"""Fixtures of the engine tests: the PulseAudio null sink real playback is heard through."""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vocoder_studio.engine.audio_output import playback_status

from ..conftest import require


def _sink_ready() -> bool:
    if shutil.which("pactl") is None:
        return False
    done = subprocess.run(["pactl", "list", "short", "sinks"], capture_output=True, text=True)
    return done.returncode == 0 and "ci_sink" in done.stdout


@pytest.fixture
def null_sink() -> None:
    require(_sink_ready(), "no PulseAudio null sink 'ci_sink' (run scripts/pulse-null-sink.sh)")
    require(playback_status() is None, f"PortAudio sees no output: {playback_status()}")


def record_sink(path: Path) -> subprocess.Popen[bytes]:
    """Record the sink's monitor into a file (a pipe would fill after 0.7 s and stall parec)."""
    return subprocess.Popen(
        ["parec", "--device=ci_sink.monitor", "--format=float32le", "--rate=22050", "--channels=1",
         "--latency-msec=20", str(path)],
        stderr=subprocess.DEVNULL,
    )


def stop_recording(recorder: subprocess.Popen[bytes], path: Path, tail_s: float) -> np.ndarray:
    """Let the sink's last ``tail_s`` seconds reach the recording, stop it, and return what it recorded
    (float32 mono)."""
    time.sleep(tail_s)
    recorder.terminate()
    recorder.wait(timeout=5)
    raw = path.read_bytes()
    return np.frombuffer(raw[: len(raw) // 4 * 4], dtype=np.float32)


class Slowed:
    """A real vocoder made slow: every call takes ``rtf`` × the duration of the frames it computes (context
    included), like HiFi-GAN on a CPU without bfloat16. ``calls`` logs ``(start, end, finished at)``."""

    def __init__(self, inner: Any, rtf: float) -> None:
        self._inner, self.rtf = inner, rtf
        self.calls: list[tuple[int, int, float]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def vocode_range(self, mel: Any, start: int, end: int, context_frames: int | None = None) -> Any:
        began = time.perf_counter()
        audio = self._inner.vocode_range(mel, start, end, context_frames)
        c = self._inner.receptive_field_frames if context_frames is None else context_frames
        computed = min(mel.shape[-1], end + c) - max(0, start - c)
        time.sleep(max(0.0, self.rtf * computed * self.hop_length / self.sample_rate
                       - (time.perf_counter() - began)))
        self.calls.append((start, end, time.perf_counter()))
        return audio
