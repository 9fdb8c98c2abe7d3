"""The command line as users and outside checks call it (a real subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocoder_studio import __version__
from vocoder_studio.audio.mel import DEFAULT_CONFIG

from .conftest import EXAMPLE, cli


def test_version_and_vocoders_list() -> None:
    assert cli("--version").stdout.strip() == f"vocoder-studio {__version__}"
    listing = cli("vocoders")
    assert listing.returncode == 0
    for name in ("griffin-lim", "hifigan", "hifigan-lj"):
        assert name in listing.stdout
    assert "22050" in listing.stdout and "ready" in listing.stdout


def test_example_round_trip_through_mel_and_vocode(tmp_path: Path) -> None:
    mel_path = tmp_path / "example.npy"
    done = cli("mel", str(EXAMPLE), "-o", str(mel_path))
    assert done.returncode == 0, done.stderr
    mel = np.load(mel_path)
    assert mel.dtype == np.float32 and mel.shape[0] == 80
    wav = tmp_path / "out.wav"
    done = cli("vocode", str(mel_path), "-o", str(wav), "--vocoder", "hifigan", "--device", "cpu")
    assert done.returncode == 0, done.stderr
    audio, rate = sf.read(wav, dtype="float32")
    assert rate == DEFAULT_CONFIG.sample_rate and len(audio) == mel.shape[1] * DEFAULT_CONFIG.hop_length
    assert np.sqrt(np.mean(audio**2)) > 0.01
    from vocoder_studio.audio import wav_to_mel

    assert np.mean(np.abs(wav_to_mel(audio) - mel)) < 0.6


def test_vocode_audio_directly_with_griffin_lim(tmp_path: Path) -> None:
    wav = tmp_path / "gl.wav"
    done = cli("vocode", str(EXAMPLE), "-o", str(wav), "--vocoder", "griffin-lim", "--iterations", "8",
               "--format", "float32")
    assert done.returncode == 0, done.stderr
    assert sf.info(wav).subtype == "FLOAT"


@pytest.mark.parametrize("content", [b"", os.urandom(3000), b"RIFF\x10\x00\x00\x00WAVE"],
                         ids=["empty", "random", "truncated"])
def test_bad_input_one_line_status_2_no_output(tmp_path: Path, content: bytes) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(content)
    out = tmp_path / "out.wav"
    done = cli("vocode", str(bad), "-o", str(out))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"vocoder-studio: error: {bad}: ")
    assert "Traceback" not in done.stderr
    assert not out.exists() and not list(tmp_path.glob("*.part"))


def test_bad_mel_and_unknown_vocoder(tmp_path: Path) -> None:
    np.save(tmp_path / "nan.npy", np.full((80, 10), np.nan, np.float32))
    done = cli("vocode", str(tmp_path / "nan.npy"), "-o", str(tmp_path / "o.wav"))
    assert done.returncode == 2 and "NaN" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    np.save(tmp_path / "m.npy", np.full((80, 10), -5, np.float32))
    done = cli("vocode", str(tmp_path / "m.npy"), "-o", str(tmp_path / "o.wav"), "--vocoder", "nope")
    assert done.returncode == 2 and "unknown vocoder 'nope'" in done.stderr
    assert not (tmp_path / "o.wav").exists()


def test_open_refuses_a_bad_file_before_any_window(tmp_path: Path) -> None:
    bad = tmp_path / "notes.ogg"
    bad.write_text("not audio")
    done = cli("open", str(bad))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"vocoder-studio: error: {bad}: not a readable audio file")


def test_no_display_is_one_clear_line_not_a_qt_abort() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "vocoder_studio"], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vocoder-studio: error: no display")


def _one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2 and "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("vocoder-studio: error: ")
    return lines[0]


@pytest.mark.parametrize(("args", "message"), [
    (["--vocoder", "griffin-lim", "--iterations", "-3"], "iterations must be an integer in [1, 1000], got -3"),
    (["--vocoder", "griffin-lim", "--iterations", "0"], "iterations must be an integer in [1, 1000], got 0"),
    (["--vocoder", "griffin-lim", "--param", "momentum=2"], "parameter momentum must be a number in [0, 0.999]"),
    (["--vocoder", "griffin-lim", "--param", "iterations=eight"], "got 'eight'"),
    (["--vocoder", "hifigan", "--param", "precision=float16"], "precision must be one of float32, bfloat16"),
    (["--vocoder", "hifigan", "--param", "iterations=8"], "hifigan: unknown parameter 'iterations'"),
    (["--param", "iterations"], "--param takes NAME=VALUE"),
])
def test_bad_parameters_are_one_line_naming_the_range(tmp_path: Path, args: list[str], message: str) -> None:
    out = tmp_path / "o.wav"
    line = _one_error_line(cli("vocode", str(EXAMPLE), "-o", str(out), *args))
    assert message in line
    assert not out.exists()


def test_param_sets_griffin_lim_iterations(tmp_path: Path) -> None:
    out = tmp_path / "o.wav"
    done = cli("vocode", str(EXAMPLE), "-o", str(out), "--vocoder", "griffin-lim", "--param", "iterations=3",
               "--param", "momentum=0")
    assert done.returncode == 0, done.stderr
    assert "3 iterations, momentum 0" in done.stdout


def test_output_suffix_must_match_the_format(tmp_path: Path) -> None:
    text = tmp_path / "x.txt"
    line = _one_error_line(cli("mel", str(EXAMPLE), "-o", str(text)))
    assert line == f"vocoder-studio: error: {text}: the output must be a .npy file (a float32 mel array)"
    assert not text.exists()
    line = _one_error_line(cli("vocode", str(EXAMPLE), "-o", str(tmp_path / "x.flac")))
    assert "the output must be a .wav file" in line


def test_vocoders_json_shape() -> None:
    import json

    done = cli("vocoders", "--json")
    assert done.returncode == 0, done.stderr
    entries = json.loads(done.stdout)
    assert [e["name"] for e in entries][:3] == ["griffin-lim", "hifigan", "hifigan-lj"]
    for entry in entries:
        assert {"name", "label", "sample_rate", "status", "reason", "parameters", "card"} <= set(entry)
        assert entry["status"] in ("ready", "unavailable")
        assert (entry["reason"] is None) == (entry["status"] == "ready")
        for schema in entry["parameters"].values():
            assert schema["type"] in ("int", "float", "choice", "bool") and "default" in schema and "help" in schema
            assert set(schema) <= {"type", "default", "min", "max", "choices", "unit", "help"}
    gl = entries[0]
    assert gl["parameters"]["iterations"]["min"] == 1 and gl["card"] is None
    assert entries[1]["card"]["scores"]["pesq_wb"] > 3


def test_ctrl_c_stops_training_after_the_step_with_a_checkpoint(tmp_path: Path, speech: np.ndarray) -> None:
    """Ctrl-C (SIGINT) while `train` runs: it finishes the step under way, writes the checkpoint and exits 0, so
    nothing since the last periodic checkpoint is lost and the next run resumes from that step."""
    import signal
    import time

    import torch

    from vocoder_studio.training.corpus import write_pack

    clips = [np.round(speech[i * 44100: (i + 1) * 44100] * 32767).astype(np.int16) for i in range(3)]
    write_pack(tmp_path / "train.npz", clips, DEFAULT_CONFIG.sample_rate)
    env = {**os.environ, "VOCODER_STUDIO_DATA": str(tmp_path)}
    proc = subprocess.Popen([sys.executable, "-m", "vocoder_studio", "train", "istft", "--device", "cpu",
                             "--threads", "1", "--steps", "100000"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    log = tmp_path / "runs" / "istft" / "log.csv"
    deadline = time.monotonic() + 240
    while not (log.exists() and len(log.read_text().splitlines()) >= 2):  # step 10 logged
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    assert "stopping after this step" in err and "Traceback" not in err
    step = torch.load(log.parent / "checkpoint.pt", weights_only=False)["state"]["step"]
    assert step >= int(log.read_text().splitlines()[-1].split(",")[0]) >= 10


def test_train_errors_are_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "VOCODER_STUDIO_DATA": str(tmp_path)}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "vocoder_studio", *args], capture_output=True, text=True,
                              timeout=300, env=env)

    assert "unknown model 'nope'; trainable: istft" in _one_error_line(run("train", "nope", "--device", "cpu"))
    line = _one_error_line(run("train", "istft", "--device", "cpu", "--steps", "1"))
    assert line.endswith("train.npz: no corpus pack; run `vocoder-studio data prepare` first")
