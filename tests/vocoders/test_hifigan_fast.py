"""HiFi-GAN's fast paths: bfloat16 where the CPU computes it natively, int8 on an x86 CPU without it, float32 in
longer calls elsewhere; each within its stated PESQ drop on real speech."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocoder_studio.cpu import int8_convolutions
from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.evaluation.metrics import pesq_wb, snr_db
from vocoder_studio.vocoders import create_vocoder
from vocoder_studio.vocoders.hifigan import cpu_has_native_bfloat16, native_precision

#: the PESQ-wb drop the bfloat16 path may cost against float32 (issue 12)
PESQ_DROP = 0.05

native_bf16 = pytest.mark.skipif(not cpu_has_native_bfloat16(),
                                 reason="this CPU would emulate bfloat16 (about 70× slower): refused there")


def test_the_default_precision_is_what_the_cpu_runs_natively() -> None:
    vocoder = create_vocoder("hifigan")
    assert vocoder.precision == native_precision("cpu")
    expected = "bfloat16" if cpu_has_native_bfloat16() else "int8" if int8_convolutions() else "float32"
    assert vocoder.precision == expected
    dtypes = {name: p.dtype for name, p in vocoder.generator.named_parameters()}
    assert dtypes.pop("conv_post.weight") == dtypes.pop("conv_post.bias") == torch.float32  # float32 samples
    assert set(dtypes.values()) == {torch.bfloat16 if vocoder.precision == "bfloat16" else torch.float32}
    assert create_vocoder("hifigan", precision="float32").precision == "float32"


@native_bf16
def test_bfloat16_stays_within_its_pesq_drop_on_real_speech(speech: np.ndarray, speech_mel: np.ndarray) -> None:
    fp32 = create_vocoder("hifigan", precision="float32").vocode(speech_mel).numpy()
    bf16 = create_vocoder("hifigan", precision="bfloat16").vocode(speech_mel).numpy()
    assert bf16.dtype == np.float32 and bf16.shape == fp32.shape
    assert 20 < snr_db(fp32, bf16) < 80  # really computed in bfloat16, and close to float32
    assert pesq_wb(speech, bf16) >= pesq_wb(speech, fp32) - PESQ_DROP


@native_bf16
def test_bfloat16_streams_splice_like_float32(speech_mel: np.ndarray) -> None:
    vocoder = create_vocoder("hifigan", precision="bfloat16")
    mel = speech_mel[:, 200:420]
    full = vocoder.vocode(mel).numpy()
    streamed = np.concatenate([b.numpy() for b in vocoder.stream(mel, chunk_frames=64, first_chunk_frames=16)])
    assert snr_db(full, streamed) > 40


def test_the_generator_leaves_its_input_alone(hifigan, speech_mel: np.ndarray) -> None:
    """Activations and sums run in place on the generator's own tensors, never on the caller's mel."""
    from vocoder_studio.vocoders.hifigan import Generator, HiFiGANConfig

    mel = torch.from_numpy(speech_mel[:, 100:140].copy())
    before = mel.clone()
    hifigan.vocode(mel)
    one_d = Generator(HiFiGANConfig(upsample_initial_channel=32)).eval()  # the 1-D layout passes x straight on
    with torch.inference_mode():
        one_d(mel[None])
    torch.testing.assert_close(mel, before, rtol=0, atol=0)


def _build(monkeypatch: pytest.MonkeyPatch, native: bool, **kwargs: object):
    """HiFi-GAN built as on a CPU with (or without) native bfloat16, whatever this one has."""
    from vocoder_studio.vocoders import hifigan

    monkeypatch.setattr(hifigan, "native_bfloat16", lambda: native)
    return hifigan.HiFiGAN(**kwargs)


def test_a_cpu_without_bfloat16_or_int8_gets_the_float32_path_in_longer_calls(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from vocoder_studio.vocoders import hifigan

    monkeypatch.setattr(hifigan, "int8_convolutions", lambda: False)
    vocoder = _build(monkeypatch, native=False)
    assert vocoder.precision == "float32"
    assert vocoder.max_frames_per_call == vocoder.float32_cpu_frames_per_call == 512
    assert {p.dtype for p in vocoder.generator.parameters()} == {torch.float32}
    with pytest.raises(VocoderUnavailableError, match="emulated"):
        _build(monkeypatch, native=False, precision="bfloat16")


def test_a_cpu_with_bfloat16_gets_it_unless_float32_is_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    native = _build(monkeypatch, native=True)
    assert native.precision == "bfloat16" and native.max_frames_per_call == 256
    assert native.generator.conv_pre.weight.dtype == torch.bfloat16
    forced = _build(monkeypatch, native=True, precision="float32")
    assert forced.precision == "float32" and forced.max_frames_per_call == 512
    assert {p.dtype for p in forced.generator.parameters()} == {torch.float32}


def test_longer_calls_make_the_same_audio_within_the_pesq_bound(speech: np.ndarray, speech_mel: np.ndarray) -> None:
    """The float32 path's 512-frame calls splice like 256-frame ones (14 context frames on each side): the same
    audio to float rounding, so the same PESQ, on 600 frames (7 s) of real speech."""
    frames = 600
    vocoder = create_vocoder("hifigan", precision="float32")
    mel = speech_mel[:, :frames]
    longer = vocoder.vocode(mel).numpy()
    vocoder.max_frames_per_call = 256
    shorter = vocoder.vocode(mel).numpy()
    assert longer.shape == shorter.shape == (frames * 256,)
    assert snr_db(shorter, longer) > 60
    original = speech[: frames * 256]
    assert pesq_wb(original, longer) >= pesq_wb(original, shorter) - PESQ_DROP


needs_int8 = pytest.mark.skipif(not int8_convolutions(), reason="no fast int8 convolutions here (x86 with AVX2)")


@needs_int8
def test_int8_stays_within_its_pesq_drop_on_real_speech(speech: np.ndarray, speech_mel: np.ndarray) -> None:
    fp32 = create_vocoder("hifigan", precision="float32").vocode(speech_mel).numpy()
    int8 = create_vocoder("hifigan", precision="int8").vocode(speech_mel).numpy()
    assert int8.dtype == np.float32 and int8.shape == fp32.shape
    assert snr_db(fp32, int8) < 60  # really computed in int8
    assert pesq_wb(speech, int8) >= pesq_wb(speech, fp32) - PESQ_DROP


@needs_int8
def test_int8_is_the_default_without_bfloat16_and_quantises_the_first_stages_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from vocoder_studio.vocoders import hifigan

    assert _build(monkeypatch, native=True).precision == "bfloat16"  # where bfloat16 is native, not int8
    vocoder = _build(monkeypatch, native=False)  # the default without native bfloat16
    assert vocoder.precision == "int8"
    assert vocoder.precision == "int8" and vocoder.max_frames_per_call == 512
    quantised = [n for n, m in vocoder.generator.named_modules() if isinstance(m, hifigan.Int8Conv2d)]
    stages = {f"resblocks.{i}" for i in range(hifigan.INT8_STAGES * 3)}
    assert hifigan.INT8_STAGES == 3 and len(quantised) == len(stages) * 6  # all of the first three stages' blocks
    assert all(isinstance(vocoder.generator.get_submodule(n), hifigan.OneDNNInt8Conv2d) for n in quantised)
    assert {".".join(n.split(".")[:2]) for n in quantised} == stages  # the later stages and the rest stay float
    monkeypatch.setattr(hifigan, "int8_convolutions", lambda: False)
    with pytest.raises(VocoderUnavailableError, match="int8"):
        hifigan.HiFiGAN(precision="int8")


@needs_int8
def test_int8_streams_splice_like_float32(speech_mel: np.ndarray) -> None:
    """Static scales and per-sample kernels: chunks with their context frames make the whole call's audio."""
    vocoder = create_vocoder("hifigan", precision="int8")
    mel = speech_mel[:, 200:420]
    full = vocoder.vocode(mel).numpy()
    streamed = np.concatenate([b.numpy() for b in vocoder.stream(mel, chunk_frames=64, first_chunk_frames=16)])
    assert snr_db(full, streamed) > 40  # 141 dB here


