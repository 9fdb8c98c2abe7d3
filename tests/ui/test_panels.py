"""The vocoder panel is generated from each vocoder's parameter schema: a plug-in's parameters appear with
their ranges and no UI code of its own; unavailable vocoders are disabled with the reason."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

from tests.vocoders.conftest import toy_plugin  # noqa: F401  (the fixture)
from vocoder_studio.ui.panels import VocoderPanel
from vocoder_studio.vocoders import DEFAULT_VOCODER, PREVIEW_VOCODER, get_entry, preview_vocoder


def test_default_vocoder_and_schema_bounds(qtbot) -> None:
    panel = VocoderPanel()
    qtbot.addWidget(panel)
    # the fast iSTFT vocoder for listening while editing when its model is installed (it ships), else HiFi-GAN
    assert panel.choice().name == preview_vocoder()
    shipped = get_entry(PREVIEW_VOCODER).unavailable_reason() is None
    assert preview_vocoder() == (PREVIEW_VOCODER if shipped else DEFAULT_VOCODER)
    iterations = panel.panels["griffin-lim"].controls["iterations"]
    assert isinstance(iterations, QSpinBox)
    assert (iterations.minimum(), iterations.maximum()) == (1, 1000)  # 0 and -3 cannot be entered
    assert "[1, 1000]" in iterations.toolTip()
    precision = panel.panels["hifigan"].controls["precision"]
    assert isinstance(precision, QComboBox)
    assert [precision.itemText(i) for i in range(precision.count())] == ["float32", "bfloat16", "int8"]
    assert "PESQ" in panel.status_label.text()  # the model card's summary of the default vocoder


def test_the_wavenet_panel_says_an_edit_regenerates_from_its_start(qtbot) -> None:
    """Issue 11: the panel tells the user that WaveNet re-generates from an edit's start to the end; vocoders
    whose edits stay local carry no such note."""
    panel = VocoderPanel()
    qtbot.addWidget(panel)
    note = panel.panels["wavenet"].note_label
    assert note is not None and "regenerated from its start to the end" in note.text()
    assert panel.panels["hifigan"].note_label is None


def test_plugin_appears_with_its_parameters(qtbot, toy_plugin: Path) -> None:  # noqa: F811
    panel = VocoderPanel()
    qtbot.addWidget(panel)
    names = [panel.vocoder_combo.itemData(i) for i in range(panel.vocoder_combo.count())]
    assert names[-2:] == ["toy-sine", "toy-trained"]
    panel.set_vocoder("toy-sine", device="cpu", gain=0.25, waveform="square")
    gain = panel.panels["toy-sine"].controls["gain"]
    assert isinstance(gain, QDoubleSpinBox) and (gain.minimum(), gain.maximum()) == (0.0, 1.0)
    assert panel.params.currentWidget() is panel.panels["toy-sine"]
    choice = panel.choice()
    assert choice.name == "toy-sine" and dict(choice.params) == {"gain": 0.25, "waveform": "square"}
    assert panel.status_label.text() == "a test plug-in"

    model = panel.vocoder_combo.model()
    assert isinstance(model, QStandardItemModel)
    trained = model.item(names.index("toy-trained"))
    assert not trained.isEnabled()
    assert "no trained checkpoint found" in str(trained.data(Qt.ItemDataRole.ToolTipRole))


def test_broken_plugins_are_disabled_in_the_selector_with_their_reasons(
        qtbot, tmp_path: Path, monkeypatch) -> None:
    """Issue 18: a plug-in that exits at import, or takes a built-in's name, leaves the window working; the
    selector lists it disabled with the reason, and the built-in keeps its name."""
    import importlib

    from tests.vocoders.conftest import install_broken_plugins, install_toy_plugin
    from vocoder_studio.vocoders import registry

    monkeypatch.syspath_prepend(str(install_broken_plugins(install_toy_plugin(tmp_path / "site"))))
    importlib.invalidate_caches()
    registry.refresh()
    try:
        panel = VocoderPanel()
        qtbot.addWidget(panel)
        model = panel.vocoder_combo.model()
        assert isinstance(model, QStandardItemModel)
        rows = {panel.vocoder_combo.itemData(i): model.item(i) for i in range(panel.vocoder_combo.count())}
        for name, words in [("exits-at-import", "it called sys.exit(3)"),
                            ("vocoder-impostor:griffin-lim", "the name 'griffin-lim' is taken by the built-in"),
                            ("check-exits", "SystemExit: 5")]:
            assert not rows[name].isEnabled()
            assert words in str(rows[name].data(Qt.ItemDataRole.ToolTipRole))
        assert rows["griffin-lim"].isEnabled() and rows["griffin-lim"].text() == get_entry("griffin-lim").label
        assert rows["toy-sine"].isEnabled()
        panel.set_vocoder("griffin-lim", device="cpu")
        assert panel.choice().name == "griffin-lim"
    finally:
        registry.refresh()
