"""Training losses on real speech: zero for identical signals, positive and differentiable otherwise, and the mel
loss is the front-end's mel L1."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG, wav_to_mel
from vocoder_studio.training.losses import (
    STFT_RESOLUTIONS,
    mel_l1_loss,
    multi_resolution_stft_loss,
    reconstruction_loss,
    stft_loss,
)


@pytest.fixture(scope="module")
def batch(speech: np.ndarray) -> torch.Tensor:
    """Two real speech segments of 8192 samples, (2, 8192)."""
    return torch.from_numpy(np.stack([speech[20000:28192], speech[60000:68192]]))


def test_identical_signals_cost_nothing(batch: torch.Tensor) -> None:
    assert float(mel_l1_loss(batch, batch)) == 0.0
    for n_fft, hop, win in STFT_RESOLUTIONS:
        convergence, log_l1 = stft_loss(batch, batch, n_fft, hop, win)
        assert float(convergence) == 0.0 and float(log_l1) == 0.0
    total, parts = reconstruction_loss(batch, batch)
    assert float(total) == 0.0 and parts == {"mel_l1": 0.0, "stft_sc": 0.0, "stft_mag": 0.0, "total": 0.0}
    assert float(mel_l1_loss(batch[0], batch[0])) == 0.0  # one waveform (samples,)


def test_different_signals_cost_something(batch: torch.Tensor) -> None:
    noisy = batch + 0.01 * torch.randn(batch.shape, generator=torch.Generator().manual_seed(0))
    convergence, log_l1 = multi_resolution_stft_loss(noisy, batch)
    assert float(mel_l1_loss(noisy, batch)) > 0 and float(convergence) > 0 and float(log_l1) > 0
    # twice as loud: |2Y| − |Y| = |Y|, so the spectral convergence is 1; each log-magnitude is ln 2 higher, less
    # where the floor clamps (the quiet top band of these clips): between half of ln 2 and ln 2 on average
    convergence, log_l1 = multi_resolution_stft_loss(2 * batch, batch)
    assert float(convergence) == pytest.approx(1.0, abs=1e-4)
    for loss in (log_l1, mel_l1_loss(2 * batch, batch)):
        assert 0.5 * math.log(2) < float(loss) <= math.log(2) + 1e-6


def test_losses_are_differentiable(batch: torch.Tensor) -> None:
    prediction = (0.5 * batch).clone().requires_grad_(True)
    convergence, log_l1 = multi_resolution_stft_loss(prediction, batch)
    for loss in (mel_l1_loss(prediction, batch), convergence, log_l1):  # each term on its own
        (grad,) = torch.autograd.grad(loss, prediction, retain_graph=True)
        assert bool(torch.isfinite(grad).all()) and float(grad.abs().sum()) > 0
    total, _ = reconstruction_loss(prediction, batch)
    total.backward()
    assert prediction.grad is not None
    assert bool(torch.isfinite(prediction.grad).all()) and float(prediction.grad.abs().sum()) > 0
    # a small step against the gradient lowers the loss
    with torch.no_grad():
        stepped = prediction - 1e-4 * prediction.grad / prediction.grad.abs().max()
    assert float(reconstruction_loss(stepped, batch)[0]) < float(total.detach())


def test_mel_loss_is_the_mean_difference_of_front_end_mels(batch: torch.Tensor) -> None:
    other = batch.flip(-1)
    expected = np.mean(np.abs(wav_to_mel(other.numpy()) - wav_to_mel(batch.numpy())))
    assert float(mel_l1_loss(other, batch)) == pytest.approx(float(expected), rel=1e-6)
    assert wav_to_mel(batch).shape == (2, DEFAULT_CONFIG.n_mels, batch.shape[-1] // DEFAULT_CONFIG.hop_length)


def test_shapes_must_match(batch: torch.Tensor) -> None:
    with pytest.raises(ValueError, match="one shape"):
        mel_l1_loss(batch, batch[:, :4096])
    with pytest.raises(ValueError, match="one shape"):
        multi_resolution_stft_loss(batch.unsqueeze(1), batch.unsqueeze(1))
