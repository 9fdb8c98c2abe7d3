"""Switching takes while they play (engine/compare.py), heard through the PulseAudio null sink: the same noise
at two levels, switched mid-way, must continue at the same time — no gap, no jump — and at the new level."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.engine.compare import TakeSwitcher
from vocoder_studio.engine.player import Player

from .test_playback import _record, _stop_recording, null_sink  # noqa: F401 (a fixture)

pytestmark = pytest.mark.playback
SR = DEFAULT_CONFIG.sample_rate


def _lag(reference: np.ndarray, segment: np.ndarray) -> tuple[int, float]:
    """Where ``segment`` sits in ``reference`` (samples) and the normalised correlation there."""
    size = 1 << (len(reference) + len(segment)).bit_length()
    corr = np.fft.irfft(np.fft.rfft(reference, size) * np.conj(np.fft.rfft(segment, size)), size)[: len(reference)]
    at = int(np.argmax(corr))
    norm = np.linalg.norm(segment) * np.linalg.norm(reference[at : at + len(segment)]) + 1e-12
    return at, float(corr[at] / norm)


def test_a_switch_continues_at_the_same_sample_without_a_gap(null_sink: None, tmp_path: Path) -> None:  # noqa: F811
    noise = np.random.default_rng(7).standard_normal(3 * SR).astype(np.float32)
    quiet, loud = 0.1 * noise, 0.4 * noise
    switcher = TakeSwitcher(Player(SR, blocksize=512))
    switcher.set_takes([quiet, loud])
    recording = tmp_path / "monitor.raw"
    recorder = _record(recording)
    time.sleep(0.3)
    switcher.play(0, loop=False)
    time.sleep(0.8)
    position = switcher.position
    switched_at = switcher.switch(1)
    assert switcher.position - position <= switcher.player.blocksize
    assert switched_at > position
    assert switcher.player.wait(timeout=10)
    time.sleep(0.3)
    heard = _stop_recording(recorder, recording)
    sounding = np.flatnonzero(np.abs(heard) > 1e-3)
    heard = heard[sounding[0] : sounding[-1] + 1]
    window = 2048
    level = np.sqrt(np.convolve(heard**2, np.ones(window) / window, mode="same"))
    switch = int(np.argmax(level > 2.5 * np.median(level[: SR // 2])))  # where the loud take is heard
    assert 0.5 * SR < switch < len(heard) - SR // 2
    before, corr_before = _lag(noise, heard[switch - 3 * window : switch - 2 * window])
    after, corr_after = _lag(noise, heard[switch + 2 * window : switch + 3 * window])
    assert corr_before > 0.9 and corr_after > 0.9
    assert after - before == 5 * window  # the same time line: nothing skipped, nothing repeated
    silent = np.abs(heard) < 1e-4
    longest = max((len(run) for run in np.split(silent, np.flatnonzero(np.diff(silent.astype(int))) + 1)
                   if run.size and run[0]), default=0)
    assert longest < SR // 1000  # no gap (white noise is never 1 ms near zero)
