from __future__ import annotations

from typing import Any

import pytest

from vocoder_studio.engine.jobs import CancelToken, JobHandle, run_job
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


def _recorded(handle: JobHandle) -> list[object]:
    seen: list[object] = []
    handle.events.progress.connect(lambda fraction, message: seen.append(("progress", fraction)))
    handle.events.partial.connect(lambda piece: seen.append(("partial", piece)))
    handle.events.result.connect(lambda value: seen.append(("result", value)))
    handle.events.error.connect(lambda message: seen.append(("error", message)))
    handle.events.cancelled.connect(lambda: seen.append("cancelled"))
    return seen


def test_a_handle_delivers_its_jobs_events_and_ends_once() -> None:
    handle = JobHandle("Export")
    seen = _recorded(handle)
    handle.deliver_progress(0.5, "half")
    handle.deliver_partial(1)
    handle.deliver_result("out.wav")
    handle.deliver_error("late")  # ended: nothing more
    handle.deliver_cancelled()
    assert seen == [("progress", 0.5), ("partial", 1), ("result", "out.wav")] and handle.done


def test_a_cancelled_handle_never_delivers_a_stale_result() -> None:
    handle = JobHandle("Compare")
    seen = _recorded(handle)
    handle.deliver_partial(1)
    handle.cancel()
    handle.deliver_progress(0.9, "late")
    handle.deliver_partial(2)
    handle.deliver_result("stale")  # the job finished before it saw the cancel: reported as cancelled
    assert seen == [("partial", 1), "cancelled"] and handle.cancelled and handle.done
    assert handle.token.cancelled  # the job itself sees the cancel through its token
