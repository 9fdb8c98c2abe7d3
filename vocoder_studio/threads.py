"""Torch intra-op thread counts for a block of work (shared by MelNet's sampler and WaveNet's generator)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def intra_op_threads(count: int | None = 1) -> Iterator[None]:
    """Run the block on ``count`` torch intra-op threads, then restore the count (None: leave it alone).

    MelNet's sampler and WaveNet's generator are thousands of tiny ops: with two OpenMP threads and the other core
    busy each op waits for a descheduled thread (10-100x slower), so they run on one. ``torch.set_num_threads`` sets the
    *calling thread's* OpenMP team size (the other threads of the process keep theirs: the window's playback and
    a vocoder job on another worker lane are not slowed), but it also sets the default that threads started
    meanwhile take and MKL's process-wide count; hence only for the duration of the block, restored after it.
    """
    before = torch.get_num_threads()
    if count is None or count == before:
        yield
        return
    torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)
