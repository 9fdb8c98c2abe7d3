"""The iSTFT vocoder (Vocos-style): output length, an exact inverse STFT aligned with the front-end, an honest
receptive field that makes streaming splice exactly, checkpoints that round-trip or make the entry unavailable
with the reason, and a model that learns."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vocoder_studio.audio.mel import DEFAULT_CONFIG, wav_to_mel
from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.training.losses import reconstruction_loss
from vocoder_studio.vocoders import create_vocoder, get_entry, registry
from vocoder_studio.vocoders.checkpoints import ModelCard, model_dirs
from vocoder_studio.vocoders.istft import (
    CHECKPOINT,
    ISTFTConfig,
    ISTFTGenerator,
    ISTFTVocoder,
    count_parameters,
    inverse_stft,
    load_model,
    read_checkpoint,
    save_model,
)

HOP = DEFAULT_CONFIG.hop_length
SMALL = ISTFTConfig(dim=32, intermediate_dim=64, num_layers=2)


def snr_db(reference: torch.Tensor, estimate: torch.Tensor) -> float:
    noise = (reference - estimate).double().pow(2).sum().clamp_min(1e-30)
    return float(10 * torch.log10(reference.double().pow(2).sum() / noise))


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty models directory searched first ($VOCODER_STUDIO_MODELS), with the registry re-read."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(folder))
    registry.refresh()
    yield folder
    registry.refresh()


def write_card(checkpoint: Path, **fields: object) -> None:
    card = ModelCard(name="istft", summary="iSTFT test model, untrained", steps=0,
                     mel_config={"hop_length": DEFAULT_CONFIG.hop_length, "n_fft": DEFAULT_CONFIG.n_fft})
    checkpoint.with_suffix(".json").write_text(json.dumps({**card.to_dict(), **fields}))


def test_default_size_and_receptive_field() -> None:
    config = ISTFTConfig()
    assert (config.dim, config.intermediate_dim, config.num_layers) == (256, 768, 8)
    assert 3.4e6 < count_parameters(ISTFTGenerator(config)) < 3.8e6
    # embedding + 8 blocks, kernel 7: 3 · 9 = 27 frames; the overlap-add of 1024-sample frames 256 apart: 2
    assert config.receptive_field_frames == 27 + 2
    assert ISTFTConfig(num_layers=4, kernel_size=5).receptive_field_frames == 2 * 5 + 2
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        ISTFTConfig(kernel_size=4)
    with pytest.raises(ValueError, match="multiple of hop_length"):
        ISTFTConfig(n_fft=1000)


@settings(max_examples=15, deadline=None)
@given(frames=st.integers(1, 70), batch=st.integers(1, 3))
def test_each_frame_gives_one_hop_of_samples(frames: int, batch: int) -> None:
    torch.manual_seed(frames)
    model = ISTFTGenerator(SMALL).eval()
    with torch.inference_mode():
        audio = model(torch.randn(batch, DEFAULT_CONFIG.n_mels, frames) - 4)
    assert audio.shape == (batch, frames * HOP) and audio.dtype == torch.float32
    assert bool(torch.isfinite(audio).all())


def test_vocoder_output_length_with_the_default_model(speech_mel: np.ndarray) -> None:
    torch.manual_seed(0)
    vocoder = ISTFTVocoder(model=ISTFTGenerator())
    for frames in (1, 7, 100):
        assert vocoder.vocode(speech_mel[:, :frames]).shape == (frames * HOP,)
    assert vocoder.vocode(np.stack([speech_mel[:, :20]] * 2)).shape == (2, 20 * HOP)


def test_inverse_stft_reconstructs_real_speech(speech: np.ndarray) -> None:
    """The STFT the front-end takes (reflect-pad 384, center=False), inverted: every sample back to > 60 dB,
    the outermost n_fft samples included (no exclusion is needed), so frame k sits at [256 k − 384, 256 k + 640)."""
    config = ISTFTConfig()
    x = torch.from_numpy(speech).unsqueeze(0)
    padded = torch.nn.functional.pad(x.unsqueeze(1), (config.pad, config.pad), mode="reflect").squeeze(1)
    spec = torch.stft(padded, config.n_fft, config.hop_length, config.win_length,
                      torch.hann_window(config.win_length), center=False, return_complex=True)
    assert spec.shape[-1] == wav_to_mel(speech).shape[-1]  # one STFT frame per mel frame
    magnitude, phase = spec.abs(), spec.angle()
    y = inverse_stft(torch.polar(magnitude, phase).transpose(1, 2), config)
    assert y.shape == x.shape
    assert snr_db(x, y) > 60
    n = config.n_fft
    assert snr_db(x[:, :n], y[:, :n]) > 60 and snr_db(x[:, -n:], y[:, -n:]) > 60


def test_receptive_field_is_the_support_of_the_output() -> None:
    """One frame's hop of samples depends on exactly the mel frames within ±receptive_field_frames."""
    torch.manual_seed(1)
    model = ISTFTGenerator().double()
    mel = torch.randn(1, DEFAULT_CONFIG.n_mels, 101, dtype=torch.float64, requires_grad=True)
    k = 50
    model(mel)[0, k * HOP : (k + 1) * HOP].sum().backward()
    assert mel.grad is not None
    reached = (mel.grad.abs().sum(dim=1)[0] > 0).nonzero().flatten()
    field = model.config.receptive_field_frames
    assert (int(reached.min()), int(reached.max())) == (k - field, k + field)
    assert len(reached) == 2 * field + 1


