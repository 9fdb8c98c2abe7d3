from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.engine import choose_device
from vocoder_studio.errors import MelShapeError, VocoderStudioError, VocoderUnavailableError
from vocoder_studio.vocoders import (
    DEFAULT_VOCODER,
    ConfigMismatchError,
    ParameterError,
    VocoderProtocol,
    chunk_bounds,
    create_vocoder,
    get_entry,
    list_vocoders,
)
from vocoder_studio.vocoders.hifigan import fold_weight_norm


def test_registry_finds_the_builtin_modules() -> None:
    names = [v.name for v in list_vocoders()]
    assert names[:3] == ["griffin-lim", "hifigan", "hifigan-lj"]
    assert DEFAULT_VOCODER in names
    for entry in list_vocoders():
        assert entry.origin.startswith(("vocoder_studio.vocoders.", "plug-in "))
        assert entry.sample_rate == entry.config.sample_rate == DEFAULT_CONFIG.sample_rate
    # every module of the package that declares VOCODERS is listed, without a hand-written list
    from vocoder_studio.vocoders import griffin_lim, hifigan

    declared = [e.name for module in (griffin_lim, hifigan) for e in module.VOCODERS]
    assert names[: len(declared)] == declared


def test_each_entry_reports_ready_or_a_reason() -> None:
    for entry in list_vocoders():
        reason = entry.unavailable_reason()
        assert entry.status() == ("ready" if reason is None else "unavailable")
    hifigan = get_entry("hifigan")
    assert hifigan.status() == "ready" and hifigan.model_card() is not None
    assert "PESQ" in hifigan.summary()
    assert get_entry("griffin-lim").model_card() is None and get_entry("griffin-lim").summary()


def test_unknown_name_and_parameter() -> None:
    with pytest.raises(VocoderUnavailableError, match="unknown vocoder 'nope'"):
        create_vocoder("nope")
    with pytest.raises(ParameterError, match="unknown parameter"):
        create_vocoder("griffin-lim", colour="red")
    with pytest.raises(ParameterError, match=r"iterations must be an integer in \[1, 1000\], got -3"):
        create_vocoder("griffin-lim", iterations=-3)
    with pytest.raises(ParameterError, match="iterations must be an integer"):
        create_vocoder("griffin-lim", iterations=0)


def test_a_document_of_another_front_end_is_refused() -> None:
    other = dataclasses.replace(DEFAULT_CONFIG, hop_length=200)
    with pytest.raises(ConfigMismatchError, match=r"griffin-lim expects another mel front-end: hop_length 200 "
                                                   r"\(expects 256\)"):
        create_vocoder("griffin-lim", config=other)
    assert create_vocoder("griffin-lim", config=DEFAULT_CONFIG, iterations=2).iterations == 2


def test_json_shape() -> None:
    entry = get_entry("griffin-lim").to_json()
    assert {"name", "label", "sample_rate", "status", "reason", "parameters", "card"} <= set(entry)
    assert entry["status"] == "ready" and entry["reason"] is None and entry["card"] is None
    assert entry["parameters"]["iterations"] == {"type": "int", "default": 8, "min": 1, "max": 1000,
                                                 "help": entry["parameters"]["iterations"]["help"]}
    card = get_entry("hifigan").to_json()["card"]
    assert card["name"] == "hifigan" and card["scores"]["pesq_wb"] > 3


def test_protocol_and_shapes() -> None:
    vocoder = create_vocoder("griffin-lim", iterations=2)
    assert isinstance(vocoder, VocoderProtocol)
    assert vocoder.sample_rate == DEFAULT_CONFIG.sample_rate and vocoder.receptive_field_frames > 0
    with pytest.raises(MelShapeError):
        vocoder.vocode(np.zeros((40, 10), np.float32))
    one = vocoder.vocode(np.full((80, 1), -5.0, np.float32))
    assert one.shape == (DEFAULT_CONFIG.hop_length,)


def test_chunk_bounds_cover_everything_in_order() -> None:
    bounds = chunk_bounds(200, 64, 16)
    assert bounds == [(0, 16), (16, 36), (36, 61), (61, 92), (92, 130), (130, 177), (177, 200)]  # ×1.25 to 64
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))


def test_device_choice() -> None:
    assert choose_device("cpu") == torch.device("cpu")
    assert choose_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(VocoderStudioError, match="no CUDA GPU"):
            choose_device("cuda")


def test_weight_norm_folding_matches_torch() -> None:
    generator = torch.Generator().manual_seed(0)
    for shape in [(6, 4, 3), (6, 4, 8)]:  # Conv1d (out, in, k) and ConvTranspose1d (in, out, k) weights
        v = torch.randn(shape, generator=generator)
        g = torch.rand(shape[0], 1, 1, generator=generator) + 0.5
        folded = fold_weight_norm({"conv.weight_v": v, "conv.weight_g": g, "conv.bias": torch.zeros(3)})
        assert set(folded) == {"conv.weight", "conv.bias"}
        torch.testing.assert_close(folded["conv.weight"], torch._weight_norm(v, g, 0))


def test_emulated_bfloat16_is_refused_with_a_reason() -> None:
    from vocoder_studio.vocoders.hifigan import cpu_has_native_bfloat16

    if cpu_has_native_bfloat16():
        assert create_vocoder("hifigan", precision="bfloat16").precision == "bfloat16"
    else:
        with pytest.raises(VocoderUnavailableError, match="emulated on this CPU"):
            create_vocoder("hifigan", precision="bfloat16")


def test_conv2d_layout_computes_what_the_1d_generator_computes() -> None:
    from vocoder_studio.vocoders.hifigan import Generator, HiFiGANConfig

    torch.manual_seed(0)
    h = HiFiGANConfig(upsample_initial_channel=32)
    one_d = Generator(h).eval()
    two_d = Generator(h).eval()
    two_d.load_state_dict(one_d.state_dict())
    two_d.as_conv2d()
    mel = torch.randn(2, 80, 20) - 5
    with torch.inference_mode():
        expected, got = one_d(mel), two_d(mel)
    assert got.shape == expected.shape == (2, 1, 20 * 256)
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
