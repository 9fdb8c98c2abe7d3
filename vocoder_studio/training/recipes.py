"""The trainable models, as recipes for the shared trainer (``vocoder-studio train NAME``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, wav_to_mel
from vocoder_studio.melnet import checkpoint as melnet_checkpoint
from vocoder_studio.melnet.model import MelNet, MelNetConfig, count_parameters
from vocoder_studio.training.losses import reconstruction_loss
from vocoder_studio.training.melnet_trainer import MelNetTrainer
from vocoder_studio.training.trainer import Recipe, TrainSettings
from vocoder_studio.vocoders import istft


@dataclass
class ISTFTRecipe:
    """The iSTFT vocoder (Vocos-style, ``vocoders/istft.py``) trained on mel-L1 + multi-resolution STFT losses,
    without a discriminator (on a 2-core CPU the adversarial terms cost more steps than they pay back; facts.md).

    Attributes:
        model_config: the generator's hyper-parameters.
        mel_config: the shared front-end (input mels are computed from the batch's audio with it).
    """

    model_config: istft.ISTFTConfig = field(default_factory=istft.ISTFTConfig)
    mel_config: MelConfig = DEFAULT_CONFIG
    name: str = "istft"

    def build(self) -> nn.Module:
        return istft.ISTFTGenerator(self.model_config)

    def loss(self, model: nn.Module, audio: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        with torch.no_grad():
            mel = wav_to_mel(audio, self.mel_config)
        predicted = model(mel).float()
        total, parts = reconstruction_loss(predicted, audio, config=self.mel_config)
        parts.pop("total", None)
        return total, parts

    def vocode(self, model: nn.Module, mel: torch.Tensor) -> torch.Tensor:
        return model(mel)

    def hyperparameters(self) -> dict[str, Any]:
        return self.model_config.to_dict()

    def save(self, model: nn.Module, path: Path) -> None:
        assert isinstance(model, istft.ISTFTGenerator)
        istft.save_model(path, model, self.model_config)

    def describe(self, model: nn.Module) -> str:
        c = self.model_config
        return (f"Vocos-style iSTFT vocoder: {c.num_layers} ConvNeXt blocks × {c.dim} channels (intermediate "
                f"{c.intermediate_dim}), log-magnitude + phase head, same-padding inverse STFT (n_fft {c.n_fft}, "
                f"hop {c.hop_length}); {istft.count_parameters(model) / 1e6:.2f} M parameters")


def _istft() -> tuple[ISTFTRecipe, TrainSettings]:
    return ISTFTRecipe(), TrainSettings(batch_size=16, segment_samples=8192, learning_rate=5e-4,
                                        validate_every=1000, checkpoint_every_s=120.0)


@dataclass
class MelNetRecipe:
    """MelNet (``vocoder_studio/melnet/``) trained on the exact NLL of the batch's ln-mels, all tiers at once (the
    tiers share no weights and their losses add, so this equals training each tier on its own, in one process).

    Attributes:
        model_config: the network's hyper-parameters.
        tier: train only this tier (1-based); None trains all of them.
    """

    model_config: MelNetConfig = field(default_factory=MelNetConfig)
    mel_config: MelConfig = DEFAULT_CONFIG
    tier: int | None = None
    name: str = "melnet"
    #: the trainer class ``train`` uses (fits the normalisation, validates by NLL)
    trainer_class: ClassVar[type] = MelNetTrainer

    def build(self) -> nn.Module:
        return MelNet(self.model_config)

    def loss(self, model: nn.Module, audio: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        assert isinstance(model, MelNet)
        with torch.no_grad():
            mel = wav_to_mel(audio, self.mel_config)
        total, per_tier = model.nll(mel.float(), None if self.tier is None else self.tier - 1)
        return total, {f"nll_tier{g + 1}": v for g, v in enumerate(per_tier) if v == v}

    def vocode(self, model: nn.Module, mel: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("MelNet makes mels; its trainer validates by NLL, not by vocoding")

    def hyperparameters(self) -> dict[str, Any]:
        return {**self.model_config.to_dict(), "tier": self.tier}

    def save(self, model: nn.Module, path: Path) -> None:
        assert isinstance(model, MelNet)
        melnet_checkpoint.save_model(path, model, self.mel_config)

    def describe(self, model: nn.Module) -> str:
        c = self.model_config
        return (f"MelNet (Vasquez & Lewis 2019): {c.n_tiers} tiers (bands {c.tier_bands()}, first split along "
                f"frequency), layers {list(c.layers)}, hidden {c.hidden} GRUs, {c.mixtures} Gaussians per cell; "
                f"{count_parameters(model) / 1e6:.2f} M parameters. Sized for a 2-core CPU: hidden 64 ran "
                "about 2x slower a step than hidden 32 here")


def _melnet() -> tuple[MelNetRecipe, TrainSettings]:
    frames = 64
    return MelNetRecipe(), TrainSettings(batch_size=8, segment_samples=frames * DEFAULT_CONFIG.hop_length,
                                         learning_rate=1e-3, betas=(0.9, 0.999), weight_decay=0.0, grad_clip=1.0,
                                         validate_every=200, checkpoint_every_s=120.0)


#: Trainable models by name (``vocoder-studio train NAME``): each gives its recipe and default settings.
RECIPES: dict[str, Callable[[], tuple[Recipe, TrainSettings]]] = {"istft": _istft,
                                                                      "melnet": _melnet}
