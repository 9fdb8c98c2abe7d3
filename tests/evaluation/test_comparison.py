"""The compare job on the real example: two vocoders render the same samples, scored against the recording;
results are cached per document version and vocoder settings; an edit renders again, only where it reaches."""

from __future__ import annotations

import numpy as np
import pytest

from vocoder_studio.audio import load_audio
from vocoder_studio.document import Document, Region, open_document
from vocoder_studio.editing import apply_gain
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.jobs import run_job
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.evaluation.comparison import CompareCache, Comparison, difference_db, missing_scorers
from vocoder_studio.vocoders.choice import VocoderChoice

from ..conftest import EXAMPLE

GL4 = VocoderChoice.make("griffin-lim", "cpu", iterations=4)
HIFIGAN = VocoderChoice.make("hifigan", "cpu")
START, END = 40, 200


@pytest.fixture(scope="module")
def render_cache() -> RenderCache:
    return RenderCache()  # vocoders built once for the module


def compare(cache: CompareCache, doc: Document, start: int = START, end: int = END) -> Comparison:
    return run_job(cache.job(doc.mel.copy(), doc.uid, doc.version, start, end, [GL4, HIFIGAN], doc.source,
                             doc.config))


def test_two_vocoders_render_the_same_samples_and_are_scored_against_the_recording(render_cache) -> None:
    doc = open_document(EXAMPLE)
    result = compare(CompareCache(render_cache), doc)
    hop, frames = doc.config.hop_length, END - START
    assert [t.choice for t in result.takes] == [GL4, HIFIGAN]
    assert result.reference is not None
    np.testing.assert_array_equal(result.reference, load_audio(EXAMPLE)[START * hop : END * hop])
    np.testing.assert_array_equal(result.mel, doc.mel[:, START:END])
    for take in result.takes:
        assert take.audio.shape == (frames * hop,) and take.audio.dtype == np.float32
        assert take.mel.shape == take.diff_db.shape == (doc.n_mels, frames)
        assert 0.0 < take.scores.mel_l1 < 1.0  # the output says roughly what the mel says
    if not missing_scorers():
        gl, hifigan = (t.scores for t in result.takes)
        assert gl.pesq_wb is not None and hifigan.pesq_wb is not None and gl.stoi is not None
        assert 1.0 <= gl.pesq_wb < hifigan.pesq_wb <= 4.64  # 4 Griffin-Lim iterations sound worse than HiFi-GAN
        assert "PESQ" in hifigan.describe() and "STOI" in hifigan.describe()


def test_the_same_document_gives_back_the_same_takes_and_an_edit_renders_only_what_it_reaches(render_cache) -> None:
    doc = open_document(EXAMPLE)
    cache = CompareCache(render_cache)
    first = compare(cache, doc)
    again = compare(cache, doc)
    assert cache.renders == 2
    assert all(a is b for a, b in zip(first.takes, again.takes, strict=True))

    renderer = cache.renderer(doc.uid, HIFIGAN)
    before = renderer.vocoded_frames
    apply_gain(doc, Region(150, 160, 0, doc.n_mels), 12.0)
    edited = compare(cache, doc)
    assert cache.renders == 4
    assert all(a is not b for a, b in zip(first.takes, edited.takes, strict=True))
    reach = renderer.vocoder.receptive_field_frames
    assert 0 < renderer.vocoded_frames - before <= 10 + 2 * reach  # only the edit and its context
    hop = doc.config.hop_length
    old, new = first.takes[1].audio, edited.takes[1].audio
    inside = slice((150 - START) * hop, (160 - START) * hop)
    assert np.sqrt(np.mean(new[inside] ** 2)) > 2 * np.sqrt(np.mean(old[inside] ** 2))  # +12 dB is heard
    np.testing.assert_allclose(new[: (150 - reach - START) * hop], old[: (150 - reach - START) * hop], atol=1e-4)
    assert edited.reference is None and "edited" in edited.note  # PESQ/STOI need the unedited recording
    assert edited.takes[1].scores.pesq_wb is None


def test_a_mel_without_a_recording_is_compared_on_mel_l1_only(render_cache, example_mel) -> None:
    doc = Document(example_mel)
    result = compare(CompareCache(render_cache), doc, 0, 64)
    assert result.reference is None and "no recording" in result.note
    assert all(t.scores.pesq_wb is None and t.scores.stoi is None for t in result.takes)
    assert all(np.isfinite(t.scores.mel_l1) for t in result.takes)


def test_a_range_outside_the_document_is_refused(example_mel) -> None:
    doc = Document(example_mel)
    with pytest.raises(VocoderStudioError, match="outside"):
        CompareCache().job(doc.mel.copy(), doc.uid, doc.version, 10, doc.frames + 1, [GL4, HIFIGAN])


def test_the_difference_map_is_zero_for_the_same_mel_and_shows_a_gain_in_db(example_mel) -> None:
    mel = example_mel[:, :200]
    assert np.all(difference_db(mel, mel) == 0.0)
    louder = difference_db(mel + np.float32(np.log(10 ** (6 / 20))), mel)
    assert np.median(louder) == pytest.approx(6.0, abs=1e-3)
    assert louder.min() >= 0.0
