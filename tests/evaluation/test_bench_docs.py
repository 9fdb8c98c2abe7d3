"""docs/benchmarks.md and the README's Measured table are generated from docs/benchmarks.json, never typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vocoder_studio.evaluation.bench_docs import README_END, README_START, benchmarks_markdown, update_readme

ROOT = Path(__file__).resolve().parents[2]
BENCH_JSON = ROOT / "docs" / "benchmarks.json"


@pytest.fixture(scope="module")
def bench() -> dict:
    return json.loads(BENCH_JSON.read_text())


def test_docs_benchmarks_is_what_the_json_gives(bench: dict) -> None:
    assert (ROOT / "docs" / "benchmarks.md").read_text() == benchmarks_markdown(bench)


def test_the_readme_table_is_what_the_json_gives(bench: dict) -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.count(README_START) == 1 and readme.count(README_END) == 1
    assert update_readme(readme, bench) == readme
    for name, entry in bench["vocoders"].items():
        assert f"| {name} | {entry['device']} | {entry.get('precision') or '—'} | {entry['rtf']:.3f} |" in readme


def test_the_committed_json_has_every_field(bench: dict) -> None:
    from vocoder_studio.evaluation.bench import VOCODER_KEYS

    assert {"cores", "torch", "device"} <= set(bench["machine"]) and "app_start_s" in bench
    assert {"griffin-lim", "hifigan"} <= set(bench["vocoders"])
    for entry in bench["vocoders"].values():
        assert set(VOCODER_KEYS) <= set(entry)


def test_a_readme_without_the_markers_is_refused(bench: dict) -> None:
    with pytest.raises(ValueError, match="no generated bench table"):
        update_readme("# a README\n", bench)
