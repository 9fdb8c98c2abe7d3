"""Listening with numbers: a MelNet continuation and an inpainting of a held-out Czech/Dutch test clip and a new
4 s sample, vocoded with HiFi-GAN (WAVs written to --out), their spectrograms as small PNGs in docs/, and figures
that stand in for the ear on each segment: mean ln-mel (loudness), frame-to-frame L1 (how fast the spectrum
moves), the voiced fraction and median F0 by pYIN (60-400 Hz, 2 s windows) on the vocoded audio (is there a voice
with a pitch?), and the spectral flatness.

    VOCODER_STUDIO_DATA=/work/data python scripts/melnet_listen.py [MODEL.pt] [--out /tmp/melnet_listen]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import torch  # noqa: E402

from vocoder_studio.audio import wav_to_mel  # noqa: E402
from vocoder_studio.audio.mel import DEFAULT_CONFIG  # noqa: E402
from vocoder_studio.evaluation.metrics import voicing  # noqa: E402
from vocoder_studio.melnet import load_model, sample  # noqa: E402
from vocoder_studio.melnet.sampling import default_tier_temperatures  # noqa: E402
from vocoder_studio.training import corpus  # noqa: E402
from vocoder_studio.vocoders.checkpoints import find_model  # noqa: E402
from vocoder_studio.vocoders.registry import create_vocoder  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
HOP = DEFAULT_CONFIG.hop_length


def describe(name: str, mel: np.ndarray, audio: np.ndarray) -> str:
    """One row of figures for a segment (mel ``(n_mels, k)``, its HiFi-GAN audio)."""
    voiced, median_f0 = voicing(audio)
    power = np.exp(2.0 * mel)
    flatness = float(np.mean(np.exp(np.mean(np.log(power), axis=0)) / np.mean(power, axis=0)))
    return (f"| {name} | {mel.shape[1]} | {mel.mean():.2f} | {np.abs(np.diff(mel, axis=1)).mean():.3f} | "
            f"{voiced:.2f} | {median_f0:.0f} | {flatness:.3f} |")


def figure(path: Path, panels: list[tuple[str, np.ndarray]], marks: list[int]) -> None:
    fig, axes = plt.subplots(len(panels), 1, figsize=(6.4, 1.55 * len(panels)), sharex=True, dpi=80)
    low, high = DEFAULT_CONFIG.floor_ln, max(float(m.max()) for _, m in panels)
    for ax, (title, mel) in zip(np.atleast_1d(axes), panels, strict=True):
        ax.imshow(mel, origin="lower", aspect="auto", cmap="magma", vmin=max(low, high - 10), vmax=high,
                  extent=(0, mel.shape[1] * DEFAULT_CONFIG.frame_seconds, 0, mel.shape[0]))
        for m in marks:
            ax.axvline(m * DEFAULT_CONFIG.frame_seconds, color="cyan", lw=0.8, ls="--")
        ax.set_title(title, fontsize=8, loc="left")
        ax.set_ylabel("mel band", fontsize=7)
        ax.tick_params(labelsize=6)
    np.atleast_1d(axes)[-1].set_xlabel("seconds", fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    from PIL import Image

    with Image.open(path) as image:  # 64 colours: a small file for the repository
        small = image.convert("RGB").quantize(64)
    small.save(path, optimize=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None)
    parser.add_argument("--out", default="/tmp/melnet_listen", help="folder for the WAVs")
    parser.add_argument("--clip", type=int, default=None, help="test-pack clip index (default: the first >= 4 s)")
    parser.add_argument("--temperature", type=float, default=1.0, help="continuation and new sample temperature")
    parser.add_argument("--tier-temperatures", default=None, help="their per-tier factors (default: the CLI's)")
    parser.add_argument("--fill-temperature", type=float, default=0.3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    model = load_model(args.model or find_model("melnet.pt"))
    factors = (default_tier_temperatures(model.config.n_tiers) if args.tier_temperatures is None
               else tuple(float(v) for v in args.tier_temperatures.split(",")))
    how = f"temperature {args.temperature:g}" + ("" if factors is None else
                                                 f" × tier factors {','.join(f'{v:g}' for v in factors)}")
    hifigan = create_vocoder("hifigan")
    pack = corpus.Pack.load(corpus.pack_path("test"))
    index = args.clip if args.clip is not None else next(
        i for i in range(len(pack)) if pack.clip(i).size >= 4 * pack.sample_rate)
    clip = pack.clip(index)[: 4 * pack.sample_rate]
    truth = wav_to_mel(clip)
    fps = 1.0 / DEFAULT_CONFIG.frame_seconds
    p, n = round(2.0 * fps), round(1.5 * fps)
    cont = sample(model, n, prime=truth[:, :p], temperature=args.temperature, tier_temperatures=factors, seed=0,
                  floor=DEFAULT_CONFIG.floor_ln)
    new = sample(model, round(4.0 * fps), temperature=args.temperature, tier_temperatures=factors, seed=0,
                 floor=DEFAULT_CONFIG.floor_ln)
    s, e = round(1.5 * fps), round(2.0 * fps)
    fill = sample(model, source=truth, inpaint=(s, e), temperature=args.fill_temperature, seed=0,
                  floor=DEFAULT_CONFIG.floor_ln)

    def vocode(mel: np.ndarray, name: str) -> np.ndarray:
        audio = hifigan.vocode(mel).detach().cpu().numpy().reshape(-1)
        sf.write(out / f"{name}.wav", audio, DEFAULT_CONFIG.sample_rate)
        return audio

    a_cont, a_truth, a_fill = vocode(cont, "continuation"), vocode(truth, "original"), vocode(fill, "inpainting")
    a_new = vocode(new, "unconditional")
    print(f"test clip {index}: continuation of 2.0 s by 1.5 s and a new 4 s sample at {how}; fill of "
          f"{s / fps:.1f}-{e / fps:.1f} s at temperature {args.fill_temperature:g}; HiFi-GAN audio in {out}")
    print("| segment | frames | mean ln-mel | frame-to-frame L1 | voiced fraction | median F0 (Hz) | flatness |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print(describe("prime (original 0-2 s)", truth[:, :p], a_truth[: p * HOP]))
    print(describe("original 2-3.5 s", truth[:, p: p + n], a_truth[p * HOP: (p + n) * HOP]))
    print(describe("MelNet continuation 2-3.5 s", cont[:, p:], a_cont[p * HOP:]))
    print(describe("original gap 1.5-2 s", truth[:, s:e], a_truth[s * HOP: e * HOP]))
    print(describe("MelNet fill 1.5-2 s", fill[:, s:e], a_fill[s * HOP: e * HOP]))
    print(describe("MelNet unconditional 0-4 s (seed 0)", new, a_new))
    docs = ROOT / "docs"
    figure(docs / "melnet_continuation.png",
           [("original (held-out Czech/Dutch test clip)", truth[:, : p + n]),
            (f"MelNet continuation after 2.0 s ({how})", cont)], [p])
    figure(docs / "melnet_unconditional.png", [(f"MelNet, a new 4 s sample (seed 0, {how})", new)], [])
    figure(docs / "melnet_inpainting.png",
           [("original", truth), (f"MelNet fill of {s / fps:.1f}-{e / fps:.1f} s (temperature "
                                  f"{args.fill_temperature:g})", fill)], [s, e])
    print(f"wrote {docs / 'melnet_continuation.png'}, {docs / 'melnet_inpainting.png'} and "
          f"{docs / 'melnet_unconditional.png'}")


if __name__ == "__main__":
    main()
