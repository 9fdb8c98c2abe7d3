"""Export and render-ahead as engine jobs: no Qt, real speech (the bundled example), the real render cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocoder_studio.document import Document, Region
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.export import export_frames, export_job, export_wav
from vocoder_studio.engine.jobs import CancelToken, run_job
from vocoder_studio.engine.prerender import render_ahead_job
from vocoder_studio.errors import JobCancelled, VocoderStudioError
from vocoder_studio.vocoders.choice import VocoderChoice

FAST = VocoderChoice.make("griffin-lim", "cpu", iterations=2)


@pytest.fixture
def doc(example_mel: np.ndarray) -> Document:
    return Document(example_mel[:, :300], source="example.flac")


def test_export_writes_the_cached_audio_of_the_document_and_of_the_selection(doc: Document, tmp_path: Path) -> None:
    cache = RenderCache()
    whole = export_wav(doc, tmp_path / "whole.wav", cache, FAST, sample_format="float32")
    renderer = cache.renderer(doc.uid, FAST)
    audio, rate = sf.read(whole, dtype="float32")
    assert rate == renderer.vocoder.sample_rate == doc.config.sample_rate
    assert audio.shape == (doc.frames * doc.config.hop_length,)
    np.testing.assert_array_equal(audio, renderer.render(doc.mel, doc.version))  # what the cache holds
    assert np.sqrt(np.mean(audio**2)) > 1e-3
    vocoded = renderer.vocoded_frames
    doc.selection = Region(100, 180, 10, 20)  # only the frames count, not the bands
    part = export_wav(doc, tmp_path / "part.wav", cache, FAST, selection_only=True, sample_format="float32")
    sel, _ = sf.read(part, dtype="float32")
    hop = doc.config.hop_length
    np.testing.assert_array_equal(sel, audio[100 * hop : 180 * hop])
    assert renderer.vocoded_frames == vocoded  # straight from the cache


def test_export_reads_the_document_when_made_not_when_run(doc: Document, tmp_path: Path) -> None:
    cache = RenderCache()
    job = export_job(doc, tmp_path / "x.wav", cache, FAST, sample_format="pcm16")
    doc.write(Region(0, doc.frames, 0, doc.n_mels), np.full((doc.n_mels, doc.frames), -11.0, np.float32))
    out = run_job(job)
    info = sf.info(out)
    assert info.frames == 300 * doc.config.hop_length and info.subtype == "PCM_16"
    audio, _ = sf.read(out)
    assert np.sqrt(np.mean(audio**2)) > 1e-3  # the speech, not the silence written afterwards


def test_export_selection_without_one_and_a_cancelled_export(doc: Document, tmp_path: Path) -> None:
    with pytest.raises(VocoderStudioError, match="nothing is selected"):
        export_frames(doc, selection_only=True)
    assert export_frames(doc) == (0, doc.frames)
    token = CancelToken()
    token.cancel()
    with pytest.raises(JobCancelled):
        export_wav(doc, tmp_path / "c.wav", RenderCache(), FAST, cancel=token)
    assert not (tmp_path / "c.wav").exists()


def test_render_ahead_fills_the_cache_from_the_play_position(doc: Document) -> None:
    cache = RenderCache()
    seen: list[float] = []
    frames = run_job(render_ahead_job(cache, doc.uid, FAST, doc.mel.copy(), doc.version, start=200),
                     lambda fraction, message: seen.append(fraction))
    renderer = cache.renderer(doc.uid, FAST)
    assert frames == doc.frames and renderer.is_complete()
    assert seen and seen[-1] == pytest.approx(1.0)
    again = run_job(render_ahead_job(cache, doc.uid, FAST, doc.mel.copy(), doc.version, start=0))
    assert again == 0  # all cached: nothing vocoded


def test_render_ahead_stops_between_chunks_when_cancelled(doc: Document) -> None:
    cache = RenderCache()
    token = CancelToken()

    def progress(fraction: float, message: str) -> None:
        token.cancel()  # after the first chunk

    with pytest.raises(JobCancelled):
        run_job(render_ahead_job(cache, doc.uid, FAST, doc.mel.copy(), doc.version, 0, chunk_frames=64),
                progress, token)
    renderer = cache.renderer(doc.uid, FAST)
    assert renderer.is_complete(0, 64) and not renderer.is_complete()
