from __future__ import annotations

import numpy as np
import pytest

from vocoder_studio.document import Document, Region
from vocoder_studio.editing import apply_gain
from vocoder_studio.engine import CancelToken, Renderer, run_job
from vocoder_studio.errors import JobCancelled
from vocoder_studio.evaluation.metrics import snr_db


def test_cache_hit_recomputes_nothing(hifigan, example_mel: np.ndarray) -> None:
    doc = Document(example_mel[:, :200])
    renderer = Renderer(hifigan)
    first = renderer.render(doc.mel, doc.version)
    assert renderer.vocoded_frames == 200
    again = renderer.render(doc.mel, doc.version)
    assert renderer.vocoded_frames == 200
    np.testing.assert_array_equal(first, again)


def test_edit_revocodes_only_the_reach_of_the_change(hifigan, example_mel: np.ndarray) -> None:
    doc = Document(example_mel[:, :300])
    renderer = Renderer(hifigan)
    renderer.render(doc.mel, doc.version)
    apply_gain(doc, Region(140, 160, 0, 80), -12.0)
    c = hifigan.receptive_field_frames
    assert renderer.update(doc.mel, doc.version) == (140 - c, 160 + c)
    spliced = renderer.render(doc.mel, doc.version)
    assert renderer.vocoded_frames == 300 + 20 + 2 * c
    full = hifigan.vocode(doc.mel).numpy()
    assert snr_db(full, spliced) > 40


def test_stream_yields_in_order_and_progress_reaches_one(example_mel: np.ndarray) -> None:
    from vocoder_studio.vocoders import create_vocoder

    renderer = Renderer(create_vocoder("griffin-lim", iterations=2))
    seen: list[float] = []
    blocks = list(renderer.stream(example_mel[:, :150], 0, 10, 140, chunk_frames=32, first_chunk_frames=8,
                                  progress=lambda f, m: seen.append(f)))
    assert [b[0] for b in blocks] == [10, 18, 28, 40, 55, 73, 95, 122]  # 8, then ×1.25 up to 32
    assert sum(len(b[1]) for b in blocks) == 130 * 256
    assert seen[-1] == pytest.approx(1.0)


def test_cancel_stops_the_job(example_mel: np.ndarray) -> None:
    from vocoder_studio.vocoders import create_vocoder

    renderer = Renderer(create_vocoder("griffin-lim", iterations=2))
    token = CancelToken()

    def job(progress, cancel):  # type: ignore[no-untyped-def]
        def on_progress(fraction: float, message: str) -> None:
            if fraction > 0.2:
                cancel.cancel()
        return renderer.render(example_mel, None, progress=on_progress, cancel=cancel, chunk_frames=32)

    with pytest.raises(JobCancelled):
        run_job(job, cancel=token)
    assert 0 < renderer.vocoded_frames < example_mel.shape[1]


def test_playback_waits_only_as_long_as_a_slow_vocoder_needs() -> None:
    from vocoder_studio.engine.render import can_start_playback

    durations = [0.37, 0.74, 1.49, 2.97]
    assert can_start_playback(0.186, [0.0, 0.0, 0.0, 0.0], durations)  # all cached: start at once
    fast = [0.05 * d for d in durations]
    assert can_start_playback(0.186, fast, durations)
    slow = [0.9 * d + 0.3 for d in durations]  # slower than real time once context is counted
    assert not can_start_playback(0.186, slow, durations)
    assert can_start_playback(sum(slow), slow, durations)


def test_plan_marks_cached_blocks_and_grows_chunks(example_mel: np.ndarray) -> None:
    from vocoder_studio.vocoders import create_vocoder

    renderer = Renderer(create_vocoder("griffin-lim", iterations=1))
    renderer.render(example_mel[:, :400], 0, 100, 200)
    plan = renderer.plan(0, 400, chunk_frames=64, first_chunk_frames=16)
    assert plan[0] == (0, 16, False) and (100, 200, True) in plan
    assert plan[plan.index((100, 200, True)) + 1] == (200, 264, False)  # later runs: full chunks
    assert [b for _, b, _ in plan][-1] == 400


def test_speed_prediction_separates_the_fixed_cost_of_a_call(example_mel: np.ndarray) -> None:
    from vocoder_studio.vocoders import create_vocoder

    renderer = Renderer(create_vocoder("griffin-lim", iterations=1))
    assert renderer.predict_seconds(100) is None
    renderer.timings = [(40, 0.05)]
    assert renderer.predict_seconds(80) == pytest.approx(0.1)  # one size seen: proportional
    renderer.timings = [(40, 0.05), (80, 0.07), (160, 0.11)]  # 0.03 s a call + 0.5 ms a frame
    assert renderer.predict_seconds(320) == pytest.approx(0.19)
