"""The compute a first, uncached press of Play needs before the sound starts, as if one core were free.

On a shared machine wall-clock latencies swing several-fold with the other load; this measures the same play
job (``engine.playback.play_job``, the app's speed prediction and release rule) with the renderer's clock set
to this thread's CPU time and one torch thread, in a fresh process per run (so oneDNN's set-up for every new
chunk shape is paid, as on a freshly started app). What it prints is what a free core would take before
playback starts; the audio device's own latency (~10-30 ms through PulseAudio) comes on top.

    PYTHONPATH=$PWD python scripts/first_press_cpu.py [--precision bfloat16 float32] [--start 0 300] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
import types


def one(precision: str, start: int, first_chunk: int | None) -> tuple[int, float]:
    """(blocks vocoded before release, CPU ms before release) of one press, in this process."""
    import torch

    torch.set_num_threads(1)
    import vocoder_studio.engine.render as render
    from vocoder_studio.audio import wav_to_mel
    from vocoder_studio.engine import CancelToken, run_job
    from vocoder_studio.engine.playback import FIRST_CHUNK_FRAMES, play_job
    from vocoder_studio.evaluation.bench import speech_for_bench
    from vocoder_studio.vocoders import create_vocoder

    render.free_cores = lambda: 1  # type: ignore[assignment]  # the free core
    render.time = types.SimpleNamespace(perf_counter=time.thread_time)  # type: ignore[assignment]
    audio, _ = speech_for_bench(None)
    mel = wav_to_mel(audio[: audio.size // 256 * 256])
    vocoder = create_vocoder("hifigan", precision=precision)

    class Player:  # records when play_job lets the sound start
        sample_rate = vocoder.sample_rate
        held, is_playing, blocks, released = True, True, 0, (0, 0.0)

        def start(self, *args: object, **kwargs: object) -> None:
            pass

        def write(self, samples: object) -> None:
            self.blocks += 1

        def release(self) -> None:
            if self.held:
                self.released = (self.blocks, (time.thread_time() - began) * 1000)
            self.held = False

        def finish(self) -> None:
            pass

    player = Player()
    began = time.thread_time()
    job = play_job(render.Renderer(vocoder), player, mel, 0, start, start + 430,  # type: ignore[arg-type]
                   first_chunk_frames=first_chunk or FIRST_CHUNK_FRAMES)
    run_job(job, cancel=CancelToken())
    return player.released


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--precision", nargs="+", default=["bfloat16", "float32"])
    parser.add_argument("--start", nargs="+", type=int, default=[0, 300], help="play from these frames")
    parser.add_argument("--first-chunk", nargs="+", type=int, default=[0], help="0: play_job's default")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        blocks, ms = one(args.child[0], int(args.child[1]), int(args.child[2]) or None)
        print(blocks, ms)
        return
    for precision in args.precision:
        for start in args.start:
            for first in args.first_chunk:
                runs = []
                for _ in range(args.runs):
                    out = subprocess.run([sys.executable, __file__, "--child", precision, str(start), str(first)],
                                         capture_output=True, text=True, check=True).stdout.split()
                    runs.append((int(out[-2]), float(out[-1])))
                ms = [m for _, m in runs]
                print(f"{precision:9s} from frame {start:4d}, first chunk {first or 'default'}: "
                      f"{statistics.median(ms):.0f} ms of CPU before the sound starts (runs: "
                      + ", ".join(f"{m:.0f} ms after {b} chunk(s)" for b, m in runs) + ")", flush=True)


if __name__ == "__main__":
    main()
