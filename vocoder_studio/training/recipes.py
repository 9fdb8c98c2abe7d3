"""The trainable models, as recipes for the shared trainer (``vocoder-studio train NAME``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, wav_to_mel
from vocoder_studio.training.losses import reconstruction_loss
from vocoder_studio.training.trainer import Recipe, TrainSettings
from vocoder_studio.vocoders import istft, wavenet


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
class WaveNetRecipe:
    """WaveNet (``vocoders/wavenet.py``) trained teacher-forced: the cross-entropy of each sample's 8-bit μ-law
    class given the true samples before it and the mel computed from the segment itself.

    Validation vocodes autoregressively (slow on a CPU: a few clips only, rarely). facts.md: the GPU probe
    diverged at lr 1e-3 with clip 10, so the defaults are lr 3e-4 and clip 1.
    """

    model_config: wavenet.WaveNetConfig = field(default_factory=wavenet.WaveNetConfig)
    mel_config: MelConfig = DEFAULT_CONFIG
    name: str = "wavenet"

    def build(self) -> nn.Module:
        return wavenet.WaveNet(self.model_config)

    def loss(self, model: nn.Module, audio: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        hop = self.mel_config.hop_length
        audio = audio[:, : audio.shape[-1] // hop * hop]
        with torch.no_grad():
            mel = wav_to_mel(audio, self.mel_config)
            target = wavenet.mu_law_encode(audio, self.model_config.classes)
        logits = model(mel, target).float()
        loss = nn.functional.cross_entropy(logits, target)
        return loss, {"ce": float(loss.detach())}

    def vocode(self, model: nn.Module, mel: torch.Tensor) -> torch.Tensor:
        assert isinstance(model, wavenet.WaveNet)
        vocoder = wavenet.WaveNetVocoder(model, device=mel.device, config=self.mel_config)
        return vocoder._synthesize(mel)

    def hyperparameters(self) -> dict[str, Any]:
        return self.model_config.to_dict()

    def save(self, model: nn.Module, path: Path) -> None:
        assert isinstance(model, wavenet.WaveNet)
        wavenet.save_model(path, model, self.model_config)

    def describe(self, model: nn.Module) -> str:
        c = self.model_config
        return (f"WaveNet: {c.stacks} × {c.layers_per_stack} dilated causal layers (kernel 2, dilations 1…"
                f"{2 ** (c.layers_per_stack - 1)}), {c.residual_channels} residual / {c.skip_channels} skip "
                f"channels, frame-rate mel conditioning repeated ×{c.hop_length}, {c.classes}-way μ-law softmax; "
                f"receptive field {c.receptive_field} samples; {wavenet.count_parameters(model) / 1e6:.2f} M "
                "parameters")


def _wavenet() -> tuple[WaveNetRecipe, TrainSettings]:
    return WaveNetRecipe(), TrainSettings(batch_size=4, segment_samples=4096, learning_rate=3e-4, grad_clip=1.0,
                                          validate_every=5000, valid_clips=2, checkpoint_every_s=120.0)


#: Trainable models by name (``vocoder-studio train NAME``): each gives its recipe and default settings.
RECIPES: dict[str, Callable[[], tuple[Recipe, TrainSettings]]] = {"istft": _istft, "wavenet": _wavenet}
