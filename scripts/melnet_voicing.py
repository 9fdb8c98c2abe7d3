"""Why are MelNet's samples unvoiced? Measurements on HiFi-GAN audio with pYIN (60-400 Hz, 2 s windows):

- ``real``: real speech through the same pipeline (validation, test levels, unseen English);
- ``tiers``: which tier loses the harmonics: real mels with tiers 1..k kept and tiers k+1..n resampled by the
  model (each upper tier sees a true lower view up to k), k = n-1 … 0, per temperature;
- ``draw``: how the mixture is drawn (temperature on weights and scales, on scales only, the most likely
  component) and per-tier temperatures, on unconditional samples and continuations;
- ``nll``: held-out NLL per mel cell and per tier (the card's sets: 40 test-level clips cut to 6 s, the 8
  alsa-utils English clips), to check that a retrained model's density did not get worse;
- ``speed``: output frames per second of a 4 s sample at the default tier temperatures, one thread (median of 3).

Figures are means over clips (and seeds); validation chooses, test levels and English report.

    nice -n 10 python scripts/melnet_voicing.py real tiers draw --set valid --json /tmp/voicing.json
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from vocoder_studio.audio import load_audio, wav_to_mel
from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.evaluation.metrics import voicing
from vocoder_studio.melnet import load_model
from vocoder_studio.melnet import sampling as melnet_sampling
from vocoder_studio.melnet import tiers as tiering
from vocoder_studio.melnet.model import MelNet
from vocoder_studio.melnet.widen import widen_tier
from vocoder_studio.training import corpus
from vocoder_studio.vocoders.checkpoints import find_model
from vocoder_studio.vocoders.registry import create_vocoder

ROOT = Path(__file__).resolve().parent.parent
FPS = 1.0 / DEFAULT_CONFIG.frame_seconds
FLOOR = DEFAULT_CONFIG.floor_ln


def pack_mels(split: str, count: int, seconds: float) -> list[np.ndarray]:
    """``count`` clips of at least ``seconds`` from a corpus pack, evenly spread, cut to ``seconds``."""
    pack = corpus.Pack.load(corpus.pack_path(split))
    long = [i for i in range(len(pack)) if pack.clip(i).size >= seconds * pack.sample_rate]
    pick = [long[int(j)] for j in np.linspace(0, len(long) - 1, num=min(count, len(long)))]
    return [wav_to_mel(pack.clip(i)[: int(seconds * pack.sample_rate)]) for i in pick]


def english_mels() -> list[np.ndarray]:
    paths = [p for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav")) if not p.endswith("Noise.wav")]
    paths.append(str(ROOT / "resources" / "example.flac"))
    return [wav_to_mel(load_audio(p)) for p in paths]


class Listener:
    """HiFi-GAN + pYIN: the voiced fraction and median F0 of a mel ``(n_mels, T)``."""

    def __init__(self) -> None:
        self.hifigan = create_vocoder("hifigan")

    def audio(self, mel: np.ndarray) -> np.ndarray:
        return self.hifigan.vocode(mel).detach().cpu().numpy().reshape(-1)

    def __call__(self, mel: np.ndarray) -> tuple[float, float]:
        return voicing(self.audio(mel))


# ------------------------------------------------------------------------------------ draw rules (experiments)
def correlated_rule(rho: float, bands: int) -> Callable[..., float]:
    """``corrρ``: the components ordered by their means, and the random numbers of the cells of one frame
    correlated (``ρ``) with the frame's first cell: the same quantile across bands, a coherent frame. Counts its
    calls to know where a frame starts (every cell of a frame must be drawn: new and continued frames)."""
    limit = melnet_sampling.SAMPLE_LIMIT
    unit = statistics.NormalDist()
    state = {"calls": 0, "z_u": 0.0, "z_n": 0.0}
    rest = math.sqrt(max(0.0, 1.0 - rho * rho))

    def draw(params: list[float], mixtures: int, log_scale_min: float, temperature: float, uniform: float,
             normal: float) -> float:
        z_u = unit.inv_cdf(min(max(uniform, 1e-9), 1 - 1e-9))
        if state["calls"] % bands == 0:
            state["z_u"], state["z_n"] = z_u, normal
        state["calls"] += 1
        u = unit.cdf(rho * state["z_u"] + rest * z_u)
        n = rho * state["z_n"] + rest * normal
        mu, log_s, logits = params[:mixtures], params[mixtures: 2 * mixtures], params[2 * mixtures:]
        if temperature <= 0:
            k = logits.index(max(logits))
        else:
            order = sorted(range(mixtures), key=lambda i: mu[i])
            top = max(logits)
            weights = [math.exp((logits[i] - top) / temperature) for i in order]
            goal, total, k = u * math.fsum(weights), 0.0, order[-1]
            for i, w in zip(order, weights, strict=True):
                total += w
                if total >= goal:
                    k = i
                    break
        value = mu[k] + math.exp(max(log_s[k], log_scale_min)) * temperature * n
        return min(max(value, -limit), limit)

    return draw


def draw_rule(rule: str, bands: int = 0) -> Callable[..., float]:
    """A replacement for ``sampling._draw``: ``both`` (the shipped rule: logits / τ and scales × τ), ``std``
    (the model's weights, scales × τ), ``mode`` (the most likely component, scale × τ), ``mean`` (the most likely
    component's mean, no noise), ``sS`` / ``sScC`` (logits / τ, the scale × S instead of × τ, and with ``cC`` the
    normal truncated to ±C), ``corrρ`` (see :func:`correlated_rule`)."""
    if rule.startswith("corr"):
        return correlated_rule(float(rule[4:]), bands)
    limit = melnet_sampling.SAMPLE_LIMIT
    split = re.fullmatch(r"s(?P<s>[\d.]+)(?:c(?P<c>[\d.]+))?", rule)
    if split:  # the component at τ (logits / τ), the value within it at scale × S, its normal truncated at ±C
        scale, cut = float(split["s"]), float(split["c"] or "inf")
        unit = statistics.NormalDist()
        lo = unit.cdf(-cut) if math.isfinite(cut) else 0.0

        def split_draw(params: list[float], mixtures: int, log_scale_min: float, temperature: float,
                       uniform: float, normal: float) -> float:
            mu, log_s, logits = params[:mixtures], params[mixtures: 2 * mixtures], params[2 * mixtures:]
            if temperature <= 0:
                return mu[logits.index(max(logits))]
            k = melnet_sampling.pick_component(logits, temperature, uniform)
            if math.isfinite(cut):
                normal = unit.inv_cdf(min(max(lo + unit.cdf(normal) * (1 - 2 * lo), 1e-12), 1 - 1e-12))
            value = mu[k] + math.exp(max(log_s[k], log_scale_min)) * scale * normal
            return min(max(value, -limit), limit)

        return split_draw

    def draw(params: list[float], mixtures: int, log_scale_min: float, temperature: float, uniform: float,
             normal: float) -> float:
        mu, log_s, logits = params[:mixtures], params[mixtures: 2 * mixtures], params[2 * mixtures:]
        top = max(logits)
        if rule in ("mode", "mean") or temperature <= 0:
            k = logits.index(top)
        else:
            k = melnet_sampling.pick_component(logits, temperature if rule == "both" else 1.0, uniform)
        spread = 0.0 if rule == "mean" else temperature
        value = mu[k] + math.exp(max(log_s[k], log_scale_min)) * spread * normal
        return min(max(value, -limit), limit)

    return draw


def generate(model: MelNet, target: np.ndarray, known: np.ndarray, temperatures: Sequence[float], seed: int,
             rule: str = "both") -> np.ndarray:
    """Fill the unknown cells of ``target`` with tier ``g`` at ``temperatures[g]`` under draw ``rule``."""
    saved_draw, saved_run = melnet_sampling._draw, melnet_sampling._TierRun.run
    tier_of = {id(net): g for g, net in enumerate(model.tiers)}
    rules = rule.split(",") if "," in rule else [rule] * len(temperatures)
    bands = model.config.tier_bands()
    draws = [draw_rule(r, bands[g]) for g, r in enumerate(rules)]

    def run(self: melnet_sampling._TierRun, temperature: float, *args: object, **kw: object) -> object:
        g = tier_of[id(self.net)]
        melnet_sampling._draw = draws[g]
        return saved_run(self, temperatures[g], *args, **kw)  # type: ignore[arg-type]

    melnet_sampling._TierRun.run = run  # type: ignore[method-assign]
    try:
        out, _ = melnet_sampling._generate(model, target, known, 1.0, seed, None, None, None, 8)
    finally:
        melnet_sampling._draw, melnet_sampling._TierRun.run = saved_draw, saved_run  # type: ignore[method-assign]
    return np.where(known, out, np.maximum(out, FLOOR)).astype(np.float32)


def tier_mask(frames: int, n_mels: int, n_tiers: int, keep: int, only: int | None = None) -> np.ndarray:
    """``(n_mels, frames)`` bool: True on the cells of tiers 1..keep (or, with ``only``, on every tier but tier
    ``only``, 1-based)."""
    parts = tiering.split(np.zeros((frames, n_mels), bool), n_tiers)
    parts = [np.ones_like(p) if (g < keep if only is None else g != only - 1) else p for g, p in enumerate(parts)]
    return tiering.interleave(parts).T.copy()


# ------------------------------------------------------------------------------------------------ experiments
def exp_real(listen: Listener, sets: dict[str, list[np.ndarray]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for name, mels in sets.items():
        rows = [listen(m) for m in mels]
        out[name] = {"voiced": float(np.mean([r[0] for r in rows])),
                     "voiced_per_clip": [round(r[0], 3) for r in rows],
                     "median_f0": [round(r[1], 1) for r in rows]}
        print(f"real {name}: voiced {out[name]['voiced']:.3f} per clip {out[name]['voiced_per_clip']}", flush=True)
    return out


def exp_tiers(model: MelNet, listen: Listener, mels: list[np.ndarray], temps: list[float]) -> dict[str, object]:
    n = model.config.n_tiers
    out: dict[str, object] = {}
    for tau in temps:
        for keep in range(n - 1, -1, -1):
            vals = []
            for i, mel in enumerate(mels):
                known = tier_mask(mel.shape[1], mel.shape[0], n, keep)
                fake = generate(model, mel, known, [tau] * n, seed=i)
                vals.append(listen(fake)[0])
            key = f"T{tau:g}_keep{keep}"
            out[key] = float(np.mean(vals))
            print(f"tiers τ {tau:g}: true tiers 1..{keep}, model {keep + 1}..{n}: voiced {out[key]:.3f} "
                  f"{np.round(vals, 2).tolist()}", flush=True)
    return out


def exp_single(model: MelNet, listen: Listener, mels: list[np.ndarray], temps: list[float], rule: str,
               tiers: Sequence[int] | None = None) -> dict[str, object]:
    """Real mels with one tier resampled (all the others true): whose draws cost the voice? ``tiers``: which
    (1-based; None: each)."""
    n = model.config.n_tiers
    out: dict[str, object] = {}
    for tau in temps:
        for only in tiers or range(1, n + 1):
            vals = []
            for i, mel in enumerate(mels):
                known = tier_mask(mel.shape[1], mel.shape[0], n, 0, only)
                vals.append(listen(generate(model, mel, known, [tau] * n, seed=i, rule=rule))[0])
            key = f"{rule}_T{tau:g}_only{only}"
            out[key] = float(np.mean(vals))
            print(f"single {rule} τ {tau:g}: only tier {only} resampled: voiced {out[key]:.3f} "
                  f"{np.round(vals, 2).tolist()}", flush=True)
    return out


def exp_forced(model: MelNet, listen: Listener, mels: list[np.ndarray]) -> dict[str, object]:
    """Teacher forcing: tier g's cells replaced by the most likely component's mean that the full forward pass
    predicts from the *true* cells before them (and the true lower tiers), the other tiers true. Voiced here
    but not when sampled: the loss comes from sampling (errors fed back); unvoiced here: the tier cannot
    predict the harmonics even from the truth (capacity)."""
    from vocoder_studio.melnet.model import gmm_parts

    n = model.config.n_tiers
    out: dict[str, object] = {}
    for g in range(n):
        vals = []
        for mel in mels:
            with torch.inference_mode():
                x = model.normalise(torch.from_numpy(mel).unsqueeze(0))
                parts, params = model.tier_params(x, only=g)
                net = model.tiers[g]
                mu, _, log_w = gmm_parts(params[g][0], net.mixtures, net.log_scale_min)  # type: ignore[index]
                parts = [p[0].clone() for p in parts]
                parts[g] = mu.gather(-1, log_w.argmax(-1, keepdim=True)).squeeze(-1)
                guess = model.denormalise(tiering.interleave(parts)).numpy()
            vals.append(listen(np.maximum(guess, FLOOR).astype(np.float32))[0])
        out[f"forced_tier{g + 1}"] = float(np.mean(vals))
        print(f"forced: tier {g + 1} predicted from the truth (greedy), others true: voiced "
              f"{out[f'forced_tier{g + 1}']:.3f} {np.round(vals, 2).tolist()}", flush=True)
    return out


def continuation(model: MelNet, listen: Listener, mel: np.ndarray, temps: Sequence[float], seed: int, rule: str,
                 prime_s: float = 2.0, new_s: float = 2.0, keep: str = "keep0") -> tuple[float, float, float]:
    """Voiced fraction of the new ``new_s`` s, its first second's median F0 and the prime's median F0. ``keep``:
    which tiers of the new region are the clip's own (``keepK``: tiers 1..K; ``onlyG``: every tier but G; the
    clip must then run past the prime by ``new_s``); ``keep0`` is an ordinary continuation."""
    p, q = min(round(prime_s * FPS), mel.shape[1]), round(new_s * FPS)
    target = np.concatenate([mel[:, :p], np.zeros((mel.shape[0], q), np.float32)], axis=1)
    known = np.zeros(target.shape, bool)
    if keep != "keep0":
        assert mel.shape[1] >= p + q, "keeping tiers of the new region needs the clip's own frames there"
        target = mel[:, : p + q].copy()
        n = model.config.n_tiers
        count = int(keep[4:])
        known = (tier_mask(p + q, mel.shape[0], n, count) if keep.startswith("keep")
                 else tier_mask(p + q, mel.shape[0], n, 0, count))
    known[:, :p] = True
    out = generate(model, target, known, temps, seed, rule)
    audio = listen.audio(out)
    hop = DEFAULT_CONFIG.hop_length
    voiced, _ = voicing(audio[p * hop:])
    _, f0_first = voicing(audio[p * hop: (p + round(FPS)) * hop])
    _, f0_prime = voicing(audio[: p * hop])
    return voiced, f0_first, f0_prime


def cents(a: float, b: float) -> float:
    """|1200 log2(a / b)|; NaN when either is NaN (unvoiced)."""
    return abs(1200 * math.log2(a / b)) if a == a and b == b else float("nan")


def median_defined(values: Sequence[float]) -> float | None:
    """The median of the values that are not NaN (None when none is)."""
    kept = [v for v in values if v == v]
    return float(np.median(kept)) if kept else None


def exp_pitch(model: MelNet, listen: Listener, mels: list[np.ndarray], specs: list[str]) -> dict[str, object]:
    """Where does a continuation lose the speaker's pitch? ``specs``: ``MASK:TEMPS[:PRIME_S]`` (MASK ``keepK`` /
    ``onlyG`` as :func:`continuation`, TEMPS per tier ``1.1/0/0/0``, the prime 2 s unless given); each clip
    continued 2 s (seed = clip). Per spec: the new region's voiced fraction, the median |cents| of its first
    second's F0 against the prime's and against the real continuation's first second (the clip's own audio
    after the same prime), over clips where both are voiced; ``real``: the clip's own continuation."""
    n = model.config.n_tiers
    hop = DEFAULT_CONFIG.hop_length
    second = round(FPS)
    out: dict[str, object] = {}
    real_cache: dict[tuple[int, int], tuple[float, float, float]] = {}

    def real(i: int, p: int) -> tuple[float, float, float]:
        if (i, p) not in real_cache:
            audio = listen.audio(mels[i][:, : p + round(2 * FPS)])
            real_cache[(i, p)] = (voicing(audio[p * hop:])[0], voicing(audio[p * hop: (p + second) * hop])[1],
                                  voicing(audio[: p * hop])[1])
        return real_cache[(i, p)]

    for spec in ["real", *specs]:
        t0 = time.perf_counter()
        parts = spec.split(":")
        prime_s = float(parts[2]) if len(parts) > 2 else 2.0
        p = round(prime_s * FPS)
        rows = []
        for i, mel in enumerate(mels):
            truth = real(i, p)
            if spec == "real":
                rows.append((truth[0], cents(truth[1], truth[2]), 0.0 if truth[1] == truth[1] else float("nan")))
                continue
            temps = [float(v) for v in parts[1].split("/")]
            temps = temps * n if len(temps) == 1 else temps
            voiced, f0_first, f0_prime = continuation(model, listen, mel, temps, seed=i, rule="both",
                                                      prime_s=prime_s, keep=parts[0])
            rows.append((voiced, cents(f0_first, f0_prime), cents(f0_first, truth[1])))
        out[spec] = {"voiced": float(np.mean([r[0] for r in rows])),
                     "cents_vs_prime": median_defined([r[1] for r in rows]),
                     "cents_vs_real": median_defined([r[2] for r in rows]),
                     "pairs": sum(r[1] == r[1] for r in rows),
                     "per_clip_voiced": [round(r[0], 2) for r in rows],
                     "per_clip_cents_vs_prime": [None if r[1] != r[1] else round(r[1]) for r in rows]}
        r = out[spec]
        print(f"pitch {spec}: voiced {r['voiced']:.3f}, first s vs prime {r['cents_vs_prime']} cents, vs the real "
              f"continuation {r['cents_vs_real']} cents ({r['pairs']} voiced pairs of {len(rows)}; "
              f"{time.perf_counter() - t0:.0f} s) {r['per_clip_voiced']}", flush=True)
    return out


