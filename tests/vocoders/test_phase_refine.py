"""``phase_refine``: Griffin-Lim iterations from a vocoder's own phase against its mel-matched magnitudes. The
spectral convergence never grows; the receptive field grows by 3 frames an iteration, measured by gradients; and
streaming with it splices exactly."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG, front_end_stft, mel_to_linear
from vocoder_studio.evaluation.metrics import snr_db
from vocoder_studio.vocoders import get_entry
from vocoder_studio.vocoders.istft import ISTFTConfig, ISTFTGenerator, ISTFTVocoder
from vocoder_studio.vocoders.melgan import MelGANConfig, MelGANGenerator, MelGANVocoder
from vocoder_studio.vocoders.stft import inverse_stft, refine_phase

from .conftest import lively

HOP = DEFAULT_CONFIG.hop_length
SMALL_ISTFT = ISTFTConfig(dim=32, intermediate_dim=64, num_layers=2)


def _convergence(magnitude: torch.Tensor, phase: torch.Tensor) -> float:
    """Spectral convergence ‖|STFT(iSTFT(S e^{iφ}))| − S‖ / ‖S‖ of ``(1, T, bins)`` arrays."""
    audio = inverse_stft(torch.polar(magnitude, phase), DEFAULT_CONFIG)
    rebuilt = front_end_stft(audio).abs().transpose(1, 2)
    return float((rebuilt - magnitude).norm() / magnitude.norm())


@pytest.mark.parametrize("start", ["random", "network"])
def test_refinement_never_raises_the_spectral_convergence(speech_mel: np.ndarray, start: str) -> None:
    """From a random phase and from an (untrained) network's phase, against the mel's pseudo-inverse magnitude of
    real speech: the fast iterations (the default) never end above the start, and the classic ones never rise
    from one iteration to the next (Griffin & Lim's monotonicity)."""
    mel = torch.from_numpy(speech_mel[None, :, :200].copy())
    magnitude = mel_to_linear(mel).transpose(1, 2)
    torch.manual_seed(3)
    if start == "random":
        phase = torch.rand(magnitude.shape) * 2 * torch.pi
    else:
        with torch.inference_mode():
            phase = ISTFTGenerator(SMALL_ISTFT).spectrum(mel)[1].float()
    fast = [_convergence(magnitude, refine_phase(magnitude, phase, n)) for n in range(9)]
    assert all(c <= fast[0] for c in fast[1:]), fast
    assert fast[-1] < 0.9 * fast[0]
    classic = [_convergence(magnitude, refine_phase(magnitude, phase, n, momentum=0.0)) for n in (0, 1, 2, 4)]
    assert all(b <= a + 1e-6 for a, b in zip(classic, classic[1:], strict=False)), classic


def test_istft_refinement_widens_the_support_by_three_frames_an_iteration() -> None:
    torch.manual_seed(1)
    model = ISTFTGenerator(SMALL_ISTFT).double()
    k = 40
    for steps, refine in ((1, 1), (0, 2), (1, 2)):
        mel = (torch.randn(1, DEFAULT_CONFIG.n_mels, 101, dtype=torch.float64) - 4).requires_grad_(True)
        model.synthesize(mel, steps, phase_refine=refine)[0, k * HOP : (k + 1) * HOP].sum().backward()
        assert mel.grad is not None
        reached = (mel.grad.abs().sum(dim=1)[0] > 0).nonzero().flatten()
        field = SMALL_ISTFT.receptive_field_frames + 3 * (steps + refine)
        assert (int(reached.min()), int(reached.max())) == (k - field, k + field)
        vocoder = ISTFTVocoder(model=ISTFTGenerator(SMALL_ISTFT), mel_match_steps=steps, phase_refine=refine)
        assert vocoder.receptive_field_frames == field


@pytest.mark.parametrize("magnitude", ["network", "mel"])
def test_istft_refinement_streams_exactly(speech_mel: np.ndarray, magnitude: str) -> None:
    torch.manual_seed(0)
    vocoder = ISTFTVocoder(model=ISTFTGenerator(SMALL_ISTFT), phase_refine=3, magnitude=magnitude)
    full = vocoder.vocode(speech_mel[:, :400])
    streamed = torch.cat(list(vocoder.stream(speech_mel[:, :400], chunk_frames=64)))
    assert float(full.abs().max()) > 1e-3
    assert snr_db(full.numpy(), streamed.numpy()) > 80  # exact up to float rounding (89.5 dB measured: the
    # momentum carries the rounding of each iteration into the next; mel matching alone gives > 90)


def test_waveform_vocoder_refinement_streams_exactly(speech_mel: np.ndarray) -> None:
    """MelGAN (a waveform vocoder: refined from its own STFT's phase after mel matching): the field grows by 3 an
    iteration beyond mel matching's 4, and streaming with it splices exactly."""
    torch.manual_seed(6)
    model = lively(MelGANGenerator(MelGANConfig(ngf=4))).eval()
    vocoder = MelGANVocoder(model=model, mel_match_steps=1, phase_refine=2)
    assert vocoder.receptive_field_frames == MelGANConfig(ngf=4).receptive_field_frames + 4 + 3 * 2
    full = vocoder.vocode(speech_mel[:, :300])
    streamed = torch.cat(list(vocoder.stream(speech_mel[:, :300], chunk_frames=64)))
    assert snr_db(full.numpy(), streamed.numpy()) > 80  # exact up to float rounding, as above


def test_phase_refine_is_in_every_magnitude_path_schema() -> None:
    for name in ("istft", "melgan", "hifigan"):
        parameter = get_entry(name).parameter("phase_refine")
        assert parameter is not None and parameter.kind == "int" and parameter.min == 0
        assert "Griffin & Lim 1984" in parameter.help
    assert get_entry("istft").parameter("magnitude") is not None
    with pytest.raises(ValueError, match="phase_refine"):
        ISTFTVocoder(model=ISTFTGenerator(SMALL_ISTFT), phase_refine=-1)
