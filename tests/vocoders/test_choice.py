"""A vocoder with its parameters: one type for the panel, the render cache, the Compare view, eval and bench."""

from __future__ import annotations

import pytest

from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.vocoders import ParameterError, get_entry
from vocoder_studio.vocoders.choice import VocoderChoice


def test_parse_checks_the_parameters_and_label_reads_back() -> None:
    choice = VocoderChoice.parse(" griffin-lim:iterations=08:init=random ", device="cpu")
    assert choice == VocoderChoice.make("griffin-lim", "cpu", init="random", iterations=8)
    assert choice.label == "griffin-lim:init=random:iterations=8"
    assert VocoderChoice.parse(choice.label, "cpu") == choice
    assert VocoderChoice.parse("hifigan").label == "hifigan"
    with pytest.raises(ParameterError, match="iterations"):
        VocoderChoice.parse("griffin-lim:iterations=0")
    with pytest.raises(VocoderUnavailableError, match="unknown vocoder"):
        VocoderChoice.parse("no-such-vocoder")


def test_equal_choices_are_one_key_whatever_the_order_of_the_parameters() -> None:
    a = VocoderChoice.make("griffin-lim", "cpu", iterations=8, init="zeros")
    b = VocoderChoice.make("griffin-lim", "cpu", init="zeros", iterations=8)
    assert a == b and hash(a) == hash(b) and a.key == b.key
    assert a != VocoderChoice.make("griffin-lim", "auto", iterations=8, init="zeros")


def test_the_three_spellings() -> None:
    choice = VocoderChoice.make("griffin-lim", "cpu", iterations=32)
    assert choice.describe() == "griffin-lim (cpu, iterations=32)"
    assert choice.title() == f"{get_entry('griffin-lim').label} · iterations=32"
    assert VocoderChoice.make("hifigan", "cpu").describe() == "hifigan (cpu)"
    assert VocoderChoice.make("unknown").title() == "unknown"
