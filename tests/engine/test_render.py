from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import torch

from vocoder_studio.document import Document, Region
from vocoder_studio.editing import apply_gain
from vocoder_studio.engine import CancelToken, Renderer, run_job
from vocoder_studio.errors import JobCancelled
from vocoder_studio.evaluation.metrics import snr_db
from vocoder_studio.vocoders.base import Vocoder, as_mel_tensor, chunk_bounds


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

    def job(progress, cancel):
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


# ----- the mel grows or shrinks ----------------------------------------------------------------------------
@pytest.mark.parametrize("change", ["insert", "delete", "append"])
def test_frames_an_edit_did_not_reach_keep_their_audio_when_the_mel_grows_or_shrinks(
        hifigan, speech_mel: np.ndarray, change: str) -> None:
    doc = Document(speech_mel[:, :300])
    renderer = Renderer(hifigan)
    before = renderer.render(doc.mel, doc.version)
    hop, c = hifigan.hop_length, hifigan.receptive_field_frames
    new = speech_mel[:, 500:540]  # 40 frames of other real speech
    if change == "insert":
        doc.insert_frames(150, new)
        reach, kept_head, tail_from, shift = (150 - c, 190 + c), 150 - c, 190 + c, 40
    elif change == "delete":
        doc.delete_frames(100, 140)
        reach, kept_head, tail_from, shift = (100 - c, 100 + c), 100 - c, 100 + c, -40
    else:
        doc.append_frames(new)
        reach, kept_head, tail_from, shift = (300 - c, 340), 300 - c, 340, 40
    assert renderer.update(doc.mel, doc.version) == reach
    spliced = renderer.render(doc.mel, doc.version)
    assert renderer.vocoded_frames == 300 + reach[1] - reach[0]  # only the neighbourhood of the change
    assert spliced.size == doc.frames * hop
    np.testing.assert_array_equal(spliced[: kept_head * hop], before[: kept_head * hop])
    np.testing.assert_array_equal(spliced[tail_from * hop :], before[(tail_from - shift) * hop :])
    assert snr_db(hifigan.vocode(doc.mel).numpy(), spliced) > 40


def test_frames_edited_while_others_are_appended_re_vocode_only_the_edit_and_the_new_end(
        hifigan, speech_mel: np.ndarray) -> None:
    """A live continuation appends frames while the user edits earlier ones: the edit's reach and the new frames'
    are vocoded again, not everything from the edit to the end (as an insertion there would need)."""
    doc = Document(speech_mel[:, :300])
    renderer = Renderer(hifigan)
    before = renderer.render(doc.mel, doc.version)
    hop, c = hifigan.hop_length, hifigan.receptive_field_frames
    apply_gain(doc, Region(140, 160, 0, 80), -12.0)
    doc.append_frames(speech_mel[:, 500:540])
    assert renderer.update(doc.mel, doc.version) == (140 - c, 340)
    spliced = renderer.render(doc.mel, doc.version)
    assert renderer.vocoded_frames == 300 + (20 + 2 * c) + (40 + c)
    np.testing.assert_array_equal(spliced[(160 + c) * hop : (300 - c) * hop], before[(160 + c) * hop : (300 - c) * hop])
    assert snr_db(hifigan.vocode(doc.mel).numpy(), spliced) > 40


def test_undoing_an_insert_finds_the_old_audio_again(hifigan, speech_mel: np.ndarray) -> None:
    doc = Document(speech_mel[:, 200:400])
    renderer = Renderer(hifigan)
    before = renderer.render(doc.mel, doc.version)
    doc.insert_frames(100, speech_mel[:, :20])
    renderer.render(doc.mel, doc.version)
    doc.undo()
    c = hifigan.receptive_field_frames
    assert renderer.update(doc.mel, doc.version) == (100 - c, 100 + c)
    after = renderer.render(doc.mel, doc.version)
    assert renderer.vocoded_frames == 200 + 20 + 2 * c + 2 * c
    assert snr_db(before, after) > 40


