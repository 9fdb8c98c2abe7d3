"""Score a vocoder with and without mel matching (its ``mel_match`` parameter, ``vocoders/stft.py``) on held-out
speech: 40 clips (<= 4 s) of the Czech/Dutch test split (levels never trained or validated on) and the 8
English alsa-utils speech clips (a speaker and language never heard; Noise.wav left out). Prints one JSON object
of mean PESQ-wb, STOI, log-mel L1, F0 RMSE (cents), V/UV F1 and RTF (wall clock, and CPU time: the process's own,
steadier on a shared machine) per set and per number of mel-matching
steps. One thread. The model is the installed one (``$VOCODER_STUDIO_MODELS`` first, then ``models/``).

    VOCODER_STUDIO_DATA=/work/data python scripts/vocoder_measure.py istft [--steps 0 1 2]
    VOCODER_STUDIO_DATA=/work/data python scripts/vocoder_measure.py wavenet --sets english_alsa \
        --param temperature=0.9

``--steps`` is ignored for a vocoder without ``mel_match`` (WaveNet); ``--param NAME=VALUE`` sets any other parameter
(parsed by the vocoder's schema: ``--param init=pghi``). ``--also VOCODER[:NAME=VALUE,...]`` scores more settings in
the same run, side by side (e.g. ``--also griffin-lim`` for Griffin-Lim 32 as the reference):

    python scripts/vocoder_measure.py griffin-lim --steps 0 --param init=pghi --param iterations=8 \
        --also griffin-lim --sets valid8
"""

from __future__ import annotations

import argparse
import glob
import json
import time
from typing import Any

import numpy as np
import torch

from vocoder_studio.audio import load_audio, wav_to_mel
from vocoder_studio.evaluation.evaluate import score_pair
from vocoder_studio.training import corpus
from vocoder_studio.vocoders import create_vocoder, get_entry
from vocoder_studio.vocoders.params import parse_assignments

RATE = 22050


def test_clips(count: int = 40, seconds: float = 4.0, split: str = "test") -> list[np.ndarray]:
    pack = corpus.Pack.load(corpus.pack_path(split))
    return [pack.clip(int(i))[: int(seconds * RATE)] for i in np.linspace(0, len(pack) - 1, count).astype(int)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("vocoder", help="a name from `vocoder-studio vocoders` (istft, melgan, hifigan, ...)")
    parser.add_argument("--steps", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--sets", nargs="+", default=["test40", "english_alsa"],
                        choices=["test40", "valid8", "english_alsa"],
                        help="valid8: 8 clips of the validation split, for choosing a parameter without the test sets")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="another vocoder parameter, e.g. temperature=0.9 or init=pghi")
    parser.add_argument("--also", action="append", default=[], metavar="VOCODER[:NAME=VALUE,...]",
                        help="another setting scored in the same run (its mel_match as given, default otherwise)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    params: dict[str, Any] = parse_assignments(get_entry(args.vocoder).parameters, args.param, args.vocoder)
    loaders = {"test40": test_clips, "valid8": lambda: test_clips(8, 4.0, "valid"),
               "english_alsa": lambda: [load_audio(p) for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav"))
                                        if not p.endswith("Noise.wav")]}
    sets = {name: loaders[name]() for name in args.sets}
    report: dict[str, dict[str, dict[str, float]]] = {}
    has_mel_match = "mel_match" in get_entry(args.vocoder).defaults()
    settings: list[tuple[str, str, dict[str, Any]]] = []
    for steps in args.steps if has_mel_match else [0]:
        matching: dict[str, Any] = {"mel_match": steps} if has_mel_match else {}
        settings.append((f"mel_match_steps={steps}", args.vocoder, {**params, **matching}))
    for spec in args.also:
        other, _, assignments = spec.partition(":")
        settings.append((spec, other, parse_assignments(get_entry(other).parameters,
                                                        [a for a in assignments.split(",") if a], other)))
    for label, vocoder_name, values in settings:
        vocoder = create_vocoder(vocoder_name, **values)
        for name, clips in sets.items():
            rows, seconds, cpu_seconds, audio_s = [], 0.0, 0.0, 0.0
            for clip in clips:
                clip = clip[: clip.size // 256 * 256]
                mel = wav_to_mel(clip)
                start, cpu = time.perf_counter(), time.process_time()
                out = np.asarray(vocoder.vocode(mel), np.float32)
                seconds += time.perf_counter() - start
                cpu_seconds += time.process_time() - cpu
                audio_s += clip.size / RATE
                rows.append(score_pair(clip, out[: clip.size], RATE))
            means = {key: round(float(np.nanmean([np.nan if r[key] is None else r[key] for r in rows])), 4)
                     for key in ("pesq_wb", "stoi", "mel_l1", "f0_rmse_cents", "vuv_f1")}  # nan: no voiced frame
            report.setdefault(label, {})[name] = {**means, "rtf": round(seconds / audio_s, 5),
                                     "rtf_cpu": round(cpu_seconds / audio_s, 5), "clips": len(rows)}
            print(label, name, report[label][name], flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
