"""Reconstruction losses for training vocoders on waveforms.

- Mel L1 on the shared front-end (:func:`vocoder_studio.audio.mel.wav_to_mel`, HiFi-GAN V1's mel, which is
  differentiable and batched on torch tensors): the L1 of log-mels that HiFi-GAN (Kong et al. 2020) and Vocos
  (Siuzdak 2023) train with. Unlike HiFi-GAN's ``fmax_for_loss = None`` it keeps the front-end's 8 kHz top, so
  the loss measures exactly what the document shows.
- Multi-resolution STFT loss (Parallel WaveGAN, Yamamoto, Song & Kim 2020, arXiv 1910.11480; reference code
  kan-bayashi/ParallelWaveGAN ``stft_loss.py``): spectral convergence ‖|Y| − |Ŷ|‖_F / ‖|Y|‖_F plus the L1 of
  log-magnitudes, averaged over three STFT resolutions.

- The adversarial terms of MelGAN (Kumar et al. 2019, reference code descriptinc/melgan-neurips): hinge losses
  of the discriminator and the generator, and feature matching, on the outputs of
  :class:`~vocoder_studio.training.discriminators.MultiScaleDiscriminator` (or of any discriminator with its
  output layout); and the least-squares losses of Parallel WaveGAN and HiFi-GAN (LSGAN, Mao et al. 2017).

The reconstruction losses take waveforms ``(samples,)`` or ``(batch, samples)`` float at the front-end's sample rate,
the prediction first and the target second, and returns a scalar tensor that gradients flow through.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, wav_to_mel

#: (n_fft, hop_length, win_length) of the multi-resolution STFT loss, in samples.
STFT_RESOLUTIONS: tuple[tuple[int, int, int], ...] = ((512, 128, 512), (1024, 256, 1024), (2048, 512, 2048))

#: Squared magnitudes are clamped to at least this before the square root and log (Parallel WaveGAN's 1e-7).
MAGNITUDE_FLOOR = 1e-7


def _pair(y_hat: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if y_hat.shape != y.shape or y.ndim not in (1, 2):
        raise ValueError(f"losses take two waveforms of one shape, (samples,) or (batch, samples); got "
                         f"{tuple(y_hat.shape)} and {tuple(y.shape)}")
    if y.ndim == 1:
        return y_hat.unsqueeze(0), y.unsqueeze(0)
    return y_hat, y


def mel_l1_loss(y_hat: torch.Tensor, y: torch.Tensor, config: MelConfig = DEFAULT_CONFIG) -> torch.Tensor:
    """Mean absolute difference of the ln-mels: ``mean |wav_to_mel(y_hat) − wav_to_mel(y)|``.

    Args:
        y_hat, y: waveforms ``(samples,)`` or ``(batch, samples)``, at least one hop long.
        config: the mel front-end.
    Returns:
        scalar tensor, in nepers (natural-log magnitude units) per mel cell.
    Raises:
        ValueError: the shapes differ or are not 1-D/2-D.
        MelShapeError: shorter than one hop.
    """
    y_hat, y = _pair(y_hat, y)
    return F.l1_loss(wav_to_mel(y_hat, config), wav_to_mel(y, config))


def stft_magnitude(audio: torch.Tensor, n_fft: int, hop_length: int, win_length: int) -> torch.Tensor:
    """Magnitude of the centred STFT with a Hann window, as Parallel WaveGAN takes it.

    Args:
        audio: ``(batch, samples)``.
    Returns:
        ``(batch, frames, n_fft // 2 + 1)``, at least ``sqrt(MAGNITUDE_FLOOR)``; ``frames = samples // hop + 1``.
    """
    window = torch.hann_window(win_length, device=audio.device, dtype=audio.dtype)
    pad_mode = "reflect" if audio.shape[-1] > n_fft // 2 else "constant"
    spec = torch.stft(audio, n_fft, hop_length, win_length, window, center=True, pad_mode=pad_mode,
                      return_complex=True)
    power = spec.real.square() + spec.imag.square()
    return torch.sqrt(power.clamp_min(MAGNITUDE_FLOOR)).transpose(1, 2)


def stft_loss(
    y_hat: torch.Tensor, y: torch.Tensor, n_fft: int, hop_length: int, win_length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spectral convergence and log-magnitude L1 at one STFT resolution (Parallel WaveGAN, eq. 2–4).

    Args:
        y_hat, y: waveforms ``(samples,)`` or ``(batch, samples)``.
        n_fft, hop_length, win_length: the STFT in samples.
    Returns:
        ``(spectral_convergence, log_magnitude_l1)``, two scalar tensors: ‖|Y| − |Ŷ|‖_F / ‖|Y|‖_F over the whole
        batch, and mean |ln|Y| − ln|Ŷ||.
    Raises:
        ValueError: the shapes differ or are not 1-D/2-D.
    """
    y_hat, y = _pair(y_hat, y)
    mag_hat = stft_magnitude(y_hat, n_fft, hop_length, win_length)
    mag = stft_magnitude(y, n_fft, hop_length, win_length)
    convergence = torch.linalg.norm(mag - mag_hat) / torch.linalg.norm(mag)
    log_l1 = F.l1_loss(torch.log(mag_hat), torch.log(mag))
    return convergence, log_l1


def multi_resolution_stft_loss(
    y_hat: torch.Tensor,
    y: torch.Tensor,
    resolutions: tuple[tuple[int, int, int], ...] = STFT_RESOLUTIONS,
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`stft_loss` averaged over ``resolutions`` (Parallel WaveGAN's multi-resolution STFT loss).

    Args:
        y_hat, y: waveforms ``(samples,)`` or ``(batch, samples)``.
        resolutions: ``(n_fft, hop_length, win_length)`` triples; default :data:`STFT_RESOLUTIONS`
            (512/128/512, 1024/256/1024, 2048/512/2048).
    Returns:
        ``(spectral_convergence, log_magnitude_l1)``, each the mean over the resolutions (scalar tensors).
    """
    if not resolutions:
        raise ValueError("multi_resolution_stft_loss needs at least one resolution")
    parts = [stft_loss(y_hat, y, *resolution) for resolution in resolutions]
    convergence = torch.stack([p[0] for p in parts]).mean()
    log_l1 = torch.stack([p[1] for p in parts]).mean()
    return convergence, log_l1


def reconstruction_loss(
    y_hat: torch.Tensor,
    y: torch.Tensor,
    mel_weight: float = 1.0,
    stft_weight: float = 1.0,
    config: MelConfig = DEFAULT_CONFIG,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The generator's reconstruction loss: ``mel_weight · mel L1 + stft_weight · (SC + log-mag L1)``.

    Args:
        y_hat, y: waveforms ``(samples,)`` or ``(batch, samples)``.
        mel_weight, stft_weight: the weights of the two terms (an unweighted sum by default; with a
            discriminator, HiFi-GAN and Vocos weight mel L1 by 45 against the adversarial loss).
    Returns:
        ``(total, parts)``: the scalar to back-propagate, and ``{"mel_l1", "stft_sc", "stft_mag", "total"}`` as
        floats for the training log.
    """
    mel = mel_l1_loss(y_hat, y, config)
    convergence, log_l1 = multi_resolution_stft_loss(y_hat, y)
    total = mel_weight * mel + stft_weight * (convergence + log_l1)
    parts = {"mel_l1": float(mel.detach()), "stft_sc": float(convergence.detach()),
             "stft_mag": float(log_l1.detach()), "total": float(total.detach())}
    return total, parts


def discriminator_hinge_loss(real: list[list[torch.Tensor]],
                             fake: list[list[torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """The discriminator's hinge loss, summed over scales: ``mean relu(1 - D(x))`` and ``mean relu(1 + D(G(s)))``.

    Args:
        real, fake: :class:`MultiScaleDiscriminator` outputs for real and generated audio (``fake`` detached from
            the generator).
    Returns:
        ``(real_term, fake_term)``, two scalar float32 tensors; the loss is their sum.
    """
    real_term = torch.stack([F.relu(1 - scale[-1].float()).mean() for scale in real]).sum()
    fake_term = torch.stack([F.relu(1 + scale[-1].float()).mean() for scale in fake]).sum()
    return real_term, fake_term


def generator_hinge_loss(fake: list[list[torch.Tensor]]) -> torch.Tensor:
    """The generator's adversarial loss, summed over scales: ``-mean D(G(s))`` (scalar float32)."""
    return -torch.stack([scale[-1].float().mean() for scale in fake]).sum()


def discriminator_lsgan_loss(real: list[list[torch.Tensor]],
                             fake: list[list[torch.Tensor]]) -> tuple[torch.Tensor, torch.Tensor]:
    """The discriminator's least-squares loss (LSGAN, Mao et al. 2017, as Parallel WaveGAN and HiFi-GAN use it),
    summed over scales: ``mean (1 - D(x))²`` and ``mean D(G(s))²``; ``(real_term, fake_term)``, scalar float32."""
    real_term = torch.stack([((1 - scale[-1].float()) ** 2).mean() for scale in real]).sum()
    fake_term = torch.stack([(scale[-1].float() ** 2).mean() for scale in fake]).sum()
    return real_term, fake_term


def generator_lsgan_loss(fake: list[list[torch.Tensor]]) -> torch.Tensor:
    """The generator's least-squares adversarial loss, summed over scales: ``mean (1 - D(G(s)))²`` (scalar)."""
    return torch.stack([((1 - scale[-1].float()) ** 2).mean() for scale in fake]).sum()


def feature_matching_loss(real: list[list[torch.Tensor]], fake: list[list[torch.Tensor]]) -> torch.Tensor:
    """L1 between the discriminator's feature maps on real and generated audio (every layer but the score),
    weighted ``4 / (layers - 2)`` per layer and ``1 / scales`` per scale (the reference's ``feat_weights`` and
    ``D_weights``). The real features are detached. Scalar float32; zero when ``fake`` equals ``real``."""
    if not real:
        raise ValueError("feature_matching_loss needs at least one scale")
    weight = 4.0 / (len(real[0]) - 2) / len(real)
    terms = [F.l1_loss(f.float(), r.detach().float())
             for real_scale, fake_scale in zip(real, fake, strict=True)
             for r, f in zip(real_scale[:-1], fake_scale[:-1], strict=True)]
    return weight * torch.stack(terms).sum()


def anti_wrapping(x: torch.Tensor) -> torch.Tensor:
    """``|x − 2π round(x / 2π)|``: the distance of a phase difference from the nearest multiple of 2π, in [0, π]
    (APNet's anti-wrapping function, Ai & Ling 2023, eq. 9)."""
    return torch.abs(x - 2 * torch.pi * torch.round(x / (2 * torch.pi)))


def phase_losses(phase_hat: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Anti-wrapping phase losses of a predicted STFT phase against a target STFT (APNet, Ai & Ling 2023, IEEE/ACM
    TASLP 31, "APNet: an all-frame-level neural vocoder incorporating direct prediction of amplitude and phase
    spectra", section III-C): instantaneous phase (IP), group delay (GD: the difference along frequency) and
    instantaneous angular frequency (IAF: the difference along time), each through :func:`anti_wrapping`.

    Unlike APNet's plain means, each term is weighted by the target's magnitude (normalised to a mean of 1 over the
    batch; a difference takes the smaller weight of its two coefficients): the phase of a coefficient near the
    noise floor is arbitrary and its loss would only add noise to the gradient.

    Args:
        phase_hat: predicted phase ``(B, frames, bins)`` in radians (any unwrapping).
        target: the target's complex STFT ``(B, frames, bins)`` in the same framing.
    Returns:
        ``(ip, gd, iaf)``: three scalar tensors in radians (0 when the phase equals the target's up to 2π).
    Raises:
        ValueError: the shapes differ.
    """
    if phase_hat.shape != target.shape:
        raise ValueError(f"phase_losses: predicted phase {tuple(phase_hat.shape)} and target STFT "
                         f"{tuple(target.shape)} differ in shape")
    magnitude = target.abs().float()
    weight = magnitude / magnitude.mean().clamp_min(1e-12)
    error = phase_hat.float() - target.angle().float()
    ip = (weight * anti_wrapping(error)).mean()
    gd = (torch.minimum(weight[..., 1:], weight[..., :-1]) * anti_wrapping(torch.diff(error, dim=-1))).mean()
    iaf = (torch.minimum(weight[:, 1:], weight[:, :-1]) * anti_wrapping(torch.diff(error, dim=1))).mean()
    return ip, gd, iaf
