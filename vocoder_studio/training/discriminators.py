"""MelGAN's multi-scale discriminator (Kumar et al., NeurIPS 2019, arXiv 1910.06711; reference code
descriptinc/melgan-neurips ``mel2wav/modules.py``), used only by training (the generator ships in
:mod:`vocoder_studio.vocoders.melgan`).

Three copies of the same network on the audio, on its 2× and on its 4× average-pooled version
(AvgPool1d(4, stride 2, padding 1)); each is a conv 15 (ndf 16) followed by four grouped convs of stride 4
(kernel 41, groups channels / 4, up to 1024 channels), a conv 5 and a conv 3 to one score channel; all weight
normed, LeakyReLU(0.2). The losses on its outputs are in :mod:`vocoder_studio.training.losses`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from vocoder_studio.vocoders.melgan import LRELU_SLOPE, _positive_int


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Hyper-parameters of :class:`MultiScaleDiscriminator` (the paper's defaults: 3 scales, ndf 16, 4 strided
    layers, downsampling 4, at most 1024 channels: 16.9 M parameters).

    Attributes:
        num_scales: discriminators, each on the audio average-pooled once more than the previous one.
        ndf: channels of the first conv.
        n_layers: grouped strided convs per discriminator.
        downsampling_factor: their stride (kernel ``10 · stride + 1``, groups ``in_channels / 4``).
        max_channels: the channel count stops growing here.
    Raises:
        ValueError: a value that is not a positive integer, or channels that the groups do not divide.
    """

    num_scales: int = 3
    ndf: int = 16
    n_layers: int = 4
    downsampling_factor: int = 4
    max_channels: int = 1024

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            _positive_int("DiscriminatorConfig", f.name, getattr(self, f.name))
        if self.ndf % 4 or self.max_channels % 4 or self.max_channels < self.ndf:
            raise ValueError(f"DiscriminatorConfig: ndf {self.ndf} and max_channels {self.max_channels} must be "
                             "multiples of 4 (grouped convs of in_channels / 4 groups), with ndf ≤ max_channels")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


class ScaleDiscriminator(nn.Module):
    """One MelGAN discriminator (the reference's ``NLayerDiscriminator``): audio ``(B, 1, N)`` → the output of
    each of its ``n_layers + 3`` layers; the last is the score map ``(B, 1, ≈ N / stride^n_layers)``."""

    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        c = config
        layers: list[nn.Module] = [nn.Sequential(
            nn.ReflectionPad1d(7), weight_norm(nn.Conv1d(1, c.ndf, 15)), nn.LeakyReLU(LRELU_SLOPE))]
        channels, stride = c.ndf, c.downsampling_factor
        for _ in range(c.n_layers):
            previous, channels = channels, min(channels * stride, c.max_channels)
            layers.append(nn.Sequential(
                weight_norm(nn.Conv1d(previous, channels, 10 * stride + 1, stride=stride, padding=5 * stride,
                                      groups=previous // 4)),
                nn.LeakyReLU(LRELU_SLOPE)))
        wide = min(channels * 2, c.max_channels)
        layers.append(nn.Sequential(weight_norm(nn.Conv1d(channels, wide, 5, padding=2)),
                                    nn.LeakyReLU(LRELU_SLOPE)))
        layers.append(weight_norm(nn.Conv1d(wide, 1, 3, padding=1)))
        self.layers = nn.ModuleList(layers)

    def forward(self, audio: torch.Tensor) -> list[torch.Tensor]:
        features = []
        x = audio
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return features


class MultiScaleDiscriminator(nn.Module):
    """MelGAN's discriminator: :class:`ScaleDiscriminator` on the audio and on ``num_scales - 1`` successively
    average-pooled (×2) versions of it.

    ``forward(audio (B, N) or (B, 1, N))`` → one list of feature maps per scale (the score map last).
    """

    def __init__(self, config: DiscriminatorConfig = DiscriminatorConfig()) -> None:
        super().__init__()
        self.config = config
        self.discriminators = nn.ModuleList(ScaleDiscriminator(config) for _ in range(config.num_scales))
        self.downsample = nn.AvgPool1d(4, stride=2, padding=1, count_include_pad=False)

    def forward(self, audio: torch.Tensor) -> list[list[torch.Tensor]]:
        x = audio.unsqueeze(1) if audio.ndim == 2 else audio
        outputs = []
        for index, discriminator in enumerate(self.discriminators):
            if index:
                x = self.downsample(x)
            outputs.append(discriminator(x))
        return outputs


@dataclass(frozen=True)
class ResolutionDiscriminatorConfig:
    """Hyper-parameters of :class:`MultiResolutionDiscriminator`, UnivNet's multi-resolution spectrogram
    discriminator (Jang et al., Interspeech 2021, arXiv 2106.07889; the paper's resolutions at 24 kHz, channels
    32) made small for a CPU: ``channels`` 2-D channels per layer.

    Attributes:
        resolutions: ``(n_fft, hop_length, win_length)`` of each discriminator's magnitude STFT, in samples.
        channels: channels of every conv.
    Raises:
        ValueError: a resolution that is not three positive integers with ``win_length ≤ n_fft``, or channels
            that are not a positive integer.
    """

    resolutions: tuple[tuple[int, int, int], ...] = ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240))
    channels: int = 16

    def __post_init__(self) -> None:
        _positive_int("ResolutionDiscriminatorConfig", "channels", self.channels)
        object.__setattr__(self, "resolutions", tuple(tuple(r) for r in self.resolutions))
        for r in self.resolutions:
            if len(r) != 3 or any(not isinstance(v, int) or v <= 0 for v in r) or r[2] > r[0]:
                raise ValueError(f"ResolutionDiscriminatorConfig: resolution {r} must be (n_fft, hop_length, "
                                 "win_length), positive integers with win_length ≤ n_fft")
        if not self.resolutions:
            raise ValueError("ResolutionDiscriminatorConfig: at least one resolution")

    def to_dict(self) -> dict[str, Any]:
        return {"resolutions": [list(r) for r in self.resolutions], "channels": self.channels}


