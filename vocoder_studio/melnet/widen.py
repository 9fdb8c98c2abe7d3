"""Function-preserving widening of one MelNet tier: a trained tier of hidden size ``H`` becomes one of ``H' > H``
that computes exactly the same mixtures, so training can go on from it with more capacity (Chen, Goodfellow &
Shlens 2016, "Net2Net: Accelerating Learning via Knowledge Transfer", arXiv 1511.05641, section 2.2, in its
zero-outgoing-weight form).

Every width-``H`` axis of a tier's tensors is a stack of blocks of ``H`` units (a GRU's three gates, a
bidirectional GRU's two directions, the time layer's three concatenated outputs, the future stack's ``2H`` units
and its per-band and per-layer outputs); in the widened tensor block ``b``'s first ``H`` entries are the old units
and the other ``H' - H`` new ones. Each weight ``(out, in)`` then keeps its old block, gets **zero** wherever a new
unit feeds an old one (the other units' gates and recurrences, the next layer, the residual stream's old
dimensions, the mixture head), and the fresh initialisation of a model of the wider config wherever it feeds a new
unit (a new unit's row: its incoming weights and bias). Old units therefore never see a new one and the tier's
output is unchanged; the new units are active (small random incoming weights), so the gradient of the zero
outgoing weights is not zero and they start learning at the first step.
"""

from __future__ import annotations

import torch

from vocoder_studio.melnet.model import MelNet, MelNetError


def _old_units(new_size: int, old_size: int, old_hidden: int, new_hidden: int) -> torch.Tensor:
    """A bool mask ``(new_size,)`` of the old units along one axis: all of it when the size did not change, else
    the first ``old_hidden`` entries of each block of ``new_hidden``."""
    if new_size == old_size:
        return torch.ones(new_size, dtype=torch.bool)
    blocks = old_size // old_hidden
    if blocks * old_hidden != old_size or blocks * new_hidden != new_size:
        raise MelNetError(f"widening: an axis of {old_size} does not grow to {new_size} in blocks of "
                          f"{old_hidden} -> {new_hidden}")
    return (torch.arange(new_size) % new_hidden) < old_hidden


def widen_tensor(old: torch.Tensor, fresh: torch.Tensor, old_hidden: int, new_hidden: int) -> torch.Tensor:
    """``old`` (a tier tensor at width ``old_hidden``: 1-D, or 2-D ``(out, in)``) in the shape of ``fresh`` (the
    same tensor of a freshly initialised tier at ``new_hidden``): old entries kept, new units' incoming entries
    ``fresh``'s, new units' outgoing entries into old units zero (see the module docstring).

    Raises:
        MelNetError: shapes that are not ``old``'s widened in blocks, or a tensor of more than two axes.
    """
    if old.shape == fresh.shape:
        return old.clone()
    if old.dim() != fresh.dim() or old.dim() > 2:
        raise MelNetError(f"widening: cannot widen a tensor {tuple(old.shape)} to {tuple(fresh.shape)}")
    out = fresh.detach().clone()
    rows = _old_units(fresh.shape[0], old.shape[0], old_hidden, new_hidden)
    if old.dim() == 1:
        out[rows] = old
        return out
    cols = _old_units(fresh.shape[1], old.shape[1], old_hidden, new_hidden)
    block = out[rows]
    block[:, ~cols] = 0.0  # new units feed no old unit
    block[:, cols] = old
    out[rows] = block
    return out


@torch.no_grad()
def widen_tier(model: MelNet, tier: int, hidden: int, seed: int = 0) -> MelNet:
    """A copy of ``model`` whose tier ``tier`` (0-based) is ``hidden`` wide and computes the same mixtures (every
    NLL and sample equal up to float rounding); every other tensor (other tiers, the fill, the normalisation) is
    ``model``'s. The new units' incoming weights are those of a model of the wider config initialised from torch's
    generator seeded with ``seed`` (the global generator is left as it was).

    Raises:
        MelNetError: a tier out of range, or ``hidden`` below the tier's width.
    """
    config = model.config
    if not 0 <= tier < config.n_tiers:
        raise MelNetError(f"widening: this MelNet has tiers 1 to {config.n_tiers}, not {tier + 1}")
    old_hidden = config.tier_width(tier)
    if hidden < old_hidden:
        raise MelNetError(f"widening: tier {tier + 1} is {old_hidden} wide; it cannot shrink to {hidden}")
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        wide = MelNet(config.with_tier_width(tier, hidden))
    prefix = f"tiers.{tier}."
    fresh = wide.state_dict()
    state = {name: (widen_tensor(value, fresh[name], old_hidden, hidden) if name.startswith(prefix) else value)
             for name, value in model.state_dict().items()}
    wide.load_state_dict(state)
    return wide.train(model.training)
