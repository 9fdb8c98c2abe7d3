"""The evaluation's Markdown report and its figures (matplotlib, written beside the report as PNG files), and
the ``eval vocoders`` command that evaluates and reports (:func:`run_eval`).

Figures: for each clip the original mel and each vocoder's output re-analysed as a mel, with the difference
(dB) beside it; one bar chart of the mean scores per vocoder.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vocoder_studio.audio import wav_to_mel
from vocoder_studio.audio.io import atomic_path
from vocoder_studio.audio.mel import DB_PER_NEPER
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.evaluation.evaluate import (
    EVAL_PACKAGES,
    RESULT_KEYS,
    Evaluation,
    evaluate,
    find_clips,
    ready_vocoders,
    require_packages,
)

#: (key, column title, format, better) of the report's tables.
COLUMNS: tuple[tuple[str, str, str, str], ...] = (
    ("pesq_wb", "PESQ-wb", "{:.2f}", "↑"),
    ("stoi", "STOI", "{:.3f}", "↑"),
    ("mel_l1", "log-mel L1", "{:.3f}", "↓"),
    ("mrstft_sc", "MR-STFT SC", "{:.3f}", "↓"),
    ("mrstft_logmag", "MR-STFT log-mag", "{:.3f}", "↓"),
    ("f0_rmse_cents", "F0 RMSE (cents)", "{:.0f}", "↓"),
    ("vuv_f1", "V/UV F1", "{:.3f}", "↑"),
    ("rtf", "RTF", "{:.3f}", "↓"),
    ("cpu_rtf", "CPU s / audio s", "{:.4f}", "↓"),
)

#: ln magnitude → dB (the canvas shows mels in dB too).


def _cell(value: Any, fmt: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "—"
    return fmt.format(value)


def _header(first: list[str]) -> list[str]:
    titles = [*first, *(f"{title} {better}" for _, title, _, better in COLUMNS)]
    return ["| " + " | ".join(titles) + " |", "|" + " --- |" * len(titles)]


def means_table(evaluation: Evaluation) -> str:
    """Markdown table: one row per vocoder, the mean of each score over the clips."""
    lines = _header(["vocoder"])
    for vocoder, means in evaluation.means().items():
        lines.append(f"| {vocoder} | " + " | ".join(_cell(means[k], f) for k, _, f, _ in COLUMNS) + " |")
    return "\n".join(lines)


def clips_table(evaluation: Evaluation) -> str:
    """Markdown table: one row per clip and vocoder."""
    lines = _header(["clip", "vocoder"])
    for s in evaluation.scores:
        lines.append(f"| {s.clip} | {s.vocoder} | "
                     + " | ".join(_cell(getattr(s, k), f) for k, _, f, _ in COLUMNS) + " |")
    return "\n".join(lines)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "x"


def _save(fig: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=80, metadata={"Software": None})


def clip_figure(evaluation: Evaluation, clip: str, path: Path) -> None:
    """PNG: the original mel, and per vocoder its output's mel and the difference from the original (dB)."""
    from matplotlib.figure import Figure

    original = wav_to_mel(evaluation.originals[clip]) * DB_PER_NEPER
    rows: list[tuple[str, np.ndarray, np.ndarray | None]] = [("original", original, None)]
    for vocoder in evaluation.vocoders:
        mel = wav_to_mel(evaluation.outputs[(clip, vocoder)].astype(np.float32)) * DB_PER_NEPER
        frames = min(mel.shape[1], original.shape[1])
        rows.append((vocoder, mel, mel[:, :frames] - original[:, :frames]))
    fig = Figure(figsize=(10, 1.9 * len(rows)), layout="constrained")
    axes = fig.subplots(len(rows), 2, squeeze=False)
    low, high = float(np.percentile(original, 1)), float(original.max())
    for (label, mel, diff), (ax_mel, ax_diff) in zip(rows, axes, strict=True):
        image = ax_mel.imshow(mel, origin="lower", aspect="auto", vmin=low, vmax=high, cmap="magma")
        ax_mel.set_title(f"{label}: mel (dB)", fontsize=9)
        fig.colorbar(image, ax=ax_mel)
        if diff is None:
            ax_diff.axis("off")
            continue
        error = ax_diff.imshow(diff, origin="lower", aspect="auto", vmin=-20, vmax=20, cmap="RdBu_r")
        ax_diff.set_title(f"{label} − original (dB)", fontsize=9)
        fig.colorbar(error, ax=ax_diff)
    for ax in axes[-1]:
        ax.set_xlabel("frame")
    for ax in axes[:, 0]:
        ax.set_ylabel("mel band")
    fig.suptitle(clip)
    _save(fig, path)


def scores_figure(evaluation: Evaluation, path: Path) -> None:
    """PNG: one bar chart per score, the mean per vocoder."""
    from matplotlib.figure import Figure

    means = evaluation.means()
    fig = Figure(figsize=(12, 7.5), layout="constrained")
    axes = fig.subplots(3, 3).ravel()
    x = np.arange(len(evaluation.vocoders))
    for ax, (key, title, _, better) in zip(axes, COLUMNS, strict=True):
        values = [means[v][key] for v in evaluation.vocoders]
        ax.bar(x, [0.0 if not math.isfinite(v) else v for v in values], color=[f"C{i}" for i in x])
        ax.set_xticks(x, evaluation.vocoders, rotation=30, ha="right", fontsize=8)
        ax.set_title(f"{title} {better}", fontsize=9)
        if key in ("rtf", "cpu_rtf") and all(math.isfinite(v) and v > 0 for v in values):
            ax.set_yscale("log")  # compute spans orders of magnitude (Griffin-Lim to WaveNet)
    fig.suptitle(f"mean over {len(evaluation.clips)} clips")
    _save(fig, path)


