from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocoder_studio.audio import load_audio, load_mel, save_mel, save_wav
from vocoder_studio.errors import AudioFileError


def test_any_rate_and_channels_become_mono_22050(tmp_path: Path) -> None:
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    for name, subtype in [("a.wav", "PCM_16"), ("a.flac", "PCM_24"), ("a.ogg", "VORBIS")]:
        sf.write(tmp_path / name, stereo, 44100, subtype=subtype)
        audio = load_audio(tmp_path / name)
        assert audio.dtype == np.float32 and audio.ndim == 1
        assert abs(len(audio) - 22050) <= 1
        assert 0.45 < np.max(np.abs(audio)) <= 0.51


@pytest.mark.parametrize(
    "content, reason",
    [(b"", "empty"), (b"RIFF\x24\x00\x00\x00WAVEfmt ", "not a readable audio file"),
     (os.urandom(4000), "not a readable audio file")],
    ids=["empty", "truncated", "random-bytes"],
)
def test_bad_audio_files_give_one_clear_error(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioFileError, match=reason) as info:
        load_audio(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match="no such file"):
        load_audio(tmp_path / "nope.wav")


def test_truncated_real_wav_is_rejected_or_shorter(tmp_path: Path, speech_files: list[Path]) -> None:
    data = speech_files[0].read_bytes()
    path = tmp_path / "cut.wav"
    path.write_bytes(data[:40])
    with pytest.raises(AudioFileError):
        load_audio(path)


def test_mel_npy_round_trip_and_checks(tmp_path: Path) -> None:
    mel = np.random.default_rng(0).normal(-5, 2, (80, 33)).astype(np.float32)
    save_mel(tmp_path / "m.npy", mel)
    np.testing.assert_array_equal(load_mel(tmp_path / "m.npy"), mel)
    bad = mel.copy()
    bad[3, 4] = np.nan
    np.save(tmp_path / "nan.npy", bad)
    with pytest.raises(AudioFileError, match="NaN"):
        load_mel(tmp_path / "nan.npy")
    np.save(tmp_path / "shape.npy", mel[:40])
    with pytest.raises(AudioFileError, match="80 mel bands"):
        load_mel(tmp_path / "shape.npy")
    np.save(tmp_path / "int.npy", np.zeros((80, 5), np.int32))
    with pytest.raises(AudioFileError, match="float"):
        load_mel(tmp_path / "int.npy")
    (tmp_path / "junk.npy").write_bytes(b"not numpy at all")
    with pytest.raises(AudioFileError, match="npy"):
        load_mel(tmp_path / "junk.npy")


@pytest.mark.parametrize("fmt, subtype", [("pcm16", "PCM_16"), ("float32", "FLOAT")])
def test_wav_export_formats(tmp_path: Path, fmt: str, subtype: str) -> None:
    audio = np.sin(np.linspace(0, 100, 5000)).astype(np.float32) * 0.8
    path = save_wav(tmp_path / "out.wav", audio, 22050, fmt)
    info = sf.info(path)
    assert info.samplerate == 22050 and info.subtype == subtype and info.frames == 5000
    back, _ = sf.read(path, dtype="float32")
    assert np.max(np.abs(back - audio)) < (1e-4 if fmt == "pcm16" else 1e-7)
    assert not list(tmp_path.glob("*.part"))


def test_failed_write_leaves_the_old_file(tmp_path: Path) -> None:
    path = tmp_path / "keep.wav"
    save_wav(path, np.zeros(100, np.float32) + 0.1)
    before = path.read_bytes()
    with pytest.raises(AudioFileError):
        save_wav(path, np.zeros(0, np.float32))
    with pytest.raises(AudioFileError, match="unknown WAV format"):
        save_wav(path, np.zeros(10, np.float32), sample_format="mp3")
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.part"))
