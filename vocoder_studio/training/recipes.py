"""The trainable models, as recipes for the shared trainer (``vocoder-studio train NAME``)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn
from torch.nn import functional as F

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, front_end_stft, wav_to_mel
from vocoder_studio.melnet import checkpoint as melnet_checkpoint
from vocoder_studio.melnet.model import MelNet, MelNetConfig, count_parameters
from vocoder_studio.training import discriminators, losses
from vocoder_studio.training.losses import mel_l1_loss, reconstruction_loss
from vocoder_studio.training.melnet_trainer import MelNetTrainer
from vocoder_studio.training.trainer import DiscriminatorSettings, Recipe, TrainSettings
from vocoder_studio.vocoders import istft, melgan, wavenet
from vocoder_studio.vocoders.trained import save_checkpoint


@dataclass
class ISTFTRecipe:
    """The iSTFT vocoder (Vocos-style, ``vocoders/istft.py``) trained on mel-L1 + multi-resolution STFT losses,
    without a discriminator (on a 2-core CPU the adversarial terms cost more steps than they pay back).

    Attributes:
        model_config: the generator's hyper-parameters.
        mel_config: the shared front-end (input mels are computed from the batch's audio with it).
        phase_weight: weight of APNet's anti-wrapping phase losses (:func:`losses.phase_losses`: instantaneous
            phase, group delay and instantaneous angular frequency, their mean) between the head's phase and the
            real audio's STFT phase, added to the reconstruction loss (0: off, the recipe as before). The
            reconstruction losses see magnitudes only; on unseen English the phase is what separates the vocoder
            from HiFi-GAN (the mel's pseudo-inverse magnitude with HiFi-GAN's phase scored as HiFi-GAN itself:
            ``scripts/istft_gap.py``). Part of the run's identity when on.
        magnitude_weight: weight of the L1 distance between the head's log-magnitude and the real audio's STFT
            log-magnitude, frame by frame in the front-end's framing (both floored at the front-end's
            ``log_floor``), added to the loss (0: off). The reconstruction losses train the magnitudes only through
            the network's own phase, so the head learns magnitudes that offset its phase's inconsistency; PGHI
            (``init=pghi``) wants the STFT magnitude itself: on the validation clips the real audio's magnitude
            from PGHI scored PESQ-wb 3.99 where the mel's pseudo-inverse scored 3.39 and the head's 2.97
            (``scripts/istft_gap.py``). Part of the run's identity when on.
    """

    model_config: istft.ISTFTConfig = field(default_factory=istft.ISTFTConfig)
    mel_config: MelConfig = DEFAULT_CONFIG
    name: str = "istft"
    phase_weight: float = 0.0
    magnitude_weight: float = 0.0

    def build(self) -> nn.Module:
        return istft.ISTFTGenerator(self.model_config)

    def loss(self, model: nn.Module, audio: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        with torch.no_grad():
            mel = wav_to_mel(audio, self.mel_config)
        if not (self.phase_weight or self.magnitude_weight):
            predicted = model(mel).float()
            total, parts = reconstruction_loss(predicted, audio, config=self.mel_config)
            parts.pop("total", None)
            return total, parts
        assert isinstance(model, istft.ISTFTGenerator)
        log_magnitude, phase = model.spectrum(mel)
        total, parts = reconstruction_loss(model.waveform(log_magnitude, phase), audio, config=self.mel_config)
        parts.pop("total", None)
        with torch.no_grad():
            target = front_end_stft(audio.float(), self.mel_config).transpose(1, 2)  # (B, frames, bins)
        if self.phase_weight:
            ip, gd, iaf = losses.phase_losses(phase.float(), target)
            total = total + self.phase_weight * (ip + gd + iaf) / 3
            parts.update(phase_ip=float(ip.detach()), phase_gd=float(gd.detach()), phase_iaf=float(iaf.detach()))
        if self.magnitude_weight:
            floor = math.log(self.mel_config.log_floor)
            predicted_log = log_magnitude.float().clamp(floor, math.log(istft.MAX_MAGNITUDE))
            distance = F.l1_loss(predicted_log, torch.log(target.abs().clamp_min(self.mel_config.log_floor)))
            total = total + self.magnitude_weight * distance
            parts["log_magnitude_l1"] = float(distance.detach())
        return total, parts

    def vocode(self, model: nn.Module, mel: torch.Tensor) -> torch.Tensor:
        return model(mel)

    def hyperparameters(self) -> dict[str, Any]:
        extra = {k: v for k, v in (("phase_weight", self.phase_weight), ("magnitude_weight", self.magnitude_weight))
                 if v}  # absent if off: older runs resume
        return {**self.model_config.to_dict(), **extra}

    def initial_weights(self, path: Path) -> dict[str, torch.Tensor]:
        """The weights of the iSTFT checkpoint ``path`` (``train istft --init``: warm start).

        Raises:
            VocoderUnavailableError: unreadable, or not an iSTFT checkpoint (names the file).
        """
        return istft.load_model(path)[0].state_dict()

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


#: MelGAN's discriminator turns on at this step by default: beyond what a CPU run reaches (1.6 s a step on one
#: thread), because adversarial terms cost quality for thousands of steps before they pay back.
MELGAN_DISCRIMINATOR_START = 100_000


@dataclass
class MelGANRecipe:
    """MelGAN (``vocoders/melgan.py``): a generator warm-up on mel-L1 + multi-resolution STFT (as Parallel
    WaveGAN; lr 1e-3), then, from ``discriminator_settings.start_step`` on, the 3-scale discriminator with
    hinge loss, feature matching × ``feature_weight`` (MelGAN's 10) and mel-L1 × ``mel_weight`` (HiFi-GAN's
    45). Measured on one H200: adversarial training from step 0 was still noise after 1,600 steps,
    the warm-up alone intelligible after 2,000, and switching the discriminator on then cost quality for
    thousands of steps before paying back; so it turns on only at step 100,000 by default.

    Attributes:
        model_config: the generator; ``discriminator_config``: the discriminator.
        discriminator_settings: its optimiser and start step (the generator's learning rate drops to
            ``generator_learning_rate`` when it turns on).
        feature_weight, mel_weight: weights of feature matching and mel L1 against the hinge loss.
        stft_weight: weight of the warm-up's multi-resolution STFT terms (spectral convergence + log-magnitude
            L1) kept in the generator's adversarial objective (Parallel WaveGAN, Yamamoto et al. 2020, keeps its
            STFT loss beside the adversarial one); 0 (the default): mel L1 alone, as HiFi-GAN. With
            ``stft_weight == mel_weight`` the generator goes on minimising its warm-up loss (scaled), so the
            adversarial terms fine-tune it instead of replacing what it learnt.
        resolution_config: UnivNet's multi-resolution spectrogram discriminator
            (:class:`~vocoder_studio.training.discriminators.MultiResolutionDiscriminator`, Jang et al. 2021)
            beside the waveform one (or instead of it, with ``waveform_discriminator`` False); None: none.
        waveform_discriminator: whether MelGAN's multi-scale waveform discriminator is used (True: the default).
        objective: ``"hinge"`` (MelGAN's, the default) or ``"lsgan"`` (least squares, Parallel WaveGAN's and
            HiFi-GAN's).
        random_polarity: each segment the discriminator sees is negated with probability ½ (a real segment and
            its generated counterpart by the same sign; drawn from torch's generator, so a resumed run draws
            the same). Polarity is inaudible and every reconstruction loss here is blind to it, but a waveform
            discriminator judges by it: the warm-up's output negated scored as *more* real than real speech
            (``docs/melgan_adversarial.md``), a cue the generator can only follow by reshaping its whole
            waveform. False (the default): off.
        mel_config: the shared front-end.
    Raises:
        ValueError: an unknown ``objective``, or no discriminator at all.
    """

    model_config: melgan.MelGANConfig = field(default_factory=melgan.MelGANConfig)
    discriminator_config: discriminators.DiscriminatorConfig = field(default_factory=discriminators.DiscriminatorConfig)
    discriminator_settings: DiscriminatorSettings = field(
        default_factory=lambda: DiscriminatorSettings(start_step=MELGAN_DISCRIMINATOR_START))
    feature_weight: float = 10.0
    mel_weight: float = 45.0
    stft_weight: float = 0.0
    resolution_config: discriminators.ResolutionDiscriminatorConfig | None = None
    waveform_discriminator: bool = True
    objective: str = "hinge"
    random_polarity: bool = False
    mel_config: MelConfig = DEFAULT_CONFIG
    name: str = "melgan"

    def __post_init__(self) -> None:
        if self.objective not in ("hinge", "lsgan"):
            raise ValueError(f"MelGANRecipe: objective {self.objective!r} must be 'hinge' or 'lsgan'")
        if not self.waveform_discriminator and self.resolution_config is None:
            raise ValueError("MelGANRecipe: no discriminator (waveform_discriminator False and no resolution_config)")

    def build(self) -> nn.Module:
        return melgan.MelGANGenerator(self.model_config)

    def build_discriminator(self) -> nn.Module:
        parts: list[nn.Module] = []
        if self.waveform_discriminator:
            parts.append(discriminators.MultiScaleDiscriminator(self.discriminator_config))
        if self.resolution_config is not None:
            parts.append(discriminators.MultiResolutionDiscriminator(self.resolution_config))
        return parts[0] if len(parts) == 1 else discriminators.CombinedDiscriminator(*parts)

    def _signed(self, real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``real`` and ``fake`` with each pair negated with probability ½ (``random_polarity``; else as given)."""
        if not self.random_polarity:
            return real, fake
        sign = torch.randint(0, 2, (real.shape[0], 1), device=real.device).to(real.dtype) * 2 - 1
        return real * sign, fake * sign

    def generate(self, model: nn.Module, audio: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            mel = wav_to_mel(audio, self.mel_config)
        return model(mel).float()

    def loss(self, model: nn.Module, audio: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """The warm-up loss: mel L1 + spectral convergence + log-magnitude L1 (unweighted sum)."""
        total, parts = reconstruction_loss(self.generate(model, audio), audio, config=self.mel_config)
        parts.pop("total", None)
        return total, parts

    def discriminator_loss(self, discriminator: nn.Module, real: torch.Tensor,
                           fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        real, fake = self._signed(real, fake)
        judge = losses.discriminator_lsgan_loss if self.objective == "lsgan" else losses.discriminator_hinge_loss
        real_term, fake_term = judge(discriminator(real), discriminator(fake))
        return real_term + fake_term, {"d_real": float(real_term.detach()), "d_fake": float(fake_term.detach())}

    def generator_loss(self, discriminator: nn.Module, real: torch.Tensor, fake: torch.Tensor,
                       adversarial_weight: float = 1.0) -> tuple[torch.Tensor, dict[str, float]]:
        """``w · (adversarial + feature_weight · FM) + mel_weight · mel L1 + stft_weight · (SC + log-mag L1)``,
        with ``w = adversarial_weight`` (the trainer's ramp, :class:`DiscriminatorSettings`); adversarial: the
        ``objective``'s generator loss."""
        signed_real, signed_fake = self._signed(real, fake)
        fake_out = discriminator(signed_fake)
        with torch.no_grad():
            real_out = discriminator(signed_real)
        judge = losses.generator_lsgan_loss if self.objective == "lsgan" else losses.generator_hinge_loss
        adversarial = judge(fake_out)
        matching = losses.feature_matching_loss(real_out, fake_out)
        mel = mel_l1_loss(fake, real, self.mel_config)
        total = adversarial_weight * (adversarial + self.feature_weight * matching) + self.mel_weight * mel
        terms = {"adv": float(adversarial.detach()), "fm": float(matching.detach()), "mel_l1": float(mel.detach())}
        if self.stft_weight:
            convergence, log_l1 = losses.multi_resolution_stft_loss(fake, real)
            total = total + self.stft_weight * (convergence + log_l1)
            terms |= {"stft_sc": float(convergence.detach()), "stft_mag": float(log_l1.detach())}
        return total, terms

    def vocode(self, model: nn.Module, mel: torch.Tensor) -> torch.Tensor:
        return model(mel)

    def hyperparameters(self) -> dict[str, Any]:
        # each term absent at its default: runs from before it still resume
        extra: dict[str, Any] = {"stft_weight": self.stft_weight} if self.stft_weight else {}
        if self.resolution_config is not None:
            extra["resolution_discriminator"] = self.resolution_config.to_dict()
        if not self.waveform_discriminator:
            extra["waveform_discriminator"] = False
        if self.objective != "hinge":
            extra["objective"] = self.objective
        if self.random_polarity:
            extra["random_polarity"] = True
        return {"generator": self.model_config.to_dict(), "discriminator": self.discriminator_config.to_dict(),
                "feature_weight": self.feature_weight, "mel_weight": self.mel_weight, **extra}

    def save(self, model: nn.Module, path: Path) -> None:
        assert isinstance(model, melgan.MelGANGenerator)
        # float16 weights: 8.5 MB instead of 17 (under the 16 MiB a lent GPU's files may have to come back)
        save_checkpoint(path, model, self.model_config, {}, half=True)

    def describe(self, model: nn.Module) -> str:
        c, d = self.model_config, self.discriminator_config
        ratios = "·".join(map(str, c.upsample_ratios))
        dilations = "/".join(map(str, c.dilations))
        return (f"MelGAN generator (Kumar et al. 2019): ngf {c.ngf}, upsampling {ratios}, residual stacks with "
                f"dilations {dilations}, weight norm; {melgan.count_parameters(model) / 1e6:.2f} M parameters. "
                f"Trained with a generator warm-up on mel-L1 + multi-resolution STFT until step "
                f"{self.discriminator_settings.start_step}, then with the {d.num_scales}-scale discriminator "
                f"(hinge, feature matching ×{self.feature_weight:g}, mel-L1 ×{self.mel_weight:g}"
                + (f", multi-resolution STFT ×{self.stft_weight:g}" if self.stft_weight else "") + "); "
                "compare 'steps' to see whether it was reached")


def _melgan() -> tuple[MelGANRecipe, TrainSettings]:
    return MelGANRecipe(), TrainSettings(batch_size=16, segment_samples=8192, learning_rate=1e-3,
                                         validate_every=1000, checkpoint_every_s=120.0)


@dataclass
class MelNetRecipe:
    """MelNet (``vocoder_studio/melnet/``) trained on the exact NLL of the batch's ln-mels, all tiers at once (the
    tiers share no weights and their losses add, so this equals training each tier on its own, in one process).

    Attributes:
        model_config: the network's hyper-parameters.
        tier: train only this tier (1-based); None trains all of them.
        future_only: train only tier 1's future stack (a ``bidirectional`` model warm-started from a trained
            left-to-right one: the rest keeps its weights, so every density without a right context stays the
            trained model's exactly).
        input_noise: noise injection against exposure bias (``MelNet.nll``; LPCNet section 3.3, Bengio et al.
            2015): the standard deviation, in normalised units (per-band z-scores), of the Gaussian noise added
            to every value a tier reads in training (its past, its lower bands, the lower tiers' view), the
            targets clean. 0 (the default) is plain teacher forcing. Validation NLL is always clean.
        own_draws: scheduled sampling with the model's own draws (``MelNet.nll``; Bengio et al. 2015, in the
            parallel form of Duckworth et al. 2019): the chance, in [0, 1], that a value a trained tier reads is
            the tier's own draw given the true past instead of the truth. 0 (the default): off.
    """

    model_config: MelNetConfig = field(default_factory=MelNetConfig)
    mel_config: MelConfig = DEFAULT_CONFIG
    tier: int | None = None
    future_only: bool = False
    input_noise: float = 0.0
    own_draws: float = 0.0
    name: str = "melnet"
    #: the trainer class ``train`` uses (fits the normalisation, validates by NLL)
    trainer_class: ClassVar[type] = MelNetTrainer

    def build(self) -> nn.Module:
        return MelNet(self.model_config)

    def loss(self, model: nn.Module, audio: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        assert isinstance(model, MelNet)
        with torch.no_grad():
            mel = wav_to_mel(audio, self.mel_config)
        total, per_tier = model.nll(mel.float(), None if self.tier is None else self.tier - 1,
                                    input_noise=self.input_noise if model.training else 0.0,
                                    own_draws=self.own_draws if model.training else 0.0)
        return total, {f"nll_tier{g + 1}": v for g, v in enumerate(per_tier) if v == v}

    def vocode(self, model: nn.Module, mel: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("MelNet makes mels; its trainer validates by NLL, not by vocoding")

    def hyperparameters(self) -> dict[str, Any]:
        extra: dict[str, Any] = {"future_only": True} if self.future_only else {}  # absent if off: older runs resume
        if self.input_noise:
            extra["input_noise"] = self.input_noise
        if self.own_draws:
            extra["own_draws"] = self.own_draws
        return {**self.model_config.to_dict(), "tier": self.tier, **extra}

    def save(self, model: nn.Module, path: Path) -> None:
        assert isinstance(model, MelNet)
        melnet_checkpoint.save_model(path, model, self.mel_config)

    def describe(self, model: nn.Module) -> str:
        c = self.model_config
        noise = (f"; trained with noise injection of std {self.input_noise:g} (normalised units) on the "
                 "teacher-forced inputs (LPCNet)") if self.input_noise else ""
        if self.own_draws:
            noise += (f"; trained with scheduled sampling: each input cell its own draw with chance "
                      f"{self.own_draws:g} (Bengio et al. 2015, parallel as Duckworth et al. 2019)")
        width = f"{list(c.tier_hidden)} (per tier)" if c.tier_hidden else str(c.hidden)
        return (f"MelNet (Vasquez & Lewis 2019): {c.n_tiers} tiers (bands {c.tier_bands()}, first split along "
                f"frequency), layers {list(c.layers)}, hidden {width} GRUs, {c.mixtures} Gaussians per cell; "
                f"{count_parameters(model) / 1e6:.2f} M parameters{noise}. Sized for a 2-core CPU: hidden 64 ran "
                "about 2x slower a step than hidden 32 here")


def _melnet() -> tuple[MelNetRecipe, TrainSettings]:
    frames = 64
    return MelNetRecipe(), TrainSettings(batch_size=8, segment_samples=frames * DEFAULT_CONFIG.hop_length,
                                         learning_rate=1e-3, betas=(0.9, 0.999), weight_decay=0.0, grad_clip=1.0,
                                         validate_every=200, checkpoint_every_s=120.0)


@dataclass
class WaveNetRecipe:
    """WaveNet (``vocoders/wavenet.py``) trained teacher-forced: the cross-entropy of each sample's 8-bit μ-law
    class given the true samples before it and the mel computed from the segment itself.

    Validation vocodes autoregressively (slow on a CPU: a few clips only, rarely). A GPU probe
    diverged at lr 1e-3 with clip 10, so the defaults are lr 3e-4 and clip 1.

    ``input_noise``: noise injection (Valin & Skoglund 2019, LPCNet, section 3.3): the past samples the network
    sees are the true μ-law classes moved by a random integer in ``±input_noise`` (the targets stay clean), so
    that it learns to lean on the mel and to recover from its own errors when it generates from its own
    samples (teacher forcing alone never shows it an imperfect past). 0 turns it off.
    """

    model_config: wavenet.WaveNetConfig = field(default_factory=wavenet.WaveNetConfig)
    mel_config: MelConfig = DEFAULT_CONFIG
    name: str = "wavenet"
    input_noise: int = 2

    def build(self) -> nn.Module:
        return wavenet.WaveNet(self.model_config)

    def loss(self, model: nn.Module, audio: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        hop = self.mel_config.hop_length
        audio = audio[:, : audio.shape[-1] // hop * hop]
        with torch.no_grad():
            mel = wav_to_mel(audio, self.mel_config)
            target = wavenet.mu_law_encode(audio, self.model_config.classes)
            inputs = None
            if self.input_noise and model.training:
                noise = torch.randint(-self.input_noise, self.input_noise + 1, target.shape, device=target.device)
                inputs = (target + noise).clamp_(0, self.model_config.classes - 1)
        logits = model(mel, target, inputs=inputs).float()
        loss = nn.functional.cross_entropy(logits, target)
        return loss, {"ce": float(loss.detach())}

    def vocode(self, model: nn.Module, mel: torch.Tensor) -> torch.Tensor:
        assert isinstance(model, wavenet.WaveNet)
        vocoder = wavenet.WaveNetVocoder(model, device=mel.device, config=self.mel_config)
        return vocoder._synthesize(mel)

    def hyperparameters(self) -> dict[str, Any]:
        return {**self.model_config.to_dict(), "input_noise": self.input_noise}

    def save(self, model: nn.Module, path: Path) -> None:
        assert isinstance(model, wavenet.WaveNet)
        wavenet.save_model(path, model, self.model_config)

    def describe(self, model: nn.Module) -> str:
        c = self.model_config
        return (f"WaveNet: {c.stacks} × {c.layers_per_stack} dilated causal layers (kernel 2, dilations 1…"
                f"{2 ** (c.layers_per_stack - 1)}), {c.residual_channels} residual / {c.skip_channels} skip "
                f"channels, frame-rate mel conditioning repeated ×{c.hop_length}, {c.classes}-way μ-law softmax; "
                f"receptive field {c.receptive_field} samples; {wavenet.count_parameters(model) / 1e6:.2f} M "
                f"parameters; trained teacher-forced with noise injection of ±{self.input_noise} μ-law classes "
                "on the input (LPCNet)")


def _wavenet() -> tuple[WaveNetRecipe, TrainSettings]:
    return WaveNetRecipe(), TrainSettings(batch_size=4, segment_samples=4096, learning_rate=3e-4, grad_clip=1.0,
                                          validate_every=5000, valid_clips=2, checkpoint_every_s=120.0)


#: Trainable models by name (``vocoder-studio train NAME``): each gives its recipe and default settings.
RECIPES: dict[str, Callable[[], tuple[Recipe, TrainSettings]]] = {
    "istft": _istft,
    "melgan": _melgan,
    "melnet": _melnet,
    "wavenet": _wavenet,
}
