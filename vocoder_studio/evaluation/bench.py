"""``vocoder-studio bench``: speed, latency and memory figures, printed (never asserted by tests).

Figures: real-time factor (compute seconds / audio seconds) of each vocoder on 10+ s of speech; time from
pressing play to the first audio callback with sound; time from a 0.5 s edit to its re-vocoded audio;
app start to a drawn window, and the app's peak memory with the example open and vocoded.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

from vocoder_studio.audio import DEFAULT_CONFIG, load_audio, wav_to_mel
from vocoder_studio.document import Document, Region
from vocoder_studio.editing import apply_gain
from vocoder_studio.engine import Renderer
from vocoder_studio.vocoders import create_vocoder

ALSA_SPEECH = Path("/usr/share/sounds/alsa")

#: the child process that times the app's start (a script, so that nothing here imports the ui)
APP_START_PROBE = Path(__file__).resolve().parents[2] / "scripts" / "app_start_probe.py"


def speech_for_bench(path: str | None) -> tuple[np.ndarray, str]:
    """10+ s of speech: the given file, else alsa-utils' clips (11.4 s), else the example repeated."""
    if path:
        return load_audio(path), path
    clips = [p for p in sorted(ALSA_SPEECH.glob("*.wav")) if p.name != "Noise.wav"]
    if clips:
        return np.concatenate([load_audio(p) for p in clips]), f"alsa-utils clips ({len(clips)} files)"
    from vocoder_studio.paths import example_path

    audio = load_audio(example_path())
    return np.concatenate([audio, audio]), "bundled example, twice"


def _best_of(fn, runs: int = 2) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def bench_vocoders(names: list[str], mel: np.ndarray) -> dict[str, float]:
    seconds = mel.shape[1] * DEFAULT_CONFIG.frame_seconds
    results = {}
    for name in names:
        vocoder = create_vocoder(name)
        vocoder.vocode(mel[:, :64])  # warm-up
        rtf = _best_of(lambda: vocoder.vocode(mel)) / seconds  # noqa: B023
        results[name] = rtf
        print(f"  {vocoder.describe():55s} RTF {rtf:.3f}  ({1 / rtf:.1f}× real time)")
    return results


def _play_latency(renderer: Renderer, mel: np.ndarray) -> tuple[float, int]:
    """Milliseconds from pressing play to the first audio callback with sound, and the underruns."""
    from vocoder_studio.engine import CancelToken, run_job
    from vocoder_studio.engine.playback import play_job
    from vocoder_studio.engine.player import Player

    player = Player()
    pressed = time.perf_counter()
    try:
        run_job(play_job(renderer, player, mel, 0), cancel=CancelToken())
        player.wait(10)
    finally:
        player.stop()
    first = player.first_sound_time
    return (float("nan") if first is None else (first - pressed) * 1000), player.underruns


def bench_latency(mel: np.ndarray) -> None:
    hifigan = create_vocoder("hifigan")
    hifigan.vocode(mel[:, :32])
    for frames in (16, 32, 64):
        t = _best_of(lambda: hifigan.vocode_range(mel, 200, 200 + frames), 3)  # noqa: B023
        ms = frames * DEFAULT_CONFIG.frame_seconds * 1000
        print(f"  first chunk of {frames:3d} frames ({ms:.0f} ms of audio): {t * 1000:.0f} ms compute")
    from vocoder_studio.engine.player import playback_status

    reason = playback_status()
    if reason is None:
        renderer = Renderer(hifigan)
        for label, r in [("HiFi-GAN, uncached", renderer), ("HiFi-GAN, cached (second press)", renderer),
                         ("Griffin-Lim 32, uncached", Renderer(create_vocoder("griffin-lim")))]:
            ms, underruns = _play_latency(r, mel[:, :200])
            print(f"  play pressed → first audio callback with sound, {label}: {ms:.0f} ms; underruns {underruns}")
    else:
        print(f"  play → first sound: not measured ({reason})")
    doc = Document(mel)
    renderer = Renderer(hifigan)
    renderer.render(doc.mel, doc.version)
    edit_frames = int(round(0.5 / DEFAULT_CONFIG.frame_seconds))
    apply_gain(doc, Region(300, 300 + edit_frames, 10, 40), -12.0)
    start = time.perf_counter()
    first = None
    for _ in renderer.stream(doc.mel, doc.version, 300 - hifigan.receptive_field_frames):
        if first is None:
            first = time.perf_counter() - start
    whole = time.perf_counter() - start
    first = whole if first is None else first
    print(f"  0.5 s edit → first re-vocoded audio {first * 1000:.0f} ms; whole edit re-vocoded "
          f"({renderer.vocoded_frames - mel.shape[1]} frames) {whole * 1000:.0f} ms")


def bench_app() -> None:
    from vocoder_studio.paths import example_path

    if not APP_START_PROBE.is_file():
        print(f"  app: not measured ({APP_START_PROBE.name} is in a source checkout's scripts/, not installed)")
        return
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    t0 = time.time()
    done = subprocess.run([sys.executable, str(APP_START_PROBE), str(t0), str(example_path())], env=env,
                          capture_output=True, text=True, timeout=300)
    if done.returncode != 0 or not done.stdout.strip():
        print(f"  app: not measured ({done.stderr.strip().splitlines()[-1:] or done.returncode})")
        return
    drawn, vocoded, peak = done.stdout.split()[-3:]
    print(f"  app start → drawn window: {float(drawn) * 1000:.0f} ms (platform {env['QT_QPA_PLATFORM']})")
    print(f"  app start → example vocoded in the background (render ahead): {float(vocoded):.1f} s")
    print(f"  app peak memory, example open and vocoded: {peak} MB")


def run_bench(args: argparse.Namespace) -> int:
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    audio, source = speech_for_bench(args.input)
    mel = wav_to_mel(audio)
    print(f"Vocoder Studio bench: {mel.shape[1] * DEFAULT_CONFIG.frame_seconds:.1f} s of speech ({source}), "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, device cpu")
    print("Real-time factor (lower is faster):")
    bench_vocoders([n for n in args.vocoders.split(",") if n], mel)
    print("Latency:")
    bench_latency(mel)
    print("App:")
    bench_app()
    return 0
