"""MelNet's model: the multiscale split, the mixture NLL, the autoregressive order of every stack and tier,
training on real speech, checkpoints."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.melnet import MelNet, MelNetConfig, MelNetError, load_model, save_model
from vocoder_studio.melnet import tiers as tiering
from vocoder_studio.melnet.model import gmm_nll

SMALL = MelNetConfig(n_tiers=4, layers=(2, 2, 2, 2), hidden=16, mixtures=3)


def small_model(seed: int = 0, config: MelNetConfig = SMALL) -> MelNet:
    torch.manual_seed(seed)
    model = MelNet(config)
    with torch.no_grad():  # larger weights than the initialisation, so that every path carries a visible signal
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model.eval()


@pytest.mark.parametrize("n_tiers", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("frames", [1, 7, 16, 33])
def test_split_then_interleave_is_the_identity(n_tiers: int, frames: int) -> None:
    x = np.random.default_rng(frames).normal(size=(2, frames, 80))
    parts = tiering.split(x, n_tiers)
    assert len(parts) == n_tiers
    assert sum(p.size for p in parts) == x.size
    assert np.array_equal(tiering.interleave(parts), x)
    t = torch.from_numpy(x)
    assert torch.equal(tiering.interleave(tiering.split(t, n_tiers)), t)


def test_tiers_alternate_frequency_then_time() -> None:
    x = np.zeros((64, 80))
    shapes = [p.shape for p in tiering.split(x, 4)]
    assert shapes == [(32, 20), (32, 20), (32, 40), (64, 40)]


def test_gmm_nll_matches_torch_distributions() -> None:
    gen = torch.Generator().manual_seed(0)
    k = 5
    params = torch.randn(7, 11, 3 * k, generator=gen) * 2
    x = torch.randn(7, 11, generator=gen) * 3
    mu, log_s, logits = params.split(k, dim=-1)
    reference = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(logits=logits),
        torch.distributions.Normal(mu, torch.exp(log_s.clamp(min=-5.0))))
    ours = gmm_nll(params, x, k, -5.0)
    torch.testing.assert_close(ours, -reference.log_prob(x), rtol=1e-5, atol=1e-5)


def test_log_scale_is_clamped_so_a_spike_on_the_floor_stays_finite() -> None:
    k = 2
    params = torch.tensor([[0.0, 0.0, -50.0, -50.0, 0.0, 0.0]])
    nll = gmm_nll(params, torch.zeros(1), k, -5.0)
    assert torch.isfinite(nll).all() and float(nll) > -5.0 + -1.0


def _params_of_all_tiers(model: MelNet, x: torch.Tensor) -> list[torch.Tensor]:
    with torch.no_grad():
        _, params = model.tier_params(x)
    return [p for p in params if p is not None]


@pytest.mark.parametrize("tier", [0, 1, 2, 3])
def test_no_cell_depends_on_itself_or_a_later_cell(tier: int) -> None:
    """Perturbing one cell of tier ``g`` leaves every lower tier and every earlier cell of tier ``g`` (and the
    cell itself) unchanged; some later cells do change (so each perturbation reaches the network)."""
    model = small_model()
    frames = 13
    gen = torch.Generator().manual_seed(tier)
    x = torch.randn(1, frames, 80, generator=gen)
    base = _params_of_all_tiers(model, x)
    positions = tiering.split(torch.arange(frames * 80).view(1, frames, 80), 4)[tier][0]
    t_g, f_g = positions.shape
    checked_later = 0
    for t, f in [(0, 0), (t_g // 2, f_g // 2), (t_g // 2, 0), (t_g - 1, f_g - 1), (1, f_g - 1), (t_g - 2, 3)]:
        flat = int(positions[t, f])
        y = x.clone()
        y.view(-1)[flat] += 3.0
        moved = _params_of_all_tiers(model, y)
        for g in range(tier):
            assert torch.equal(moved[g], base[g]), f"tier {g + 1} changed by a cell of tier {tier + 1}"
        diff = (moved[tier] - base[tier]).abs().amax(dim=-1)[0]  # (T_g, F_g)
        order = torch.arange(t_g * f_g).view(t_g, f_g)
        earlier = order <= order[t, f]
        assert float(diff[earlier].max()) == 0.0, f"cell ({t}, {f}) of tier {tier + 1} leaks backwards"
        if (~earlier).any():
            assert float(diff[~earlier].max()) > 0
            checked_later += 1
        # the next frame sees the whole perturbed frame through the time-delayed stack (all bands)
        if t + 1 < t_g:
            assert float(diff[t + 1].min()) > 0
        # the frequency-delayed stack carries it to the higher bands of the same frame
        if f + 1 < f_g:
            assert float(diff[t, f + 1:].min()) > 0
    assert checked_later >= 4


def test_centralized_stack_sees_the_whole_previous_frame() -> None:
    model = small_model()
    x = torch.randn(1, 10, 80, generator=torch.Generator().manual_seed(1))
    net = model.tiers[0]
    part = tiering.split(x, 4)[0]
    with torch.no_grad():
        ctx = net.time_context(torch.nn.functional.pad(part, (0, 0, 1, 0))[:, :-1], None)
        bumped = part.clone()
        bumped[0, 2, -1] += 3.0
        ctx2 = net.time_context(torch.nn.functional.pad(bumped, (0, 0, 1, 0))[:, :-1], None)
    assert ctx.central is not None and ctx2.central is not None
    assert torch.equal(ctx.central[0][:, :3], ctx2.central[0][:, :3])
    assert float((ctx.central[0][:, 3] - ctx2.central[0][:, 3]).abs().max()) > 0


def test_upper_tiers_see_the_lower_view_on_both_sides() -> None:
    """Tier 2's first frame depends on the last frame of tier 1 (the conditioning looks both ways)."""
    model = small_model()
    x = torch.randn(1, 12, 80, generator=torch.Generator().manual_seed(2))
    base = _params_of_all_tiers(model, x)
    y = x.clone()
    pos = tiering.split(torch.arange(12 * 80).view(1, 12, 80), 4)[0][0]
    y.view(-1)[int(pos[-1, -1])] += 3.0
    moved = _params_of_all_tiers(model, y)
    assert float((moved[1][0, 0] - base[1][0, 0]).abs().max()) > 0


