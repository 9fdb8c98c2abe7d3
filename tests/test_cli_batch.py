"""``vocoder-studio vocode IN... -o DIR`` as users call it (a real subprocess): several inputs into a folder."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocoder_studio.audio import save_mel
from vocoder_studio.audio.mel import DEFAULT_CONFIG

from .conftest import EXAMPLE, cli

ERROR = "vocoder-studio: error: "


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(ERROR)]


@pytest.fixture
def inputs(tmp_path: Path, speech_files: list[Path], example_mel: np.ndarray) -> list[Path]:
    """Two real clips and the example as a .npy mel."""
    return [speech_files[0], speech_files[1], save_mel(tmp_path / "example_mel.npy", example_mel)]


def test_several_inputs_give_the_wavs_single_file_vocode_gives(inputs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    # float32: bfloat16 sums round differently with the thread count
    fp32 = ("--vocoder", "hifigan", "--device", "cpu", "--param", "precision=float32")
    done = cli("vocode", *map(str, inputs), "-o", str(out), *fp32)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{p.stem}.wav" for p in inputs)
    assert f"3 of 3 files vocoded into {out}" in done.stdout
    for source in inputs:
        single = tmp_path / "single.wav"
        assert cli("vocode", str(source), "-o", str(single), *fp32).returncode == 0
        batch_audio, rate = sf.read(out / f"{source.stem}.wav", dtype="int16")
        single_audio, _ = sf.read(single, dtype="int16")
        assert rate == DEFAULT_CONFIG.sample_rate and batch_audio.shape == single_audio.shape
        # one intra-op thread per file instead of two: float rounding may move a sample by one 16-bit step
        assert np.abs(batch_audio.astype(np.int32) - single_audio).max() <= 1
        assert np.abs(batch_audio).max() > 300


def test_a_bad_input_among_good_ones_fails_alone_with_status_2(inputs: list[Path], tmp_path: Path) -> None:
    bad = tmp_path / "noise.wav"
    bad.write_bytes(bytes(range(256)) * 12)
    out = tmp_path / "out"
    out.mkdir()
    done = cli("vocode", str(inputs[0]), str(bad), str(inputs[1]), "-o", str(out), "--vocoder", "griffin-lim")
    assert done.returncode == 2
    assert errors(done.stderr) == [line for line in errors(done.stderr) if line.startswith(f"{ERROR}{bad}: ")]
    assert len(errors(done.stderr)) == 1 and "Traceback" not in done.stderr
    assert "2 of 3 files vocoded" in done.stderr and "1 failed" in done.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{inputs[0].stem}.wav", f"{inputs[1].stem}.wav"])


def test_a_name_collision_or_a_missing_folder_stops_before_any_work(inputs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    twin = tmp_path / f"{inputs[0].stem}.npy"
    twin.write_bytes(inputs[2].read_bytes())
    done = cli("vocode", str(inputs[0]), str(inputs[1]), str(twin), "-o", str(out), "--vocoder", "griffin-lim")
    assert done.returncode == 2 and errors(done.stderr) == done.stderr.strip().splitlines()
    assert errors(done.stderr)[0] == (f"{ERROR}{out / inputs[0].name}: both {inputs[0]} and {twin} would be "
                                      "written here (rename one, or vocode them into different folders)")
    assert list(out.iterdir()) == []
    missing = tmp_path / "missing"
    done = cli("vocode", str(inputs[0]), str(inputs[1]), "-o", str(missing), "--vocoder", "griffin-lim")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith(f"{ERROR}{missing}: the output folder does not exist")
    assert not missing.exists()


def test_the_single_input_form_is_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "one.wav"
    done = cli("vocode", str(EXAMPLE), "-o", str(out), "--vocoder", "griffin-lim", "--iterations", "4")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{out}: ") and " at 22050 Hz, griffin-lim" in done.stdout
    assert len(done.stdout.strip().splitlines()) == 1
    assert sf.info(out).frames % DEFAULT_CONFIG.hop_length == 0 and sf.info(out).subtype == "PCM_16"
    done = cli("vocode", str(EXAMPLE), "-o", str(tmp_path / "newname"), "--vocoder", "griffin-lim")
    assert done.returncode == 2
    assert done.stderr.strip() == f"{ERROR}{tmp_path / 'newname'}: the output must be a .wav file (a WAV file)"


def test_ctrl_c_cancels_and_leaves_no_partial_output(tmp_path: Path, example_mel: np.ndarray) -> None:
    sources = [save_mel(tmp_path / f"take{i}.npy", example_mel) for i in range(6)]
    out = tmp_path / "out"
    out.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "vocoder_studio", "vocode", *map(str, sources), "-o", str(out),
                                "--vocoder", "griffin-lim", "--param", "iterations=200"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not list(out.glob(".*.part")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGINT)  # while the first two files (two workers) are being written
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130 and stderr.strip().splitlines()[-1] == "vocoder-studio: interrupted"
    assert list(out.iterdir()) == []  # the files under way were stopped before they were put in place
