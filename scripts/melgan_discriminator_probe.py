"""What a MelGAN adversarial run's discriminator judges by: its mean score per scale (higher: "real") on real
validation segments, on the run's generated ones, and on edits of both that keep or remove one cue at a time —
polarity (the waveform negated: inaudible, and invisible to every magnitude loss), the band under 1 or 4 kHz
swapped between real and generated, level, a low-pass, a faint noise floor. Also the generated audio's level
against the real per band (STFT power, dB), overall and in the quietest quarter of the frames.

A discriminator that scores the *negated* generated audio as real judges by polarity, a cue the generator can
only follow by reshaping its whole waveform (``MelGANRecipe.random_polarity`` removes it).

    nice -n 10 .venv/bin/python scripts/melgan_discriminator_probe.py ~/.cache/vocoder-studio/runs/melgan-adv-2b
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG, wav_to_mel
from vocoder_studio.training import corpus
from vocoder_studio.training.data import SegmentSampler
from vocoder_studio.vocoders import melgan

sys.path.insert(0, str(Path(__file__).resolve().parent))
from melgan_adversarial import make_recipe  # noqa: E402

RATE = 22050


def band(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """``x`` (B, N) band-passed to [low, high) Hz by zeroing FFT bins."""
    spectrum = torch.fft.rfft(x)
    f = torch.fft.rfftfreq(x.shape[-1], 1 / RATE)
    return torch.fft.irfft(spectrum * ((f >= low) & (f < high)), n=x.shape[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--segments", type=int, default=16)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    recorded = {"no_discriminator": False, "objective": "hinge", "spectrogram_channels": 0,
                "no_waveform_discriminator": False, "random_polarity": False,
                **json.loads((args.run / "args.json").read_text())}
    recipe = make_recipe(argparse.Namespace(**recorded))
    data = torch.load(args.run / "checkpoint.pt", map_location="cpu", weights_only=False)
    discriminator = recipe.build_discriminator()
    discriminator.load_state_dict(data["discriminator"])
    discriminator.eval()
    generator = recipe.build()
    generator.load_state_dict(data["model"])
    generator.eval()
    print(f"{args.run.name}: step {data['state']['step']}; mean score per scale (higher: judged real)")
    pack = corpus.Pack.load(corpus.pack_path("valid"))
    real = torch.from_numpy(SegmentSampler(pack, 8192, seed=args.seed).batch(args.segments))
    with torch.no_grad():
        fake = generator(wav_to_mel(real, DEFAULT_CONFIG)).float()
    assert isinstance(generator, melgan.MelGANGenerator)
    vocoder = melgan.MelGANVocoder(generator, mel_match_steps=melgan.MEL_MATCH_DEFAULT,
                                   phase_refine=melgan.PHASE_REFINE_DEFAULT)
    played = torch.stack([torch.from_numpy(np.asarray(vocoder.vocode(wav_to_mel(r.numpy())), np.float32)[:8192])
                          for r in real])
    cases = {
        "real": real, "generated": fake, "generated, as played (mel match + GL)": played,
        "real, negated": -real, "generated, negated": -fake,
        "generated <1 kHz + real above": band(fake, 0, 1000) + band(real, 1000, RATE),
        "real <1 kHz + generated above": band(real, 0, 1000) + band(fake, 1000, RATE),
        "generated <4 kHz + real above": band(fake, 0, 4000) + band(real, 4000, RATE),
        "real <4 kHz + generated above": band(real, 0, 4000) + band(fake, 4000, RATE),
        "real low-passed at 8 kHz": band(real, 0, 8000),
        "real + noise at -60 dBFS": real + 1e-3 * torch.randn_like(real),
        "real x 0.5": real * 0.5, "generated x 2": fake * 2,
    }
    with torch.no_grad():
        for name, audio in cases.items():
            scores = [float(scale[-1].mean()) for scale in discriminator(audio)]
            print(f"  {name:42s} " + " ".join(f"{s:+6.2f}" for s in scores))
    window = torch.hann_window(1024)
    power = {k: torch.stft(v, 1024, 256, window=window, return_complex=True).abs() ** 2
             for k, v in (("real", real), ("generated", fake), ("played", played))}
    f = torch.fft.rfftfreq(1024, 1 / RATE)
    energy = power["real"].sum(1)
    quiet = energy < energy.flatten().quantile(0.25)
    print("level against the real (dB): band, generated, as played, generated in the quietest quarter of frames")
    for low, high in ((0, 300), (300, 1000), (1000, 2000), (2000, 4000), (4000, 8000), (8000, 11025)):
        keep = (f >= low) & (f < high)

        def db(name: str, frames: torch.Tensor | slice = slice(None), keep: torch.Tensor = keep) -> float:
            return float(10 * torch.log10(power[name][:, keep].mean(1)[frames].mean() + 1e-12))

        print(f"  {low:5d}-{high:5d} Hz  {db('generated') - db('real'):+6.2f}  {db('played') - db('real'):+6.2f}"
              f"  {db('generated', quiet) - db('real', quiet):+6.2f}")


if __name__ == "__main__":
    main()
