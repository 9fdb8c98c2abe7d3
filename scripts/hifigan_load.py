"""How long ``HiFiGAN(precision=P)`` takes to build, on a first start (no cache entry: prepare and write it)
and on a later one (the prepared generator read back from the cache): the load figures of
docs/hifigan_speed.md.

Each measurement is a fresh child process that imports torch and the studio first and then times only the
construction (what ``vocoder-studio bench`` reports as ``load_s``), in wall-clock and CPU time, with its own
``VOCODER_STUDIO_HOME``: for a first start one without HiFi-GAN's cache folder (the other caches, such as the mel
filterbank's, kept), for a later start one filled by an earlier child.
The variants run in turns, round after round, and the median of each is printed (other load on a shared
machine moves them alike). With ``PYTHONPATH`` on another checkout it times that one's code (the studio before
the cache: ``PYTHONPATH=/path/to/main``).

    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 FBGEMM_ENABLE_INSTRUCTIONS=AVX2 \\
        PYTHONPATH=$PWD nice -n 10 python scripts/hifigan_load.py [--runs 5] [--precisions float32 int8]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = """
import time, warnings
warnings.simplefilter("ignore")
import torch
torch.set_num_threads(1)
from vocoder_studio.vocoders.hifigan import HiFiGAN
began, cpu = time.perf_counter(), time.process_time()
HiFiGAN(precision={precision!r})
print(time.perf_counter() - began, time.process_time() - cpu)
"""


def build_seconds(precision: str, home: Path) -> tuple[float, float]:
    """Seconds to build ``HiFiGAN(precision=precision)`` in a new process whose studio home is ``home``: wall
    clock and the process's CPU time (which other load on a shared machine moves far less)."""
    env = {**os.environ, "VOCODER_STUDIO_HOME": str(home)}
    out = subprocess.run([sys.executable, "-c", CHILD.format(precision=precision)], env=env, check=True,
                         capture_output=True, text=True).stdout
    wall, cpu = out.split()[-2:]
    return float(wall), float(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--precisions", nargs="*", default=["float32", "int8"])
    args = parser.parse_args()
    times: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory() as scratch:
        warm = Path(scratch) / "warm"
        for precision in args.precisions:
            build_seconds(precision, warm)  # fill the cache for the later starts
        for _ in range(args.runs):
            for precision in args.precisions:
                cold = Path(scratch) / "cold"  # the studio's other caches (the mel filterbank) kept, no HiFi-GAN
                shutil.copytree(warm, cold, ignore=lambda folder, names: ["hifigan"] if "hifigan" in names else [])
                times.setdefault(f"{precision}, first start", []).append(build_seconds(precision, cold))
                shutil.rmtree(cold)
                times.setdefault(f"{precision}, later start", []).append(build_seconds(precision, warm))
    print(f"load average {os.getloadavg()[0]:.1f}; median of {args.runs} (range)")
    for name, values in times.items():
        wall, cpu = ([v[i] for v in values] for i in (0, 1))
        print(f"{name}: wall {statistics.median(wall):.2f} s ({min(wall):.2f}-{max(wall):.2f}), "
              f"CPU {statistics.median(cpu):.2f} s ({min(cpu):.2f}-{max(cpu):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
