"""Paired comparison of two generator copies of a MelGAN adversarial run on the same clips (``DIR/clips.csv``,
written by ``scripts/melgan_checkpoints.py``): per set and score, both means, the mean of the per-clip
differences (candidate − base) with its standard error and 95 % t interval, and how many clips got better.
A difference whose interval excludes 0 is outside the clip-to-clip noise.

    .venv/bin/python scripts/melgan_compare.py ~/.cache/vocoder-studio/runs/melgan-adv-3-pol 0 600
    .venv/bin/python scripts/melgan_compare.py RUN 0 150 --base-run OTHER_RUN   # the warm-up scored in another run
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
from scipy import stats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("base", type=int, help="the base step (0: the warm-up)")
    parser.add_argument("candidate", type=int)
    parser.add_argument("--keys", nargs="+", default=["pesq_wb", "stoi"])
    parser.add_argument("--base-run", type=Path, default=None,
                        help="take the base step's scores from this run (the warm-up, step 0, is every run's)")
    args = parser.parse_args()
    table: dict[tuple[int, str, str], dict[int, dict[str, str]]] = {}
    for row in csv.DictReader((args.run / "clips.csv").open()):
        if args.base_run is None or int(row["step"]) != args.base:
            table.setdefault((int(row["step"]), row["set"], row["setting"]), {})[int(row["clip"])] = row
    for row in csv.DictReader((args.base_run / "clips.csv").open()) if args.base_run is not None else []:
        if int(row["step"]) == args.base:
            table.setdefault((int(row["step"]), row["set"], row["setting"]), {})[int(row["clip"])] = row
    for (step, name, setting), base in sorted(table.items()):
        if step != args.base or (args.candidate, name, setting) not in table:
            continue
        candidate = table[(args.candidate, name, setting)]
        clips = sorted(set(base) & set(candidate))
        for key in args.keys:
            a = np.array([float(base[c][key]) for c in clips])
            b = np.array([float(candidate[c][key]) for c in clips])
            keep = np.isfinite(a) & np.isfinite(b)
            d = (b - a)[keep]
            se = float(d.std(ddof=1) / np.sqrt(d.size))
            half = float(stats.t.ppf(0.975, d.size - 1)) * se
            print(f"{name:13s} {setting} {key:8s} n={d.size:3d}  step {args.base}: {a[keep].mean():.4f}  "
                  f"step {args.candidate}: {b[keep].mean():.4f}  difference {d.mean():+.4f} ± {se:.4f} "
                  f"(95 %: {d.mean() - half:+.4f} … {d.mean() + half:+.4f}); better on {(d > 0).sum()}/{d.size}")


if __name__ == "__main__":
    main()
