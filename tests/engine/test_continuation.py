"""Live continuation's engine (engine/continuation.py): the shipped MelNet sampling past a document's end chunk by
chunk, the continued audio streamed exactly into an open-ended player, cancelling, and the undo step.

The player's side is tests/engine/test_preview.py's clock (a thread that calls the player's callback at the real
rate and keeps every sample that would have been heard), so these run without a sound server.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from tests.conftest import MODELS, require
from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.document import Document
from vocoder_studio.engine import CancelToken, Renderer, run_job
from vocoder_studio.engine.continuation import (
    LABEL,
    ContinuationEdit,
    LiveContinuation,
    LiveSettings,
    continuation_audio_job,
    final_frames,
)
from vocoder_studio.engine.playback import play_job
from vocoder_studio.engine.player import GAP_FADE, Player
from vocoder_studio.errors import JobCancelled, MelShapeError, VocoderStudioError

from .test_preview import ClockedStream, clocked  # noqa: F401 (the clock fixture)

SHIPPED = MODELS / "melnet.pt"


@pytest.fixture(scope="module")
def melnet() -> Any:
    require(SHIPPED.exists(), "the shipped models/melnet.pt is missing")
    from vocoder_studio.melnet import load_model

    return load_model(SHIPPED, DEFAULT_CONFIG)


def test_the_sampler_makes_frames_chunk_by_chunk_as_generate_prime_would(melnet: Any, example_mel: np.ndarray) -> None:
    from vocoder_studio.melnet import sample
    from vocoder_studio.melnet.sampling import default_tier_temperatures

    doc = example_mel[:, :60]
    settings = LiveSettings(chunk_frames=12, prime_frames=40, lead_seconds=None, ahead_seconds=None,
                            max_seconds=30 * DEFAULT_CONFIG.frame_seconds, seed=5)
    live = LiveContinuation(doc, settings)
    pieces: list[tuple[int, np.ndarray]] = []
    sampled = run_job(live.job(SHIPPED), on_partial=pieces.append)

    assert sampled == 30 == live.sampled and live.end == 90
    assert [(at, block.shape) for at, block in pieces] == [(60, (80, 12)), (72, (80, 12)), (84, (80, 6))]
    frames = np.concatenate([block for _, block in pieces], axis=1)
    assert frames.dtype == np.float32 and np.isfinite(frames).all() and frames.min() >= DEFAULT_CONFIG.floor_ln
    # chunk 1 is `generate --prime` of the document's last prime_frames frames, chunk 2 primed with what came
    # before it, the first chunk included
    tiers = default_tier_temperatures(melnet.config.n_tiers)
    first = sample(melnet, 12, prime=doc[:, -40:], tier_temperatures=tiers, seed=5, floor=DEFAULT_CONFIG.floor_ln)
    np.testing.assert_array_equal(pieces[0][1], first[:, 40:])
    history = np.concatenate([doc, frames], axis=1)
    second = sample(melnet, 12, prime=history[:, 72 - 40 : 72], tier_temperatures=tiers, seed=6,
                    floor=DEFAULT_CONFIG.floor_ln)
    np.testing.assert_array_equal(pieces[1][1], second[:, 40:])


def test_the_sampler_waits_for_the_playhead_and_keeps_only_so_far_ahead(example_mel: np.ndarray) -> None:
    require(SHIPPED.exists(), "the shipped models/melnet.pt is missing")
    frame_s = DEFAULT_CONFIG.frame_seconds
    settings = LiveSettings(chunk_frames=8, prime_frames=30, lead_seconds=20 * frame_s, ahead_seconds=12 * frame_s)
    live = LiveContinuation(example_mel[:, :100], settings)
    pieces: list[tuple[int, np.ndarray]] = []
    got = threading.Event()
    token = CancelToken()

    def on_partial(piece: tuple[int, np.ndarray]) -> None:
        pieces.append(piece)
        got.set()

    worker = threading.Thread(target=lambda: _run_quietly(live.job(SHIPPED), token, on_partial))
    worker.start()
    try:
        time.sleep(0.5)
        assert not pieces, "sampled before the playhead neared the end"
        live.set_playhead(85)  # within 20 frames of the end: it starts
        assert got.wait(timeout=30)
        time.sleep(1.0)
        # 8 frames a chunk, at most 12 frames past the playhead: it stopped after the second chunk (116 - 85 > 12
        # only once 116 is reached; 108 - 85 = 23 > 12 already after the first)
        assert [at for at, _ in pieces] == [100]
        live.set_playhead(100)
        deadline = time.monotonic() + 30
        while len(pieces) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [at for at, _ in pieces][:2] == [100, 108]
    finally:
        token.cancel()
        worker.join(timeout=30)
    assert not worker.is_alive()


def _run_quietly(job: Any, token: CancelToken, on_partial: Any) -> None:
    try:
        run_job(job, cancel=token, on_partial=on_partial)
    except JobCancelled:
        pass


def test_cancel_stops_the_sampler_inside_a_chunk_and_while_it_waits(example_mel: np.ndarray) -> None:
    require(SHIPPED.exists(), "the shipped models/melnet.pt is missing")
    # cancelled from its own first piece: no second chunk is finished (the check runs between frames)
    live = LiveContinuation(example_mel[:, :50], LiveSettings(chunk_frames=10, prime_frames=30, lead_seconds=None,
                                                              ahead_seconds=None))
    token = CancelToken()
    pieces: list[Any] = []
    progress: list[str] = []

    def on_partial(piece: Any) -> None:
        pieces.append(piece)
        token.cancel()

    with pytest.raises(JobCancelled):
        run_job(live.job(SHIPPED), lambda f, m: progress.append(m), token, on_partial)
    assert len(pieces) == 1 and live.sampled == 10

    # cancelled while it waits for the playhead: the thread ends
    waiting = LiveContinuation(example_mel[:, :400], LiveSettings(lead_seconds=0.1))
    token = CancelToken()
    worker = threading.Thread(target=lambda: _run_quietly(waiting.job(SHIPPED), token, None))
    worker.start()
    time.sleep(0.3)
    assert worker.is_alive()
    token.cancel()
    worker.join(timeout=10)
    assert not worker.is_alive() and waiting.sampled == 0


@pytest.fixture(scope="module")
def hifigan() -> Any:
    from vocoder_studio.vocoders import create_vocoder
    from vocoder_studio.vocoders.registry import get_entry

    reason = get_entry("hifigan").unavailable_reason()
    require(reason is None, f"HiFi-GAN is not installed: {reason}")
    return create_vocoder("hifigan", precision="float32")


class _PausedStream:
    """An output stream that never asks for audio: the player's buffer is exactly what was written to it."""

    def __init__(self, **_: Any) -> None:
        pass

    def start(self) -> None:
        pass

    def abort(self) -> None:
        pass

    def close(self) -> None:
        pass


