from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vocoder_studio.audio import DEFAULT_CONFIG, db_to_ln, ln_to_db, mel_to_linear, wav_to_mel
from vocoder_studio.audio.mel import mel_filterbank
from vocoder_studio.errors import MelShapeError


def reference_mel(audio: np.ndarray) -> np.ndarray:
    """HiFi-GAN V1's front-end written with librosa: reflect pad 384, centre off, sqrt(|X|²+1e-9), mel, ln."""
    c = DEFAULT_CONFIG
    padded = np.pad(audio, (c.pad, c.pad), mode="reflect")
    spec = librosa.stft(padded, n_fft=c.n_fft, hop_length=c.hop_length, win_length=c.win_length,
                        window="hann", center=False)
    magnitude = np.sqrt(spec.real**2 + spec.imag**2 + 1e-9)
    mel = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmin=0, fmax=8000) @ magnitude
    return np.log(np.clip(mel, 1e-5, None))[:, : len(audio) // 256]


def test_matches_the_hifigan_reference_on_real_speech(speech: np.ndarray) -> None:
    clip = speech[: 3 * 22050 + 77]
    mel = wav_to_mel(clip)
    assert mel.dtype == np.float32
    assert mel.shape == (80, len(clip) // 256)
    expected = reference_mel(clip.astype(np.float64))
    assert np.max(np.abs(mel - expected)) < 2e-3
    assert np.mean(np.abs(mel - expected)) < 1e-4


def test_torch_batch_and_numpy_agree(speech: np.ndarray) -> None:
    clip = speech[:22050]
    batch = torch.from_numpy(np.stack([clip, clip * 0.5]))
    mel = wav_to_mel(batch)
    assert isinstance(mel, torch.Tensor) and mel.shape == (2, 80, 22050 // 256)
    np.testing.assert_allclose(mel[0].numpy(), wav_to_mel(clip), atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(samples=st.integers(min_value=256, max_value=5000))
def test_frames_are_floor_of_samples_over_hop(samples: int) -> None:
    audio = np.random.default_rng(samples).uniform(-0.5, 0.5, samples).astype(np.float32)
    mel = wav_to_mel(audio)
    assert mel.shape == (80, samples // 256)
    assert np.all(mel >= np.log(1e-5) - 1e-6)


def test_too_short_or_wrong_rank_is_a_clear_error() -> None:
    with pytest.raises(MelShapeError, match="shorter than one frame"):
        wav_to_mel(np.zeros(100, np.float32))
    with pytest.raises(MelShapeError, match="1-D or 2-D"):
        wav_to_mel(np.zeros((2, 2, 500), np.float32))


def test_db_conversion_round_trips() -> None:
    x = np.array([-11.5, 0.0, 2.0], np.float32)
    np.testing.assert_allclose(db_to_ln(ln_to_db(x)), x, rtol=1e-6)
    assert ln_to_db(np.array([1.0]))[0] == pytest.approx(8.685889638)


def test_pseudo_inverse_recovers_the_mel_of_its_magnitude(speech_mel: np.ndarray) -> None:
    magnitude = mel_to_linear(torch.from_numpy(speech_mel))
    assert magnitude.shape == (513, speech_mel.shape[1]) and float(magnitude.min()) >= 0
    remel = np.log(np.clip(mel_filterbank() @ magnitude.numpy(), 1e-5, None))
    loud = speech_mel > -6
    assert np.mean(np.abs(remel - speech_mel)[loud]) < 0.25


def test_cached_tables_are_librosas() -> None:
    from vocoder_studio.audio.mel import mel_frequencies

    expected = librosa.filters.mel(sr=22050, n_fft=1024, n_mels=80, fmin=0, fmax=8000)
    np.testing.assert_array_equal(mel_filterbank(), expected.astype(np.float32))
    np.testing.assert_allclose(mel_frequencies(), librosa.mel_frequencies(n_mels=82, fmin=0, fmax=8000)[1:-1])