def unconditional(model: MelNet, listen: Listener, temps: Sequence[float], seed: int, rule: str,
                  seconds: float = 4.0) -> float:
    frames = round(seconds * FPS)
    target = np.zeros((model.config.n_mels, frames), np.float32)
    out = generate(model, target, np.zeros(target.shape, bool), temps, seed, rule)
    return listen(out)[0]


def exp_draw(model: MelNet, listen: Listener, mels: list[np.ndarray], configs: list[tuple[str, list[float]]],
             seeds: int, seed_offset: int = 0) -> dict[str, object]:
    out: dict[str, object] = {}
    for rule, temps in configs:
        t0 = time.perf_counter()
        cont = [continuation(model, listen, m, temps, seed=i, rule=rule) for i, m in enumerate(mels)]
        unc = [unconditional(model, listen, temps, seed=s, rule=rule)
               for s in range(seed_offset, seed_offset + seeds)]
        off = [cents(a, b) for _, a, b in cont]
        key = f"{rule}_{'/'.join(f'{t:g}' for t in temps)}"
        out[key] = {"continuation_voiced": float(np.mean([c[0] for c in cont])),
                    "unconditional_voiced": float(np.mean(unc)),
                    "f0_first_s_cents_off": median_defined(off), "f0_pairs_voiced": sum(v == v for v in off),
                    "f0_pairs": [[round(a, 1), round(b, 1)] for _, a, b in cont],
                    "per_clip": [round(c[0], 2) for c in cont], "per_seed": [round(u, 2) for u in unc]}
        r = out[key]
        print(f"draw {key}: continuation {r['continuation_voiced']:.3f} {r['per_clip']}, unconditional "
              f"{r['unconditional_voiced']:.3f} {r['per_seed']}, F0 first s off by {r['f0_first_s_cents_off']} "
              f"cents ({time.perf_counter() - t0:.0f} s)", flush=True)
    return out