@needs_int8
def test_the_onednn_int8_convolution_rounds_once_where_fbgemm_rounds_twice(speech_mel: np.ndarray) -> None:
    """On a real activation (the input of a 64-channel convolution of the third stage, from real speech), both int8
    kernels compute the float convolution closely; oneDNN's float32 output, not requantised to 8 bits, closer."""
    from vocoder_studio.vocoders.hifigan import INT8_KERNELS, int8_qparams, load_generator

    generator = load_generator(cache=False)
    name = "resblocks.6.convs2.1"
    conv = generator.get_submodule(name)
    seen: list[torch.Tensor] = []
    handle = conv.register_forward_hook(lambda module, inputs, output: seen.append(inputs[0].clone()))
    with torch.inference_mode():
        generator(torch.from_numpy(speech_mel[None, :, 100:160].copy()))
        handle.remove()
        (x,) = seen
        exact = conv(x)
        errors = {}
        for kernel, cls in INT8_KERNELS.items():
            out = cls.quantise(conv, int8_qparams(stages=4)[name])(x)
            assert out.shape == exact.shape and out.dtype == torch.float32
            errors[kernel] = float((out - exact).norm() / exact.norm())
    assert 0 < errors["onednn"] < 0.7 * errors["fbgemm"] < 0.07, errors  # here 0.028 and 0.054
    with pytest.raises(ValueError, match="kernel"):
        generator.to_int8({name: int8_qparams(stages=4)[name]}, kernel="other")


def test_prepacked_float_convolutions_compute_the_same(speech_mel: np.ndarray) -> None:
    """``Generator.prepack`` (oneDNN's blocked weights, reordered once) is a measured candidate
    (docs/hifigan_speed.md): the same audio as the eager convolutions, for any call length."""
    from vocoder_studio.vocoders.hifigan import PackedConv2d, load_generator

    plain, packed = load_generator(), load_generator().prepack()
    assert sum(isinstance(m, PackedConv2d) for m in packed.modules()) == 74  # every float Conv2d, not the ups
    with torch.inference_mode():
        for frames in (16, 300):
            mel = torch.from_numpy(speech_mel[None, :, :frames].copy())
            torch.testing.assert_close(packed(mel), plain(mel), rtol=0, atol=1e-4)
