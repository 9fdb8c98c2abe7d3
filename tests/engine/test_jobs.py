from __future__ import annotations

from typing import Any

import pytest

from vocoder_studio.engine.jobs import CancelToken, run_job
from vocoder_studio.errors import JobCancelled


def counting_job(progress: Any, cancel: CancelToken) -> str:
    for i in range(5):
        cancel.partial(i)
        if i == 2 and not cancel.wants_partial:
            return "nobody listens"
    return "done"


def test_run_job_hands_partial_results_over_in_order() -> None:
    heard: list[int] = []
    assert run_job(counting_job, on_partial=heard.append) == "done"
    assert heard == [0, 1, 2, 3, 4]
    assert run_job(counting_job) == "nobody listens"  # a job may skip work nobody hears


def test_pieces_after_a_cancel_are_dropped() -> None:
    heard: list[int] = []
    token = CancelToken()

    def job(progress: Any, cancel: CancelToken) -> None:
        cancel.partial(1)
        cancel.cancel()
        cancel.partial(2)
        cancel.check()

    with pytest.raises(JobCancelled):
        run_job(job, cancel=token, on_partial=heard.append)
    assert heard == [1]