def exp_nll(model: MelNet) -> dict[str, object]:
    """NLL per cell (nats of the raw ln-mel) on the card's held-out sets, as ``scripts/melnet_measure.py``."""
    pack = corpus.Pack.load(corpus.pack_path("test"))
    test = []
    for i in np.linspace(0, len(pack) - 1, num=min(40, len(pack))).astype(int):
        clip = pack.clip(int(i))[: int(6.0 * pack.sample_rate)]
        if clip.size >= 16 * DEFAULT_CONFIG.hop_length:
            test.append(wav_to_mel(clip))
    english = [wav_to_mel(load_audio(p)) for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav"))
               if not p.endswith("Noise.wav")]
    out: dict[str, object] = {}
    for name, mels in (("test", test), ("english", english)):
        if mels:
            result = melnet_sampling.evaluate(model, mels)
            out[name] = {"nll": round(result["nll_per_cell"], 4), "tiers": [round(v, 4) for v in result["tiers"]]}
            print(f"nll {name} ({len(mels)} clips): {out[name]}", flush=True)
    return out


def exp_speed(model: MelNet) -> dict[str, object]:
    """Output frames per second of a 4 s unconditional sample at the default tier temperatures, one thread."""
    frames = round(4.0 * FPS)
    times = []
    for seed in range(3):
        t0 = time.perf_counter()
        melnet_sampling.sample(model, frames, seed=seed,
                               tier_temperatures=melnet_sampling.default_tier_temperatures(model.config.n_tiers))
        times.append(time.perf_counter() - t0)
    out = {"frames": frames, "frames_per_s": [round(frames / t, 1) for t in times],
           "median_frames_per_s": round(frames / float(np.median(times)), 1)}
    print(f"speed: {out}", flush=True)
    return out


