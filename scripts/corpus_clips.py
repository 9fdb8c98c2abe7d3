"""Write clips of one split of the prepared Czech/Dutch corpus as WAV files, for `vocoder-studio eval vocoders
--clips DIR`: ``count`` clips spread evenly over the split's pack, each cut to its first ``seconds`` — the same clips
``scripts/vocoder_measure.py`` and ``scripts/istft_gap.py`` call ``test40`` (``--split test --count 40``) and
``valid8`` (``--split valid --count 8``). Written as 32-bit float WAV at 22050 Hz, so `eval vocoders` reads back
exactly the pack's samples. The corpus must be prepared (`vocoder-studio data prepare`).

    PYTHONPATH=$PWD python scripts/corpus_clips.py --split test --count 40 --seconds 4 -o /tmp/test40
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import soundfile as sf

from vocoder_studio.training import corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="test", choices=["train", "valid", "test"])
    parser.add_argument("--count", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("-o", "--output", required=True, type=Path, help="an existing or new folder")
    args = parser.parse_args()
    pack = corpus.Pack.load(corpus.pack_path(args.split))
    args.output.mkdir(parents=True, exist_ok=True)
    for index in np.linspace(0, len(pack) - 1, args.count).astype(int):
        clip = pack.clip(int(index))[: int(args.seconds * pack.sample_rate)]
        sf.write(args.output / f"{args.split}-{index:05d}.wav", clip, pack.sample_rate, subtype="FLOAT")
    print(f"{args.output}: {args.count} clips of the {args.split} split, {args.seconds:g} s at most")


if __name__ == "__main__":
    main()
