"""Sampling MelNet: cached incremental state agrees with the full forward pass; continuation, inpainting,
seeds, progress, partial frames and cancellation."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from vocoder_studio.engine.jobs import CancelToken
from vocoder_studio.errors import JobCancelled, MelShapeError
from vocoder_studio.melnet import MelNet, MelNetConfig, MelNetError, incremental_log_probs, sample
from vocoder_studio.melnet import tiers as tiering

CONFIG = MelNetConfig(n_tiers=4, layers=(2, 1, 1, 1), hidden=16, mixtures=3)


@pytest.fixture(scope="module")
def model(speech_mel: np.ndarray) -> MelNet:
    torch.manual_seed(0)
    net = MelNet(CONFIG)
    net.set_normalisation(torch.from_numpy(speech_mel))
    return net.eval()


def test_incremental_log_probs_match_the_full_forward_pass(model: MelNet, speech_mel: np.ndarray) -> None:
    mel = speech_mel[:, 100:123]  # an odd length: uneven splits along time
    with torch.no_grad():
        x = model.normalise(torch.from_numpy(mel).unsqueeze(0))
        parts, params = model.tier_params(x)
    stepped = incremental_log_probs(model, mel)
    assert len(stepped) == CONFIG.n_tiers
    for g, net in enumerate(model.tiers):
        full = -net.nll(params[g], parts[g])[0]
        assert stepped[g].shape == full.shape
        torch.testing.assert_close(stepped[g], full, rtol=0, atol=1e-4)


def test_unconditional_sample_has_the_length_and_is_finite(model: MelNet) -> None:
    out = sample(model, 20, seed=1)
    assert out.shape == (80, 20) and out.dtype == np.float32 and np.isfinite(out).all()


def test_same_seed_same_sample_other_seed_other_sample(model: MelNet) -> None:
    a = sample(model, 12, seed=5)
    assert np.array_equal(a, sample(model, 12, seed=5))
    assert not np.array_equal(a, sample(model, 12, seed=6))


def test_zero_temperature_is_deterministic_whatever_the_seed(model: MelNet) -> None:
    assert np.array_equal(sample(model, 8, seed=1, temperature=0.0), sample(model, 8, seed=2, temperature=0.0))


def test_continuation_keeps_the_prefix_bit_exactly(model: MelNet, speech_mel: np.ndarray) -> None:
    prime = speech_mel[:, 40:71]
    out = sample(model, 15, prime=prime, seed=3)
    assert out.shape == (80, 46)
    assert np.array_equal(out[:, :31], prime)
    assert np.isfinite(out).all() and not np.array_equal(out[:, 31:], np.zeros((80, 15)))


def test_continuation_depends_on_the_prefix(model: MelNet, speech_mel: np.ndarray) -> None:
    a = sample(model, 6, prime=speech_mel[:, :20], seed=3, temperature=0.0)
    b = sample(model, 6, prime=speech_mel[:, 200:220], seed=3, temperature=0.0)
    assert not np.array_equal(a[:, 20:], b[:, 20:])


def test_inpainting_keeps_everything_outside_the_range(model: MelNet, speech_mel: np.ndarray) -> None:
    source = speech_mel[:, 300:340].copy()
    out = sample(model, source=source, inpaint=(11, 24), seed=4)
    outside = np.ones(40, bool)
    outside[11:24] = False
    assert np.array_equal(out[:, outside], source[:, outside])
    assert not np.array_equal(out[:, 11:24], source[:, 11:24])
    assert np.isfinite(out).all()


def test_inpainting_upper_tiers_see_the_right_hand_side(model: MelNet, speech_mel: np.ndarray) -> None:
    """Changing only frames after the gap changes the fill (through the upper tiers' conditioning)."""
    source = speech_mel[:, 300:340].copy()
    a = sample(model, source=source, inpaint=(10, 20), seed=4, temperature=0.0)
    other = source.copy()
    other[:, 25:] = speech_mel[:, 500:515]
    b = sample(model, source=other, inpaint=(10, 20), seed=4, temperature=0.0)
    assert not np.array_equal(a[:, 10:20], b[:, 10:20])


def test_progress_and_partial_frames_cover_the_output_in_order(model: MelNet, speech_mel: np.ndarray) -> None:
    seen: list[tuple[float, str]] = []
    pieces: list[tuple[int, np.ndarray]] = []
    out = sample(model, 21, prime=speech_mel[:, :9], seed=2, progress=lambda f, m: seen.append((f, m)),
                 on_frames=lambda start, block: pieces.append((start, block)), chunk=4)
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert any(m.startswith("tier 1/4") for _, m in seen) and any(m.startswith("tier 4/4") for _, m in seen)
    starts = [s for s, _ in pieces]
    assert starts[0] == 0 and len(pieces) > 2
    joined = np.concatenate([b for _, b in pieces], axis=1)
    assert np.array_equal(joined, out)
    assert all(s == sum(b.shape[1] for _, b in pieces[:i]) for i, (s, _) in enumerate(pieces))


def test_cancel_token_stops_between_frames(model: MelNet) -> None:
    token = CancelToken()
    calls = 0

    def progress(fraction: float, message: str) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            token.cancel()

    with pytest.raises(JobCancelled):
        sample(model, 30, seed=1, progress=progress, cancel=token)
    assert calls == 3
    with pytest.raises(JobCancelled):
        sample(model, 30, seed=1, cancel=lambda: True)


def test_partial_frames_reach_a_cancel_token_listener(model: MelNet) -> None:
    got: list[object] = []
    token = CancelToken(on_partial=got.append)
    out = sample(model, 10, seed=1, cancel=token, on_frames=lambda s, b: token.partial((s, b)))
    assert got and np.array_equal(np.concatenate([b for _, b in got], axis=1), out)


def test_tier_temperatures_of_one_are_the_plain_temperature(model: MelNet) -> None:
    plain = sample(model, 10, seed=2, temperature=0.7)
    assert np.array_equal(plain, sample(model, 10, seed=2, temperature=0.7, tier_temperatures=[1.0] * 4))
    assert not np.array_equal(plain, sample(model, 10, seed=2, temperature=0.7, tier_temperatures=[1, 1, 1, 0.5]))


def test_a_tier_at_temperature_zero_takes_its_modes_while_the_others_draw(model: MelNet) -> None:
    """Factors (1, 1, 0, 0): tiers 3-4 are the full forward pass's most likely means given the output, tiers 1-2
    are random (they differ between seeds)."""
    from vocoder_studio.melnet.model import gmm_parts

    a = sample(model, 14, seed=1, tier_temperatures=(1, 1, 0, 0))
    b = sample(model, 14, seed=2, tier_temperatures=(1, 1, 0, 0))
    parts_a, parts_b = tiering.split(a.T, 4), tiering.split(b.T, 4)
    assert not np.array_equal(parts_a[0], parts_b[0]) and not np.array_equal(parts_a[1], parts_b[1])
    with torch.no_grad():
        x = model.normalise(torch.from_numpy(a).unsqueeze(0))
        parts, params = model.tier_params(x)
    for g in (2, 3):
        net = model.tiers[g]
        mu, _, log_w = gmm_parts(params[g][0], net.mixtures, net.log_scale_min)
        greedy = mu.gather(-1, log_w.argmax(-1, keepdim=True)).squeeze(-1)
        torch.testing.assert_close(parts[g][0], greedy, rtol=0, atol=2e-4)


@pytest.mark.parametrize("kwargs, error", [
    ({"frames": 5, "tier_temperatures": [1.0, 1.0, 1.0]}, MelNetError),
    ({"frames": 5, "tier_temperatures": [1.0, 1.0, -0.5, 1.0]}, MelNetError),
    ({"frames": 5, "tier_temperatures": [1.0, float("nan"), 1.0, 1.0]}, MelNetError),
    ({"frames": 0}, MelNetError),
    ({"frames": 5, "temperature": -1.0}, MelNetError),
    ({"frames": 5, "prime": np.zeros((40, 9), np.float32)}, MelShapeError),
    ({"frames": 5, "prime": np.full((80, 9), np.nan, np.float32)}, MelShapeError),
    ({"source": np.zeros((80, 9), np.float32), "inpaint": (5, 12)}, MelNetError),
    ({"inpaint": (1, 2)}, MelNetError),
])
def test_bad_requests_are_clear_errors(model: MelNet, kwargs: dict[str, object], error: type) -> None:
    with pytest.raises(error):
        sample(model, **kwargs)


def test_positions_of_the_last_tier_are_full_frames() -> None:
    index = torch.arange(10).view(10, 1).expand(10, 80)
    assert tiering.split(index, 4)[-1].shape == (10, 40)


@pytest.mark.parametrize("mode", ["new", "continue", "inpaint"])
def test_greedy_samples_are_the_full_forward_pass_modes(model: MelNet, speech_mel: np.ndarray, mode: str) -> None:
    """At temperature 0 every generated cell equals the most likely component's mean that the *full* forward
    pass gives for it, run on the output itself: the cached states (primed prefix, steps, conditioning) agree
    with the parallel network."""
    from vocoder_studio.melnet.model import gmm_parts

    if mode == "new":
        out, known = sample(model, 15, temperature=0.0), np.zeros((80, 15), bool)
    elif mode == "continue":
        out = sample(model, 9, prime=speech_mel[:, :14], temperature=0.0)
        known = np.zeros((80, 23), bool)
        known[:, :14] = True
    else:
        out = sample(model, source=speech_mel[:, 50:75], inpaint=(8, 17), temperature=0.0)
        known = np.ones((80, 25), bool)
        known[:, 8:17] = False
    with torch.no_grad():
        x = model.normalise(torch.from_numpy(out).unsqueeze(0))
        parts, params = model.tier_params(x)
    unknown = tiering.split(torch.from_numpy(~known.T.copy()), CONFIG.n_tiers)
    for g, net in enumerate(model.tiers):
        mu, _, log_w = gmm_parts(params[g][0], net.mixtures, net.log_scale_min)
        greedy = mu.gather(-1, log_w.argmax(-1, keepdim=True)).squeeze(-1)
        mask = unknown[g]
        assert bool(mask.any())
        torch.testing.assert_close(parts[g][0][mask], greedy[mask], rtol=0, atol=2e-4)


def test_generation_job_runs_on_one_thread_and_restores_the_worker_and_main_counts(
        model: MelNet, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The app's MelNet job samples on one intra-op thread of the worker thread it runs on, gives the worker its
    count back afterwards, and never changes another thread's count (the UI thread's here)."""
    import threading

    from vocoder_studio.engine.generate import GenerateRequest, generation_job
    from vocoder_studio.engine.jobs import run_job
    from vocoder_studio.melnet import save_model

    path = save_model(tmp_path_factory.mktemp("threads") / "melnet.pt", model)
    seen: list[int] = []
    main_during: list[int] = []
    after: list[int] = []
    torch.set_num_threads(2)  # the "UI" thread (the autouse fixture puts back its own count afterwards)

    def progress(fraction: float, message: str) -> None:
        seen.append(torch.get_num_threads())

    def worker() -> None:
        torch.set_num_threads(3)
        run_job(generation_job(GenerateRequest("new", seconds=0.1), np.zeros((80, 0), np.float32), path),
                progress=progress)
        after.append(torch.get_num_threads())

    thread = threading.Thread(target=worker)
    thread.start()
    while thread.is_alive():
        main_during.append(torch.get_num_threads())
        thread.join(0.001)
    assert seen and set(seen) == {1}
    assert after == [3]
    assert set(main_during) == {2} and torch.get_num_threads() == 2


BIDIRECTIONAL = MelNetConfig(n_tiers=4, layers=(2, 1, 1, 1), hidden=16, mixtures=3, bidirectional=True)


@pytest.fixture(scope="module")
def bidirectional(speech_mel: np.ndarray) -> MelNet:
    """A bidirectional model whose future stack carries a visible signal (its projections start at zero)."""
    torch.manual_seed(1)
    net = MelNet(BIDIRECTIONAL)
    net.set_normalisation(torch.from_numpy(speech_mel))
    future = net.tiers[0].future
    assert future is not None
    with torch.no_grad():
        for p in future.parameters():
            p.add_(0.3 * torch.randn_like(p))
    return net.eval()


@pytest.mark.parametrize("gap_end", [None, 14, 23])
def test_incremental_log_probs_with_a_right_context_match_the_full_forward_pass(
        bidirectional: MelNet, speech_mel: np.ndarray, gap_end: int | None) -> None:
    mel = speech_mel[:, 100:125]
    right = torch.zeros(1, 25, 80, dtype=torch.bool)
    if gap_end is not None:
        right[:, gap_end:] = True
    with torch.no_grad():
        x = bidirectional.normalise(torch.from_numpy(mel).unsqueeze(0))
        parts, params = bidirectional.tier_params(x, right=right)
    stepped = incremental_log_probs(bidirectional, mel, gap_end=gap_end)
    for g, net in enumerate(bidirectional.tiers):
        full = -net.nll(params[g], parts[g])[0]
        torch.testing.assert_close(stepped[g], full, rtol=0, atol=1e-4)


def test_greedy_fill_of_a_bidirectional_model_is_the_full_forward_pass_with_the_right_context(
        bidirectional: MelNet, speech_mel: np.ndarray) -> None:
    from vocoder_studio.melnet.model import gmm_parts

    out = sample(bidirectional, source=speech_mel[:, 50:80], inpaint=(8, 19), temperature=0.0)
    right = torch.zeros(1, 30, 80, dtype=torch.bool)
    right[:, 19:] = True
    with torch.no_grad():
        x = bidirectional.normalise(torch.from_numpy(out).unsqueeze(0))
        parts, params = bidirectional.tier_params(x, right=right)
    unknown = torch.zeros(30, 80, dtype=torch.bool)
    unknown[8:19] = True
    for g, net in enumerate(bidirectional.tiers):
        mu, _, log_w = gmm_parts(params[g][0], net.mixtures, net.log_scale_min)
        greedy = mu.gather(-1, log_w.argmax(-1, keepdim=True)).squeeze(-1)
        mask = tiering.split(unknown, BIDIRECTIONAL.n_tiers)[g]
        torch.testing.assert_close(parts[g][0][mask], greedy[mask], rtol=0, atol=2e-4)


def test_a_fill_of_a_bidirectional_model_uses_the_frames_after_the_gap_in_tier_1(
        bidirectional: MelNet, speech_mel: np.ndarray) -> None:
    """Changing only frames after the gap changes tier 1 of the fill (the coarsest tier sees them now); a
    continuation or unconditional sample has no right context and equals the left-to-right model's."""
    source = speech_mel[:, 300:340].copy()
    a = sample(bidirectional, source=source, inpaint=(10, 20), seed=4, temperature=0.0)
    other = source.copy()
    other[:, 25:] = speech_mel[:, 500:515]
    b = sample(bidirectional, source=other, inpaint=(10, 20), seed=4, temperature=0.0)
    tier_1 = [tiering.split(m.T, BIDIRECTIONAL.n_tiers)[0] for m in (a, b)]
    assert not np.array_equal(tier_1[0][5:10], tier_1[1][5:10])  # tier-1 frames 5..9 are full frames 10..18
    plain = MelNet(replace(BIDIRECTIONAL, bidirectional=False))
    plain.load_state_dict(bidirectional.state_dict(), strict=False)
    plain.eval()
    for kwargs in ({"frames": 12}, {"frames": 6, "prime": speech_mel[:, :10]}):
        assert np.array_equal(sample(bidirectional, seed=2, **kwargs), sample(plain, seed=2, **kwargs))


def test_a_trained_bidirectional_fill_meets_the_level_after_the_gap() -> None:
    """A few hundred steps on synthetic mels (random walks in time, the same in every band) with random gap ends:
    the greedy fill of a gap across which the level rises by 3 climbs towards the level after it, so that the
    jump at its right edge is under half the rise (a fill from the left alone would stay near the level before
    the gap: a jump of the whole rise)."""
    frames, bands = 16, 4

    def walks(n: int, gen: torch.Generator) -> torch.Tensor:
        walk = (0.4 * torch.randn(n, 1, frames, generator=gen)).cumsum(-1) + torch.randn(n, 1, 1, generator=gen)
        return walk.expand(n, bands, frames) + 0.02 * torch.randn(n, bands, frames, generator=gen)

    torch.manual_seed(0)
    net = MelNet(MelNetConfig(n_mels=bands, n_tiers=1, layers=(1,), hidden=16, mixtures=2, bidirectional=True,
                              right_context_rate=1.0))
    gen = torch.Generator().manual_seed(0)
    net.set_normalisation(walks(64, gen))
    optimizer = torch.optim.Adam(net.parameters(), lr=5e-3)
    net.train()
    for _ in range(300):
        loss, _ = net.nll(walks(16, gen), gap_end=torch.randint(frames // 2, frames, (16,), generator=gen))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    source = np.full((bands, frames), -1.5, np.float32)
    source[:, 8:] = 1.5
    out = sample(net.eval(), source=source, inpaint=(5, 11), temperature=0.0)
    assert float(np.abs(out[:, 10] - source[:, 11]).mean()) < 1.5
    assert float(np.abs(out[:, 5] - source[:, 4]).mean()) < 1.5
    assert bool((out[:, 10] > out[:, 5] + 1.0).all())
