"""The window's Vocoder and Generate docks on the models the repository ships (issue 19), found as the app finds
them (no ``$VOCODER_STUDIO_MODELS``): each listed vocoder is chosen in the dock, shows its card's summary and
exports a finite selection; the shipped MelNet generates a new utterance, continues from the cursor and fills a
selection, block by block, as one undo step. Parametrized over the files in ``models/`` (the CLI side:
``tests/test_shipped_models.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtGui import QStandardItemModel

from tests.conftest import MODELS, require, shipped_card_name, shipped_checkpoints
from vocoder_studio.document import Region
from vocoder_studio.vocoders import get_entry, list_vocoders
from vocoder_studio.vocoders.checkpoints import ModelCard, card_path

WAIT_MS = 120_000
MELNETS = [p for p in shipped_checkpoints() if shipped_card_name(p) == "melnet"]
SHIPPED_VOCODERS = {shipped_card_name(p) for p in shipped_checkpoints()} - {"melnet"}
REGISTRY = [entry.name for entry in list_vocoders()]


@pytest.fixture(autouse=True)
def _no_models_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOCODER_STUDIO_MODELS", raising=False)


@pytest.mark.parametrize("name", REGISTRY)
def test_the_vocoder_dock_vocodes_with_every_vocoder(window, qtbot, tmp_path: Path,
                                                     name: str) -> None:
    entry = get_entry(name)
    reason = entry.unavailable_reason()
    assert name not in SHIPPED_VOCODERS or reason is None, reason  # a shipped model is always ready
    require(reason is None, f"{name} is not installed here: {reason}")
    window.render_ahead.set_enabled(False)  # only the export below vocodes
    panel = window.vocoder_panel
    combo = panel.vocoder_combo
    model = combo.model()
    assert isinstance(model, QStandardItemModel)
    assert model.item(combo.findData(name)).isEnabled()
    panel.set_vocoder(name, device="cpu")
    assert panel.choice().name == name and panel.params.currentWidget() is panel.panels[name]
    assert panel.status_label.text() == entry.summary()
    if name in SHIPPED_VOCODERS:
        assert entry.summary() == ModelCard.load(MODELS / f"{name}.json").summary
    window.current_canvas().set_selection(Region(100, 120, 0, 80))
    out = tmp_path / f"{name}.wav"
    with qtbot.waitSignal(window.exportFinished, timeout=WAIT_MS):
        assert window.export_wav(out, selection_only=True, fmt="float32")
    audio, rate = sf.read(out, dtype="float32")
    assert rate == window.current_document().config.sample_rate and audio.shape == (20 * 256,)
    assert np.isfinite(audio).all() and np.sqrt(np.mean(audio**2)) > 1e-3
    assert window.last_error is None


def _ready(window, checkpoint: Path):
    """The Generate dock on ``checkpoint`` (found by itself when it is the default melnet.pt)."""
    panel = window.generate_panel
    assert panel.refresh_model() and panel.generate_button.isEnabled()
    if checkpoint.name == "melnet.pt":
        assert panel.model_path == checkpoint
        assert panel.model_label.text() == ModelCard.load(card_path(checkpoint)).summary  # not an error
    panel.model_path = checkpoint
    panel.play_check.setChecked(False)
    panel.seed_spin.setValue(1)
    return panel


def _generate(panel, qtbot) -> int:
    finished: list[int] = []
    panel.finished.connect(finished.append)
    assert panel.generate()
    qtbot.waitUntil(lambda: finished != [], timeout=WAIT_MS)
    assert panel.generate_button.isEnabled() and not panel.cancel_button.isEnabled()
    return finished[0]


@pytest.mark.parametrize("checkpoint", MELNETS, ids=lambda p: p.name)
def test_the_generate_dock_makes_a_new_utterance(window, qtbot, checkpoint: Path) -> None:
    panel = _ready(window, checkpoint)
    before = window.current_document()
    panel.set_mode("new")
    panel.seconds_spin.setValue(0.1)
    assert _generate(panel, qtbot) == 9
    doc = window.current_document()
    assert doc is not before and doc.mel.shape == (80, 9) and np.isfinite(doc.mel).all()
    assert window.last_error is None


@pytest.mark.parametrize("checkpoint", MELNETS, ids=lambda p: p.name)
def test_the_generate_dock_continues_from_the_cursor(window, qtbot, checkpoint: Path) -> None:
    panel = _ready(window, checkpoint)
    doc, canvas = window.current_document(), window.current_canvas()
    before = doc.mel.copy()
    canvas.set_cursor_frame(100)
    panel.set_mode("continue")
    panel.seconds_spin.setValue(0.1)
    assert _generate(panel, qtbot) == 9
    assert doc.frames == before.shape[1] + 9 and np.isfinite(doc.mel).all()
    np.testing.assert_array_equal(doc.mel[:, :100], before[:, :100])
    np.testing.assert_array_equal(doc.mel[:, 109:], before[:, 100:])
    assert doc.undo_label == "Continue"
    window.window_actions.undo_action.trigger()
    np.testing.assert_array_equal(doc.mel, before)


@pytest.mark.parametrize("checkpoint", MELNETS, ids=lambda p: p.name)
def test_the_generate_dock_fills_the_selection(window, qtbot, checkpoint: Path) -> None:
    panel = _ready(window, checkpoint)
    doc, canvas = window.current_document(), window.current_canvas()
    before = doc.mel.copy()
    canvas.set_selection(Region(100, 120, 0, doc.n_mels))
    panel.set_mode("fill")
    assert _generate(panel, qtbot) == 20
    np.testing.assert_array_equal(doc.mel[:, :100], before[:, :100])
    np.testing.assert_array_equal(doc.mel[:, 120:], before[:, 120:])
    assert not np.array_equal(doc.mel[:, 100:120], before[:, 100:120]) and np.isfinite(doc.mel).all()
    assert doc.undo_label == "Fill selection"
    window.window_actions.undo_action.trigger()
    np.testing.assert_array_equal(doc.mel, before)
