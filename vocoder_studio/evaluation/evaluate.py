"""``vocoder-studio eval vocoders``: every clip through every vocoder (audio → mel → audio), scored against
the original.

Scores (:mod:`.metrics`, each after aligning the vocoded audio to the original): PESQ wide-band, STOI, log-mel
L1 on the shared front-end, multi-resolution STFT spectral convergence and log-magnitude distance, F0 RMSE in
cents and voiced/unvoiced F1 (pYIN), and the vocoding call's compute: its real-time factor (wall seconds per
second of audio) and its CPU seconds per second of audio (the process's CPU time: on a shared machine the steadier
figure, as it leaves out the time other processes held the cores; with several threads it counts each). Every
vocoding call is seeded, so two runs give the same scores (the timings vary).
"""

from __future__ import annotations

import math
import os
import platform
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vocoder_studio.audio import load_audio, wav_to_mel
from vocoder_studio.errors import AudioFileError, VocoderStudioError
from vocoder_studio.evaluation import metrics

if TYPE_CHECKING:
    from vocoder_studio.vocoders.choice import VocoderChoice

#: The packages the scores and figures need (the ``eval`` extra): import name → pip name.
EVAL_PACKAGES = {"pesq": "pesq", "pystoi": "pystoi", "matplotlib": "matplotlib"}

#: Audio files a clip folder is searched for.
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")

#: The keys of one result in the JSON, in order (outside checks read them).
RESULT_KEYS = ("clip", "vocoder", "pesq_wb", "stoi", "mel_l1", "mrstft_sc", "f0_rmse_cents", "vuv_f1", "rtf",
               "cpu_rtf", "seconds")


class MissingPackageError(VocoderStudioError):
    """An optional package the evaluation needs is not installed."""


def require_packages(names: Iterable[str] = EVAL_PACKAGES) -> None:
    """Check that each package is installed (:func:`~vocoder_studio.evaluation.metrics.missing_packages`).

    Raises:
        MissingPackageError: names the first one missing and how to install the extra.
    """
    missing = metrics.missing_packages(names)
    if missing:
        raise MissingPackageError(
            f"the evaluation needs the package {EVAL_PACKAGES.get(missing[0], missing[0])!r}, which is not "
            f"installed (pip install 'vocoder-studio[eval]')")


def find_clips(paths: Sequence[str | os.PathLike[str]]) -> list[Path]:
    """The audio files named, folders expanded to their audio files (sorted, not recursive).

    Raises:
        AudioFileError: a path does not exist, or a folder holds no audio file.
    """
    clips: list[Path] = []
    for item in map(Path, paths):
        if item.is_dir():
            found = sorted(p for p in item.iterdir() if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())
            if not found:
                raise AudioFileError(item, f"no audio file ({', '.join(AUDIO_SUFFIXES)}) in this folder")
            clips.extend(found)
        elif item.exists():
            clips.append(item)
        else:
            raise AudioFileError(item, "no such file or folder")
    return clips


#: Settings scored beside the defaults (``eval vocoders`` and ``bench`` without ``--vocoders``), each where its
#: vocoder is ready and unless it is the default already: Griffin-Lim 32 from a random phase (the classic
#: reference every other row is judged against; the default starts from PGHI) and the iSTFT vocoder with its own
#: magnitudes and phase and no refinement (the network alone, mel-matched; the default plays the mel's
#: pseudo-inverse from PGHI's phase, with the network's only where PGHI leaves coefficients).
COMPARISON_SETTINGS = (
    "griffin-lim:init=random:iterations=32",
    "istft:magnitude=network:phase_refine=0:init=network",
)


def ready_vocoders() -> list[VocoderChoice]:
    """Every vocoder of the registry that can run here, with its default parameters, then the
    :data:`COMPARISON_SETTINGS` whose vocoder is ready (a setting equal to a default is left out)."""
    from vocoder_studio.vocoders import list_vocoders
    from vocoder_studio.vocoders.choice import VocoderChoice

    ready = [e for e in list_vocoders() if e.unavailable_reason() is None]
    choices = [VocoderChoice(e.name) for e in ready]
    defaults = {e.name: e.defaults() for e in ready}
    for text in COMPARISON_SETTINGS:
        choice = VocoderChoice.parse(text)
        if choice.name in defaults and {**defaults[choice.name], **dict(choice.params)} != defaults[choice.name]:
            choices.append(choice)
    return choices


