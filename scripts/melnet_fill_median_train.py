"""Train MelNet's median gap fill (:class:`vocoder_studio.melnet.fill.GapFill`) on random gaps, resumably, and put
it into a MelNet checkpoint.

The fill reads the mel in the model's own per-band normalisation (``FROM``'s ``band_mean``/``band_std``) and is
trained alone, with the L1 loss of the gap's cells in ln-mel units (the fill measure's): random crops of the
training pack's mels (128, 192 or 256 frames), one gap each of 17-86 frames (0.2-1.0 s), placed anywhere with
at least one known frame on each side (10 % run to the crop's end, 5 % start at its first frame), a random
loudness offset of up to ±1 ln unit. Every ``--valid-every`` steps it scores the 0.5 s middle gap of 40
validation clips against linear interpolation (``valid.csv``; the fill measure of ``evaluate_inpainting``
without the floor) and checkpoints (model, optimiser, step, random state: a later call resumes exactly);
``fill-STEP.pt`` keeps each validated step's fill weights.

``--export OUT.pt --fills FILL.pt ...`` writes ``FROM`` with the fill of ``FILL.pt`` (a ``fill-STEP.pt``, the
run's ``checkpoint.pt`` or a ``melnet.pt`` that has one; several are averaged) added — tensors ``fill.*`` and
the config field ``fill_hidden``, nothing else changed — so the fill joins any MelNet of the same normalisation
(refused otherwise). A resumed run may change its learning rate with ``--set-lr`` (logged in ``lr.csv``);
``--boundary-crops`` makes a share of the crops start or end with their clip.

    VOCODER_STUDIO_DATA=... python scripts/melnet_fill_median_train.py FROM.pt RUN_DIR --minutes 60
    python scripts/melnet_fill_median_train.py FROM.pt RUN_DIR --export models/melnet.pt --fills RUN_DIR/fill-4000.pt
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import time
from pathlib import Path

import numpy as np
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG, wav_to_mel
from vocoder_studio.melnet import load_model
from vocoder_studio.melnet.checkpoint import save_model
from vocoder_studio.melnet.fill import GapFill, interpolation_features
from vocoder_studio.melnet.model import MelNet
from vocoder_studio.training import corpus

CROPS = (128, 192, 256)
GAP = (17, 86)


def pack_mels(split: str, cache: Path | None = None) -> list[np.ndarray]:
    """ln-mels ``(n_mels, frames)`` float32 of every clip of ``split`` (cached as ``cache`` .npz when given)."""
    if cache is not None and cache.exists():
        with np.load(cache) as data:
            return [data[k] for k in sorted(data.files, key=int)]
    pack = corpus.Pack.load(corpus.pack_path(split))
    mels = [wav_to_mel(pack.clip(i)).astype(np.float32) for i in range(len(pack)) if pack.clip(i).size >= 4096]
    if cache is not None:
        np.savez(cache, **{str(i): m for i, m in enumerate(mels)})
    return mels


def batch(mels: list[np.ndarray], size: int, gen: torch.Generator, floor: float, boundary: float = 0.0
          ) -> tuple[torch.Tensor, torch.Tensor]:
    """Raw ln-mel crops ``(size, n_mels, L)`` and known masks ``(size, L, 1)`` (one gap each); a share
    ``boundary`` of the crops starts at its clip's first frame or ends at its last (half each), so that the
    utterance's edges are in view as when a whole clip is filled."""
    length = CROPS[int(torch.randint(len(CROPS), (1,), generator=gen))]
    long_enough = [m for m in mels if m.shape[1] >= length]
    crops, masks = [], []
    for _ in range(size):
        mel = long_enough[int(torch.randint(len(long_enough), (1,), generator=gen))]
        start = int(torch.randint(mel.shape[1] - length + 1, (1,), generator=gen))
        if boundary > 0:
            v = float(torch.rand((), generator=gen))
            start = 0 if v < boundary / 2 else mel.shape[1] - length if v < boundary else start
        shift = float(torch.rand((), generator=gen)) * 2.0 - 1.0
        crops.append(np.maximum(mel[:, start: start + length] + shift, floor))
        gap = int(torch.randint(GAP[0], GAP[1] + 1, (1,), generator=gen))
        u = float(torch.rand((), generator=gen))
        if u < 0.10:
            a = length - gap
        elif u < 0.15:
            a = 0
        else:
            a = int(torch.randint(1, length - gap, (1,), generator=gen))
        known = torch.ones(length, 1, dtype=torch.bool)
        known[a: a + gap] = False
        masks.append(known)
    mel_t = torch.from_numpy(np.stack(crops))
    known_t = torch.stack(masks)
    return mel_t, known_t


