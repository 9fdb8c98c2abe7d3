"""Regenerate docs/benchmarks.md and the README's bench table from the bench's JSON.

Usage (on a quiet machine; a sound output, e.g. scripts/pulse-null-sink.sh, for the first-audio and first-press
figures, which are "—" without one):
       vocoder-studio bench --json --avx2-imitation hifigan,wavenet --note "..." > /tmp/bench.json \
           && mv /tmp/bench.json docs/benchmarks.json     (a bench that fails leaves the committed JSON as it was)
       python scripts/bench_docs.py [docs/benchmarks.json]
Only the figures change between two runs on the same machine (tests/evaluation/test_bench_docs.py).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from vocoder_studio.evaluation.bench_docs import benchmarks_markdown, update_readme

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    source = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "benchmarks.json"
    data = json.loads(source.read_text())
    (ROOT / "docs" / "benchmarks.md").write_text(benchmarks_markdown(data))
    readme = ROOT / "README.md"
    readme.write_text(update_readme(readme.read_text(), data))
    print(f"docs/benchmarks.md and README.md regenerated from {source}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
