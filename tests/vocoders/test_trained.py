"""The shared pieces of the trained vocoders: config dicts and checkpoint files."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.vocoders import melgan, trained
from vocoder_studio.vocoders.istft import ISTFTConfig, ISTFTGenerator


def test_config_dicts_round_trip_and_name_what_is_wrong() -> None:
    config = melgan.MelGANConfig(ngf=8)
    data = config.to_dict()
    assert data["upsample_ratios"] == [8, 8, 2, 2]  # tuples stored as plain lists
    assert melgan.MelGANConfig.from_dict(data) == config
    with pytest.raises(VocoderUnavailableError, match="x.pt: unknown MelGANConfig field"):
        melgan.MelGANConfig.from_dict({**data, "colour": 1}, "x.pt")
    with pytest.raises(VocoderUnavailableError, match="ISTFTConfig.dim must be a positive integer"):
        ISTFTConfig.from_dict({"dim": 0})
    with pytest.raises(VocoderUnavailableError, match="must be a dict of ISTFTConfig fields"):
        ISTFTConfig.from_dict([1, 2])


def test_half_precision_checkpoints_load_into_float32_models(tmp_path: Path) -> None:
    config = ISTFTConfig(dim=32, intermediate_dim=64, num_layers=2)
    model = ISTFTGenerator(config)
    full = trained.save_checkpoint(tmp_path / "full.pt", model, config, {})
    half = trained.save_checkpoint(tmp_path / "half.pt", model, config, {}, half=True)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded, _ = trained.load_checkpoint(half, "iSTFT", ISTFTConfig, ISTFTGenerator)
    mel = torch.randn(1, config.n_mels, 20) - 4
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values(), strict=True):
        assert b.dtype == torch.float32
        torch.testing.assert_close(a, b, atol=2e-3, rtol=2e-3)
    with torch.no_grad():
        torch.testing.assert_close(model.eval()(mel), loaded(mel), atol=5e-2, rtol=5e-2)
    with pytest.raises(ValueError, match="reserved"):
        trained.save_checkpoint(tmp_path / "x.pt", model, config, {"model": 1})
    torch.save({"weights": 1}, tmp_path / "other.pt")
    with pytest.raises(VocoderUnavailableError, match="not an iSTFT checkpoint"):
        trained.read_checkpoint(tmp_path / "other.pt", "iSTFT")
