"""Train a bidirectional MelNet's future stack on top of a trained left-to-right MelNet (fills that see both
sides), resumably: the first call warm-starts the run folder from ``FROM`` (its weights in every tier, the future
stack initialised to one step of linear interpolation, ``FutureStack.init_interpolation``), every call trains
tier 1's future stack alone (``MelNetRecipe.future_only``; the rest stays ``FROM``'s, so every density without a
right context is unchanged) on random gap ends for ``--minutes``, then validates and checkpoints; a later call
resumes exactly. ``--export DIR`` writes the inference checkpoint ``DIR/melnet.pt`` (no card: write it from the
measured figures).

    VOCODER_STUDIO_DATA=... python scripts/melnet_fill_train.py FROM.pt RUN_DIR --minutes 60 \\
        [--lr-decay 0:5000] [--augment-gain 1.5] [--augment-speed 0.1] [--export DIR]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.melnet import load_model
from vocoder_studio.training import corpus
from vocoder_studio.training.recipes import RECIPES, MelNetRecipe


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a trained MelNet checkpoint (models/melnet.pt)")
    parser.add_argument("run", help="the run folder")
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--lr-decay", default=None, metavar="START:END")
    parser.add_argument("--augment-gain", type=float, default=0.0)
    parser.add_argument("--augment-speed", type=float, default=0.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--export", default=None, metavar="DIR")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    source = load_model(args.source)
    config = dataclasses.replace(source.config, bidirectional=True)
    base, settings = RECIPES["melnet"]()
    assert isinstance(base, MelNetRecipe)
    recipe = dataclasses.replace(base, model_config=config, tier=1, future_only=True)
    settings = dataclasses.replace(settings, augment_gain=args.augment_gain, augment_speed=args.augment_speed)
    if args.lr_decay:
        start, end = (int(v) for v in args.lr_decay.split(":"))
        settings = dataclasses.replace(settings, lr_decay=(start, end))
    run = Path(args.run)
    train = corpus.Pack.load(corpus.pack_path("train"))
    valid_path = corpus.pack_path("valid")
    valid = corpus.Pack.load(valid_path) if valid_path.exists() else None
    fresh = not (run / "checkpoint.pt").exists()
    trainer = recipe.trainer_class(recipe, train, valid, run, settings, torch.device("cpu"), True, DEFAULT_CONFIG)
    if fresh:
        missing, unexpected = trainer.model.load_state_dict(source.state_dict(), strict=False)
        assert not unexpected and all(".future." in k for k in missing), (missing, unexpected)
        future = trainer.model.tiers[0].future
        future.init_interpolation(trainer.model.tiers[0].time_in)
        trainer.save_checkpoint()
        print(f"{run}: warm start from {args.source}")
    if args.minutes or args.steps:
        state = trainer.run(args.minutes, args.steps)
        print(f"{run}: step {state.step}, {state.elapsed_s / 60:.1f} min; last validation {state.history[-1:]}")
    if args.export:
        path = recipe.save(trainer.model, Path(args.export) / "melnet.pt") or Path(args.export) / "melnet.pt"
        print(f"exported {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
