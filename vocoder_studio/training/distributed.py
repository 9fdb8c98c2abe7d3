"""Training on several processes (``torchrun``): this process's rank and the world size, and a stop every rank
agrees on. One process (no process group) is rank 0 of 1, and nothing here costs anything.
"""

from __future__ import annotations

import time

import torch
import torch.distributed as dist

from vocoder_studio.engine.jobs import CancelToken


def distributed_rank_world() -> tuple[int, int]:
    """``(rank, world size)`` of the initialised process group (``torchrun``), or ``(0, 1)`` without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


class AgreedStop:
    """Stands in for a run's cancel token when several ranks train together: ``cancelled`` is asked once per step
    on every rank and all-reduced, so every rank stops after the same step (out of wall-clock time on any rank,
    or cancelled there); a rank that stopped alone would leave the others waiting in their next all-reduce."""

    def __init__(self, minutes: float | None, cancel: CancelToken | None) -> None:
        self.deadline = None if minutes is None else time.monotonic() + minutes * 60.0
        self.cancel = cancel

    @property
    def cancelled(self) -> bool:
        stop = (self.deadline is not None and time.monotonic() >= self.deadline) or (
            self.cancel is not None and self.cancel.cancelled)
        flag = torch.tensor([1.0 if stop else 0.0])
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        return bool(flag.item() > 0)