def write_report(evaluation: Evaluation, path: str | Path, title: str = "Vocoder evaluation") -> list[Path]:
    """Write the Markdown report to ``path`` and its PNG figures beside it (``<stem>-*.png``).

    Returns:
        every file written, the report first.
    Raises:
        AudioFileError: the report's folder does not exist.
    """
    path = Path(path)
    stem = path.stem
    scores_png = path.with_name(f"{stem}-scores.png")
    figures = {clip: path.with_name(f"{stem}-{_slug(clip)}.png") for clip in evaluation.clips}
    machine = evaluation.machine
    lines = [
        f"# {title}",
        "",
        f"{len(evaluation.clips)} clips × {len(evaluation.vocoders)} vocoders: audio → mel → audio, each output "
        "aligned to its original and scored. Generated by `vocoder-studio eval vocoders`.",
        "",
        f"Machine: {machine.get('cpu')}, {machine.get('cores')} cores, {machine.get('threads')} threads, "
        f"torch {machine.get('torch')}, device {machine.get('device')}"
        + (f" ({machine['gpu']})" if machine.get("gpu") else "")
        + f"; load average {_load(machine.get('loadavg'))} at the start, {_load(machine.get('loadavg_end'))} at "
        "the end.",
        "",
        "## Mean per vocoder",
        "",
        means_table(evaluation),
        "",
        "PESQ-wb: ITU-T P.862.2 MOS-LQO (1–4.64). STOI: intelligibility (0–1). log-mel L1: mean |Δ ln mel| on "
        "the shared front-end. MR-STFT: spectral convergence and mean |Δ ln magnitude| over three STFT "
        "resolutions. F0 RMSE: cents, pYIN, frames voiced in both. V/UV F1: voicing of the output against the "
        "original's. RTF: vocoding seconds (wall clock) per second of audio; CPU s / audio s: the process's CPU "
        "seconds per second of audio (steadier on a shared machine; with several threads it counts each); both "
        "the fastest of each clip's calls, totalled over the clips (timed, so they vary between runs; the other "
        "scores repeat exactly).",
        "",
        f"![mean scores]({scores_png.name})",
        "",
        "## Per clip",
        "",
        clips_table(evaluation),
        "",
        "## Spectrograms",
        "",
        "Left: each output re-analysed as a mel (dB); right: its difference from the original (dB, red = louder).",
        "",
    ]
    lines += [f"![{clip}]({png.name})\n" for clip, png in figures.items()]
    with atomic_path(path) as tmp:
        tmp.write_text("\n".join(lines))
    scores_figure(evaluation, scores_png)
    for clip, png in figures.items():
        clip_figure(evaluation, clip, png)
    return [path, scores_png, *figures.values()]


def _load(values: Any) -> str:
    return " / ".join(f"{v:.1f}" for v in values) if values else "—"


def write_csv(evaluation: Evaluation, path: str | Path) -> Path:
    """Write one row per clip and vocoder to ``path`` (atomically): the columns are
    :data:`~vocoder_studio.evaluation.evaluate.RESULT_KEYS`, an empty cell where a score is missing."""
    path = Path(path)
    with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(RESULT_KEYS)
        for score in evaluation.scores:
            row = score.to_json()
            writer.writerow(["" if row[k] is None else row[k] for k in RESULT_KEYS])
    return path


def write_json(evaluation: Evaluation, path: str | Path) -> Path:
    """Write ``{"results": [...], "machine": {...}}`` to ``path`` (atomically)."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(evaluation.to_json(), indent=2) + "\n")
    return path


def run_eval(clips: Sequence[str], vocoders: str | None, device: str = "auto", json_out: str | None = None,
             report_out: str | None = None, csv_out: str | None = None, threads: int | None = None,
             repeats: int = 2) -> int:
    """The command: evaluate, print the means, write the JSON, the per-clip CSV and the report. Returns the exit
    status (0). ``threads`` and ``repeats`` are :func:`~vocoder_studio.evaluation.evaluate.evaluate`'s.

    Raises:
        MissingPackageError: pesq or pystoi is missing, or matplotlib when a report is asked for (checked before
            any work).
    """
    from vocoder_studio.engine import choose_device
    from vocoder_studio.vocoders.choice import VocoderChoice

    require_packages(EVAL_PACKAGES if report_out else ["pesq", "pystoi"])  # figures only for the report
    paths = find_clips(clips)
    choices = [VocoderChoice.parse(v) for v in vocoders.split(",") if v.strip()] if vocoders else ready_vocoders()
    if not choices:
        raise VocoderStudioError("no vocoder to evaluate: none is ready here (see `vocoder-studio vocoders`)")
    evaluation = evaluate(paths, choices, str(choose_device(device)), threads=threads, repeats=repeats)
    print(means_table(evaluation))
    if json_out:
        print(f"{write_json(evaluation, json_out)}: {len(evaluation.scores)} results")
    if csv_out:
        print(f"{write_csv(evaluation, csv_out)}: {len(evaluation.scores)} rows")
    if report_out:
        written = write_report(evaluation, report_out)
        print(f"{written[0]}: report with {len(written) - 1} figures")
    return 0
