"""`vocoder-studio eval vocoders` on two real clips: the JSON, the report and its figures, repeatability."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest

from vocoder_studio.cli import main
from vocoder_studio.evaluation.evaluate import RESULT_KEYS, Evaluation, Score, evaluate
from vocoder_studio.evaluation.report import write_report
from vocoder_studio.vocoders.choice import VocoderChoice

VOCODERS = "griffin-lim:iterations=4,hifigan"


@pytest.fixture(scope="module")
def two_clips(speech_files: list[Path]) -> list[Path]:
    return speech_files[:2]


@pytest.fixture(scope="module")
def run(two_clips: list[Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], int]:
    out = tmp_path_factory.mktemp("eval")
    argv = ["eval", "vocoders", "--clips", *map(str, two_clips), "--vocoders", VOCODERS, "--device", "cpu",
            "--json", str(out / "scores.json"), "--report", str(out / "report.md"), "--csv", str(out / "scores.csv"),
            "--threads", "1"]
    return out, argv, main(argv)


def test_the_json_holds_every_score_of_every_clip_and_vocoder(run, two_clips: list[Path]) -> None:
    out, _, status = run
    assert status == 0
    data = json.loads((out / "scores.json").read_text())
    assert set(data) == {"results", "machine"}
    assert {"cores", "torch", "device"} <= set(data["machine"])
    results = data["results"]
    assert [(r["clip"], r["vocoder"]) for r in results] == [
        (c.stem, v) for v in VOCODERS.split(",") for c in two_clips]
    for r in results:
        assert tuple(r) == RESULT_KEYS
        assert 1.0 <= r["pesq_wb"] <= 4.64 and 0.8 < r["stoi"] <= 1.0 and 0 < r["vuv_f1"] <= 1.0
        assert 0 < r["mel_l1"] < 1.0 and 0 < r["mrstft_sc"] < 1.0 and r["f0_rmse_cents"] >= 0 and r["rtf"] > 0
        assert r["cpu_rtf"] > 0 and r["seconds"] > 1.0
    by = {(r["clip"], r["vocoder"]): r for r in results}
    # HiFi-GAN beats 4 iterations of Griffin-Lim on spectral convergence, on real speech
    assert all(by[(c.stem, "hifigan")]["mrstft_sc"] < by[(c.stem, "griffin-lim:iterations=4")]["mrstft_sc"]
               for c in two_clips)


def test_one_thread_and_its_compute_are_recorded_and_the_csv_holds_the_json_rows(run) -> None:
    out, _, _ = run
    data = json.loads((out / "scores.json").read_text())
    assert data["machine"]["threads"] == 1 and len(data["machine"]["loadavg_end"]) == 3
    with (out / "scores.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [tuple(r) for r in rows] == [RESULT_KEYS] * len(data["results"])
    for row, result in zip(rows, data["results"], strict=True):
        assert (row["clip"], row["vocoder"]) == (result["clip"], result["vocoder"])
        for key in ("pesq_wb", "stoi", "cpu_rtf", "seconds"):
            assert float(row[key]) == pytest.approx(result[key], rel=1e-12)
    # 4 Griffin-Lim iterations from PGHI cost less CPU than HiFi-GAN on the same clip, in the same run
    by = {(r["clip"], r["vocoder"]): r for r in data["results"]}
    assert all(by[(c, "griffin-lim:iterations=4")]["cpu_rtf"] < by[(c, "hifigan")]["cpu_rtf"]
               for c, _ in by)


def test_the_mean_compute_is_the_total_over_all_the_audio() -> None:
    scores = [Score(clip=c, vocoder="v", pesq_wb=3.0, stoi=0.9, mel_l1=0.1, mrstft_sc=0.1, mrstft_logmag=0.5,
                    f0_rmse_cents=10.0, vuv_f1=0.9, rtf=rtf, cpu_rtf=cpu, seconds=s)
              for c, rtf, cpu, s in (("a", 0.5, 0.2, 1.0), ("b", 0.1, 0.1, 3.0))]
    means = Evaluation(scores, ["v"], ["a", "b"], {}).means()["v"]
    assert means["cpu_rtf"] == pytest.approx((0.2 * 1 + 0.1 * 3) / 4)
    assert means["rtf"] == pytest.approx((0.5 * 1 + 0.1 * 3) / 4) and means["seconds"] == 4.0
    assert means["pesq_wb"] == 3.0


def test_the_threads_asked_for_are_used_then_restored(two_clips: list[Path],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from vocoder_studio.vocoders.base import Vocoder

    seen: list[int] = []
    synthesize = Vocoder.vocode

    def vocode(self, mel):  # what torch's thread count is while each vocoding call runs
        seen.append(torch.get_num_threads())
        return synthesize(self, mel)

    monkeypatch.setattr(Vocoder, "vocode", vocode)
    before = torch.get_num_threads()
    target = 1 if before != 1 else 2
    evaluation = evaluate(two_clips[:1], [VocoderChoice.parse("griffin-lim:iterations=1")], "cpu", progress=False,
                          threads=target, repeats=3)
    assert set(seen) == {target} and len(seen) == 1 + 3  # the warm-up, then the repeats
    assert evaluation.machine["threads"] == target and torch.get_num_threads() == before


@pytest.mark.parametrize("option", ["--repeats", "--threads"])
def test_no_repeats_or_threads_is_one_line(option: str, two_clips: list[Path], tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["eval", "vocoders", "--clips", str(two_clips[0]), "--vocoders", "griffin-lim", option, "0",
                   "--json", str(tmp_path / "x.json")])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and "at least 1" in err
    assert not (tmp_path / "x.json").exists()


def test_the_report_has_the_tables_and_its_figures_beside_it(run, two_clips: list[Path]) -> None:
    out, _, _ = run
    report = (out / "report.md").read_text()
    assert "## Mean per vocoder" in report and "## Per clip" in report
    for c in two_clips:
        assert f"| {c.stem} | hifigan |" in report
    images = [line.split("(")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")]
    assert len(images) == 1 + len(two_clips)
    for name in images:
        png = out / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_the_same_numbers_twice_in_a_row(run, two_clips: list[Path], tmp_path: Path) -> None:
    out, _, _ = run
    first = [r for r in json.loads((out / "scores.json").read_text())["results"] if r["clip"] == two_clips[0].stem]
    again = evaluate(two_clips[:1], [VocoderChoice.parse(v) for v in VOCODERS.split(",")], "cpu", progress=False,
                     threads=1)  # as `run`: HiFi-GAN's sums round differently with another thread count
    second = [s.to_json() for s in again.scores]
    for a, b in zip(first, second, strict=True):
        timings = ("rtf", "cpu_rtf")  # the scores repeat exactly, the timings do not
        assert {k: v for k, v in a.items() if k not in timings} == {k: v for k, v in b.items() if k not in timings}
    written = write_report(again, tmp_path / "again.md")
    assert [p.name for p in written[:2]] == ["again.md", "again-scores.png"]


@pytest.mark.parametrize("package", ["pesq", "pystoi", "matplotlib"])
def test_a_missing_scorer_is_one_line_naming_it(package: str, two_clips: list[Path], tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, package, None)  # what an environment without the package looks like
    report = ["--report", str(tmp_path / "r.md")] if package == "matplotlib" else []  # only the report plots
    status = main(["eval", "vocoders", "--clips", str(two_clips[0]), "--json", str(tmp_path / "x.json"), *report])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1 and f"'{package}'" in err and "vocoder-studio[eval]" in err
    assert not (tmp_path / "x.json").exists()


def test_scores_without_a_report_need_no_plotting_library(two_clips: list[Path], tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    status = main(["eval", "vocoders", "--clips", str(two_clips[0]), "--vocoders", "griffin-lim",
                   "--json", str(tmp_path / "x.json")])
    assert status == 0
    assert json.loads((tmp_path / "x.json").read_text())["results"][0]["vocoder"]


def test_a_missing_clip_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "vocoders", "--clips", str(tmp_path / "nope.wav")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.wav" in err