def test_mel_matching_widens_the_support_by_three_frames_a_step() -> None:
    """With mel matching one hop of output depends on the mel frames within ±(field + 3 · steps), no further."""
    torch.manual_seed(1)
    model = ISTFTGenerator(SMALL).double()
    k = 40
    for steps in (1, 2):
        mel = (torch.randn(1, DEFAULT_CONFIG.n_mels, 81, dtype=torch.float64) - 4).requires_grad_(True)
        model.synthesize(mel.float().double(), steps)[0, k * HOP: (k + 1) * HOP].sum().backward()
        assert mel.grad is not None
        reached = (mel.grad.abs().sum(dim=1)[0] > 0).nonzero().flatten()
        field = SMALL.receptive_field_frames + 3 * steps
        assert (int(reached.min()), int(reached.max())) == (k - field, k + field)
        assert ISTFTVocoder(model=ISTFTGenerator(SMALL), mel_match_steps=steps).receptive_field_frames == field


def test_mel_matching_brings_the_output_mel_to_the_input(speech: np.ndarray) -> None:
    """On a real clip an (untrained) network's output mel is far from its input; one step of mel matching
    brings it much closer, a second closer still; 0 steps is the raw forward pass."""
    torch.manual_seed(2)
    model = ISTFTGenerator(SMALL).eval()
    mel = torch.from_numpy(wav_to_mel(speech[: 100 * HOP])).unsqueeze(0)
    errors = []
    with torch.inference_mode():
        assert torch.equal(model.synthesize(mel, 0), model(mel))
        for steps in (0, 1, 2):
            errors.append(float((wav_to_mel(model.synthesize(mel, steps)) - mel).abs().mean()))
    assert errors[1] < 0.5 * errors[0] and errors[2] < errors[1]


def test_streaming_equals_the_full_pass(speech_mel: np.ndarray) -> None:
    torch.manual_seed(0)
    vocoder = ISTFTVocoder(model=ISTFTGenerator())
    assert vocoder.receptive_field_frames == 29 + 3  # backbone, overlap-add, one mel-matching step
    full = vocoder.vocode(speech_mel)
    streamed = torch.cat(list(vocoder.stream(speech_mel, chunk_frames=64)))
    assert streamed.shape == full.shape
    assert float(full.abs().max()) > 1e-3  # a real signal, not silence
    assert snr_db(full, streamed) > 90  # exact up to float rounding (the issue asks > 40 dB)
    # longer than max_frames_per_call: vocode goes in exact chunks too
    vocoder.max_frames_per_call = 100
    assert snr_db(full, vocoder.vocode(speech_mel)) > 90


def test_checkpoint_round_trip(tmp_path: Path, speech_mel: np.ndarray) -> None:
    torch.manual_seed(2)
    config = ISTFTConfig(dim=64, intermediate_dim=128, num_layers=3)
    model = ISTFTGenerator(config).eval()
    optimizer = torch.optim.AdamW(model.parameters())
    path = save_model(tmp_path / "sub" / CHECKPOINT, model, config, optimizer=optimizer.state_dict(), step=7)
    assert read_checkpoint(path)["step"] == 7 and set(read_checkpoint(path)) == {"config", "model", "optimizer",
                                                                                  "step"}
    loaded, loaded_config = load_model(path)
    assert loaded_config == config and not loaded.training
    mel = torch.from_numpy(speech_mel[None, :, :200])
    with torch.inference_mode():
        assert torch.equal(model(mel), loaded(mel))
    with pytest.raises(ValueError, match="reserved"):
        save_model(path, model, config, model=1)


