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


@pytest.mark.parametrize("magnitude", ["network", "mel"])
def test_istft_pghi_start_streams_exactly(speech_mel: np.ndarray, magnitude: str) -> None:
    """``init=pghi``: PGHI in absolute blocks with the network's phase for the quiet coefficients; a streamed
    chunk (64 frames, blocks of 64 that straddle it) gets the whole file's start, so streaming splices exactly."""
    torch.manual_seed(0)
    vocoder = ISTFTVocoder(model=ISTFTGenerator(SMALL_ISTFT), phase_refine=2, magnitude=magnitude, init="pghi")
    full = vocoder.vocode(speech_mel[:, :300])
    streamed = torch.cat(list(vocoder.stream(speech_mel[:, :300], chunk_frames=48, first_chunk_frames=20)))
    assert float(full.abs().max()) > 1e-3
    # exact up to float rounding: the mel's pseudo-inverse is computed frame by frame, the same bits in a slice; the
    # network's magnitudes on a slice differ from the whole pass's in the last bits (another matrix blocking), and
    # PGHI's bucket order can turn on them (74-90 dB measured)
    assert snr_db(full.numpy(), streamed.numpy()) > (80 if magnitude == "mel" else 60)
    own = ISTFTVocoder(model=vocoder.model, phase_refine=2, magnitude=magnitude).vocode(speech_mel[:, :300])
    assert snr_db(full.numpy(), own.numpy()) < 40  # a different start: not the network's phase again


def test_istft_pghi_start_is_nearer_a_consistent_stft(speech_mel: np.ndarray) -> None:
    """On the mel's pseudo-inverse magnitude of real speech, PGHI's start (the network's phase only where PGHI
    leaves coefficients) is far nearer a consistent STFT than an untrained network's phase, and refinement from it
    never ends above it."""
    torch.manual_seed(3)
    vocoder = ISTFTVocoder(model=ISTFTGenerator(SMALL_ISTFT), magnitude="mel", init="pghi")
    mel = torch.from_numpy(speech_mel[None, :, :200].copy())
    magnitude = mel_to_linear(mel).transpose(1, 2)
    with torch.inference_mode():
        start = vocoder._pghi_phase(mel)
        own = vocoder.model.spectrum(mel)[1].float()
    assert _convergence(magnitude, start) < 0.5 * _convergence(magnitude, own)
    curve = [_convergence(magnitude, refine_phase(magnitude, start, n)) for n in (0, 1, 2, 4, 8)]
    assert all(c <= curve[0] + 1e-6 for c in curve[1:]), curve


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


def test_waveform_refinement_never_ends_above_its_start(speech_mel: np.ndarray) -> None:
    """A waveform vocoder's refinement (after mel matching, from its own STFT's phase): the spectral convergence
    against the mel-matched magnitudes ends no higher than where it starts, for 1 to 8 iterations."""
    from vocoder_studio.vocoders.stft import mel_match

    torch.manual_seed(6)
    model = lively(MelGANGenerator(MelGANConfig(ngf=4))).eval()
    mel = torch.from_numpy(speech_mel[None, :, :160].copy())
    with torch.inference_mode():
        audio = model(mel)
        spec = front_end_stft(audio).transpose(1, 2)
        log_magnitude = torch.log(spec.abs().clamp_min(1e-9))
        window = torch.hann_window(DEFAULT_CONFIG.win_length)
        # the magnitudes the refinement works against: one mel-matching step's
        matched = mel_match(mel, log_magnitude, spec.angle(), DEFAULT_CONFIG, window, 1)
        magnitude = front_end_stft(matched).abs().transpose(1, 2)
        start = front_end_stft(matched).angle().transpose(1, 2)
        curve = [_convergence(magnitude, refine_phase(magnitude, start, n)) for n in (0, 1, 2, 4, 8)]
    assert all(c <= curve[0] + 1e-6 for c in curve[1:]), curve


def test_every_phase_parameter_is_listed_with_its_range_and_help() -> None:
    """``vocoders --json`` (each entry's ``to_json``): the phase parameters carry a range or their choices, a
    unit where they count iterations, and a help line naming what they do."""
    listed = {e.name: e.to_json()["parameters"] for e in (get_entry(n) for n in ("griffin-lim", "istft", "melgan",
                                                                                    "hifigan"))}
    assert listed["griffin-lim"]["init"]["choices"] == ["random", "zeros", "pghi"]
    assert "Průša" in listed["griffin-lim"]["init"]["help"]
    assert listed["istft"]["magnitude"]["choices"] == ["network", "mel"]
    assert listed["istft"]["init"]["choices"] == ["network", "pghi"] and "Průša" in listed["istft"]["init"]["help"]
    for name in ("istft", "melgan", "hifigan"):
        refine = listed[name]["phase_refine"]
        assert (refine["min"], refine["max"], refine["unit"]) == (0, 32, "iterations") and refine["help"]
    for parameters in listed.values():
        for schema in parameters.values():
            assert schema["help"] and (("min" in schema and "max" in schema) or schema.get("choices"))


def test_phase_refine_is_in_every_magnitude_path_schema() -> None:
    for name in ("istft", "melgan", "hifigan"):
        parameter = get_entry(name).parameter("phase_refine")
        assert parameter is not None and parameter.kind == "int" and parameter.min == 0
        assert "Griffin & Lim 1984" in parameter.help
    assert get_entry("istft").parameter("magnitude") is not None
    with pytest.raises(ValueError, match="phase_refine"):
        ISTFTVocoder(model=ISTFTGenerator(SMALL_ISTFT), phase_refine=-1)
