"""docs/benchmarks.md and the README's Measured table are generated from docs/benchmarks.json, never typed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vocoder_studio.evaluation.bench_docs import (
    README_END,
    README_START,
    benchmarks_markdown,
    precision_cell,
    readme_table,
    update_readme,
)

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
        assert f"| {name} | {entry['device']} | {precision_cell(entry)} | {entry['rtf']:.3f} |" in readme


def test_the_committed_json_has_every_field(bench: dict) -> None:
    from vocoder_studio.evaluation.bench import VOCODER_KEYS

    assert {"cores", "torch", "device"} <= set(bench["machine"]) and "app_start_s" in bench
    assert {"griffin-lim", "hifigan"} <= set(bench["vocoders"])
    for entry in bench["vocoders"].values():
        assert set(VOCODER_KEYS) <= set(entry)


def test_a_readme_without_the_markers_is_refused(bench: dict) -> None:
    with pytest.raises(ValueError, match="no generated bench table"):
        update_readme("# a README\n", bench)


def _bench_now(scale: float) -> dict:
    """A bench's JSON in the shape `vocoder-studio bench --json --avx2-imitation hifigan` writes today (every
    field of :func:`bench_vocoder`, the first-press rows, ``torch_capability``, an AVX2 row), its figures
    multiplied by ``scale``."""
    from vocoder_studio.evaluation.bench import PREVIEW_KEYS, VOCODER_KEYS
    from vocoder_studio.evaluation.first_press import COLD_KEYS

    def entry(precision: str, capability: str, k: float) -> dict:
        figures = dict.fromkeys((*VOCODER_KEYS, *PREVIEW_KEYS, *COLD_KEYS), 12.5 * k * scale)
        return figures | {"device": "cpu", "precision": precision, "torch_capability": capability,
                          "label": "HiFi-GAN V1", "underruns": 0, "preview_underruns": 0, "cold_underruns": 0,
                          "slow_share": 0.5 * scale, "cold_slow_share": 0.25 * scale, "warm_preview": True,
                          "first_audio_unwarmed_ms": 300.0 * scale, "cold_loadavg": 0.7 * scale,
                          "threads": 2, "play_threads": 2, "runs": 3, "cuda_peak_mb": None, "loadavg": 0.5 * scale}

    machine = {"cores": 2, "threads": 2, "torch": "2.13.0+cpu", "device": "cpu", "cpu": "AMD EPYC",
               "cpu_features": {"flags": ["avx2", "avx512_bf16"], "torch_capability": "AVX512", "onednn_max_isa": None,
                                "native_bfloat16": True},
               "loadavg": [0.5 * scale, 0.4, 0.3], "speech_s": 11.39, "speech": "alsa-utils clips (8 files)",
               "runs": 3, "note": "a quiet machine",
               "avx2_imitation": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2"}}
    return {"machine": machine,
            "vocoders": {"hifigan": entry("bfloat16", "AVX512", 1.0),
                         "hifigan (AVX2 imitation)": entry("int8", "AVX2", 2.0),
                         "istft": entry("float32", "AVX512", 0.1) | dict.fromkeys(PREVIEW_KEYS)},
            "app_start_s": 2.5 * scale,
            "app": {"app_start_s": 2.5 * scale, "example_vocoded_s": 3.0 * scale, "peak_rss_mb": 500.0 * scale,
                    "platform": "offscreen"}}


def test_todays_bench_rows_are_rendered_first_press_and_instruction_set_included() -> None:
    data = _bench_now(1.0)
    table = readme_table(data)
    assert "| hifigan | cpu | bfloat16 (AVX512) | 12.500 |" in table
    assert "| hifigan (AVX2 imitation) | cpu | int8 (AVX2) | 25.000 |" in table
    assert "ONEDNN_MAX_CPU_ISA=AVX2" in table
    # the first press, one row per vocoder: first audio, underruns, own take (share), edit heard, unwarmed, load
    assert "| hifigan | 12 ms | 0 | 12 ms (25 % of it) | 12 ms | 300 ms | 0.7 |" in table
    assert "| hifigan (AVX2 imitation) | 25 ms | 0 | 25 ms (25 % of it) | 25 ms | 300 ms | 0.7 |" in table
    markdown = benchmarks_markdown(data)
    assert "| hifigan (AVX2 imitation) | 25 ms | 0 | 25 ms (25 % of it) |" in markdown and "First press as" in markdown
    readme = f"# R\n\n{README_START}\nold\n{README_END}\n\nafter\n"
    assert update_readme(update_readme(readme, data), data) == update_readme(readme, data)


def test_the_generated_docs_differ_only_in_the_figures_between_two_runs() -> None:
    """Two benches with other figures (the same rows, the same fields measured) give the same text but for the
    numbers: nothing else in the generated files moves between runs (no order, date or path of the run)."""
    import re

    figures = re.compile(r"\d+(?:\.\d+)?")
    one, two = _bench_now(1.0), _bench_now(1.7)
    for render in (benchmarks_markdown, readme_table):
        assert render(one) != render(two)
        assert figures.sub("#", render(one)) == figures.sub("#", render(two))
        assert render(one) == render(json.loads(json.dumps(one)))  # what the JSON file gives back