def test_the_entry_loads_a_checkpoint_from_the_models_directory(models_dir: Path, speech_mel: np.ndarray) -> None:
    torch.manual_seed(3)
    model = ISTFTGenerator(SMALL).eval()
    write_card(save_model(models_dir / CHECKPOINT, model, step=0))
    entry = get_entry("istft")
    assert entry.unavailable_reason() is None and entry.summary() == "iSTFT test model, untrained"
    vocoder = create_vocoder("istft")
    # the entry's default: PGHI's phase (the network's for the quiet coefficients) on the mel's pseudo-inverse,
    # 2 Griffin-Lim iterations, one mel-matching step: each widens the field by 3 frames (STFT frames 4 hops apart
    # never meet)
    assert isinstance(vocoder, ISTFTVocoder) and vocoder.receptive_field_frames == SMALL.receptive_field_frames + 9
    assert (vocoder.init, vocoder.phase_refine, vocoder.magnitude, vocoder.mel_match_steps) == ("pghi", 2, "mel", 1)
    mel = torch.from_numpy(speech_mel[None, :, :50])
    with torch.inference_mode():
        expected = model.synthesize(mel, phase_refine=2, magnitude="mel", phase=vocoder._pghi_phase(mel))
    assert torch.equal(vocoder.vocode(speech_mel[:, :50]), expected[0].clamp(-1, 1))


def test_a_missing_or_broken_checkpoint_makes_only_this_entry_unavailable(models_dir: Path) -> None:
    entry = get_entry("istft")
    if not any((folder / CHECKPOINT).is_file() for folder in model_dirs()[1:]):  # none trained elsewhere yet
        reason = entry.unavailable_reason()
        assert reason is not None and "istft.pt: no trained checkpoint found" in reason
        assert entry.status() == "unavailable"

    path = models_dir / CHECKPOINT
    save_model(path, ISTFTGenerator(SMALL))
    write_card(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a truncated copy
    assert "truncated or not a torch checkpoint" in (entry.unavailable_reason() or "")
    with pytest.raises(VocoderUnavailableError, match="truncated"):
        create_vocoder("istft")
    assert get_entry("griffin-lim").status() == "ready" and get_entry("hifigan").status() == "ready"

    with pytest.raises(VocoderUnavailableError, match="unreadable checkpoint"):
        load_model(path)
    with zipfile.ZipFile(path, "w") as archive:  # a whole zip archive, but no torch file
        archive.writestr("notes.txt", "not a model")
    assert "istft.pt: unreadable checkpoint" in (entry.unavailable_reason() or "")  # the cheap check reads it
    with pytest.raises(VocoderUnavailableError, match=r"istft\.pt: unreadable checkpoint"):
        create_vocoder("istft")
    torch.save({"gain": torch.tensor(1.0)}, path)  # a whole torch file, but not ours
    with pytest.raises(VocoderUnavailableError, match="not an iSTFT checkpoint"):
        create_vocoder("istft")
    torch.save({"config": {**SMALL.to_dict(), "dim": 48}, "model": ISTFTGenerator(SMALL).state_dict()}, path)
    with pytest.raises(VocoderUnavailableError, match="weights do not fit the stored config"):
        create_vocoder("istft")
    torch.save({"config": {"depth": 3}, "model": {}}, path)
    with pytest.raises(VocoderUnavailableError, match="unknown ISTFTConfig field"):
        create_vocoder("istft")

    save_model(path, ISTFTGenerator(SMALL))
    write_card(path, mel_config={"hop_length": 200})
    assert "different mel front-end (hop_length 200 instead of 256)" in (entry.unavailable_reason() or "")


def test_a_few_steps_of_training_lower_the_loss(speech: np.ndarray) -> None:
    """30 AdamW steps of mel L1 + multi-resolution STFT on 0.74 s of real speech (about 7 s on a 2-core CPU)."""
    torch.manual_seed(0)
    target = torch.from_numpy(speech[30000 : 30000 + 64 * HOP]).unsqueeze(0)
    mel = wav_to_mel(target)
    model = ISTFTGenerator()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.8, 0.99))
    history = []
    for _ in range(30):
        loss, parts = reconstruction_loss(model(mel), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(parts)
    assert history[-1]["total"] < 0.75 * history[0]["total"]
    assert history[-1]["mel_l1"] < history[0]["mel_l1"]
    assert history[-1]["stft_mag"] < history[0]["stft_mag"]


def test_runs_under_bfloat16_autocast() -> None:
    """What a GPU trainer does (bf16 autocast): the head's bf16 output is lifted to float32 for the FFT."""
    torch.manual_seed(4)
    model = ISTFTGenerator(SMALL)
    mel = torch.randn(2, DEFAULT_CONFIG.n_mels, 20) - 4
    with torch.autocast("cpu", dtype=torch.bfloat16):
        audio = model(mel)
    assert audio.dtype == torch.float32 and audio.shape == (2, 20 * HOP)
    assert snr_db(model(mel).detach(), audio.detach()) > 20
