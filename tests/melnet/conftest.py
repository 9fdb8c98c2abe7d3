"""MelNet runs thousands of tiny GRU and matmul calls: with two intra-op threads on a machine whose other core is
busy, each call waits for a descheduled OpenMP thread (measured: 7.5 s instead of 0.08 s for one forward pass).
These tests run with one thread, as the MelNet trainer and sampler are meant to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_intra_op_thread() -> Iterator[None]:
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