def swap_tier(model: MelNet, tier: int, path: str) -> MelNet:
    """Tier ``tier`` (1-based) of ``model`` replaced by the weights of a ``train melnet --tier`` run's checkpoint
    (the other tiers, the fill, the normalisation and tensors the run lacks, such as tier 1's future stack for
    fills, stay the model's; the run's normalisation must be equal). A run of a wider tier (``--widen``) widens
    the model's tier first (``melnet.widen.widen_tier``); returns the model (a new one when widened)."""
    data = torch.load(path, map_location="cpu", weights_only=False)
    weights, prefix = data["model"], f"tiers.{tier - 1}."
    width = int(weights[f"{prefix}head.weight"].shape[1])
    if width != model.config.tier_width(tier - 1):
        model = widen_tier(model, tier - 1, width).eval()
    state = model.state_dict()
    part = {k: v for k, v in weights.items() if k.startswith(prefix)}
    assert part and all(state[k].shape == v.shape for k, v in part.items()), f"tier {tier} does not fit"
    kept = sorted(k for k in state if k.startswith(prefix) and k not in part)  # e.g. tier 1's future stack
    assert all(torch.equal(weights[k], state[k]) for k in ("band_mean", "band_std")), "other normalisation"
    model.load_state_dict({**state, **part})
    print(f"tier {tier} from {path} (step {data['state']['step']}; {len(kept)} tensors the model's own"
          f"{': ' + kept[0].rsplit('.', 2)[0] + ' ...' if kept else ''})", flush=True)
    return model


