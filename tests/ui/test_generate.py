"""The Generate dock: without a model it says how to train one; with one, a fill of the selection appears on the
canvas block by block and is one undo step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from vocoder_studio.document import Region
from vocoder_studio.melnet import MelNet, MelNetConfig, save_model

WAIT_MS = 120_000


def test_without_a_model_generate_is_disabled_with_the_reason(window, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(tmp_path))
    monkeypatch.setenv("VOCODER_STUDIO_HOME", str(tmp_path / "home"))
    panel = window.generate_panel
    if (Path(__file__).resolve().parents[2] / "models" / "melnet.pt").exists():
        pytest.skip("a trained MelNet ships in models/")
    assert not panel.refresh_model()
    assert not panel.generate_button.isEnabled()
    assert "vocoder-studio train melnet" in panel.model_label.text()


def test_fill_the_selection_block_by_block(window, qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    torch.manual_seed(0)
    save_model(tmp_path / "melnet.pt", MelNet(MelNetConfig(n_tiers=2, layers=(1, 1), hidden=8, mixtures=2)))
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(tmp_path))
    panel = window.generate_panel
    assert panel.refresh_model() and panel.generate_button.isEnabled()
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