@pytest.fixture
def paused(monkeypatch: pytest.MonkeyPatch) -> None:
    from types import SimpleNamespace

    from vocoder_studio.engine import player

    monkeypatch.setattr(player, "sounddevice_module", lambda: SimpleNamespace(OutputStream=_PausedStream))
    monkeypatch.setattr(player, "playback_status", lambda: None)


def test_the_streamed_continuation_equals_vocoding_the_whole_continued_document(
        paused: None, hifigan: Any, example_mel: np.ndarray) -> None:
    """The document's play job fills the player, blocks arrive (real speech frames stand in for MelNet's: the
    audio path is what is tested), each is vocoded as far as it is final, the document's last frames spliced
    again and the rest appended: the player's audio is the whole continued mel vocoded at once."""
    doc = Document(example_mel[:, 100:150].copy())
    renderer = Renderer(hifigan)
    player = Player(22050, blocksize=512)
    edit = ContinuationEdit(doc)
    run_job(play_job(renderer, player, doc.mel.copy(), doc.version, open_end=True))
    assert player.is_playing and player.open_end and player.supplied_end == 50 * 256
    fed = final_frames(50, renderer)  # the document's last C frames are vocoded again with what follows
    for a in range(150, 210, 20):
        edit.add(example_mel[:, a : a + 20])
        end = final_frames(doc.frames, renderer)
        fed = run_job(continuation_audio_job(renderer, player, doc.mel.copy(), doc.version, fed, end))
        assert fed == end and player.supplied_end == end * 256
    whole = hifigan.vocode(doc.mel).numpy()
    buffer = player.snapshot()
    assert buffer.size == fed * 256 == (doc.frames - hifigan.receptive_field_frames) * 256
    np.testing.assert_allclose(buffer, whole[: buffer.size], atol=1e-4)
    player.stop()


