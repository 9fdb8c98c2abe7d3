"""MelGAN's adversarial phase on the CPU, warm-started from the shipped generator (``models/melgan.pt``).

MelGAN (Kumar et al. 2019) trains its generator against a multi-scale discriminator with hinge loss and feature
matching. Here the generator's objective keeps what it was warmed up on, so the adversarial terms fine-tune it
instead of replacing it (defaults, the second try's):

- reconstruction: mel L1 ×45 (HiFi-GAN, Kong et al. 2020) *and* the warm-up's multi-resolution STFT terms ×45
  (Parallel WaveGAN, Yamamoto et al. 2020, keeps its STFT loss beside the adversarial one): 45 × the warm-up
  loss;
- adversarial: hinge + feature matching ×2 (HiFi-GAN's weight; MelGAN's 10 was set without a mel loss),
  ramped in from 0 over ``--ramp`` steps, so the discriminator learns before the generator follows it;
- the generator's learning rate where the warm-up's annealing left it (``--generator-lr 2e-5``; the warm-up
  ended at 1e-5), with no level augmentation (``--augment-gain 0``: at ±1 nat 16 % of the real segments
  peak above 1, which the generator's tanh cannot reach, a cue that needs no listening).

The discriminator is MelGAN's own (:mod:`vocoder_studio.training.discriminators`), made small for a 2-core CPU
(channels capped at ``--max-channels``). The first try (``runs/melgan-adv-1``: mel ×45 alone, FM ×10, lr 1e-4,
gain ±1 nat, no ramp) resumes with ``--mel-weight 45 --stft-weight 0 --feature-weight 10 --ramp 0
--generator-lr 1e-4 --augment-gain 1``. ``--no-discriminator`` is the control: the same warm start trained on
the warm-up loss alone at ``--generator-lr`` (what the generator gains without the adversarial terms).

The run folder resumes exactly (the shared trainer's checkpoint: generator, both optimisers, discriminator,
sampler and random states); a new folder records its arguments in ``args.json`` and a resume reads them, so
``--run DIR`` alone continues it. A new folder starts from the shipped generator and scores it first (step 0 of
``valid.csv``: the warm-up's figure every later row is compared with). Every ``--chunk`` steps the generator is
also written to ``DIR/generators/step-NNNNNN.pt`` (the inference checkpoint the vocoder loads), for scoring at
the studio's default settings (``scripts/melgan_checkpoints.py``).

    nice -n 12 .venv/bin/python scripts/melgan_adversarial.py --minutes 90 \\
        --run ~/.cache/vocoder-studio/runs/melgan-adv-2

Measured (2026-12-07/08, one thread each beside a load of 13-17; valid8 PESQ-wb at the studio's defaults, one
mel-matching step + 8 Griffin-Lim iterations, ``scripts/melgan_checkpoints.py``; the warm-up scores 2.674): the
second try (these defaults, ``runs/melgan-adv-2``) 2.671 / 2.579 at steps 100 / 200; with the adversarial terms a
fifth as strong and the discriminator at lr 1e-4 (``--mel-weight 225 --stft-weight 225 --discriminator-lr 1e-4
--ramp 100``, ``runs/melgan-adv-2b``) 2.623 / 2.621 / 2.624 / 2.612 at 100-400; the control without a
discriminator (``--no-discriminator``, ``runs/melgan-adv-2-control``) 2.647 / 2.668 / 2.661 / 2.689, its step 400
on the test levels 2.808 (the warm-up 2.856) and on English 2.582 / 0.966 (2.503 / 0.968). The discriminator
(1.4 M parameters) separates the warm-up's audio within 100 steps (its hinge loss 6.0, chance, falls to
1.2-2.5), and the generator alone (the trainer's valid.csv) scores lower with it than without it at every step
(``adv-2b`` 1.87 / 1.89 / 1.86 / 1.85, the control 1.92 / 1.92 / 1.91 / 1.88; the warm-up 1.90). No adversarial
checkpoint beat the warm-up: nothing shipped.

Round 7 (2026-12-08; ``docs/melgan_adversarial.md``, figures and commands): the waveform discriminator judged by
polarity (the warm-up's output negated scored +4.2, real speech +2.5; ``scripts/melgan_discriminator_probe.py``);
with ``--random-polarity`` it judges by the waveform under 1 kHz and the generator alone still degrades (1.90 →
1.53 by step 350); UnivNet's spectrogram discriminator (``--spectrogram-channels 16 --no-waveform-discriminator
--objective lsgan``) stays near chance. valid8 as played: 2.58-2.68 over 20 checkpoints (warm-up 2.674); the
best (``runs/melgan-adv-3-mrd4`` step 150, 2.675) on test40 2.844 / 0.9330 against 2.856 / 0.9329 and on English
2.544 / 0.966 against 2.503 / 0.968 (``scripts/melgan_compare.py``: the warm-up within the noise): nothing shipped.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.training import corpus, discriminators
from vocoder_studio.training.recipes import MelGANRecipe
from vocoder_studio.training.trainer import DiscriminatorSettings, Trainer, TrainSettings
from vocoder_studio.vocoders import melgan
from vocoder_studio.vocoders.trained import count_parameters, load_checkpoint

ROOT = Path(__file__).resolve().parent.parent
#: ``--no-discriminator``: the discriminator's start step (never reached)
NEVER = 10**9
#: the arguments that make a run (recorded in args.json by a new run, read back by a resume)
RUN_ARGUMENTS = ("max_channels", "batch_size", "generator_lr", "discriminator_lr", "mel_weight", "stft_weight",
                 "feature_weight", "ramp", "augment_gain", "seed", "no_discriminator", "objective",
                 "spectrogram_channels", "no_waveform_discriminator", "random_polarity")


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, default=corpus.data_dir().parent / "runs" / "melgan-adv-2")
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--chunk", type=int, default=100, help="steps between validations and generator copies")
    parser.add_argument("--start", type=Path, default=ROOT / "models" / "melgan.pt", help="the warm-up generator")
    parser.add_argument("--max-channels", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--generator-lr", type=float, default=2e-5)
    parser.add_argument("--discriminator-lr", type=float, default=2e-4)
    parser.add_argument("--mel-weight", type=float, default=45.0)
    parser.add_argument("--stft-weight", type=float, default=45.0)
    parser.add_argument("--feature-weight", type=float, default=2.0)
    parser.add_argument("--ramp", type=int, default=200, help="steps over which the adversarial terms ramp in")
    parser.add_argument("--augment-gain", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-discriminator", action="store_true",
                        help="the control: the warm-up loss alone at --generator-lr, no discriminator built")
    parser.add_argument("--objective", choices=["hinge", "lsgan"], default="hinge")
    parser.add_argument("--spectrogram-channels", type=int, default=0,
                        help="UnivNet's multi-resolution spectrogram discriminator with this many channels (0: none)")
    parser.add_argument("--no-waveform-discriminator", action="store_true",
                        help="without MelGAN's waveform discriminator (needs --spectrogram-channels)")
    parser.add_argument("--random-polarity", action="store_true",
                        help="the discriminator sees each segment pair negated with probability 1/2")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    recorded = args.run / "args.json"
    if recorded.exists():  # arguments a run from before them lacks are off
        vars(args).update({"no_discriminator": False, "objective": "hinge", "spectrogram_channels": 0,
                           "no_waveform_discriminator": False, "random_polarity": False,
                           **json.loads(recorded.read_text())})
    return args


def make_recipe(args: argparse.Namespace) -> MelGANRecipe:
    """The run's recipe from its arguments (``args.json``'s keys)."""
    return MelGANRecipe(
        discriminator_config=discriminators.DiscriminatorConfig(max_channels=args.max_channels),
        discriminator_settings=DiscriminatorSettings(start_step=NEVER if args.no_discriminator else 0,
                                                     learning_rate=args.discriminator_lr,
                                                     generator_learning_rate=args.generator_lr,
                                                     generator_ramp_steps=args.ramp),
        feature_weight=args.feature_weight, mel_weight=args.mel_weight, stft_weight=args.stft_weight,
        resolution_config=(discriminators.ResolutionDiscriminatorConfig(channels=args.spectrogram_channels)
                           if args.spectrogram_channels else None),
        waveform_discriminator=not args.no_waveform_discriminator, objective=args.objective,
        random_polarity=args.random_polarity)


def build(args: argparse.Namespace) -> Trainer:
    recipe = make_recipe(args)
    settings = TrainSettings(batch_size=args.batch_size, segment_samples=8192,
                             learning_rate=args.generator_lr if args.no_discriminator else 1e-3,
                             validate_every=0, checkpoint_every_s=180.0, augment_gain=args.augment_gain,
                             seed=args.seed)
    train_pack = corpus.Pack.load(corpus.pack_path("train"))
    valid_pack = corpus.Pack.load(corpus.pack_path("valid"))
    return Trainer(recipe, train_pack, valid_pack, args.run, settings, "cpu", True, DEFAULT_CONFIG)


def main() -> None:
    args = parse()
    torch.set_num_threads(args.threads)
    new = not (args.run / "checkpoint.pt").exists()
    trainer = build(args)
    recipe = trainer.recipe
    copies = args.run / "generators"
    copies.mkdir(exist_ok=True)
    if new:
        (args.run / "args.json").write_text(json.dumps({k: getattr(args, k) for k in RUN_ARGUMENTS}, indent=1))
        generator, _ = load_checkpoint(args.start, "melgan", melgan.MelGANConfig, melgan.MelGANGenerator)
        trainer.model.load_state_dict(generator.float().state_dict())
        assert isinstance(recipe, MelGANRecipe)
        print(f"{args.start}: warm start; discriminator "
              f"{count_parameters(recipe.build_discriminator()) / 1e6:.2f} M parameters")
        print("step 0 (the warm-up):", trainer.validate(), flush=True)
        trainer.save_checkpoint()
        recipe.save(trainer.model, copies / "step-000000.pt")
    target = None if args.steps is None else trainer.state.step + args.steps
    deadline = None if args.minutes is None else trainer.state.elapsed_s + args.minutes * 60.0
    while (target is None or trainer.state.step < target) and (
            deadline is None or trainer.state.elapsed_s < deadline):
        chunk = args.chunk - trainer.state.step % args.chunk
        if target is not None:
            chunk = min(chunk, target - trainer.state.step)
        minutes = None if deadline is None else (deadline - trainer.state.elapsed_s) / 60.0
        trainer.run(minutes, chunk)  # validates (generator alone) and checkpoints at its end
        if trainer.state.step % args.chunk == 0:
            recipe.save(trainer.model, copies / f"step-{trainer.state.step:06d}.pt")
        print(f"step {trainer.state.step}: {trainer.state.history[-1:]}", flush=True)


if __name__ == "__main__":
    main()
