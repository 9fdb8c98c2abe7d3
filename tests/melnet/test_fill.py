"""MelNet's median gap fill (``melnet.fill``): linear interpolation is where it starts, it keeps every known cell,
it is what a fill at temperature 0 returns, it never touches continuation or drawn fills, and trained with its L1
loss on gaps whose middle sags below the line it learns to beat the line."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from vocoder_studio.melnet import MelNet, MelNetConfig, load_model, sample, save_model
from vocoder_studio.melnet.fill import GapFill, interpolation_features

CONFIG = MelNetConfig(n_tiers=4, layers=(1, 1, 1, 1), hidden=8, mixtures=2, fill_hidden=16)


def test_interpolation_features_draw_a_line_across_a_gap_and_hold_a_one_sided_value() -> None:
    x = torch.tensor([[1.0, 2.0, 0.0, 0.0, 0.0, 6.0, 0.0, 0.0]]).unsqueeze(-1)  # (1, 8, 1)
    known = torch.tensor([[True, True, False, False, False, True, False, False]]).unsqueeze(-1)
    line, feats = interpolation_features(x, known)
    np.testing.assert_allclose(line[0, :, 0].numpy(), [1, 2, 3, 4, 5, 6, 6, 6], rtol=0, atol=1e-6)
    np.testing.assert_allclose(feats[0, :, 0, 0].numpy(), known[0, :, 0].float().numpy())
    np.testing.assert_allclose(feats[0, 2:5, 0, 1].numpy(), [0.25, 0.5, 0.75], atol=1e-6)  # position in the gap
    assert feats[0, 2:5, 0, 4].tolist() == [1, 1, 1] and feats[0, 6:, 0, 4].tolist() == [0, 0]  # both sides known


def test_an_untrained_fill_is_linear_interpolation_and_keeps_the_known_cells() -> None:
    torch.manual_seed(0)
    fill = GapFill(16, 5)
    x = torch.randn(2, 30, 5)
    known = torch.ones(2, 30, 5, dtype=torch.bool)
    known[:, 10:20] = False
    out = fill(x, known)
    line, _ = interpolation_features(x * known, known)
    assert torch.equal(out[known], x[known])
    torch.testing.assert_close(out, line)
    assert not torch.equal(out[~known], x[~known])


def _model(speech_mel: np.ndarray) -> MelNet:
    torch.manual_seed(3)
    model = MelNet(CONFIG)
    model.set_normalisation(torch.from_numpy(speech_mel))
    assert model.fill is not None
    with torch.no_grad():  # a fill that visibly departs from the line
        model.fill.out.weight.normal_(0.0, 0.3)
    return model.eval()


def test_a_fill_at_temperature_zero_is_the_fill_networks_median(speech_mel: np.ndarray) -> None:
    model = _model(speech_mel)
    source = speech_mel[:, 100:160]
    out = sample(model, source=source, inpaint=(20, 40), temperature=0.0)
    assert np.array_equal(out[:, :20], source[:, :20]) and np.array_equal(out[:, 40:], source[:, 40:])
    known = torch.ones(1, 60, 80, dtype=torch.bool)
    known[:, 20:40] = False
    with torch.no_grad():
        x = model.normalise(torch.from_numpy(source).unsqueeze(0))
        expected = model.denormalise(model.fill(x, known))[0].numpy()
    np.testing.assert_allclose(out[:, 20:40], expected[:, 20:40], rtol=0, atol=1e-5)
    # the seed does not matter: the fill is one deterministic pass, delivered whole to a listener
    blocks: list[tuple[int, np.ndarray]] = []
    fractions: list[float] = []
    again = sample(model, source=source, inpaint=(20, 40), temperature=0.0, seed=9,
                   on_frames=lambda start, block: blocks.append((start, block)),
                   progress=lambda fraction, message: fractions.append(fraction))
    assert np.array_equal(out, again)
    assert len(blocks) == 1 and blocks[0][0] == 0 and np.array_equal(blocks[0][1], again) and fractions == [1.0]


def test_drawn_fills_and_continuations_run_the_tiers_as_before(speech_mel: np.ndarray) -> None:
    model = _model(speech_mel)
    plain = MelNet(dataclasses.replace(CONFIG, fill_hidden=0))
    plain.load_state_dict({k: v for k, v in model.state_dict().items() if not k.startswith("fill.")})
    plain.eval()
    source = speech_mel[:, 100:160]
    for kwargs in ({"source": source, "inpaint": (20, 40), "temperature": 0.7},
                   {"source": source, "inpaint": (20, 40), "temperature": 0.5, "tier_temperatures": (0, 0, 1, 1)},
                   {"frames": 10, "prime": source[:, :20], "temperature": 0.0},
                   {"frames": 8}):
        assert np.array_equal(sample(model, seed=2, **kwargs), sample(plain, seed=2, **kwargs)), kwargs
    # a range that runs to the end is still a fill: the fill network's, from the left side alone
    end = sample(model, source=source, inpaint=(40, 60), temperature=0.0)
    assert not np.array_equal(end, sample(plain, source=source, inpaint=(40, 60), temperature=0.0))
    assert np.array_equal(end[:, :40], source[:, :40]) and np.isfinite(end).all()


def test_the_fill_round_trips_and_a_model_without_one_reads_as_before(tmp_path: Path, speech_mel: np.ndarray) -> None:
    model = _model(speech_mel)
    assert "fill_hidden" not in dataclasses.replace(CONFIG, fill_hidden=0).to_dict()
    assert model.config.to_dict()["fill_hidden"] == 16
    back = load_model(save_model(tmp_path / "melnet.pt", model), mel_config=None)
    assert back.config == model.config
    source = speech_mel[:, 100:160]
    assert np.array_equal(sample(back, source=source, inpaint=(20, 40), temperature=0.0),
                          sample(model, source=source, inpaint=(20, 40), temperature=0.0))


def test_trained_with_its_l1_loss_the_fill_beats_the_line_where_the_gap_sags() -> None:
    """Synthetic mels: a random level per band, with a dip of depth 2 centred in every gap (as the energy between
    two syllables falls). The L1-trained fill learns the dip that linear interpolation cannot draw."""
    frames, bands = 40, 4
    gen = torch.Generator().manual_seed(0)

    def batch(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        level = torch.randn(n, 1, bands, generator=gen).expand(n, frames, bands)
        x = level + 0.1 * torch.randn(n, frames, bands, generator=gen)
        known = torch.ones(n, frames, bands, dtype=torch.bool)
        for i in range(n):
            a = int(torch.randint(3, 15, (1,), generator=gen))
            b = a + int(torch.randint(8, 20, (1,), generator=gen))
            t = torch.arange(a, b, dtype=torch.float32)
            x[i, a:b] -= (2.0 * torch.sin(torch.pi * (t - a + 1) / (b - a + 1))).unsqueeze(-1)
            known[i, a:b] = False
        return x, known

    torch.manual_seed(0)
    fill = GapFill(16, bands)
    optimizer = torch.optim.Adam(fill.parameters(), lr=3e-3)
    for _ in range(150):
        x, known = batch(16)
        loss = (fill(x, known) - x).abs()[~known].mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    x, known = batch(64)
    with torch.no_grad():
        line, _ = interpolation_features(x * known, known)
        fill_l1 = float((fill(x, known) - x).abs()[~known].mean())
    line_l1 = float((line - x).abs()[~known].mean())
    assert fill_l1 < 0.5 * line_l1, (fill_l1, line_l1)


@pytest.mark.parametrize("hidden", [-1])
def test_a_negative_fill_width_is_refused(hidden: int) -> None:
    from vocoder_studio.melnet.model import MelNetError

    with pytest.raises(MelNetError, match="fill_hidden"):
        MelNetConfig(fill_hidden=hidden)
