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

from .conftest import EXAMPLE


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vocoder_studio", *args], capture_output=True, text=True,
                          timeout=300)


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
    assert rate == 22050 and len(audio) == mel.shape[1] * 256
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