def test_nll_is_a_density_of_the_raw_ln_mel(speech_mel: np.ndarray) -> None:
    """Scaling each band's values by ``a`` together with the normalisation keeps the normalised input and adds
    ``ln a`` per cell to the NLL: the change-of-variables rule, so the log-Jacobian is accounted for."""
    model = small_model()
    mel = torch.from_numpy(speech_mel[:, :48]).unsqueeze(0)
    model.set_normalisation(mel)
    scale = torch.linspace(0.5, 3.0, 80)
    with torch.no_grad():
        nll, _ = model.nll(mel)
        model.band_mean.mul_(scale)
        model.band_std.mul_(scale)
        scaled, _ = model.nll(mel * scale[:, None])
    assert float(scaled) == pytest.approx(float(nll) + float(torch.log(scale).mean()), abs=1e-4)


def test_a_few_dozen_steps_on_real_speech_lower_the_nll(speech_mel: np.ndarray) -> None:
    torch.manual_seed(0)
    model = MelNet(MelNetConfig(n_tiers=3, layers=(2, 1, 1), hidden=16, mixtures=4))
    mel = torch.from_numpy(speech_mel)
    model.set_normalisation(mel)
    held_out = mel[:, -128:].unsqueeze(0)
    train = mel[:, :-128]
    with torch.no_grad():
        before, _ = model.nll(held_out)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = np.random.default_rng(0)
    for _ in range(30):
        starts = gen.integers(0, train.shape[1] - 48, size=4)
        batch = torch.stack([train[:, s: s + 48] for s in starts])
        loss, _ = model.nll(batch)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimiser.step()
    with torch.no_grad():
        after, _ = model.nll(held_out)
    assert float(after) < float(before) - 0.3


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path: Path, speech_mel: np.ndarray) -> None:
    model = small_model(3)
    model.set_normalisation(torch.from_numpy(speech_mel))
    path = save_model(tmp_path / "melnet.pt", model, step=7)
    loaded = load_model(path)
    assert loaded.config == model.config
    mel = torch.from_numpy(speech_mel[:, :40]).unsqueeze(0)
    with torch.no_grad():
        assert torch.equal(loaded.nll(mel)[0], model.nll(mel)[0])
    assert torch.equal(loaded.band_std, model.band_std)