def middle_gaps(model: MelNet, mels: list[np.ndarray], gap_frames: int = 43
                ) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Normalised values ``(1, T, n_mels)`` and known masks of each mel with frames ``[s, s + gap)`` unknown
    (``evaluate_inpainting``'s middle gap)."""
    out = []
    for mel in mels:
        frames = mel.shape[1]
        if frames < gap_frames + 2:
            continue
        s = (frames - gap_frames) // 2
        x = model.normalise(torch.from_numpy(mel).unsqueeze(0))
        known = torch.ones(1, frames, model.config.n_mels, dtype=torch.bool)
        known[:, s: s + gap_frames] = False
        out.append((x, known))
    return out


def score(fill: GapFill, std: torch.Tensor, gaps: list[tuple[torch.Tensor, torch.Tensor]]) -> tuple[float, float]:
    """Mean L1 (ln-mel units) over the gaps' cells, per gap then averaged: the fill's and linear interpolation's."""
    fill.eval()
    f_sum = l_sum = 0.0
    with torch.no_grad():
        for x, known in gaps:
            line, _ = interpolation_features(x * known, known)
            y = fill(x, known)
            cells = ~known
            f_sum += float(((y - x).abs() * std)[cells].mean())
            l_sum += float(((line - x).abs() * std)[cells].mean())
    return f_sum / len(gaps), l_sum / len(gaps)


def _fill_snapshot(path: Path) -> dict:
    """``{"fill", "hidden", "band_mean", "band_std"}`` of a ``fill-STEP.pt``, a run's ``checkpoint.pt`` or a MelNet
    checkpoint that has a fill (to carry the fill of one ``melnet.pt`` into another)."""
    data = torch.load(path, map_location="cpu", weights_only=True)
    if data.get("format") == "melnet-1":
        weights = data["model"]
        if not data["config"].get("fill_hidden"):
            raise SystemExit(f"{path}: a MelNet without a median fill")
        return {"fill": {k[len("fill."):]: v for k, v in weights.items() if k.startswith("fill.")},
                "hidden": data["config"]["fill_hidden"], "band_mean": weights["band_mean"],
                "band_std": weights["band_std"]}
    return data


def export(source: Path, fill_paths: list[Path], out: Path) -> None:
    """Write ``source`` with the fill of ``fill_paths`` added (their weights averaged when several: stochastic
    weight averaging, Izmailov et al. 2018) as ``out``."""
    model = load_model(source)
    snapshots = [_fill_snapshot(p) for p in fill_paths]
    for data, path in zip(snapshots, fill_paths, strict=True):
        for name in ("band_mean", "band_std"):
            if not torch.equal(data[name], getattr(model, name)):
                raise SystemExit(f"{source}: its {name} differs from the one {path} was trained with")
    weights = {k: torch.stack([d["fill"][k] for d in snapshots]).mean(0) for k in snapshots[0]["fill"]}
    config = dataclasses.replace(model.config, fill_hidden=int(snapshots[0]["hidden"]))
    merged = MelNet(config)
    state = model.state_dict()
    state.update({f"fill.{k}": v for k, v in weights.items()})
    merged.load_state_dict(state)
    save_model(out, merged, DEFAULT_CONFIG)
    print(f"wrote {out}: {source} with the fill of {', '.join(map(str, fill_paths))}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="the MelNet whose normalisation the fill reads (models/melnet.pt)")
    parser.add_argument("run", help="the run folder")
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--lr", type=float, default=1e-3, help="the learning rate of a new run")
    parser.add_argument("--set-lr", type=float, default=None,
                        help="change a resumed run's learning rate from here on (e.g. a step decay at the end)")
    parser.add_argument("--valid-every", type=int, default=250)
    parser.add_argument("--boundary-crops", type=float, default=0.0,
                        help="share of crops that start or end with their clip (0: anywhere)")
    parser.add_argument("--export", default=None, metavar="OUT", help="write FROM with the fill of --fills as OUT")
    parser.add_argument("--fills", nargs="+", default=None, metavar="FILL",
                        help="fill-STEP.pt files (or a run's checkpoint.pt) to export; several are averaged")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.export:
        if not args.fills:
            parser.error("--export needs --fills")
        export(Path(args.source), [Path(p) for p in args.fills], Path(args.export))
        return 0
    source = load_model(args.source)
    run = Path(args.run)
    run.mkdir(parents=True, exist_ok=True)
    floor = DEFAULT_CONFIG.floor_ln
    std1 = source.band_std
    torch.manual_seed(0)  # the fill's initial weights (a resumed run loads its own)
    fill = GapFill(args.hidden, source.config.n_mels)
    optimizer = torch.optim.AdamW(fill.parameters(), lr=args.lr, weight_decay=1e-4)
    gen = torch.Generator().manual_seed(0)
    step, elapsed = 0, 0.0
    ckpt = run / "checkpoint.pt"
    if ckpt.exists():
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
        fill.load_state_dict(state["fill"])
        optimizer.load_state_dict(state["optimizer"])
        gen.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        step, elapsed = state["step"], state["elapsed"]
        print(f"{run}: resumed at step {step}")
    if args.set_lr is not None:
        for group in optimizer.param_groups:
            group["lr"] = args.set_lr
        with open(run / "lr.csv", "a", newline="") as fh:
            csv.writer(fh).writerow([step, args.set_lr])
    train = pack_mels("train", run / "train_mels.npz")
    valid_path = run / "valid_mels.npz"
    if not valid_path.exists():
        pack = corpus.Pack.load(corpus.pack_path("valid"))
        idx = np.linspace(0, len(pack) - 1, num=min(40, len(pack))).astype(int)
        np.savez(valid_path, **{str(k): wav_to_mel(pack.clip(int(i))[: int(6.0 * pack.sample_rate)])
                                for k, i in enumerate(idx)})
    with np.load(valid_path) as data:
        valid = [data[k] for k in sorted(data.files, key=int)]
    gaps = middle_gaps(source, valid)
    if step == 0 and not (run / "valid.csv").exists():
        f, lin = score(fill, std1, gaps)
        with open(run / "valid.csv", "w", newline="") as fh:
            csv.writer(fh).writerows([["step", "seconds", "fill_l1", "linear_l1"], [0, 0, f"{f:.5f}", f"{lin:.5f}"]])
    goal = None if args.steps is None else step + args.steps
    began = time.monotonic()
    base_elapsed = elapsed
    losses: list[float] = []
    while True:
        elapsed = base_elapsed + time.monotonic() - began
        if (goal is not None and step >= goal) or (args.minutes is not None and elapsed - base_elapsed
                                                    >= args.minutes * 60):
            break
        fill.train()
        mel, known1 = batch(train, args.batch, gen, floor, args.boundary_crops)
        with torch.no_grad():
            x = source.normalise(mel)
        known = known1.expand_as(x)
        y = fill(x, known)
        loss = ((y - x).abs() * std1)[~known].mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(fill.parameters(), 1.0)
        optimizer.step()
        step += 1
        losses.append(float(loss))
        if step % args.valid_every == 0:
            f, lin = score(fill, std1, gaps)
            elapsed = base_elapsed + time.monotonic() - began
            with open(run / "valid.csv", "a", newline="") as fh:
                csv.writer(fh).writerow([step, round(elapsed, 1), f"{f:.5f}", f"{lin:.5f}"])
            torch.save({"fill": fill.state_dict(), "hidden": args.hidden, "step": step,
                        "band_mean": source.band_mean, "band_std": source.band_std}, run / f"fill-{step}.pt")
            torch.save({"fill": fill.state_dict(), "optimizer": optimizer.state_dict(), "generator": gen.get_state(),
                        "torch_rng": torch.get_rng_state(), "step": step, "elapsed": elapsed, "hidden": args.hidden,
                        "band_mean": source.band_mean, "band_std": source.band_std}, ckpt)
            print(f"step {step} {elapsed / 60:.1f} min: train L1 {np.mean(losses):.4f}, valid L1 {f:.4f} "
                  f"(linear {lin:.4f})", flush=True)
            losses = []
    if step % args.valid_every:  # stopped between validations: keep the exact state for the next call
        torch.save({"fill": fill.state_dict(), "optimizer": optimizer.state_dict(), "generator": gen.get_state(),
                    "torch_rng": torch.get_rng_state(), "step": step, "elapsed": elapsed, "hidden": args.hidden,
                    "band_mean": source.band_mean, "band_std": source.band_std}, ckpt)
    print(f"{run}: step {step}, {elapsed / 60:.1f} min")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