class Recurrent(Vocoder):
    """A test-only autoregressive vocoder: each frame's sound depends on a state carried from every frame
    before it (like WaveNet's), so its audio cannot be spliced locally."""

    name = "test-recurrent"
    receptive_field_frames = 3
    local_edits = False

    def __init__(self) -> None:
        super().__init__("cpu")
        self.streams: list[tuple[int, int]] = []  # (frames, first chunk) of each stream call

    def _run(self, mel: torch.Tensor, state: float) -> tuple[torch.Tensor, float]:
        levels = []
        for energy in mel.mean(dim=0).tolist():
            state = 0.5 * state + 0.05 * energy
            levels.append(state)
        tone = torch.sin(torch.arange(self.hop_length) * 0.3)
        return (torch.tensor(levels)[:, None] * tone[None, :]).reshape(-1).clamp(-1, 1), state

    def _synthesize(self, mel: torch.Tensor) -> torch.Tensor:
        return torch.stack([self._run(m, 0.0)[0] for m in mel])

    def stream(self, mel: torch.Tensor | np.ndarray, chunk_frames: int = 64, first_chunk_frames: int | None = 16,
               context_frames: int | None = None) -> Iterator[torch.Tensor]:
        x = as_mel_tensor(mel)
        self.streams.append((x.shape[-1], first_chunk_frames or chunk_frames))
        state = 0.0
        for a, b in chunk_bounds(x.shape[-1], chunk_frames, first_chunk_frames):
            audio, state = self._run(x[:, a:b], state)  # the state carries over: no context needed
            yield audio


def test_an_autoregressive_vocoder_re_vocodes_from_the_edit_to_the_end(speech_mel: np.ndarray) -> None:
    vocoder = Recurrent()
    doc = Document(speech_mel[:, :200])
    renderer = Renderer(vocoder)
    before = renderer.render(doc.mel, doc.version, chunk_frames=32)
    hop = vocoder.hop_length
    np.testing.assert_allclose(before, vocoder.vocode(doc.mel).numpy(), atol=1e-6)  # one pass: exact
    apply_gain(doc, Region(120, 130, 0, 80), -12.0)
    assert renderer.update(doc.mel, doc.version) == (117, 200)  # a - C to the end, not b + C
    plan = renderer.plan(0, 200, 32, 8)
    blocks = list(renderer.stream(doc.mel, doc.version, chunk_frames=32, first_chunk_frames=8))
    assert [a for a, _ in blocks] == [a for a, _, _ in plan]  # the plan's blocks (playback relies on them)
    after = np.concatenate([audio for _, audio in blocks])
    assert renderer.vocoded_frames == 200 + 83
    np.testing.assert_array_equal(after[: 117 * hop], before[: 117 * hop])
    # the rest is one stream warmed up from C frames before the run, not chunks spliced with context
    assert vocoder.streams[-1] == (86, 3 + 8)
    warm = torch.cat(list(vocoder.stream(doc.mel[:, 114:], 256))).numpy()
    np.testing.assert_allclose(after[117 * hop :], warm[3 * hop :], atol=1e-6)


def test_an_autoregressive_vocoder_keeps_the_audio_before_an_insert(speech_mel: np.ndarray) -> None:
    vocoder = Recurrent()
    doc = Document(speech_mel[:, :200])
    renderer = Renderer(vocoder)
    before = renderer.render(doc.mel, doc.version)
    doc.insert_frames(50, speech_mel[:, 300:310])
    assert renderer.update(doc.mel, doc.version) == (47, 210)
    after = renderer.render(doc.mel, doc.version)
    assert renderer.vocoded_frames == 200 + 163 and after.size == 210 * vocoder.hop_length
    np.testing.assert_array_equal(after[: 47 * vocoder.hop_length], before[: 47 * vocoder.hop_length])


def test_a_private_renderer_shares_the_vocoder_but_not_the_cache() -> None:
    from vocoder_studio.engine.cache import RenderCache
    from vocoder_studio.vocoders.choice import VocoderChoice

    cache = RenderCache()
    choice = VocoderChoice.make("griffin-lim", "cpu", iterations=1)
    shared = cache.renderer(7, choice)
    private = cache.private_renderer(choice)
    assert private is not shared and private.vocoder is shared.vocoder
    assert cache.renderer(7, choice) is shared
