"""The Generate dock: without a model it says how to train one; with one, a fill of the selection appears on the
canvas block by block and is one undo step. The dock with the shipped model: tests/ui/test_shipped_models.py."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.conftest import MODELS
from vocoder_studio.document import Region
from vocoder_studio.melnet import MelNet, MelNetConfig, save_model
from vocoder_studio.vocoders import checkpoints
from vocoder_studio.vocoders.checkpoints import ModelCard

WAIT_MS = 120_000


def test_without_a_model_generate_is_disabled_with_the_reason(window, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped melnet.pt is found (tests/ui/test_shipped_models.py generates with it); on a machine without
    any trained MelNet (the models folders are one empty folder) the dock says how to train one."""
    panel = window.generate_panel
    monkeypatch.delenv("VOCODER_STUDIO_MODELS", raising=False)
    assert panel.refresh_model() and panel.model_path == MODELS / "melnet.pt"
    monkeypatch.setattr(checkpoints, "model_dirs", lambda: [tmp_path])
    assert not panel.refresh_model()
    assert not panel.generate_button.isEnabled()
    assert "vocoder-studio train melnet" in panel.model_label.text()
    assert not panel.generate()


def test_a_model_with_a_broken_card_is_refused_with_the_reason(window, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """As `vocoder-studio generate` refuses it (issue 19: the shipped card once had a score the reader refused)."""
    save_model(tmp_path / "melnet.pt", MelNet(MelNetConfig(n_tiers=2, layers=(1, 1), hidden=8, mixtures=2)))
    (tmp_path / "melnet.json").write_text(json.dumps({"name": "melnet", "summary": "s", "scores": {"nll": "low"}}))
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(tmp_path))
    panel = window.generate_panel
    assert not panel.refresh_model() and not panel.generate_button.isEnabled()
    assert panel.model_label.text().startswith(f"MelNet cannot be used: {tmp_path / 'melnet.json'}: model card "
                                               "field 'scores'")


def test_fill_the_selection_block_by_block(window, qtbot, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    save_model(tmp_path / "melnet.pt", MelNet(MelNetConfig(n_tiers=2, layers=(1, 1), hidden=8, mixtures=2)))
    ModelCard(name="melnet", summary="a tiny untrained MelNet").save(tmp_path / "melnet.json")
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(tmp_path))
    panel = window.generate_panel
    assert panel.refresh_model() and panel.generate_button.isEnabled()
    assert panel.model_label.text() == "a tiny untrained MelNet"
    doc, canvas = window.current_document(), window.current_canvas()
    before = doc.mel.copy()
    canvas.set_selection(Region(200, 260, 0, doc.n_mels))
    panel.set_mode("fill")
    panel.play_check.setChecked(False)
    versions: list[int] = []
    doc.subscribe(lambda d, region: versions.append(d.version))
    finished: list[int] = []
    panel.finished.connect(finished.append)
    assert panel.generate()
    assert not panel.generate_button.isEnabled() and panel.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: finished != [], timeout=WAIT_MS)
    assert finished == [60] and len(versions) >= 2  # the frames reached the canvas in several blocks
    np.testing.assert_array_equal(doc.mel[:, :200], before[:, :200])
    np.testing.assert_array_equal(doc.mel[:, 260:], before[:, 260:])
    assert not np.array_equal(doc.mel[:, 200:260], before[:, 200:260])
    np.testing.assert_allclose(canvas.image_item.image[:, 200:260], 20 * np.log10(np.e) * doc.mel[:, 200:260],
                               rtol=1e-5)
    assert doc.undo_label == "Fill selection" and panel.generate_button.isEnabled()
    window.window_actions.undo_action.trigger()
    np.testing.assert_array_equal(doc.mel, before)


def test_each_mode_keeps_its_own_temperature(window) -> None:
    """A fill starts at the fill temperature (0: the fills closest to the truth), new sound at 1; a value the
    user sets is kept for its mode."""
    panel = window.generate_panel
    panel.set_mode("new")
    assert panel.temperature_spin.value() == 1.0
    panel.set_mode("fill")
    assert panel.temperature_spin.value() == 0.0 and panel.request().temperature == 0.0
    panel.temperature_spin.setValue(0.3)
    panel.set_mode("continue")
    assert panel.temperature_spin.value() == 1.0
    panel.set_mode("fill")
    assert panel.temperature_spin.value() == 0.3