class ResolutionDiscriminator(nn.Module):
    """One UnivNet spectrogram discriminator: the linear magnitude STFT ``(B, 1, frames, n_fft / 2 + 1)`` →
    a conv (3, 9), three convs (3, 9) of stride 2 along frequency, a conv (3, 3) (all LeakyReLU(0.2), weight
    normed) and a conv (3, 3) to one score channel; returns the output of each layer (the score map last).
    It sees magnitudes only, so it is blind to the waveform's polarity and to a constant phase shift."""

    def __init__(self, resolution: tuple[int, int, int], channels: int) -> None:
        super().__init__()
        self.n_fft, self.hop_length, self.win_length = resolution
        self.register_buffer("window", torch.hann_window(self.win_length), persistent=False)
        c = channels
        layers: list[nn.Module] = [nn.Sequential(weight_norm(nn.Conv2d(1, c, (3, 9), padding=(1, 4))),
                                                 nn.LeakyReLU(LRELU_SLOPE))]
        for _ in range(3):
            layers.append(nn.Sequential(weight_norm(nn.Conv2d(c, c, (3, 9), stride=(1, 2), padding=(1, 4))),
                                        nn.LeakyReLU(LRELU_SLOPE)))
        layers.append(nn.Sequential(weight_norm(nn.Conv2d(c, c, (3, 3), padding=(1, 1))), nn.LeakyReLU(LRELU_SLOPE)))
        layers.append(weight_norm(nn.Conv2d(c, 1, (3, 3), padding=(1, 1))))
        self.layers = nn.ModuleList(layers)

    def forward(self, audio: torch.Tensor) -> list[torch.Tensor]:
        window = self.window
        assert isinstance(window, torch.Tensor)
        spectrum = torch.stft(audio.float(), self.n_fft, self.hop_length, self.win_length, window,
                              center=True, pad_mode="reflect", return_complex=True)
        x = spectrum.abs().transpose(1, 2).unsqueeze(1)  # (B, 1, frames, bins)
        features = []
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return features


class MultiResolutionDiscriminator(nn.Module):
    """UnivNet's multi-resolution spectrogram discriminator: one :class:`ResolutionDiscriminator` per STFT
    resolution. ``forward(audio (B, N) or (B, 1, N))`` → one list of feature maps per resolution (the score
    map last), the layout of :class:`MultiScaleDiscriminator`, so the same losses apply."""

    def __init__(self, config: ResolutionDiscriminatorConfig = ResolutionDiscriminatorConfig()) -> None:
        super().__init__()
        self.config = config
        self.discriminators = nn.ModuleList(ResolutionDiscriminator(r, config.channels) for r in config.resolutions)

    def forward(self, audio: torch.Tensor) -> list[list[torch.Tensor]]:
        x = audio.squeeze(1) if audio.ndim == 3 else audio
        return [discriminator(x) for discriminator in self.discriminators]


class CombinedDiscriminator(nn.Module):
    """Several discriminators side by side (UnivNet pairs its spectrogram discriminator with a waveform one):
    ``forward`` concatenates their per-scale lists of feature maps."""

    def __init__(self, *parts: nn.Module) -> None:
        super().__init__()
        self.parts = nn.ModuleList(parts)

    def forward(self, audio: torch.Tensor) -> list[list[torch.Tensor]]:
        return [scale for part in self.parts for scale in part(audio)]
