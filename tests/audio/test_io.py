from __future__ import annotations

import contextlib
import io
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vocoder_studio.audio import DEFAULT_CONFIG, load_audio, load_mel, save_mel, save_wav
from vocoder_studio.audio.io import MAX_MEL_SECONDS, atomic_path, max_mel_frames, read_mel_npy
from vocoder_studio.errors import AudioFileError

from ..conftest import EXAMPLE


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


# ----- .npy files that are not mel arrays (rough edge 5) --------------------------------------------------------
def _npy_header(shape: tuple[int, ...], descr: str = "<f4") -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _pickled_npy() -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"mel": 1}, None], dtype=object), allow_pickle=True)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"0.1 0.2 0.3\n0.4 0.5 0.6\n", "not a NumPy .npy array"),
        (b"\x89PNG\r\n\x1a\n" + bytes(200), "not a NumPy .npy array"),
        (b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f4', 'shape': (80", "not a NumPy .npy array"),
        (b"\x93NUMPY\x03\x00" + bytes(100), "unsupported .npy format version 3.0"),
        (_npy_header((80, -3)), "impossible shape"),
        (_pickled_npy(), "holds Python objects"),
        (_npy_header((80, 10**9)), "larger than a document may be"),
        (_npy_header((10**6, 10**6, 10**6)), "larger than a document may be"),
        (_npy_header((80, 1000)) + bytes(1000), "truncated"),
        (_npy_header((80, 10), "<i4") + bytes(3200), "expected a float array"),
    ],
    ids=["text", "png", "cut-header", "version-3", "negative-shape", "pickled-objects", "huge-shape",
         "huge-3d", "truncated", "int-dtype"],
)
def test_npy_that_is_not_a_mel_array_is_one_clear_line(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "m.npy"
    path.write_bytes(content)
    with pytest.raises(AudioFileError, match=re.escape(reason)) as info:
        load_mel(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "\n" not in message
    assert "pickle" not in message.lower()  # never advise loading it unsafely


def test_mel_limit_is_one_hour_of_frames() -> None:
    assert max_mel_frames() * DEFAULT_CONFIG.frame_seconds == pytest.approx(MAX_MEL_SECONDS, abs=0.02)
    assert MAX_MEL_SECONDS == 3600


def test_fortran_order_and_big_endian_mels_load(tmp_path: Path) -> None:
    mel = np.random.default_rng(1).normal(-5, 2, (80, 7))
    np.save(tmp_path / "f.npy", np.asfortranarray(mel.astype(">f8")))
    np.testing.assert_allclose(load_mel(tmp_path / "f.npy"), mel.astype(np.float32))


def test_a_mel_inside_a_stream_is_read_from_its_position() -> None:
    mel = np.full((80, 4), -3.0, np.float32)
    buffer = io.BytesIO()
    buffer.write(b"prefix")
    np.save(buffer, mel)
    buffer.seek(6)
    np.testing.assert_array_equal(read_mel_npy(buffer, "project.vsproj/mel.npy", size=len(buffer.getvalue()) - 6), mel)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(prefix=st.sampled_from([b"", b"\x93NUMPY\x01\x00", b"\x93NUMPY\x02\x00", _npy_header((80, 3))[:10]]),
       body=st.binary(max_size=400))
def test_random_bytes_as_npy_always_give_audio_file_error(tmp_path: Path, prefix: bytes, body: bytes) -> None:
    path = tmp_path / "random.npy"
    path.write_bytes(prefix + body)
    try:
        load_mel(path)
    except AudioFileError as exc:
        assert "\n" not in str(exc) and "pickle" not in str(exc).lower()


def test_too_long_audio_is_refused_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "long.wav"
    rate = 1000  # a low rate keeps one hour and a second small on disk (3.6 MB)
    sf.write(path, np.zeros(int((MAX_MEL_SECONDS + 1) * rate), np.float32), rate, subtype="PCM_U8")
    with pytest.raises(AudioFileError, match="longer than a document may be"):
        load_audio(path)


# ----- atomic writes: rollback, missing folders, permissions (rough edges 2, 3, 16) ----------------------------
def test_an_error_inside_atomic_path_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "keep.bin"
    path.write_bytes(b"old content")
    with pytest.raises(RuntimeError, match="boom"), atomic_path(path) as tmp:
        tmp.write_bytes(b"half of the new cont")
        assert tmp.parent == tmp_path and tmp.exists()
        raise RuntimeError("boom")
    assert path.read_bytes() == b"old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.bin"]


def test_a_failed_rename_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()  # a folder where the file should go: the final rename fails
    with pytest.raises(AudioFileError, match="cannot write"):
        save_mel(target, np.zeros((80, 3), np.float32))
    assert target.is_dir() and sorted(p.name for p in tmp_path.iterdir()) == ["taken"]


def test_missing_output_folder_is_an_error_not_created(tmp_path: Path) -> None:
    target = tmp_path / "no" / "such" / "dir" / "x.wav"
    with pytest.raises(AudioFileError, match=re.escape(f"folder {target.parent} does not exist")) as info:
        save_wav(target, np.zeros(100, np.float32))
    assert str(info.value).startswith(str(target))
    assert not (tmp_path / "no").exists()
    with pytest.raises(AudioFileError, match="does not exist"):
        save_mel(tmp_path / "nope" / "m.npy", np.zeros((80, 3), np.float32))
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(AudioFileError, match="is not a folder"):
        save_wav(tmp_path / "file" / "x.wav", np.zeros(100, np.float32))


@contextlib.contextmanager
def _umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_written_files_get_the_umask_default(tmp_path: Path, mask: int, mode: int) -> None:
    with _umask(mask):
        wav = save_wav(tmp_path / "a.wav", np.zeros(100, np.float32))
        npy = save_mel(tmp_path / "a.npy", np.zeros((80, 3), np.float32))
    assert stat.S_IMODE(wav.stat().st_mode) == mode
    assert stat.S_IMODE(npy.stat().st_mode) == mode


def test_overwriting_keeps_the_existing_files_permissions(tmp_path: Path) -> None:
    path = tmp_path / "a.wav"
    with _umask(0o022):
        save_wav(path, np.zeros(100, np.float32))
        path.chmod(0o600)  # its owner made it private: a new version stays private
        save_wav(path, np.ones(100, np.float32) * 0.5)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with _umask(0o077):
        path.chmod(0o644)  # and a shared one stays shared under a strict umask
        save_wav(path, np.zeros(100, np.float32))
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_npy_format_version_2_loads(tmp_path: Path) -> None:
    mel = np.full((80, 5), -4.0, np.float32)
    buffer = io.BytesIO()
    np.lib.format.write_array_header_2_0(buffer, {"descr": "<f4", "fortran_order": False, "shape": mel.shape})
    (tmp_path / "v2.npy").write_bytes(buffer.getvalue() + mel.tobytes())
    np.testing.assert_array_equal(load_mel(tmp_path / "v2.npy"), mel)


def _write_forever(target: Path) -> subprocess.Popen[str]:
    """A process inside ``atomic_path(target)`` that wrote some bytes and then waits (to be killed)."""
    code = ("import sys, time; from vocoder_studio.audio.io import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    tmp.write_bytes(b'half a take'); print(tmp, flush=True); time.sleep(600)\n")
    process = subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert process.stdout is not None
    assert Path(process.stdout.readline().strip()).exists()
    return process


def _parts(folder: Path, name: str) -> list[Path]:
    """The temporary files of writes of ``name`` in ``folder``."""
    return sorted(folder.glob(f".{name}.*.part"))


def test_a_kill_mid_write_leaves_a_part_file_that_the_next_save_there_removes(tmp_path: Path) -> None:
    from vocoder_studio.audio.io import clean_stale_parts

    live = _write_forever(tmp_path / "other.wav")
    killed = _write_forever(tmp_path / "take.wav")  # (its start left the live one's part file alone)
    killed.kill()
    killed.wait()
    try:
        (stale,) = _parts(tmp_path, "take.wav")
        orphan = tmp_path / ".mine.wav.0123456789ab.part"  # a part file nobody holds: its writer is gone too
        orphan.write_bytes(b"x")
        with atomic_path(tmp_path / "next.wav") as tmp:  # what every save runs, in the CLI and the window
            tmp.write_bytes(b"a new take")
            assert tmp.exists()  # the cleaner of this write ran first and left this write's own file alone
        assert not stale.exists() and not orphan.exists()  # right away: no waiting for them to age
        assert (tmp_path / "next.wav").read_bytes() == b"a new take"
        assert len(_parts(tmp_path, "other.wav")) == 1  # a live write is never touched
        assert clean_stale_parts(tmp_path) == []
    finally:
        live.kill()
        live.wait()
    dead = _parts(tmp_path, "other.wav")
    assert len(dead) == 1 and clean_stale_parts(tmp_path) == dead  # now its writer is dead: stale


def test_a_part_file_of_this_process_is_live_while_it_writes(tmp_path: Path) -> None:
    from vocoder_studio.audio.io import clean_stale_parts

    with atomic_path(tmp_path / "a.wav") as first:  # e.g. an export on a worker thread while the project saves
        first.write_bytes(b"one")
        with atomic_path(tmp_path / "b.wav") as second:
            second.write_bytes(b"two")
            assert clean_stale_parts(tmp_path) == [] and first.exists() and second.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.wav", "b.wav"]


def test_kill_9_of_a_long_vocode_then_the_next_command_there_removes_its_part_file(tmp_path: Path) -> None:
    source = tmp_path / "long.npy"
    np.save(source, np.full((DEFAULT_CONFIG.n_mels, 10 * 60 * 86), -4.0, np.float32))  # ten minutes of mel
    out = tmp_path / "out"
    out.mkdir()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    command = [sys.executable, "-m", "vocoder_studio"]
    writer = subprocess.Popen([*command, "vocode", str(source), "-o", str(out / "long.wav"), "--vocoder",
                               "griffin-lim"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        grown = False
        while not grown:  # until the write is under way: its part file holds audio
            assert writer.poll() is None, writer.stderr.read() if writer.stderr else ""
            with contextlib.suppress(OSError):
                grown = any(p.stat().st_size > 1 << 16 for p in _parts(out, "long.wav"))
            time.sleep(0.01)
        os.kill(writer.pid, signal.SIGKILL)  # kill -9 in the middle of the write
    finally:
        writer.kill()
        writer.wait()
        if writer.stderr is not None:
            writer.stderr.close()
    assert writer.returncode == -signal.SIGKILL
    (stale,) = _parts(out, "long.wav")
    assert not (out / "long.wav").exists()
    live = _write_forever(out / "other.wav")
    try:
        done = subprocess.run([*command, "mel", str(EXAMPLE), "-o", str(out / "next.npy")], env=env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert not stale.exists()
        (live_part,) = _parts(out, "other.wav")  # another process still writing: left alone
        assert sorted(p.name for p in out.iterdir()) == [live_part.name, "next.npy"]
    finally:
        live.kill()
        live.wait()


def test_quieting_stderr_from_overlapping_threads_always_restores_it() -> None:
    import threading

    from vocoder_studio.audio.io import _quiet_stderr

    before = os.fstat(2)
    start = threading.Barrier(4)

    def read_quietly() -> None:
        start.wait()
        for _ in range(200):
            with _quiet_stderr():
                pass

    threads = [threading.Thread(target=read_quietly) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = os.fstat(2)
    assert (after.st_dev, after.st_ino) == (before.st_dev, before.st_ino)  # fd 2 is what it was, not /dev/null
