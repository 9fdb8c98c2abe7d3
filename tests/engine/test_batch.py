"""Batch export in the model layer (no Qt): real speech clips and the bundled example, the real vocoders."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocoder_studio.audio import save_mel
from vocoder_studio.document import Document, open_document
from vocoder_studio.engine.batch import batch_workers, plan_batch, run_batch
from vocoder_studio.engine.export import write_vocoded
from vocoder_studio.engine.jobs import CancelToken
from vocoder_studio.errors import AudioFileError, JobCancelled, VocoderStudioError
from vocoder_studio.vocoders import create_vocoder

from ..conftest import EXAMPLE


@pytest.fixture(scope="module")
def griffin_lim():
    return create_vocoder("griffin-lim", iterations=4)


@pytest.fixture
def inputs(tmp_path: Path, speech_files: list[Path], example_mel: np.ndarray) -> list[Path]:
    """Three kinds of input: two real clips, the example as a .npy mel and a part of it as a project."""
    mel = save_mel(tmp_path / "example_mel.npy", example_mel)
    project = Document(example_mel[:, 100:400]).save(tmp_path / "project.vsproj")
    return [speech_files[0], speech_files[1], mel, project]


def test_every_input_gives_the_wav_its_single_file_export_gives(inputs: list[Path], tmp_path: Path,
                                                               griffin_lim) -> None:
    out = tmp_path / "out"
    out.mkdir()
    items = plan_batch(inputs, out)
    assert [i.output for i in items] == [out / f"{p.stem}.wav" for p in inputs]
    finished: list[Path] = []
    outcomes = run_batch(items, griffin_lim, on_done=lambda o: finished.append(o.item.output))
    assert all(o.ok for o in outcomes) and sorted(finished) == sorted(i.output for i in items)
    for item, outcome in zip(items, outcomes, strict=True):
        single = write_vocoded(open_document(item.source).mel, tmp_path / "single.wav", griffin_lim)
        batch_audio, rate = sf.read(item.output, dtype="int16")
        single_audio, _ = sf.read(tmp_path / "single.wav", dtype="int16")
        assert rate == griffin_lim.sample_rate and outcome.samples == single == batch_audio.size
        np.testing.assert_array_equal(batch_audio, single_audio)
        assert np.abs(batch_audio).max() > 300  # sound, not silence


def test_a_bad_input_gives_its_error_and_the_others_finish(inputs: list[Path], tmp_path: Path,
                                                          griffin_lim) -> None:
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"RIFF\x10\x00\x00\x00WAVE")  # truncated
    out = tmp_path / "out"
    out.mkdir()
    outcomes = run_batch(plan_batch([inputs[0], bad, inputs[2]], out), griffin_lim)
    assert [o.ok for o in outcomes] == [True, False, True]
    assert outcomes[1].error is not None and outcomes[1].error.startswith(f"{bad}: ")
    assert "\n" not in outcomes[1].error
    assert sorted(p.name for p in out.iterdir()) == sorted([f"{inputs[0].stem}.wav", f"{inputs[2].stem}.wav"])


def test_names_and_folder_are_checked_before_any_work(tmp_path: Path, speech_files: list[Path]) -> None:
    twin = tmp_path / f"{speech_files[0].stem}.npy"  # the same stem as a clip: the same output
    with pytest.raises(VocoderStudioError, match=f"both {speech_files[0]} and {twin}"):
        plan_batch([speech_files[0], speech_files[1], twin], tmp_path)
    with pytest.raises(VocoderStudioError, match="would be written here"):
        plan_batch([EXAMPLE, EXAMPLE], tmp_path)
    with pytest.raises(AudioFileError, match="does not exist"):
        plan_batch(speech_files[:2], tmp_path / "missing")
    with pytest.raises(AudioFileError, match="is not a folder"):
        plan_batch(speech_files[:2], speech_files[0])
    assert list(tmp_path.iterdir()) == []


def test_cancelling_stops_the_files_under_way_and_leaves_no_partial_file(tmp_path: Path,
                                                                          example_mel: np.ndarray) -> None:
    sources = [save_mel(tmp_path / f"take{i}.npy", example_mel) for i in range(4)]
    out = tmp_path / "out"
    out.mkdir()
    slow = create_vocoder("griffin-lim", iterations=64)
    token = CancelToken()

    def cancel_while_writing() -> None:  # as Ctrl-C would: while the first file is being vocoded and written
        while not list(out.glob(".take0.wav.*.part")):
            time.sleep(0.002)
        token.cancel()

    watcher = threading.Thread(target=cancel_while_writing)
    watcher.start()
    finished: list[object] = []
    with pytest.raises(JobCancelled):
        run_batch(plan_batch(sources, out), slow, workers=1, cancel=token, on_done=finished.append)
    watcher.join()
    assert finished == [] and list(out.iterdir()) == []  # the file under way was never put in place
    done = run_batch(plan_batch(sources[:1], out), slow)  # the same item, not cancelled: a whole file
    assert sf.info(out / "take0.wav").frames == done[0].samples == example_mel.shape[1] * slow.hop_length


def test_workers_keep_every_core_busy() -> None:
    assert batch_workers(8, cores=2) == (2, 1)
    assert batch_workers(1, cores=2) == (1, 2)
    assert batch_workers(3, cores=8) == (3, 2)

