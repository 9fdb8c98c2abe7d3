"""The corpus: the committed manifest, the split by level, scanning a sound tree and packing it."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.training import corpus


def test_committed_manifest_splits_by_level() -> None:
    clips = corpus.read_manifest()
    assert len(clips) > 2000
    splits_of_level: dict[str, set[str]] = defaultdict(set)
    minutes: dict[str, float] = defaultdict(float)
    for clip in clips:
        splits_of_level[clip.level].add(clip.split)
        minutes[clip.split] += clip.seconds / 60
        assert clip.split == corpus.split_of(clip.level)
        assert clip.speaker in ("cs-m", "cs-v", "nl-m", "nl-v") and clip.file.split("/")[1] == clip.language
    assert all(len(s) == 1 for s in splits_of_level.values())  # no level crosses the split
    assert minutes["train"] > 100 and minutes["valid"] > 10 and minutes["test"] > 10
    for split in corpus.SPLITS:  # every voice is in every split
        assert {c.speaker for c in clips if c.split == split} == {"cs-m", "cs-v", "nl-m", "nl-v"}


def _tree(root: Path) -> None:
    rng = np.random.default_rng(0)
    for level in ("alpha", "beta", "gamma"):
        for language in ("cs", "nl"):
            folder = root / level / language
            folder.mkdir(parents=True)
            for voice in ("m", "v"):
                rate = 44100 if voice == "m" else DEFAULT_CONFIG.sample_rate
                channels = 2 if language == "nl" else 1
                data = 0.1 * rng.standard_normal((rate // 2, channels)).astype(np.float32)
                sf.write(folder / f"x-{voice}-line.ogg", data, rate)
            sf.write(folder / "x-m-empty.ogg", np.zeros((10, 1), np.float32), DEFAULT_CONFIG.sample_rate)
            sf.write(folder / "music.ogg", np.zeros((4000, 1), np.float32), DEFAULT_CONFIG.sample_rate)


def test_scan_and_pack(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "sound"
    _tree(root)
    clips = corpus.scan(root)
    assert len(clips) == 12  # the empty clip and the clip without a voice tag are left out
    assert {c.speaker for c in clips} == {"cs-m", "cs-v", "nl-m", "nl-v"}
    assert all(c.seconds == pytest.approx(0.5, abs=0.01) for c in clips)
    manifest = tmp_path / "manifest.csv"
    corpus.write_manifest(clips, manifest)
    assert corpus.read_manifest(manifest) == clips

    monkeypatch.setenv("VOCODER_STUDIO_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(corpus, "fetch", lambda progress=None: root)
    monkeypatch.setattr(corpus, "read_manifest", lambda path=manifest: clips)
    packs = corpus.prepare()
    total = 0
    for split, path in packs.items():
        pack = corpus.Pack.load(path)
        chosen = [c for c in clips if c.split == split]
        assert len(pack) == len(chosen) and pack.sample_rate == DEFAULT_CONFIG.sample_rate
        total += len(pack)
        for i in range(len(pack)):  # every clip resampled to the front-end's rate, mono, in [-1, 1]
            assert pack.clip(i).size == pytest.approx(DEFAULT_CONFIG.sample_rate // 2, abs=2)
            assert np.abs(pack.clip(i)).max() <= 1.0
    assert total == len(clips)


def test_missing_pack_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(corpus.CorpusError, match="run `vocoder-studio data prepare` first"):
        corpus.Pack.load(tmp_path / "train.npz")


def test_a_travel_pack_holds_every_voice_and_the_same_validation_clips(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, speech_files: list[Path]) -> None:
    from vocoder_studio.audio import load_audio
    from vocoder_studio.training.data import validation_clips

    clips = [np.round(load_audio(p) * 32767).astype(np.int16) for p in speech_files]  # 8 real clips
    speakers = ["cs-m", "cs-v", "nl-m", "nl-v"]
    rate = DEFAULT_CONFIG.sample_rate
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("VOCODER_STUDIO_DATA", str(data))
    train_clips = clips * 3  # 24 clips, 34 s: speaker i % 4
    corpus.write_pack(corpus.pack_path("train"), train_clips, rate)
    corpus.write_pack(corpus.pack_path("valid"), clips, rate)
    manifest = [corpus.Clip(f"f{i}", "cs", speakers[i % 4], "l", "train", c.size / rate)
                for i, c in enumerate(train_clips)]
    monkeypatch.setattr(corpus, "read_manifest", lambda path=None: manifest)

    out = corpus.travel_pack(tmp_path / "travel", minutes=0.25)
    train = corpus.Pack.load(out["train"])
    longest = max(c.size for c in train_clips) / rate
    assert 15 <= train.seconds < 15 + 4 * longest
    taken = {next(i for i, c in enumerate(train_clips) if np.array_equal(c, train.audio[a:b]))
             for a, b in zip(train.offsets[:-1], train.offsets[1:], strict=True)}
    assert {speakers[i % 4] for i in taken} == set(speakers)  # every voice
    full = validation_clips(corpus.Pack.load(corpus.pack_path("valid")), 8)
    travelled = validation_clips(corpus.Pack.load(out["valid"]), 8)
    assert len(travelled) == len(full) > 0
    for a, b in zip(full, travelled, strict=True):  # the trainer scores the very same clips
        np.testing.assert_allclose(a, b, atol=1 / 32767)
    with pytest.raises(corpus.CorpusError, match="more than 0"):
        corpus.travel_pack(tmp_path / "x", minutes=0)
