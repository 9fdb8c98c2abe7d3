"""Start a MelNet training run from a trained checkpoint (a warm start): writes the run folder's
``checkpoint.pt`` and ``config.json`` as ``train melnet`` would at step 0, but with the weights of ``FROM``
(weights the new config adds, e.g. the future stack of a ``bidirectional`` model, keep their initialisation;
its output projections start at zero, so the warm-started model computes the old model's densities). Then
``train melnet --run DIR --config CONFIG [--tier N] ...`` resumes it, exactly, run after run.

    VOCODER_STUDIO_DATA=... python scripts/melnet_warm_start.py FROM.pt CONFIG.json RUN_DIR [--tier N]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.melnet import load_model
from vocoder_studio.training import corpus
from vocoder_studio.training.recipes import RECIPES
from vocoder_studio.training.run import _variant


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="a MelNet checkpoint (models/melnet.pt)")
    parser.add_argument("config", help="JSON of the new run's MelNetConfig (as for train --config)")
    parser.add_argument("run", help="the new run folder (must not hold a checkpoint)")
    parser.add_argument("--tier", type=int, default=None, help="the run trains only this tier")
    args = parser.parse_args()
    run = Path(args.run)
    if (run / "checkpoint.pt").exists():
        print(f"{run}: already holds a checkpoint", file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    recipe, settings = RECIPES["melnet"]()
    recipe = _variant("melnet", recipe, args.tier, Path(args.config))
    train = corpus.Pack.load(corpus.pack_path("train"))
    valid_path = corpus.pack_path("valid")
    valid = corpus.Pack.load(valid_path) if valid_path.exists() else None
    trainer = recipe.trainer_class(recipe, train, valid, run, settings, torch.device("cpu"), False, DEFAULT_CONFIG)
    source = load_model(args.source)
    missing, unexpected = trainer.model.load_state_dict(source.state_dict(), strict=False)
    if unexpected:
        print(f"{args.source}: weights the new config lacks: {unexpected}", file=sys.stderr)
        return 2
    trainer.save_checkpoint()
    (run / "config.json").write_text(json.dumps(recipe.model_config.to_dict(), indent=2) + "\n")
    print(f"{run}: warm start from {args.source}; new weights: {sorted({k.rsplit('.', 1)[0] for k in missing})}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
