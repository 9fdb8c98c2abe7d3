"""MelGAN's adversarial phase on the CPU, warm-started from the shipped generator (``models/melgan.pt``).

MelGAN (Kumar et al. 2019) trains its generator against a multi-scale discriminator with hinge loss and feature
matching; here with HiFi-GAN's mel-L1 term (×45) kept, so the generator cannot drift far from the warm-up while
the discriminator learns. The discriminator is MelGAN's own (:mod:`vocoder_studio.training.discriminators`),
made small for a 2-core CPU (channels capped at ``--max-channels``).

The run folder resumes exactly (the shared trainer's checkpoint: generator, both optimisers, discriminator,
sampler and random states): run the same command again to continue. A new folder starts from the shipped
generator and scores it first (step 0 of ``valid.csv``: the warm-up's figure every later row is compared with).

    nice -n 10 .venv/bin/python scripts/melgan_adversarial.py --minutes 100 \
        --run ~/.cache/vocoder-studio/runs/melgan-adv-1
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.training import corpus, discriminators
from vocoder_studio.training.recipes import MelGANRecipe
from vocoder_studio.training.trainer import DiscriminatorSettings, Trainer, TrainSettings
from vocoder_studio.vocoders import melgan
from vocoder_studio.vocoders.trained import count_parameters, load_checkpoint

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=corpus.data_dir().parent / "runs" / "melgan-adv-1")
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--start", type=Path, default=ROOT / "models" / "melgan.pt", help="the warm-up generator")
    parser.add_argument("--max-channels", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--generator-lr", type=float, default=1e-4)
    parser.add_argument("--validate-every", type=int, default=250)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    recipe = MelGANRecipe(
        discriminator_config=discriminators.DiscriminatorConfig(max_channels=args.max_channels),
        discriminator_settings=DiscriminatorSettings(start_step=0, generator_learning_rate=args.generator_lr))
    settings = TrainSettings(batch_size=args.batch_size, segment_samples=8192, learning_rate=1e-3,
                             validate_every=args.validate_every, checkpoint_every_s=300.0, augment_gain=1.0)
    train_pack = corpus.Pack.load(corpus.pack_path("train"))
    valid_pack = corpus.Pack.load(corpus.pack_path("valid"))
    trainer = Trainer(recipe, train_pack, valid_pack, args.run, settings, "cpu", True, DEFAULT_CONFIG)
    if trainer.state.step == 0 and not trainer.checkpoint_path.exists():
        generator, _ = load_checkpoint(args.start, "melgan", melgan.MelGANConfig, melgan.MelGANGenerator)
        trainer.model.load_state_dict(generator.float().state_dict())
        print(f"{args.start}: warm start; discriminator "
              f"{count_parameters(recipe.build_discriminator()) / 1e6:.2f} M parameters")
        print("step 0 (the warm-up):", trainer.validate(), flush=True)
        trainer.save_checkpoint()
    trainer.run(args.minutes, args.steps)
    print(f"step {trainer.state.step}: {trainer.state.history[-1:]}", flush=True)


if __name__ == "__main__":
    main()
