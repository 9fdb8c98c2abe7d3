"""The real JobRunner: lanes that run side by side, partial results in order, cancel and shutdown."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QThread

from vocoder_studio.document import Region
from vocoder_studio.engine.audio_output import playback_status
from vocoder_studio.engine.jobs import CancelToken
from vocoder_studio.ui.worker import LONG_LANE, JobRunner

from ..conftest import require

WAIT_MS = 30_000


@pytest.fixture
def runner(qtbot) -> Iterator[JobRunner]:
    runner = JobRunner()
    yield runner
    runner.shutdown()


def generation(steps: int, release: threading.Event | None = None, step_seconds: float = 0.005):
    """A long job as MelNet's will be: makes a block per step, hands it over, checks for cancel; with
    ``release``, it also waits (at most 20 s) for that event before its last step."""
    made: list[int] = []

    def job(progress: Any, cancel: CancelToken) -> str:
        for i in range(steps):
            cancel.check()
            time.sleep(step_seconds)
            made.append(i)
            cancel.partial(np.full((80, 1), i, np.float32))
            progress((i + 1) / steps, f"frame {i}")
        if release is not None:
            deadline = time.monotonic() + 20
            while not release.is_set() and time.monotonic() < deadline:
                cancel.check()
                time.sleep(0.005)
            return "released" if release.is_set() else "never released"
        return "done"

    job.made = made
    return job


def test_a_job_on_the_default_lane_runs_while_a_long_job_runs(runner: JobRunner, qtbot) -> None:
    release = threading.Event()
    events: list[str] = []
    long_job = generation(5, release)
    runner.submit("Generate", long_job, on_result=events.append, lane=LONG_LANE)
    qtbot.waitUntil(lambda: len(long_job.made) == 5, timeout=WAIT_MS)  # the long job is under way

    def short(progress: Any, cancel: CancelToken) -> str:
        return "played"

    def on_short(result: object) -> None:
        events.append(str(result))
        release.set()  # only now may the long job end: with one worker thread it never would

    runner.submit("Play", short, on_result=on_short)
    assert runner.lane_busy(LONG_LANE) and runner.lane_busy()
    qtbot.waitUntil(lambda: len(events) == 2, timeout=WAIT_MS)
    assert events == ["played", "released"]
    assert not runner.busy


def test_partial_results_arrive_in_order_in_the_gui_thread_before_the_result(runner: JobRunner, qtbot) -> None:
    events: list[object] = []
    threads: set[QThread] = set()

    def on_partial(block: np.ndarray) -> None:
        threads.add(QThread.currentThread())
        events.append(int(block[0, 0]))

    with qtbot.waitSignal(runner.jobFinished, timeout=WAIT_MS):
        runner.submit("Generate", generation(60, step_seconds=0.0), on_result=events.append,
                      on_partial=on_partial, lane=LONG_LANE)
    assert events == [*range(60), "done"]
    assert threads == {QThread.currentThread()}  # the GUI thread


def test_cancel_stops_a_long_job_and_no_partial_comes_after_it(runner: JobRunner, qtbot) -> None:
    burst_sent = threading.Event()
    steps: list[int] = []

    def job(progress: Any, cancel: CancelToken) -> None:
        for i in range(200):  # a burst of pieces, all queued for the GUI thread before it hears the first
            cancel.partial(i)
        burst_sent.set()
        while True:  # then work on until cancelled
            cancel.check()
            steps.append(1)
            time.sleep(0.002)

    heard: list[int] = []

    def on_partial(piece: int) -> None:
        heard.append(piece)
        if piece == 4:
            assert burst_sent.wait(10)
            runner.cancel("Gen")  # 195 pieces wait in the queue: none may come now

    with qtbot.waitSignal(runner.jobCancelled, timeout=WAIT_MS) as cancelled:
        runner.submit("Generate", job, on_partial=on_partial, lane=LONG_LANE)
    assert cancelled.args == ["Generate"]
    qtbot.wait(50)
    assert heard == [0, 1, 2, 3, 4]
    assert not runner.busy


def test_shutdown_cancels_and_joins_every_lane(qtbot) -> None:
    runner = JobRunner()
    long_job, queued = generation(100_000, step_seconds=0.002), generation(1)
    runner.submit("Generate", long_job, lane=LONG_LANE)
    runner.submit("Export batch", queued, lane=LONG_LANE)  # waits behind the generation
    runner.submit("Play", generation(100_000, step_seconds=0.002))
    qtbot.waitUntil(lambda: len(long_job.made) > 3, timeout=WAIT_MS)
    assert len(runner.threads) == 2 and all(t.isRunning() for t in runner.threads)
    runner.shutdown()
    assert all(t.isFinished() for t in runner.threads)
    assert len(long_job.made) < 100_000 and queued.made == []
    assert runner.submit("Late", generation(1)).cancelled  # nothing runs after shutdown


def test_a_long_job_does_not_cancel_render_ahead_but_a_default_lane_job_does(runner: JobRunner, qtbot) -> None:
    background = runner.submit("Render ahead", generation(100_000, step_seconds=0.002), background=True,
                               on_error=lambda message: None)
    runner.submit("Generate", generation(3), lane=LONG_LANE)
    assert not background.cancelled
    assert runner.lane_busy() and runner.lane_busy(LONG_LANE) and runner.foreground_busy
    runner.submit("Play", generation(1))
    assert background.cancelled
    qtbot.waitUntil(lambda: not runner.busy, timeout=WAIT_MS)
    with pytest.raises(ValueError, match="unknown job lane"):
        runner.submit("x", generation(1), lane="fast")


def test_play_starts_in_the_window_while_a_long_job_runs(window, qtbot, speech_mel: np.ndarray) -> None:
    """A real Griffin-Lim vocoding on the long lane, again and again until released: playback still starts."""
    from vocoder_studio.vocoders import create_vocoder

    require(playback_status() is None, f"no audio output here: {playback_status()}")
    vocoder = create_vocoder("griffin-lim", iterations=32)
    release = threading.Event()
    passes: list[int] = []

    def long_vocode(progress: Any, cancel: CancelToken) -> int:
        while not release.is_set():
            cancel.check()
            vocoder.vocode(speech_mel)
            passes.append(1)
        return len(passes)

    result: list[object] = []
    window.runner.submit("Batch export", long_vocode, on_result=result.append, lane=LONG_LANE)
    qtbot.waitUntil(lambda: window.runner.pending_labels(LONG_LANE) == ["Batch export"], timeout=WAIT_MS)
    window.current_canvas().set_selection(Region(100, 200, 0, 80))
    assert window.toggle_play()
    qtbot.waitUntil(lambda: window.transport.meter.value() > 0, timeout=WAIT_MS)
    assert result == [] and window.runner.lane_busy(LONG_LANE)  # sound while the long job still runs
    window.transport.stop_action.trigger()
    release.set()
    qtbot.waitUntil(lambda: result != [], timeout=WAIT_MS)


def test_generated_frames_reach_the_canvas_as_they_come_and_are_one_undo_step(window, qtbot) -> None:
    """A generation on the long lane appends each block it samples to the document; the canvas shows it."""
    doc, canvas = window.current_document(), window.current_canvas()
    start = doc.frames
    prime = doc.mel[:, -20:].copy()
    widths: list[int] = []

    def generate(progress: Any, cancel: CancelToken) -> int:
        for i in range(10):  # as a sampler would: 8 frames at a time from the last ones
            cancel.check()
            time.sleep(0.01)
            cancel.partial(prime[:, (i % 2) * 8 : (i % 2) * 8 + 8] - 0.1 * i)
        return 80

    def on_block(block: np.ndarray) -> None:
        doc.append_frames(block, "Continue", extend=bool(widths))  # the first block opens the undo step
        widths.append(canvas.image_item.image.shape[1])

    result: list[object] = []
    window.runner.submit("Generate", generate, on_partial=on_block, on_result=result.append, lane=LONG_LANE)
    qtbot.waitUntil(lambda: result == [80], timeout=WAIT_MS)
    assert widths == [start + 8 * (i + 1) for i in range(10)]  # the image grew with every block
    np.testing.assert_allclose(canvas.image_item.image[:, -8:], 20 * np.log10(np.e) * doc.mel[:, -8:], rtol=1e-5)
    assert doc.frames == start + 80 and doc.undo_label == "Continue"
    assert window.window_actions.undo_action.isEnabled()
    window.window_actions.undo_action.trigger()
    assert doc.frames == start and canvas.image_item.image.shape[1] == start


def test_inserting_frames_into_the_playing_range_stops_playback(window, qtbot) -> None:
    """The played range's frame numbers would point at other audio after an insert: playback stops and says
    why; an append after the range plays on."""
    require(playback_status() is None, f"no audio output here: {playback_status()}")
    doc = window.current_document()
    window.current_canvas().set_selection(Region(100, 600, 0, 80))
    messages: list[str] = []
    window.transport.statusMessage.connect(messages.append)
    assert window.toggle_play()
    qtbot.waitUntil(lambda: window.transport.is_playing, timeout=WAIT_MS)
    doc.append_frames(doc.mel[:, -4:].copy(), "Append")
    assert window.transport.is_playing
    doc.insert_frames(10, doc.mel[:, :4].copy(), "Insert")
    qtbot.waitUntil(lambda: not window.transport.is_playing, timeout=WAIT_MS)
    assert "playback stopped: frames were inserted or deleted" in messages[-1]


def test_submit_returns_a_handle_with_its_own_events(runner: JobRunner, qtbot) -> None:
    release = threading.Event()
    first = runner.submit("Compare", generation(3, release), lane=LONG_LANE)
    seen: list[object] = []
    first.events.progress.connect(lambda fraction, message: seen.append(fraction))
    first.events.result.connect(lambda value: seen.append(("first", value)))
    first.events.cancelled.connect(lambda: seen.append("first cancelled"))
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=WAIT_MS)  # its progress, and only its
    first.cancel()  # a newer job replaces it: it never delivers its result
    second = runner.submit("Compare", generation(2), lane=LONG_LANE)
    second.events.result.connect(lambda value: seen.append(("second", value)))
    release.set()
    qtbot.waitUntil(lambda: second.done and first.done, timeout=WAIT_MS)
    assert seen[:3] == [1 / 3, 2 / 3, 1.0]
    assert seen[3:] == ["first cancelled", ("second", "done")]
