"""Where the iSTFT vocoder's gap to HiFi-GAN is: magnitude or phase. Swaps each part of the synthesised STFT for
another source's and scores the result (PESQ-wb, STOI), every setting ending as the shipped default does (the
phase refined by ``phase_refine`` fast Griffin-Lim iterations against the magnitude, then ``mel_match`` steps):

- magnitudes: ``pinv`` (the mel's pseudo-inverse, the shipped default), ``net`` (the iSTFT network's head),
  ``hifi`` (the STFT magnitude of HiFi-GAN's output for the same mel), ``true`` (the clip's own: an oracle);
- phases: ``pghi`` (Průša, Balazs & Søndergaard 2017, on that magnitude, the network's phase below its
  tolerance, 64-frame blocks as the vocoder), ``net``, ``hifi``, ``true``.

    nice -n 10 python scripts/istft_gap.py --sets valid8 english_alsa

Prints one line per setting and set, then a JSON object. One thread. Choose on valid8; the English clips only
tell whether the same holds on a voice the project never trained on.
"""

from __future__ import annotations

import argparse
import glob
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vocoder_measure import test_clips  # noqa: E402

from vocoder_studio.audio import load_audio, wav_to_mel  # noqa: E402
from vocoder_studio.audio.mel import DEFAULT_CONFIG, front_end_stft, mel_to_linear  # noqa: E402
from vocoder_studio.evaluation import metrics  # noqa: E402
from vocoder_studio.vocoders import create_vocoder, pghi  # noqa: E402
from vocoder_studio.vocoders.istft import load_model  # noqa: E402
from vocoder_studio.vocoders.stft import MAX_MAGNITUDE, hann_frame_window, mel_match  # noqa: E402

C = DEFAULT_CONFIG
SETTINGS = [  # (magnitude, phase, phase_refine)
    ("pinv", "pghi", 2), ("net", "pghi", 2), ("hifi", "pghi", 2), ("true", "pghi", 2),
    ("net", "net", 0), ("hifi", "hifi", 0), ("pinv", "hifi", 0), ("pinv", "hifi", 2), ("net", "hifi", 0),
    ("hifi", "net", 2), ("true", "hifi", 0),
]


def score(clip: np.ndarray, out: np.ndarray) -> dict[str, float | None]:
    """PESQ-wb, STOI and log-mel L1 of ``out`` against ``clip`` (the F0 scores of ``eval`` are left out: slow)."""
    out = out[: clip.size]
    return {"pesq_wb": metrics.pesq_wb_or_none(clip, out, C.sample_rate),
            "stoi": metrics.stoi(clip, out, C.sample_rate), "mel_l1": metrics.log_mel_l1(clip, out)}


def spectra(clip: np.ndarray, model: torch.nn.Module,
            hifi_audio: torch.Tensor) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Log-magnitude and phase ``(frames, bins)`` of each source for one clip."""
    mel = torch.from_numpy(wav_to_mel(clip)).unsqueeze(0)
    with torch.no_grad():
        net_log, net_phase = (t[0].float().numpy() for t in model.spectrum(mel))
        pinv_log = torch.log(mel_to_linear(mel, C))[0].T.numpy()
        out = {}
        for name, audio in (("hifi", hifi_audio), ("true", torch.from_numpy(clip))):
            spec = front_end_stft(audio.unsqueeze(0).float(), C)[0].T  # (frames, bins)
            out[name] = (torch.log(spec.abs().clamp_min(1e-9)).numpy(), spec.angle().numpy())
    out["net"] = (np.minimum(net_log, np.log(MAX_MAGNITUDE)), net_phase)
    out["pinv"] = (pinv_log, net_phase)
    return out


def synthesise(clip: np.ndarray, sources: dict, magnitude: str, phase: str, refine: int) -> np.ndarray:
    log_mag = sources[magnitude][0]
    if phase == "pghi":
        ph = pghi.pghi(np.exp(log_mag).T.astype(np.float64), C.hop_length, C.n_fft, C.win_length,
                       phase=sources["net"][1].T.astype(np.float64), block_frames=64).T
    else:
        ph = sources[phase][1]
    mel = torch.from_numpy(wav_to_mel(clip)).unsqueeze(0)
    with torch.no_grad():
        audio = mel_match(mel, torch.from_numpy(np.ascontiguousarray(log_mag)).float().unsqueeze(0),
                          torch.from_numpy(np.ascontiguousarray(ph)).float().unsqueeze(0), C,
                          hann_frame_window(C), 1, C, refine=refine)
    return audio[0].clamp(-1, 1).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", default=["valid8"], choices=["valid8", "english_alsa", "test40"])
    parser.add_argument("--model", default=None, help="an istft.pt to use instead of the installed one")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(Path(args.model))[0] if args.model else create_vocoder("istft").model  # type: ignore[attr-defined]
    model.eval()
    hifigan = create_vocoder("hifigan", mel_match=0)
    loaders = {"valid8": lambda: test_clips(8, 4.0, "valid"), "test40": test_clips,
               "english_alsa": lambda: [load_audio(p) for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav"))
                                        if not p.endswith("Noise.wav")]}
    report: dict[str, dict[str, dict[str, float]]] = {}
    for set_name in args.sets:
        rows: dict[str, list[dict]] = {}
        for clip in loaders[set_name]():
            clip = clip[: clip.size // 256 * 256].astype(np.float32)
            hifi_raw = np.asarray(hifigan.vocode(wav_to_mel(clip)), np.float32)
            sources = spectra(clip, model, torch.from_numpy(hifi_raw))
            rows.setdefault("hifigan mel_match=0", []).append(score(clip, np.clip(hifi_raw, -1, 1)))
            for magnitude, phase, refine in SETTINGS:
                out = synthesise(clip, sources, magnitude, phase, refine)
                rows.setdefault(f"mag={magnitude} phase={phase} refine={refine}", []).append(score(clip, out))
        for label, scores in rows.items():
            means = {k: round(float(np.nanmean([np.nan if r[k] is None else r[k] for r in scores])), 4)
                     for k in ("pesq_wb", "stoi", "mel_l1")}
            report.setdefault(label, {})[set_name] = means
            print(f"{set_name:12s} {label:36s} {means}", flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
