"""`vocoder-studio generate`, `eval melnet` and the melnet training recipe."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vocoder_studio.audio import save_mel
from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.cli import main
from vocoder_studio.melnet import MelNet, MelNetConfig, load_model, sample, save_model
from vocoder_studio.training.corpus import Pack
from vocoder_studio.training.recipes import RECIPES, MelNetRecipe
from vocoder_studio.training.run import export
from vocoder_studio.training.trainer import TrainSettings

CONFIG = MelNetConfig(n_tiers=2, layers=(1, 1), hidden=8, mixtures=2)
FPS = 1.0 / DEFAULT_CONFIG.frame_seconds


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory, speech_mel: np.ndarray) -> Path:
    torch.manual_seed(0)
    model = MelNet(CONFIG)
    model.set_normalisation(torch.from_numpy(speech_mel))
    return save_model(tmp_path_factory.mktemp("models") / "melnet.pt", model)


def test_generate_same_seed_same_file(tmp_path: Path, model_path: Path) -> None:
    outs = []
    for name in ("a.npy", "b.npy"):
        assert main(["generate", "-o", str(tmp_path / name), "--seconds", "0.2", "--seed", "4",
                     "--model", str(model_path)]) == 0
        outs.append(np.load(tmp_path / name))
    assert np.array_equal(outs[0], outs[1])
    assert outs[0].shape == (DEFAULT_CONFIG.n_mels, round(0.2 * FPS))
    assert outs[0].min() >= DEFAULT_CONFIG.floor_ln


def test_generate_continues_and_inpaints(tmp_path: Path, model_path: Path, speech_mel: np.ndarray) -> None:
    source = tmp_path / "in.npy"
    save_mel(source, speech_mel[:, :60])
    out = tmp_path / "cont.npy"
    assert main(["generate", "-o", str(out), "--seconds", "0.1", "--prime", str(source), "--prime-seconds", "0.3",
                 "--model", str(model_path)]) == 0
    cont = np.load(out)
    p = round(0.3 * FPS)
    assert cont.shape[1] == p + round(0.1 * FPS) and np.array_equal(cont[:, :p], speech_mel[:, :p])
    out = tmp_path / "fill.npy"
    assert main(["generate", "-o", str(out), "--inpaint", "0.2:0.4", "--input", str(source),
                 "--model", str(model_path)]) == 0
    fill = np.load(out)
    a, b = round(0.2 * FPS), round(0.4 * FPS)
    assert np.array_equal(fill[:, :a], speech_mel[:, :a]) and np.array_equal(fill[:, b:], speech_mel[:, b:60])


def test_generate_tier_temperatures_multiply_the_temperature(tmp_path: Path, model_path: Path) -> None:
    """A 2-tier model has no default factors: ``1,1`` is the plain temperature, ``1,0`` a greedy upper tier."""
    def run(*extra: str) -> np.ndarray:
        out = tmp_path / "t.npy"
        assert main(["generate", "-o", str(out), "--seconds", "0.2", "--seed", "3", "--temperature", "0.9",
                     "--model", str(model_path), *extra]) == 0
        return np.load(out)

    plain = run()
    assert np.array_equal(plain, run("--tier-temperatures", "1,1"))
    assert not np.array_equal(plain, run("--tier-temperatures", "1,0"))


def test_generate_help_gives_the_default_tier_temperatures(capsys: pytest.CaptureFixture[str]) -> None:
    from vocoder_studio.melnet.sampling import VOICED_TIER_TEMPERATURES

    with pytest.raises(SystemExit):
        main(["generate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert ",".join(f"{v:g}" for v in VOICED_TIER_TEMPERATURES) in text


@pytest.mark.parametrize("args", [
    ["--seconds", "0"],
    ["--seconds", "1", "-o", "x.txt"],
    ["--inpaint", "0.5:0.2", "--input", "IN"],
    ["--inpaint", "abc", "--input", "IN"],
    ["--inpaint", "0.1:0.2"],
    ["--seconds", "1", "--prime", "missing.wav"],
    ["--seconds", "1", "--model", "missing.pt"],
    ["--seconds", "1", "--tier-temperatures", "1,x"],
    ["--seconds", "1", "--tier-temperatures", "1,1,1"],
    ["--seconds", "1", "--tier-temperatures", "1,-1"],
    ["--seconds", "1", "--tier-temperatures", "1,nan"],
])
def test_generate_bad_input_is_one_line_and_status_2(tmp_path: Path, model_path: Path, speech_mel: np.ndarray,
                                                     capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    source = tmp_path / "in.npy"
    save_mel(source, speech_mel[:, :30])
    args = [str(source) if a == "IN" else a for a in args]
    full = ["generate", "-o", str(tmp_path / "out.npy"), *args]
    if "--model" not in args:
        full += ["--model", str(model_path)]
    assert main(full) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("vocoder-studio: error:") and "\n" not in err
    assert not (tmp_path / "out.npy").exists()


def test_corrupt_model_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "melnet.pt"
    bad.write_bytes(b"PK\x03\x04 truncated")
    assert main(["generate", "-o", str(tmp_path / "o.npy"), "--seconds", "1", "--model", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert str(bad) in err and "\n" not in err


def test_eval_melnet_json(tmp_path: Path, model_path: Path, speech_mel: np.ndarray,
                          capsys: pytest.CaptureFixture[str]) -> None:
    files = []
    for i in range(2):
        files.append(tmp_path / f"m{i}.npy")
        save_mel(files[-1], speech_mel[:, i * 50: i * 50 + 41])
    assert main(["eval", "melnet", *map(str, files), "--model", str(model_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) >= {"nll_per_cell", "tiers"} and len(result["tiers"]) == CONFIG.n_tiers
    assert result["cells"] == 2 * 80 * 41
    model = load_model(model_path)
    with torch.no_grad():
        direct = [float(model.nll(torch.from_numpy(speech_mel[:, i * 50: i * 50 + 41]).unsqueeze(0))[0])
                  for i in range(2)]
    assert result["nll_per_cell"] == pytest.approx(np.mean(direct), rel=1e-5)


def test_melnet_recipe_trains_validates_by_nll_and_exports(tmp_path: Path, speech: np.ndarray) -> None:
    from vocoder_studio.training.melnet_trainer import MelNetTrainer

    assert "melnet" in RECIPES
    audio = np.round(speech * 32767).astype(np.int16)
    half = audio.size // 2
    train = Pack(audio[:half], np.array([0, half // 3, half]), DEFAULT_CONFIG.sample_rate)
    valid = Pack(audio[half:], np.array([0, audio.size - half]), DEFAULT_CONFIG.sample_rate)
    recipe = MelNetRecipe(model_config=CONFIG)
    settings = TrainSettings(batch_size=2, segment_samples=32 * DEFAULT_CONFIG.hop_length, learning_rate=3e-3,
                             validate_every=0, valid_clips=2, grad_clip=1.0)
    trainer = MelNetTrainer(recipe, train, valid, tmp_path / "run", settings)
    assert isinstance(trainer.model, MelNet) and bool(trainer.model.normalised)
    first = trainer.validate()["nll"]
    trainer.run(steps=25)
    rows = list(csv.DictReader((tmp_path / "run" / "valid.csv").open()))
    assert float(rows[-1]["nll"]) < first and "nll_tier2" in rows[-1]
    resumed = MelNetTrainer(recipe, train, valid, tmp_path / "run", settings)
    assert resumed.state.step == 25
    assert torch.equal(resumed.model.band_std, trainer.model.band_std)
    folder = tmp_path / "models"
    folder.mkdir()
    paths = export("melnet", trainer, torch.device("cpu"), folder)
    card = json.loads(paths[1].read_text())
    assert "nll" in card["scores"] and "MelNet" in card["architecture"]
    assert load_model(paths[0]).config == CONFIG


def test_inpainting_measure_scores_fill_and_linear_interpolation(model_path: Path, speech_mel: np.ndarray) -> None:
    from vocoder_studio.melnet import MelNetError, evaluate_inpainting

    model = load_model(model_path)
    ramp = np.linspace(-6.0, -2.0, 60, dtype=np.float32)[None, :] + np.linspace(0, 1, 80, dtype=np.float32)[:, None]
    result = evaluate_inpainting(model, [ramp, speech_mel[:, :70], speech_mel[:, :5]], gap=20, temperature=0.0)
    assert result["clips"] == 2 and result["gap_frames"] == 20  # the 5-frame mel is too short for the gap
    first = result["per_clip"][0]
    assert first["gap"] == (20, 40)
    assert first["linear_l1"] == pytest.approx(0.0, abs=1e-5)  # a straight line is its own interpolation
    step = 4.0 / 59
    assert first["true_edge_l1"] == pytest.approx(step, rel=1e-4) and first["natural_l1"] == pytest.approx(step,
                                                                                                          rel=1e-4)
    fill = sample(model, source=ramp, inpaint=(20, 40), temperature=0.0)
    assert first["fill_l1"] == pytest.approx(float(np.abs(fill[:, 20:40] - ramp[:, 20:40]).mean()), rel=1e-6)
    assert first["fill_edge_l1"] == pytest.approx(
        float(np.abs(fill[:, 20] - fill[:, 19]).mean() + np.abs(fill[:, 40] - fill[:, 39]).mean()) / 2, rel=1e-6)
    second = result["per_clip"][1]
    assert second["linear_l1"] > 0 and result["fill_l1"] == pytest.approx(
        (first["fill_l1"] + second["fill_l1"]) / 2)
    with pytest.raises(MelNetError, match="long enough"):
        evaluate_inpainting(model, [speech_mel[:, :5]], gap=20)


def test_eval_melnet_inpaint_prints_a_table_and_json(tmp_path: Path, model_path: Path, speech_mel: np.ndarray,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "in.npy"
    save_mel(source, speech_mel[:, :80])
    assert main(["eval", "melnet", str(source), "--model", str(model_path), "--inpaint", "0.2"]) == 0
    out = capsys.readouterr().out
    assert "| L1 against the original, in the gap |" in out and "boundary discontinuity" in out
    assert main(["eval", "melnet", str(source), "--model", str(model_path), "--inpaint", "0.2", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["gap_frames"] == round(0.2 * FPS) and result["clips"] == 1


def test_eval_melnet_inpaint_fills_at_the_fill_temperature_unless_told(
        tmp_path: Path, model_path: Path, speech_mel: np.ndarray, capsys: pytest.CaptureFixture[str]) -> None:
    """`eval melnet --inpaint` scores the fill a user gets from `generate --inpaint` (the fill's default
    temperature, chosen on validation speech), not another one; --temperature still chooses."""
    from vocoder_studio.melnet.sampling import FILL_TEMPERATURE

    source = tmp_path / "in.npy"
    save_mel(source, speech_mel[:, :80])
    for extra, temperature in (([], FILL_TEMPERATURE), (["--temperature", "0.3"], 0.3)):
        assert main(["eval", "melnet", str(source), "--model", str(model_path), "--inpaint", "0.2", "--json",
                     *extra]) == 0
        assert json.loads(capsys.readouterr().out)["temperature"] == temperature


def test_generate_inpaint_past_the_end_fills_to_the_end_and_says_so(
        tmp_path: Path, model_path: Path, speech_mel: np.ndarray, capsys: pytest.CaptureFixture[str]) -> None:
    """`--inpaint 0.3:5` of a 0.70 s input regenerates 0.3 s to its end (as --help says) and the line printed
    names the range filled; a range starting at or after the end is refused (tests/test_generate_bad_input.py)."""
    source = tmp_path / "in.npy"
    save_mel(source, speech_mel[:, :60])
    out = tmp_path / "fill.npy"
    assert main(["generate", "-o", str(out), "--inpaint", "0.3:5", "--input", str(source),
                 "--model", str(model_path)]) == 0
    fill = np.load(out)
    a = round(0.3 * FPS)
    assert fill.shape == (DEFAULT_CONFIG.n_mels, 60) and np.array_equal(fill[:, :a], speech_mel[:, :a])
    assert not np.array_equal(fill[:, a:], speech_mel[:, a:60])
    line = capsys.readouterr().out.strip()
    assert f"runs past the input's end ({60 / FPS:.2f} s)" in line and f"filled {a / FPS:.2f}-{60 / FPS:.2f} s" in line
    assert main(["generate", "-o", str(out), "--inpaint", "0.3:0.5", "--input", str(source),
                 "--model", str(model_path)]) == 0
    assert "runs past the input's end" not in capsys.readouterr().out