def parse_configs(specs: list[str], n: int) -> list[tuple[str, list[float]]]:
    """``RULE:T`` or ``RULE:T1/T2/…/Tn``; RULE may be one per tier, ``R1,R2,…,Rn``."""
    out = []
    for spec in specs:
        rule, _, temps = spec.partition(":")
        values = [float(v) for v in temps.split("/")]
        out.append((rule, values * n if len(values) == 1 else values))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("experiments", nargs="+", choices=["real", "tiers", "single", "forced", "draw", "nll",
                                                           "speed", "pitch"])
    parser.add_argument("--model", default=None)
    parser.add_argument("--set", default="valid", choices=["valid", "test", "english"])
    parser.add_argument("--clips", type=int, default=6)
    parser.add_argument("--seeds", type=int, default=3, help="unconditional samples per draw configuration")
    parser.add_argument("--temps", default="0.5,0.8,1.0", help="tiers: temperatures")
    parser.add_argument("--configs", nargs="*", default=["both:1.0", "both:0.8", "std:0.8", "mode:1.0",
                                                         "mean:0"])
    parser.add_argument("--rule", default="both", help="single: the draw rule")
    parser.add_argument("--tiers", default=None, help="single: the tiers to resample, e.g. 1,2 (default: each)")
    parser.add_argument("--tier1-from", default=None, metavar="CHECKPOINT",
                        help="replace tier 1 (tiers.0.*) by a `train melnet --tier 1` run's checkpoint.pt (of any "
                             "width: a wider one widens the model's tier 1 first); the rest (tiers 2-4, the fill, "
                             "the normalisation) stays the model's")
    parser.add_argument("--tier-from", action="append", default=[], metavar="G:CHECKPOINT",
                        help="replace tier G (tiers.{G-1}.*) by a `train melnet --tier G` run's checkpoint.pt "
                             "(repeatable)")
    parser.add_argument("--seed-offset", type=int, default=0, help="draw: the first unconditional seed")
    parser.add_argument("--pitch", nargs="*", default=["keep0:1.1/0/0/0"],
                        help="pitch: MASK:TEMPS[:PRIME_S] (keepK: tiers 1..K of the new region true; onlyG: "
                             "only tier G sampled there)")
    parser.add_argument("--clip-seconds", type=float, default=None,
                        help="the clips' length (default: 4 s, or the longest pitch prime + 2 s)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.model or find_model("melnet.pt"))
    specs = [f"1:{args.tier1_from}"] if args.tier1_from else []
    for spec in [*specs, *args.tier_from]:
        tier, _, path = spec.partition(":")
        model = swap_tier(model, int(tier), path)
    listen = Listener()
    if args.set == "english":
        mels = english_mels()
    else:
        longest = max([2.0] + [float(p.split(":")[2]) for p in args.pitch if p.count(":") == 2])
        seconds = args.clip_seconds or (longest + 2.0 if "pitch" in args.experiments else 4.0)
        mels = pack_mels(args.set, args.clips, seconds)
    report: dict[str, object] = {"set": args.set, "clips": len(mels)}
    if "real" in args.experiments:
        report["real"] = exp_real(listen, {"valid": pack_mels("valid", args.clips, 4.0),
                                           "test": pack_mels("test", args.clips, 4.0), "english": english_mels()})
    if "tiers" in args.experiments:
        report["tiers"] = exp_tiers(model, listen, [m[:, : round(3 * FPS)] for m in mels],
                                    [float(t) for t in args.temps.split(",")])
    if "single" in args.experiments:
        report["single"] = exp_single(model, listen, [m[:, : round(3 * FPS)] for m in mels],
                                      [float(t) for t in args.temps.split(",")], args.rule,
                                      None if args.tiers is None else [int(t) for t in args.tiers.split(",")])
    if "forced" in args.experiments:
        report["forced"] = exp_forced(model, listen, [m[:, : round(3 * FPS)] for m in mels])
    if "draw" in args.experiments:
        report["draw"] = exp_draw(model, listen, mels, parse_configs(args.configs, model.config.n_tiers),
                                  args.seeds, args.seed_offset)
    if "pitch" in args.experiments:
        report["pitch"] = exp_pitch(model, listen, mels, args.pitch)
    if "nll" in args.experiments:
        report["nll"] = exp_nll(model)
    if "speed" in args.experiments:
        report["speed"] = exp_speed(model)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