@pytest.mark.parametrize("damage", ["truncate", "garbage", "other", "config"])
def test_a_corrupt_checkpoint_is_a_clear_error(tmp_path: Path, damage: str) -> None:
    path = save_model(tmp_path / "melnet.pt", small_model())
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    elif damage == "other":
        torch.save({"model": {}}, path)
    else:
        raw = torch.load(path, weights_only=True)
        raw["config"]["hidden"] = 8
        torch.save(raw, path)
    with pytest.raises(MelNetError) as info:
        load_model(path)
    message = str(info.value)
    assert isinstance(info.value, VocoderStudioError)
    assert str(path) in message and "\n" not in message


BIDIRECTIONAL = MelNetConfig(n_tiers=4, layers=(2, 2, 2, 2), hidden=16, mixtures=3, bidirectional=True)


def test_future_stack_sees_only_the_right_context_and_nothing_when_there_is_none() -> None:
    """Tier 1 of a bidirectional model: a cell depends on the right-hand cells it is given (every frame before
    them), never on right-hand cells it is not given, and without any it is the left-to-right model's."""
    model = small_model(config=BIDIRECTIONAL)
    left_to_right = MelNet(replace(BIDIRECTIONAL, bidirectional=False))
    missing, _ = left_to_right.load_state_dict(model.state_dict(), strict=False)
    assert missing == []
    frames = 16
    x = torch.randn(1, frames, 80, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        _, plain = left_to_right.tier_params(x, only=0)
        _, none = model.tier_params(x, only=0, right=torch.zeros(1, frames, 80, dtype=torch.bool))
        assert plain[0] is not None and none[0] is not None
        assert torch.equal(plain[0], none[0])
        right = torch.zeros(1, frames, 80, dtype=torch.bool)
        right[:, 10:] = True  # frames 10.. are the right context: tier-1 frames 5..
        _, base = model.tier_params(x, only=0, right=right)
        y = x.clone()
        y[:, 12] += 3.0  # a right-context frame (tier-1 frame 6)
        _, moved = model.tier_params(y, only=0, right=right)
        z = x.clone()
        z[:, 8] += 3.0  # a frame before the right context (tier-1 frame 4): frames before it do not see it
        _, later = model.tier_params(z, only=0, right=right)
    assert base[0] is not None and moved[0] is not None and later[0] is not None
    change = (moved[0] - base[0]).abs().amax(dim=(-1, -2))[0]
    assert float(change[:5].min()) > 0  # every frame before the right context sees it
    assert float((later[0] - base[0])[0, :4].abs().max()) == 0
    assert float((later[0] - base[0])[0, 5].abs().max()) > 0


def test_an_old_checkpoint_loads_and_a_bidirectional_one_round_trips(tmp_path: Path) -> None:
    old = small_model()
    save_model(tmp_path / "old.pt", old)
    assert load_model(tmp_path / "old.pt").config.bidirectional is False
    new = small_model(config=BIDIRECTIONAL)
    save_model(tmp_path / "new.pt", new)
    back = load_model(tmp_path / "new.pt")
    assert back.config == BIDIRECTIONAL
    for (k, v), (k2, v2) in zip(new.state_dict().items(), back.state_dict().items(), strict=True):
        assert k == k2 and torch.equal(v, v2)


def test_gap_training_counts_tier_1_cells_before_the_gap_end_only() -> None:
    model = small_model(config=BIDIRECTIONAL)
    mel = torch.randn(2, 80, 16, generator=torch.Generator().manual_seed(4)) - 4.0
    with torch.no_grad():
        _, per_tier = model.nll(mel, only=0, gap_end=torch.tensor([8, 16]))
        cells = model.cell_nll(mel, only=0, right=(torch.arange(16) >= torch.tensor([[8], [16]])).unsqueeze(1)
                               .expand(2, 80, 16))
    assert cells[0] is not None
    # frames 0..7 of the first mel (tier-1 frames 0..3) and all of the second
    expected = torch.cat([cells[0][0, :4].flatten(), cells[0][1].flatten()]).mean()
    assert per_tier[0] == pytest.approx(float(expected), rel=1e-5)
    model.train()
    torch.manual_seed(0)
    loss, _ = model.nll(mel, only=0)  # draws its own gap ends
    assert torch.isfinite(loss)