def test_an_edit_of_continued_frames_is_re_vocoded_into_the_audio_not_yet_played(
        paused: None, hifigan: Any, example_mel: np.ndarray) -> None:
    """Continued frames whose audio the player holds are edited: the update job re-vocodes the edit's reach (and
    nothing else) over the player's audio, which is then the edited document vocoded at once; an edit of frames
    not vocoded yet reaches the player through the next audio job."""
    from vocoder_studio.document import Region
    from vocoder_studio.editing import apply_gain

    doc = Document(example_mel[:, 100:150].copy())
    renderer = Renderer(hifigan)
    player = Player(22050, blocksize=512)
    live, edit = LiveContinuation(doc.mel), ContinuationEdit(doc)
    c, hop = hifigan.receptive_field_frames, hifigan.hop_length
    run_job(play_job(renderer, player, doc.mel.copy(), doc.version, open_end=True))
    for a in range(150, 250, 20):
        edit.add(example_mel[:, a : a + 20])
        run_job(live.audio_job(lambda: renderer, player, doc.mel.copy(), doc.version))
    assert live.fed == 150 - c and player.supplied_end == live.fed * hop
    before = player.snapshot()

    apply_gain(doc, Region(70, 90, 0, 80), -20.0)  # continued frames, vocoded and not yet played
    vocoded = renderer.vocoded_frames
    job = live.update_job(lambda: renderer, player, doc.mel.copy(), doc.version)
    assert run_job(job) == 20 + 2 * c == renderer.vocoded_frames - vocoded
    after = player.snapshot()
    whole = hifigan.vocode(doc.mel).numpy()
    np.testing.assert_allclose(after, whole[: after.size], atol=1e-4)
    changed = np.flatnonzero(np.abs(after - before).reshape(-1, hop).max(axis=1) > 1e-4)
    assert changed.min() >= 70 - c and changed.max() < 90 + c and changed.size > 20  # the edit's reach only

    apply_gain(doc, Region(140, 146, 0, 80), -20.0)  # past the audio the player holds (but within C of it)
    assert live.fed is not None
    assert run_job(live.update_job(lambda: renderer, player, doc.mel.copy(), doc.version)) == live.fed - (140 - c)
    edit.add(example_mel[:, 250:270])  # the next block's audio job vocodes the edited frames
    run_job(live.audio_job(lambda: renderer, player, doc.mel.copy(), doc.version))
    final = player.snapshot()
    np.testing.assert_allclose(final, hifigan.vocode(doc.mel).numpy()[: final.size], atol=1e-4)
    assert final.size == (170 - c) * hop
    player.stop()
    assert run_job(live.update_job(lambda: renderer, player, doc.mel.copy(), doc.version)) == 0  # stopped


def test_an_open_ended_player_fades_into_a_gap_and_out_of_it(clocked: type[ClockedStream]) -> None:  # noqa: F811
    t = np.arange(int(0.6 * 22050)) / 22050
    tone = (0.5 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    player = Player(22050, blocksize=512)
    player.start(tone.size, hold=True, open_end=True)
    player.write(tone)
    player.release()
    deadline = time.monotonic() + 5
    while not player.waiting and time.monotonic() < deadline:
        time.sleep(0.01)
    assert player.waiting and player.gaps == 1 and player.is_playing  # ran dry: silent, still open
    time.sleep(0.2)
    part = tone[: tone.size // 2]
    player.write(part)  # less than REFILL_S (0.5 s): it keeps waiting
    time.sleep(0.2)
    assert player.waiting
    player.write(tone)
    player.finish()
    assert player.wait(timeout=5)
    player.stop()
    played = clocked.made[-1].audio()
    loud = np.flatnonzero(np.abs(played) > 1e-6)
    gap = np.flatnonzero(np.diff(loud) > 1000)
    assert gap.size == 1, "one gap"
    before, after = loud[gap[0]], loud[gap[0] + 1]
    # the sound fades to the gap and out of it: no step larger than the tone's own between samples
    step = float(np.max(np.abs(np.diff(tone))))
    assert abs(played[before]) < 0.02 and abs(played[after]) < 0.02
    assert float(np.max(np.abs(np.diff(played)))) <= step + 1e-6
    assert player.position == 2 * tone.size + part.size  # every sample written was played (the fades are on them)
    assert GAP_FADE < tone.size


def test_the_continuation_is_one_undo_step_stop_keeps_what_was_heard_esc_drops_it(example_mel: np.ndarray) -> None:
    original = example_mel[:, :50].copy()
    doc = Document(original.copy())
    edit = ContinuationEdit(doc)
    for a in (50, 60, 70):
        edit.add(example_mel[:, a : a + 10])
    assert doc.frames == 80 and doc.undo_label == LABEL
    assert doc.undo() and np.array_equal(doc.mel, original) and not doc.can_undo  # one step restores
    assert doc.redo() and doc.frames == 80

    assert edit.keep(65) == 15  # Stop with the playhead at frame 65: what was heard stays, one step
    assert doc.frames == 65 and np.array_equal(doc.mel[:, 50:], example_mel[:, 50:65])
    assert doc.undo() and np.array_equal(doc.mel, original) and not doc.can_undo

    doc2 = Document(original.copy())
    edit2 = ContinuationEdit(doc2)
    edit2.add(example_mel[:, 50:70])
    edit2.discard()  # Esc: as it was; Redo brings it back
    assert np.array_equal(doc2.mel, original) and doc2.redo_label == LABEL
    assert doc2.redo() and doc2.frames == 70

    doc3 = Document(original.copy())  # Stop before the end was reached: nothing heard, nothing kept
    edit3 = ContinuationEdit(doc3)
    edit3.add(example_mel[:, 50:60])
    assert edit3.keep(40) == 0 and np.array_equal(doc3.mel, original)


def test_bad_settings_and_mels_are_refused(example_mel: np.ndarray) -> None:
    with pytest.raises(VocoderStudioError, match="chunk_frames"):
        LiveContinuation(example_mel, LiveSettings(chunk_frames=0))
    with pytest.raises(VocoderStudioError, match="ahead_seconds"):
        LiveContinuation(example_mel, LiveSettings(ahead_seconds=float("nan")))
    with pytest.raises(MelShapeError, match="expected a mel"):
        LiveContinuation(np.zeros((80, 0), np.float32))
