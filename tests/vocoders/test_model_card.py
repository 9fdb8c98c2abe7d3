"""The model card's schema: what the reader takes is what the writer may write."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.vocoders.checkpoints import ModelCard, is_score


def test_scores_may_be_numbers_lists_or_groups(tmp_path: Path) -> None:
    card = ModelCard(name="melnet", summary="s", scores={"nll": 0.08, "nll_tiers": [0.6, 0.5],
                                                         "english": {"pesq_wb": 2.3, "tiers": [1.0]}})
    card.save(tmp_path / "melnet.json")
    assert ModelCard.load(tmp_path / "melnet.json").scores == card.scores


@pytest.mark.parametrize("bad", ["2.1", True, [1, "x"], {"a": None}, None, [[1.0]]])
def test_a_card_that_would_not_load_is_refused_when_written(tmp_path: Path, bad: object) -> None:
    assert not is_score(bad)
    path = tmp_path / "x.json"
    with pytest.raises(VocoderUnavailableError, match="x.json: model card field 'scores'"):
        ModelCard(name="x", summary="s", scores={"bad": bad}).save(path)
    assert not path.exists()
    path.write_text(json.dumps({"name": "x", "summary": "s", "scores": {"bad": bad}}))
    with pytest.raises(VocoderUnavailableError, match="x.json: model card field 'scores'"):
        ModelCard.load(path)


def test_a_saved_card_keeps_its_text_readable(tmp_path: Path) -> None:
    """Names and units such as Průša or 8 × 256 are written as they are, not as \\u escapes, so a card
    rewritten by the card path differs from the hand-edited one only where a value changed."""
    card = ModelCard(name="istft", summary="PGHI (Průša et al. 2017), 8 × 256, −60 dB")
    card.save(tmp_path / "istft.json")
    text = (tmp_path / "istft.json").read_text(encoding="utf-8")
    assert "Průša" in text and "8 × 256" in text and "\\u" not in text
    assert ModelCard.load(tmp_path / "istft.json") == card
