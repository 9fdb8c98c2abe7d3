"""Issue 19's outside check, through the CLI a user types: ``vocoder-studio generate`` with default flags and the
shipped ``models/``, vocoded with ``vocoder-studio vocode --vocoder hifigan``, scored as an outside checker would.

For each clip (the 8 alsa-utils English speech clips, Noise.wav left out, and ``--corpus N`` clips of the
Czech/Dutch *test* split written out as 22050 Hz WAV, first 4 s):

- **fill**: ``generate --inpaint 1.0:1.5 --input CLIP -o fill.npy --seed S``; the truth is ``vocoder-studio mel
  CLIP`` (the same front-end: natural-log mel, 80 × frames). Fill L1 = mean |fill − truth| over the gap's cells
  (frames ``round(1.0 · fps)`` … ``round(1.5 · fps)``, fps = 22050/256, the CLI's rounding), against linear
  interpolation between the frames either side of the gap. A clip shorter than 1.5 s has its range cut at its
  end (the CLI's documented behaviour: the fill runs to the end, seeing the left side only); there the
  baseline holds the last frame before the gap ("hold"). Edge jump = mean |Δ| between the two frames meeting at
  each gap edge (one edge when the gap runs to the end), against the natural frame-to-frame change: the mean
  |Δ| of consecutive frames over the whole truth mel. Every cell outside the gap must equal the truth (checked).
- **unconditional**: ``generate --seconds 4 --seed S``.
- **continuation**: ``generate --prime CLIP --prime-seconds 2 --seconds 2 --seed S`` (the whole clip is the prime
  when it is shorter than 2 s); the CLI's mel holds the prime, then the new frames: the audio after
  ``prime_frames · 256`` samples is the continuation.
- **voicing**: ``librosa.pyin`` (Mauch & Dixon 2014) on the HiFi-GAN WAV at 22050 Hz, librosa's default frame
  (2048) and hop (512), fmin 60 Hz, fmax 400 Hz (the speaking voice), the whole signal in one call; voiced
  fraction = the share of frames whose ``voiced_flag`` (pYIN's HMM decision) is true. Continuation F0 distance:
  1200 · |log2(median F0 of the continuation's first second / median F0 of the real clip)| cents, the real clip
  read with ``librosa.load(sr=22050)``; a dash where either has no voiced frame. Reference: the same voiced
  fraction of the real clips (as recorded, and through ``vocode --vocoder hifigan`` of the clip). The pYIN call
  goes through ``vocoder_studio.evaluation.metrics.f0_track``, which only swaps librosa's numba ``localmin``
  kernel for a numpy one (the kernel crashes the interpreter with numba 0.68 / numpy 2.4).

Run from the repository root, one thread, niced (prints Markdown tables; ``--json`` keeps every row)::

    PYTHONPATH=$PWD OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python scripts/melnet_outside_check.py --seeds 0 1 \\
        --fill-seeds 2 --unconditional-seeds 0 1 2 3 --corpus 3 --work /tmp/outside --json /tmp/outside.json
    (then ``--rescore /tmp/outside``: the same WAVs by the project's ``metrics.voicing`` as well)
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_RATE, HOP = 22050, 256
FPS = SAMPLE_RATE / HOP
F0_RANGE = (60.0, 400.0)
PYIN_HOP = 512  # librosa.pyin's default for its default frame_length 2048
GAP = (1.0, 1.5)


def english_clips() -> list[Path]:
    """The alsa-utils speech clips, Noise.wav (white noise) left out."""
    return [Path(p) for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav")) if not p.endswith("Noise.wav")]


def corpus_clips(count: int, folder: Path, seconds: float = 4.0, min_seconds: float = 2.5) -> list[Path]:
    """``count`` test-split clips of at least ``min_seconds``, evenly spread, first ``seconds``, as WAV files."""
    import soundfile as sf

    from vocoder_studio.training import corpus

    pack = corpus.Pack.load(corpus.pack_path("test"))
    long = [i for i in range(len(pack)) if pack.clip(i).size >= min_seconds * pack.sample_rate]
    out = []
    for j in np.linspace(0, len(long) - 1, num=min(count, len(long))).astype(int):
        i = long[int(j)]
        path = folder / f"test{i:03d}.wav"
        sf.write(path, pack.clip(i)[: int(seconds * pack.sample_rate)], pack.sample_rate, subtype="FLOAT")
        out.append(path)
    return out


def cli_command() -> list[str]:
    """``vocoder-studio`` as installed beside this interpreter (else the one on PATH)."""
    from vocoder_studio.paths import APP_NAME  # the console script's name

    beside = Path(sys.executable).parent / APP_NAME
    found = str(beside) if beside.exists() else shutil.which(APP_NAME)
    if found is None:
        raise SystemExit(f"{APP_NAME} is not installed")
    return [found]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``vocoder-studio ARGS``; raise with its stderr when it fails."""
    done = subprocess.run([*cli_command(), *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"vocoder-studio {' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return done


def gap_frames(frames: int, gap: tuple[float, float] = GAP) -> tuple[int, int]:
    """The frames ``[s, e)`` that ``generate --inpaint START:END`` regenerates in a mel of ``frames`` frames."""
    return round(gap[0] * FPS), min(frames, round(gap[1] * FPS))


def fill_scores(truth: np.ndarray, filled: np.ndarray, s: int, e: int) -> dict[str, float | str]:
    """Fill L1 against linear interpolation (or holding the last frame when the gap runs to the end), the edge
    jump and the natural frame-to-frame change, all mean |difference| per cell in ln-mel units."""
    if filled.shape != truth.shape:
        raise ValueError(f"the fill's shape {filled.shape} is not the input's {truth.shape}")
    outside = np.ones(truth.shape[1], bool)
    outside[s:e] = False
    changed = float(np.abs(filled[:, outside] - truth[:, outside]).max(initial=0.0))
    if changed > 1e-4:
        raise ValueError(f"the fill changed cells outside its range (by up to {changed:.3g})")
    to_end = e >= truth.shape[1]
    if to_end:
        base, kind = np.repeat(truth[:, s - 1: s], e - s, axis=1), "hold"
    else:
        w = np.arange(1, e - s + 1, dtype=np.float64) / (e - s + 1)
        base, kind = truth[:, s - 1: s] + (truth[:, e: e + 1] - truth[:, s - 1: s]) * w, "linear"
    edges = [np.abs(filled[:, s] - filled[:, s - 1]).mean()]
    if not to_end:
        edges.append(np.abs(filled[:, e] - filled[:, e - 1]).mean())
    return {"fill_l1": float(np.abs(filled[:, s:e] - truth[:, s:e]).mean()),
            "baseline_l1": float(np.abs(base - truth[:, s:e]).mean()), "baseline": kind,
            "edge": float(np.mean(edges)), "natural": float(np.abs(np.diff(truth, axis=1)).mean())}


def pyin(audio: np.ndarray) -> tuple[float, float]:
    """``(voiced fraction, median F0 Hz of the voiced frames)`` of ``audio`` at 22050 Hz (module docstring)."""
    from vocoder_studio.evaluation.metrics import f0_track

    audio = np.asarray(audio, np.float64).reshape(-1)
    if audio.size < 2048:
        return 0.0, float("nan")
    f0, voiced = f0_track(audio, SAMPLE_RATE, hop_length=PYIN_HOP, f0_range=F0_RANGE)
    return float(voiced.mean()), float(np.nanmedian(f0[voiced])) if voiced.any() else float("nan")


def cents(a: float, b: float) -> float:
    return abs(1200.0 * math.log2(a / b)) if a > 0 and b > 0 else float("nan")


def read_wav(path: Path) -> np.ndarray:
    import soundfile as sf

    audio, rate = sf.read(path, dtype="float64")
    if rate != SAMPLE_RATE:
        raise ValueError(f"{path}: {rate} Hz, expected {SAMPLE_RATE}")
    return audio.reshape(len(audio), -1).mean(axis=1)


def vocode(mels: Sequence[Path], folder: Path) -> dict[Path, Path]:
    """``vocoder-studio vocode MELS... -o FOLDER --vocoder hifigan``: each input's WAV."""
    folder.mkdir(parents=True, exist_ok=True)
    cli("vocode", *map(str, mels), "-o", str(folder), "--vocoder", "hifigan")
    return {m: folder / f"{m.stem}.wav" for m in mels}


def check_clip(clip: Path, seeds: Sequence[int], work: Path, fill_seeds: int = 1) -> dict[str, object]:
    """Every measure of one clip: its fills (the first ``fill_seeds`` seeds: a fill at the default temperature 0
    is deterministic) and continuations for each seed, and the real clip's voicing."""
    import librosa

    name = clip.stem
    truth_path = work / f"{name}.truth.npy"
    cli("mel", str(clip), "-o", str(truth_path))
    truth = np.load(truth_path)
    s, e = gap_frames(truth.shape[1])
    row: dict[str, object] = {"clip": clip.name, "frames": truth.shape[1], "seconds": truth.shape[1] / FPS,
                              "gap": [s, e], "fills": [], "continuations": []}
    fills = []
    for seed in seeds[:fill_seeds]:
        out = work / f"{name}.fill{seed}.npy"
        cli("generate", "--inpaint", f"{GAP[0]:g}:{GAP[1]:g}", "--input", str(clip), "-o", str(out),
            "--seed", str(seed))
        filled = np.load(out)
        fills.append(filled)
        row["fills"].append({"seed": seed, **fill_scores(truth, filled, s, e)})  # type: ignore[attr-defined]
    row["fill_seeds_identical"] = all(np.array_equal(fills[0], f) for f in fills[1:])
    prime_frames = min(truth.shape[1], max(1, round(2.0 * FPS)))
    conts = []
    for seed in seeds:
        out = work / f"{name}.cont{seed}.npy"
        cli("generate", "--prime", str(clip), "--prime-seconds", "2", "--seconds", "2", "-o", str(out),
            "--seed", str(seed))
        conts.append(out)
    wavs = vocode([truth_path, *conts], work / "wav")
    real, _ = librosa.load(clip, sr=SAMPLE_RATE, mono=True)
    row["real_voiced"], row["real_f0"] = pyin(real)
    row["real_hifigan_voiced"], _ = pyin(read_wav(wavs[truth_path]))
    for seed, out in zip(seeds, conts, strict=True):
        mel = np.load(out)
        audio = read_wav(wavs[out])[prime_frames * HOP:]
        voiced, _ = pyin(audio)
        _, f0_first = pyin(audio[:SAMPLE_RATE])
        row["continuations"].append({"seed": seed, "frames": mel.shape[1] - prime_frames,  # type: ignore[attr-defined]
                                     "voiced": voiced, "f0_first_s": f0_first,
                                     "cents": cents(f0_first, float(row["real_f0"]))})  # type: ignore[arg-type]
    return row


def unconditional(seeds: Sequence[int], work: Path) -> list[dict[str, float]]:
    outs = []
    for seed in seeds:
        out = work / f"new{seed}.npy"
        cli("generate", "--seconds", "4", "--seed", str(seed), "-o", str(out))
        outs.append(out)
    wavs = vocode(outs, work / "wav")
    rows = []
    for seed, out in zip(seeds, outs, strict=True):
        voiced, f0 = pyin(read_wav(wavs[out]))
        rows.append({"seed": seed, "voiced": voiced, "f0": f0})
    return rows


def _mean(values: list[float]) -> float:
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def _fmt(v: float, digits: int = 2) -> str:
    return "—" if math.isnan(v) else f"{v:.{digits}f}"


def report(sets: dict[str, list[dict]], new: list[dict[str, float]]) -> None:  # type: ignore[type-arg]
    """Markdown tables: per clip, then per set."""
    print("\n| set | clip | s | gap frames | fill L1 | baseline L1 | edge / natural | real voiced (as recorded / "
          "HiFi-GAN) | continuation voiced | continuation \\|cents\\| (first s) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, rows in sets.items():
        for r in rows:
            f = r["fills"][0]
            c = r["continuations"]
            print(f"| {name} | {r['clip']} | {r['seconds']:.2f} | {r['gap'][0]}:{r['gap'][1]} | {f['fill_l1']:.3f} | "
                  f"{f['baseline']} {f['baseline_l1']:.3f} | {f['edge']:.3f} / {f['natural']:.3f} | "
                  f"{r['real_voiced']:.2f} / {r['real_hifigan_voiced']:.2f} | "
                  f"{_mean([x['voiced'] for x in c]):.2f} | {_fmt(_mean([x['cents'] for x in c]), 0)} |")
    print("\n| set | clips | fill L1 (linear) | linear L1 | fill L1 (to the end) | hold L1 | edge / natural | "
          "real voiced (recorded / HiFi-GAN) | continuation voiced | \\|cents\\| (n) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, rows in sets.items():
        fills = [r["fills"][0] for r in rows]
        inner = [f for f in fills if f["baseline"] == "linear"]
        end = [f for f in fills if f["baseline"] == "hold"]
        c = [x for r in rows for x in r["continuations"]]
        cs = [x["cents"] for x in c if not math.isnan(x["cents"])]
        print(f"| {name} | {len(rows)} | {_fmt(_mean([f['fill_l1'] for f in inner]), 3)} ({len(inner)}) | "
              f"{_fmt(_mean([f['baseline_l1'] for f in inner]), 3)} | {_fmt(_mean([f['fill_l1'] for f in end]), 3)} "
              f"({len(end)}) | {_fmt(_mean([f['baseline_l1'] for f in end]), 3)} | "
              f"{_mean([f['edge'] for f in fills]) / _mean([f['natural'] for f in fills]):.2f} | "
              f"{_mean([r['real_voiced'] for r in rows]):.2f} / "
              f"{_mean([r['real_hifigan_voiced'] for r in rows]):.2f} | "
              f"{_mean([x['voiced'] for x in c]):.2f} | {_fmt(float(np.median(cs)) if cs else float('nan'), 0)} "
              f"({len(cs)} of {len(c)}) |")
    same = all(r["fill_seeds_identical"] for rows in sets.values() for r in rows)
    print(f"\nfills identical across seeds: {same}")
    print("\n| unconditional 4 s, seed | voiced | median F0 Hz |\n| --- | --- | --- |")
    for r in new:
        print(f"| {r['seed']} | {r['voiced']:.2f} | {_fmt(r['f0'], 0)} |")
    print(f"| mean | {_mean([r['voiced'] for r in new]):.2f} | |")


def rescore(work: Path) -> None:
    """The WAVs a run left in ``WORK/wav`` scored again with the measure the project's scripts use
    (``metrics.voicing``: pYIN 60-400 Hz over 2 s windows, frame 1024, hop 256), beside this script's."""
    from vocoder_studio.evaluation.metrics import voicing

    groups: dict[str, list[tuple[float, float]]] = {}
    for wav in sorted((work / "wav").glob("*.wav")):
        clip, kind = wav.stem.split(".") if "." in wav.stem else ("", wav.stem)
        audio = read_wav(wav)
        if kind.startswith("cont"):
            audio = audio[min(np.load(work / f"{clip}.truth.npy").shape[1], round(2.0 * FPS)) * HOP:]
        where = "" if not clip else ("Czech/Dutch test " if clip.startswith("test") else "English ")
        key = where + ("real (HiFi-GAN)" if kind == "truth" else "continuation" if kind.startswith("cont")
                       else "unconditional 4 s")
        groups.setdefault(key, []).append((pyin(audio)[0], voicing(audio)[0]))
    print("| what | n | voiced, this script (whole signal, frame 2048) | voiced, metrics.voicing (2 s windows, "
          "frame 1024) |\n| --- | --- | --- | --- |")
    for key, values in groups.items():
        a, b = np.mean(values, axis=0)
        print(f"| {key} | {len(values)} | {a:.2f} | {b:.2f} |")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3])
    parser.add_argument("--corpus", type=int, default=4, metavar="N", help="Czech/Dutch test-split clips (0: none)")
    parser.add_argument("--fill-seeds", type=int, default=1, metavar="K",
                        help="fill with the first K seeds only (default 1: a temperature-0 fill is deterministic)")
    parser.add_argument("--unconditional-seeds", type=int, nargs="+", default=None, metavar="S",
                        help="seeds of the 4 s samples (default: --seeds)")
    parser.add_argument("--no-english", action="store_true")
    parser.add_argument("--work", default=None, help="keep the files here (default: a temporary folder)")
    parser.add_argument("--json", default=None, metavar="FILE", help="write every row here")
    parser.add_argument("--rescore", default=None, metavar="WORK",
                        help="no generation: score a run's WAVs (its --work folder) with both voicing measures")
    args = parser.parse_args(argv)
    if args.rescore:
        rescore(Path(args.rescore))
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="melnet-outside-"))
    work.mkdir(parents=True, exist_ok=True)
    model = ROOT / "models" / "melnet.pt"
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    print(f"models/melnet.pt sha256 {digest}; {os.getloadavg()[0]:.1f} load; work {work}", flush=True)
    started = time.monotonic()
    sets: dict[str, list[dict]] = {}  # type: ignore[type-arg]
    if not args.no_english:
        sets["English (alsa)"] = []
        for clip in english_clips():
            sets["English (alsa)"].append(check_clip(clip, args.seeds, work, args.fill_seeds))
            print(f"{clip.name} done ({time.monotonic() - started:.0f} s)", flush=True)
    if args.corpus:
        folder = work / "corpus"
        folder.mkdir(exist_ok=True)
        sets["Czech/Dutch test"] = []
        for clip in corpus_clips(args.corpus, folder):
            sets["Czech/Dutch test"].append(check_clip(clip, args.seeds, work, args.fill_seeds))
            print(f"{clip.name} done ({time.monotonic() - started:.0f} s)", flush=True)
    new = unconditional(args.unconditional_seeds or args.seeds, work)
    print(f"sha256 {digest[:12]}, seeds {args.seeds}, {time.monotonic() - started:.0f} s, "
          f"load {os.getloadavg()[0]:.1f}")
    report(sets, new)
    if args.json:
        Path(args.json).write_text(json.dumps({"sha256": digest, "seeds": args.seeds, "sets": sets,
                                               "unconditional": new}, indent=1, default=float))


if __name__ == "__main__":
    main()