@dataclass
class Score:
    """One clip through one vocoder. Higher is better for ``pesq_wb``, ``stoi``, ``vuv_f1``; lower for the rest.

    ``rtf``: wall seconds of the vocoding call per second of audio; ``cpu_rtf``: the process's CPU seconds per second
    of audio (each the fastest of the clip's calls); ``seconds``: the clip's length (s).

    ``pesq_wb`` is None when PESQ finds no speech in the clip; ``f0_rmse_cents`` is NaN when no frame is voiced
    in both signals (null in the JSON).
    """

    clip: str
    vocoder: str
    pesq_wb: float | None
    stoi: float
    mel_l1: float
    mrstft_sc: float
    mrstft_logmag: float
    f0_rmse_cents: float
    vuv_f1: float
    rtf: float
    cpu_rtf: float
    seconds: float

    def to_json(self) -> dict[str, Any]:
        """The result object of the JSON: exactly :data:`RESULT_KEYS`, NaN as null."""
        values = asdict(self)
        return {k: _finite_or_none(values[k]) for k in RESULT_KEYS}


def _finite_or_none(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class Evaluation:
    """Scores of every clip × vocoder, the audio they came from (for the figures) and the machine."""

    scores: list[Score]
    vocoders: list[str]
    clips: list[str]
    machine: dict[str, Any]
    originals: dict[str, np.ndarray] = field(default_factory=dict)
    outputs: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """``{"results": [...], "machine": {...}}``."""
        return {"results": [s.to_json() for s in self.scores], "machine": self.machine}

    def means(self) -> dict[str, dict[str, float]]:
        """Per vocoder, the mean of each score over the clips (NaN/None left out; NaN if none is left). The
        compute (``rtf``, ``cpu_rtf``) is the total over the clips per second of all their audio (longer clips
        weigh more), ``seconds`` the total length."""
        out: dict[str, dict[str, float]] = {}
        for vocoder in self.vocoders:
            rows = [asdict(s) for s in self.scores if s.vocoder == vocoder]
            keys = [k for k in rows[0] if k not in ("clip", "vocoder")] if rows else []
            out[vocoder] = {}
            total = sum(r["seconds"] for r in rows)
            for k in keys:
                if k in ("rtf", "cpu_rtf"):
                    out[vocoder][k] = sum(r[k] * r["seconds"] for r in rows) / total
                    continue
                if k == "seconds":
                    out[vocoder][k] = total
                    continue
                values = [r[k] for r in rows if r[k] is not None and math.isfinite(r[k])]
                out[vocoder][k] = float(np.mean(values)) if values else float("nan")
        return out


def machine_info(device: str) -> dict[str, Any]:
    """What the figures were measured on: CPU, its instruction sets and torch's caps on them
    (:func:`vocoder_studio.cpu.cpu_features`: whether bfloat16 runs natively), cores, threads (torch's, and
    ``OMP_NUM_THREADS`` as set for the other libraries), torch, the device (and the GPU's name), the process's nice
    value and the load average when measuring started (:func:`evaluate` adds ``loadavg_end``)."""
    import torch

    from vocoder_studio.cpu import cpu_features

    info: dict[str, Any] = {
        "cores": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "device": device,
        "cpu": _cpu_name(),
        "cpu_features": cpu_features(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "loadavg": [round(x, 2) for x in os.getloadavg()],  # other work on the machine skews every timing
        "nice": os.nice(0),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def score_pair(reference: np.ndarray, test: np.ndarray, sample_rate: int) -> dict[str, float | None]:
    """Every quality score of ``test`` against ``reference`` (both ``(samples,)`` at ``sample_rate``)."""
    pesq = metrics.pesq_wb_or_none(reference, test, sample_rate)  # None: no speech in the clip
    sc, logmag = metrics.mrstft_distances(reference, test)
    rmse, f1 = metrics.f0_scores(reference, test, sample_rate)
    return {"pesq_wb": pesq, "stoi": metrics.stoi(reference, test, sample_rate),
            "mel_l1": metrics.log_mel_l1(reference, test), "mrstft_sc": sc, "mrstft_logmag": logmag,
            "f0_rmse_cents": rmse, "vuv_f1": f1}


def evaluate(clips: Sequence[Path], vocoders: Sequence[VocoderChoice], device: str = "cpu", seed: int = 0,
             progress: bool = True, threads: int | None = None, repeats: int = 2) -> Evaluation:
    """Vocode every clip's mel with every vocoder and score the audio against the clip.

    Args:
        clips: audio files (any rate: read at the front-end's rate, cut to whole frames).
        vocoders: what to run; each is built once on ``device``. Each clip is vocoded ``repeats`` times and the
            fastest call gives the compute (the first call of a new length pays the backend's set-up).
        seed: torch and numpy are seeded with it before every vocoding call (same numbers twice in a row).
        progress: a tqdm bar on stderr.
        threads: torch's intra-op threads (None: one per core). Libraries outside torch (numpy's BLAS) take
            theirs from the environment (``OMP_NUM_THREADS``).
        repeats: vocoding calls per clip and vocoder (>= 1).
    Raises:
        AudioFileError: a clip cannot be read. VocoderUnavailableError, ParameterError: a vocoder cannot be
        built. MissingPackageError: PESQ or STOI is not installed.
    """
    from vocoder_studio.threads import intra_op_threads

    require_packages(["pesq", "pystoi"])
    if repeats < 1 or (threads is not None and threads < 1):
        raise VocoderStudioError(f"repeats and threads must be at least 1 (got {repeats} and {threads})")
    with intra_op_threads(threads or max(1, os.cpu_count() or 1)):  # restored afterwards
        return _evaluate(clips, vocoders, device, seed, progress, repeats)


def _evaluate(clips: Sequence[Path], vocoders: Sequence[VocoderChoice], device: str, seed: int, progress: bool,
              repeats: int) -> Evaluation:
    from tqdm import tqdm

    from vocoder_studio.vocoders import create_vocoder

    names = _unique_names([c.stem for c in clips])
    originals: dict[str, np.ndarray] = {}
    mels: dict[str, np.ndarray] = {}
    for name, path in zip(names, clips, strict=True):
        originals[name] = load_audio(path)
    labels = [v.label for v in vocoders]
    result = Evaluation([], labels, names, machine_info(device))
    bar = tqdm(total=len(clips) * len(vocoders), desc="eval vocoders", unit="clip", file=sys.stderr,
               disable=not progress)
    for choice, label in zip(vocoders, labels, strict=True):
        vocoder = create_vocoder(choice.name, device=device, **dict(choice.params))
        hop = vocoder.hop_length
        for name in names:  # whole frames of the vocoder's hop; the mel is made once per clip
            originals[name] = originals[name][: originals[name].size // hop * hop]
            if name not in mels:
                mels[name] = wav_to_mel(originals[name])
        _seed(seed)
        vocoder.vocode(mels[names[0]][:, :32])  # warm-up: the first call pays set-up costs
        for name in names:
            bar.set_postfix_str(f"{label} · {name}")
            times, cpu_times = [], []
            for _ in range(repeats):  # the first call of a new length pays the backend's set-up: take the best
                _seed(seed)
                start, cpu = time.perf_counter(), time.process_time()
                out = vocoder.vocode(mels[name]).numpy()
                times.append(time.perf_counter() - start)
                cpu_times.append(time.process_time() - cpu)
            seconds = originals[name].size / vocoder.sample_rate
            result.outputs[(name, label)] = out
            scores = score_pair(originals[name], out, vocoder.sample_rate)
            compute = {"rtf": min(times) / seconds, "cpu_rtf": min(cpu_times) / seconds, "seconds": seconds}
            result.scores.append(Score(clip=name, vocoder=label, **compute, **scores))  # type: ignore[arg-type]
            bar.update()
    bar.close()
    result.machine["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    result.originals = originals
    return result


def _seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)
    np.random.seed(seed)


def _unique_names(stems: list[str]) -> list[str]:
    """Clip names for the tables: the file stems, numbered where two files share one."""
    seen: dict[str, int] = {}
    out = []
    for stem in stems:
        seen[stem] = seen.get(stem, 0) + 1
        out.append(stem if seen[stem] == 1 else f"{stem}-{seen[stem]}")
    return out
