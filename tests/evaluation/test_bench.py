"""The bench's figures, measured in-process on a short input with Griffin-Lim (values are never asserted as times)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.cpu import torch_capability
from vocoder_studio.evaluation.bench import PREVIEW_KEYS, VOCODER_KEYS, bench_vocoder, load_reference_hifigan, run_bench
from vocoder_studio.vocoders import create_vocoder
from vocoder_studio.vocoders.choice import VocoderChoice


@pytest.fixture(scope="module")
def short_speech(speech: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bench") / "speech.wav"
    sf.write(path, speech[: 2 * DEFAULT_CONFIG.sample_rate], DEFAULT_CONFIG.sample_rate)
    return path


@pytest.fixture(scope="module")
def bench(short_speech: Path) -> dict:
    return run_bench("griffin-lim:iterations=4", "cpu", str(short_speech), runs=3, in_process=True, app=False,
                     note="a test")


def test_the_bench_json_has_every_field(bench: dict) -> None:
    data = json.loads(json.dumps(bench))  # it is plain JSON
    assert {"cores", "torch", "device", "note"} <= set(data["machine"]) and data["machine"]["device"] == "cpu"
    assert "app_start_s" in data
    (name, entry), = data["vocoders"].items()
    assert name == "griffin-lim:iterations=4"
    assert set(VOCODER_KEYS) | set(PREVIEW_KEYS) <= set(entry) and entry["device"] == "cpu"
    for key in ("rtf", "ref_rtf", "edit_to_sound_ms", "peak_rss_mb", "load_s"):
        assert isinstance(entry[key], float) and entry[key] > 0, key
    from vocoder_studio.engine.audio_output import playback_status
    from vocoder_studio.vocoders.registry import PREVIEW_VOCODER, preview_vocoder

    previewed = preview_vocoder() == PREVIEW_VOCODER  # the preview path beside the hold, where iSTFT is installed
    if previewed:
        assert entry["edit_to_sound_preview_ms"] > 0 and entry["preview_load_s"] > 0
    if playback_status() is None:  # the PulseAudio null sink under CI
        assert entry["first_audio_ms"] > 0 and entry["underruns"] == 0
        if previewed:
            assert entry["first_audio_preview_ms"] > 0 and entry["preview_underruns"] == 0
            assert 0.0 <= entry["slow_share"] <= 1.0
    else:
        assert entry["first_audio_ms"] is None and entry["first_audio_preview_ms"] is None


def test_the_reference_hifigan_is_the_original_generator_and_matches_ours(speech_mel: np.ndarray) -> None:
    """The reference code path (jik876's models.py, weight norm folded at run time) and our HiFi-GAN in float32
    make the same audio from the same weights: the speed ratio compares like with like (the bfloat16 default
    of a CPU that runs it natively is checked against float32's PESQ in tests/vocoders/test_hifigan_fast.py)."""
    mel = speech_mel[:, 100:164]
    reference = load_reference_hifigan("cpu")(mel).numpy()
    ours = create_vocoder("hifigan", precision="float32").vocode(mel).numpy()
    assert reference.shape == ours.shape == (64 * DEFAULT_CONFIG.hop_length,)
    np.testing.assert_allclose(ours, reference, atol=1e-3)


def test_the_bench_times_both_implementations_with_the_same_threads(bench: dict, speech: np.ndarray) -> None:
    """The RTF of ours and of the reference with the same threads (the idle cores, as the app vocodes), and
    those threads recorded."""
    import os

    (entry,) = bench["vocoders"].values()
    assert 1 <= entry["threads"] <= os.cpu_count()
    assert 1 <= entry["play_threads"] <= os.cpu_count()
    audio = speech[: DEFAULT_CONFIG.sample_rate]
    three = bench_vocoder(VocoderChoice.parse("griffin-lim:iterations=2"), audio, runs=1, reference=False, play=False,
                          threads=3)
    assert three["threads"] == 3  # really set for the timed calls, not only written down


def test_the_bench_records_the_precision_path(bench: dict) -> None:
    (entry,) = bench["vocoders"].values()
    assert entry["precision"] == "float32"  # Griffin-Lim has no other path
    assert entry["torch_capability"] == torch_capability()  # the ISA it ran with (AVX2 under the caps)


def test_the_avx2_imitation_measures_each_vocoder_again_under_the_caps(short_speech: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """With ``avx2_imitation`` every vocoder gets a second row, measured in a child process whose environment caps
    torch at AVX2 (that those caps give HiFi-GAN's float path is tests/test_cpu.py's)."""
    from vocoder_studio.evaluation import bench as bench_module

    children: list[tuple[str, dict | None]] = []

    def child(spec: str, device: str, input_path: str | None, runs: int, env: dict | None = None,
              cold: bool = True) -> dict:
        children.append((spec, env))
        return {"device": device, "rtf": 0.5, "ref_rtf": 1.0, "first_audio_ms": None, "edit_to_sound_ms": 1.0,
                "peak_rss_mb": 1.0, "load_s": 0.1, "label": spec, "precision": "float32", "underruns": None}

    monkeypatch.setattr(bench_module, "_bench_in_child", child)
    data = run_bench("griffin-lim:iterations=2", "cpu", str(short_speech), runs=1, app=False, avx2_imitation=True)
    assert list(data["vocoders"]) == ["griffin-lim:iterations=2", "griffin-lim:iterations=2 (AVX2 imitation)"]
    assert children == [("griffin-lim:iterations=2", None), ("griffin-lim:iterations=2", bench_module.AVX2_IMITATION)]
    assert data["machine"]["avx2_imitation"]["ONEDNN_MAX_CPU_ISA"] == "AVX2"
    children.clear()
    named = run_bench("griffin-lim:iterations=2", "cpu", str(short_speech), runs=1, app=False,
                      avx2_imitation=["hifigan"])  # only the vocoders named get the second row
    assert list(named["vocoders"]) == ["griffin-lim:iterations=2"] and children == [("griffin-lim:iterations=2", None)]


def test_the_cold_press_plays_the_preview_first_and_hears_an_edit(speech_mel: np.ndarray) -> None:
    """The first press as the window makes it (first_press.cold_press, here in this process): the chosen
    vocoder is built by the play job, the playback starts on the preview and an edit is handed to the play job;
    every figure is there (neither times nor underruns are asserted: this runs beside the whole suite on a busy
    CPU; the gapless preview-then-replace is tests/engine/test_preview.py's and the null sink's)."""
    from vocoder_studio.engine.audio_output import playback_status
    from vocoder_studio.evaluation.first_press import COLD_KEYS, cold_press
    from vocoder_studio.vocoders.registry import PREVIEW_VOCODER, preview_vocoder

    figures = cold_press(VocoderChoice.parse("griffin-lim:iterations=4"), speech_mel[:, :260])
    assert set(COLD_KEYS) <= set(figures)
    if playback_status() is not None:
        assert figures["first_audio_cold_ms"] is None
        return
    assert figures["first_audio_cold_ms"] > 0 and figures["cold_underruns"] >= 0
    if preview_vocoder() == PREVIEW_VOCODER:
        # Griffin-Lim outruns the playback: its play job has ended by the edit (the window's update job answers
        # it then), so the edit is timed only for a vocoder still at work (HiFi-GAN, WaveNet in the bench)
        assert figures["preview_warm_s"] > 0 and (figures["edit_heard_ms"] is None or figures["edit_heard_ms"] > 0)
        share = figures["cold_slow_share"]
        assert share is None or 0.0 <= share <= 1.0  # 1.0: it kept up and took over
