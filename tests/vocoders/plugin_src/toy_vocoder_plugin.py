"""A tiny third-party vocoder plug-in, installed by the tests through a ``*.dist-info`` folder on sys.path.

It is the whole plug-in: one module with ``VOCODERS``, found through the entry-point group
``vocoder_studio.vocoders``, and no file of Vocoder Studio changes for it to appear in the panel and the CLI.
``toy-sine`` plays a sine whose loudness follows the mel's energy; ``toy-trained`` loads a checkpoint from a
models directory, so tests can break that checkpoint.
"""

from __future__ import annotations

from typing import Any

import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.vocoders.base import Vocoder
from vocoder_studio.vocoders.checkpoints import check_checkpoint, find_checked, find_model
from vocoder_studio.vocoders.entry import VocoderEntry
from vocoder_studio.vocoders.params import Parameter

CHECKPOINT = "toy-trained.pt"


class ToySine(Vocoder):
    name = "toy-sine"
    receptive_field_frames = 0

    def __init__(self, gain: float = 0.5, waveform: str = "sine", device: Any = "cpu",
                 config: MelConfig = DEFAULT_CONFIG, frequency: float = 220.0) -> None:
        super().__init__(device, config)
        self.gain, self.waveform, self.frequency = gain, waveform, frequency

    def _synthesize(self, mel: torch.Tensor) -> torch.Tensor:
        batch, _, frames = mel.shape
        t = torch.arange(frames * self.hop_length, device=mel.device) / self.sample_rate
        wave = torch.sin(2 * torch.pi * self.frequency * t)
        if self.waveform == "square":
            wave = torch.sign(wave)
        level = mel.exp().mean(dim=1).repeat_interleave(self.hop_length, dim=-1)
        return self.gain * wave * level / level.max().clamp_min(1e-9)


def _trained(device: Any = "cpu", config: MelConfig = DEFAULT_CONFIG) -> ToySine:
    path, _ = find_checked(CHECKPOINT, config)
    state = torch.load(path, map_location="cpu", weights_only=True)
    return ToySine(gain=float(state["gain"]), device=device, config=config, frequency=float(state["frequency"]))


def _trained_check() -> str | None:
    find_checked(CHECKPOINT, DEFAULT_CONFIG)  # raises with the reason
    return None


VOCODERS = (
    VocoderEntry(
        name="toy-sine", label="Toy sine (plug-in)", factory=ToySine,
        parameters=(
            Parameter("gain", "float", 0.5, "output level", min=0.0, max=1.0),
            Parameter("waveform", "choice", "sine", "the oscillator", choices=("sine", "square")),
        ),
        description="a test plug-in",
    ),
    VocoderEntry(
        name="toy-trained", label="Toy trained (plug-in)", factory=_trained, weights=f"models/{CHECKPOINT}",
        check=_trained_check, card=lambda: check_checkpoint(find_model(CHECKPOINT), DEFAULT_CONFIG),
    ),
)
