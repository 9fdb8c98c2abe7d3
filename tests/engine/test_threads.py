"""The vocoding threads follow the cores other processes leave idle (a busy core made two threads wait)."""

from __future__ import annotations

import os
import threading

import numpy as np
import pytest
import torch

from vocoder_studio.engine import render
from vocoder_studio.engine.render import Renderer, free_cores, free_cores_of
from vocoder_studio.vocoders import create_vocoder


def test_free_cores_of_counts_the_idle_cores() -> None:
    assert free_cores_of(2, 0.05) == 2  # a quiet machine: both
    assert free_cores_of(2, 1.0) == 1  # a training run on the other core: one
    assert free_cores_of(2, 7.5) == 1  # never none
    assert free_cores_of(4, 1.3) == 3
    assert free_cores_of(2, -0.2) == 2  # rounding of the counters never asks for more than there are


def test_free_cores_is_within_the_cores_this_process_may_use() -> None:
    cores = len(os.sched_getaffinity(0))
    assert 1 <= free_cores() <= cores


def test_rendering_on_the_cpu_uses_the_free_cores(example_mel: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker thread that renders sets its own torch threads (OpenMP's count is per thread)."""
    monkeypatch.setattr(render, "THREADS_HOLD_S", 1e9)  # one decision for the whole test
    seen: list[int] = []

    def work() -> None:
        torch.set_num_threads(7)
        Renderer(create_vocoder("griffin-lim", iterations=2)).render(example_mel[:, :40])
        seen.append(torch.get_num_threads())

    worker = threading.Thread(target=work)
    worker.start()
    worker.join()
    assert seen == [free_cores()]
