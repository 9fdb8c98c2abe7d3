"""MelNet's compiled sampling step (melnet/kernels.py) against the torch calls it replaces (``compiled=False``):
the same seed gives the same sample within float rounding, in every mode, on a small random model and on the
shipped one; the compiled mixture draw is the Python one."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import torch

from tests.conftest import MODELS, require
from vocoder_studio.melnet import MelNet, MelNetConfig, load_model, sample
from vocoder_studio.melnet.sampling import SAMPLE_LIMIT, VOICED_TIER_TEMPERATURES, _draw

CONFIG = MelNetConfig(n_tiers=4, layers=(2, 1, 1, 1), hidden=16, mixtures=3)
#: ln-mel units: the sums run in another order than MKL's, nothing else differs
TOLERANCE = 1e-4


def _random_model(config: MelNetConfig, speech_mel: np.ndarray, seed: int) -> MelNet:
    torch.manual_seed(seed)
    net = MelNet(config)
    net.set_normalisation(torch.from_numpy(speech_mel))
    if net.tiers[0].future is not None:  # a future stack that carries a signal (its projections start at 0)
        with torch.no_grad():
            for p in net.tiers[0].future.parameters():
                p.add_(0.3 * torch.randn_like(p))
    return net.eval()


def _both(model: MelNet, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    return sample(model, compiled=True, **kwargs), sample(model, compiled=False, **kwargs)


@pytest.mark.parametrize("bidirectional", [False, True])
def test_the_compiled_step_samples_what_the_torch_calls_sample(speech_mel: np.ndarray, bidirectional: bool) -> None:
    model = _random_model(replace(CONFIG, bidirectional=bidirectional), speech_mel, 3)
    requests: list[dict[str, Any]] = [
        {"frames": 23, "seed": 1},
        {"frames": 17, "seed": 2, "temperature": 0.7, "tier_temperatures": (1.1, 0.0, 1.0, 0.5)},
        {"frames": 11, "seed": 3, "prime": speech_mel[:, 40:71]},
        {"frames": 9, "seed": 4, "temperature": 0.0, "prime": speech_mel[:, 10:30]},
        {"source": speech_mel[:, 300:340], "inpaint": (11, 24), "seed": 5},
        {"source": speech_mel[:, 300:340], "inpaint": (0, 7), "seed": 6, "temperature": 0.0},
    ]
    for request in requests:
        new, old = _both(model, **request)
        assert new.shape == old.shape and new.dtype == old.dtype == np.float32
        np.testing.assert_allclose(new, old, rtol=0, atol=TOLERANCE, err_msg=str(request.keys()))
        if "prime" in request:
            prime = np.asarray(request["prime"])
            assert np.array_equal(new[:, : prime.shape[1]], prime)
        if "inpaint" in request:
            a, b = request["inpaint"]
            outside = np.ones(new.shape[1], bool)
            outside[a:b] = False
            assert np.array_equal(new[:, outside], np.asarray(request["source"])[:, outside])


def test_the_shipped_model_samples_the_same_compiled(example_mel: np.ndarray) -> None:
    """Half a second of each of the modes a user reaches (``generate``, ``generate --prime``, a fill drawn by the
    tiers) at the temperatures the command line and the window use, seed by seed."""
    require((MODELS / "melnet.pt").exists(), "the shipped models/melnet.pt is missing")
    model = load_model(MODELS / "melnet.pt")
    requests: list[dict[str, Any]] = [
        {"frames": 43},
        {"frames": 43, "tier_temperatures": VOICED_TIER_TEMPERATURES},
        {"frames": 43, "prime": example_mel[:, :172], "tier_temperatures": VOICED_TIER_TEMPERATURES},
        {"source": example_mel[:, :120], "inpaint": (50, 93), "temperature": 1.0},
    ]
    for seed, request in enumerate(requests):
        new, old = _both(model, seed=seed, **request)
        np.testing.assert_allclose(new, old, rtol=0, atol=TOLERANCE, err_msg=str(request.keys()))
        assert np.array_equal(new, sample(model, seed=seed, **request))


def test_the_compiled_draw_is_the_python_draw() -> None:
    from vocoder_studio.melnet import kernels

    gen = np.random.default_rng(0)
    mixtures, floor = 10, -5.0
    weights = np.empty(mixtures)
    for _ in range(300):
        params = (gen.standard_normal(3 * mixtures) * 3).astype(np.float32)
        temperature = float(gen.choice([0.0, 0.3, 1.0, 1.1]))
        uniform, normal = float(np.float32(gen.random())), float(np.float32(gen.standard_normal() * 2))
        expected = _draw(params.tolist(), mixtures, floor, temperature, uniform, normal)
        got = kernels._draw(params, weights, mixtures, floor, temperature, uniform, normal, SAMPLE_LIMIT)
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12)


def test_priming_states_are_the_full_pass_states_bit_for_bit(speech_mel: np.ndarray) -> None:
    """The sampler primes a known prefix with ``TierNet.time_states`` (the last layer's outputs skipped): the GRU
    states are :meth:`time_context`'s, bit for bit, in every tier."""
    model = _random_model(replace(CONFIG, layers=(3, 2, 2, 2)), speech_mel, 4)
    gen = torch.Generator().manual_seed(0)
    with torch.inference_mode():
        for g, net in enumerate(model.tiers):
            x_prev = torch.randn(1, 25, net.bands, generator=gen)
            cond = torch.randn(1, 25, net.bands, CONFIG.hidden, generator=gen) if g else None
            full = net.time_context(x_prev, cond)
            states, central = net.time_states(x_prev, cond)
            assert len(states) == len(full.states) and len(central) == len(full.central_states)
            assert all(torch.equal(a, b) for a, b in zip(states, full.states, strict=True))
            assert all(torch.equal(a, b) for a, b in zip(central, full.central_states, strict=True))


def test_the_warm_up_loads_the_kernels_for_the_types_the_sampler_passes(speech_mel: np.ndarray) -> None:
    """``kernels.warm_up`` (a live continuation calls it while the playhead is far from the end) prepares the very
    signatures sampling uses: sampling afterwards compiles nothing more."""
    from vocoder_studio.melnet import kernels

    kernels.warm_up()
    model = _random_model(replace(CONFIG, bidirectional=True), speech_mel, 5)
    sample(model, 5, seed=0)
    sample(model, source=speech_mel[:, :30], inpaint=(10, 20), seed=0)
    assert len(kernels.time_step.signatures) == 1 and len(kernels.freq_frame.signatures) == 1
