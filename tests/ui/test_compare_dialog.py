"""The Compare view in the real window: two vocoders on the example's selection, images and scores, switching
playback by number keys with the play position kept, and results cached per document version."""

from __future__ import annotations

from xml.etree import ElementTree

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtSvg import QSvgRenderer

from vocoder_studio.document import Region
from vocoder_studio.engine.audio_output import playback_status
from vocoder_studio.errors import AudioFileError
from vocoder_studio.evaluation.comparison import missing_scorers
from vocoder_studio.ui.compare_dialog import COMPARE_LABEL, RERENDER_DELAY_MS, CompareDialog, compare_dialog
from vocoder_studio.ui.workstation import menu_named

from ..conftest import require

WAIT_MS = 180_000
START, END = 40, 200


def run_compare(dialog: CompareDialog, qtbot) -> None:
    old = dialog.comparison
    assert dialog.compare()
    qtbot.waitUntil(lambda: dialog.comparison is not old and not dialog.busy, timeout=WAIT_MS)


@pytest.fixture
def dialog(window, qtbot):
    """The window's Compare view after comparing Griffin-Lim (4 iterations) and HiFi-GAN on the selection."""
    canvas = window.current_canvas()
    canvas.set_selection(Region(START, END, 0, canvas.doc.n_mels))
    window.window_actions.compare_action.trigger()
    view = compare_dialog(window)
    assert view is not None and view.isVisible()
    view.set_vocoders(["griffin-lim", "hifigan"])
    run_compare(view, qtbot)
    yield view
    view.playback.stop()


def test_the_view_shows_the_original_each_output_its_difference_and_scores(window, dialog) -> None:
    result = dialog.comparison
    assert (result.start, result.end) == (START, END)
    assert [t.choice.name for t in result.takes] == ["griffin-lim", "hifigan"]
    assert dict(result.takes[0].choice.params)["iterations"] == 4  # the vocoder panel's settings
    assert len(dialog.grid.mel_images) == 3 and len(dialog.grid.diff_images) == 2
    shape = (window.current_document().n_mels, END - START)
    assert all(image.image.shape == shape for image in dialog.grid.mel_images + dialog.grid.diff_images)
    canvas_levels = window.current_canvas().levels()
    assert all(tuple(image.levels) == pytest.approx(canvas_levels) for image in dialog.grid.mel_images)
    np.testing.assert_allclose(dialog.grid.mel_images[2].image, 20 * np.log10(np.e) * result.takes[1].mel, rtol=1e-5)
    assert dialog.grid.titles[1].startswith("1 · Griffin-Lim") and "iterations=4" in dialog.grid.titles[1]
    assert len(dialog.grid.score_texts) == 2 and all("mel-L1" in text for text in dialog.grid.score_texts)
    if not missing_scorers():
        assert all("PESQ" in text and "STOI" in text for text in dialog.grid.score_texts)


def test_number_keys_switch_the_playing_take_and_keep_the_play_position(dialog, qtbot) -> None:
    require(playback_status() is None, f"no audio output: {playback_status()}")
    switcher, player = dialog.playback.switcher, dialog.playback.switcher.player
    qtbot.keyClick(dialog, Qt.Key.Key_1)  # select HiFi-GAN's neighbour, Griffin-Lim, before playing
    qtbot.keyClick(dialog, Qt.Key.Key_Space)
    assert switcher.is_playing and dialog.playback.current == 1
    started = player.start_time
    hop = dialog.comparison.config.hop_length
    qtbot.waitUntil(lambda: player.position > (START + 40) * hop, timeout=10_000)
    for key, take in ((Qt.Key.Key_2, 2), (Qt.Key.Key_1, 1)):
        before = player.position
        qtbot.keyClick(dialog, key)
        after = player.position
        assert dialog.playback.current == take
        assert 0 <= after - before <= player.blocksize  # the same time, within one block
        assert player.start_time == started  # the stream never restarted
        audio = dialog.comparison.takes[take - 1].audio
        ahead = after - switcher.offset + player.blocksize + switcher.crossfade
        np.testing.assert_array_equal(player.snapshot()[ahead:], audio[ahead:])  # what is left is that take
    qtbot.keyClick(dialog, Qt.Key.Key_Space)
    assert not switcher.is_playing


def test_results_are_cached_per_version_and_rendered_again_after_an_edit(window, dialog, qtbot) -> None:
    first = dialog.comparison
    renders = dialog.cache.renders
    run_compare(dialog, qtbot)
    assert dialog.cache.renders == renders
    assert all(a is b for a, b in zip(first.takes, dialog.comparison.takes, strict=True))
    assert all(a.audio is b.audio for a, b in zip(first.takes, dialog.comparison.takes, strict=True))

    window.edits.apply_gain_db(6.0)  # the selection, one step
    assert window.current_document().version != first.version
    assert "changed" in dialog.message.text()
    run_compare(dialog, qtbot)
    assert dialog.cache.renders == renders + 2
    assert all(a is not b for a, b in zip(first.takes, dialog.comparison.takes, strict=True))
    assert not np.array_equal(first.takes[1].audio, dialog.comparison.takes[1].audio)
    assert dialog.comparison.reference is None and not dialog.playback.select(0)  # no original for an edited range
    window.edits.undo()
    run_compare(dialog, qtbot)  # back to the first version's mel, but a new version: rendered again
    assert dialog.cache.renders == renders + 4


def test_cancel_stops_a_compare_under_way(window, qtbot) -> None:
    window.window_actions.compare_action.trigger()
    view = compare_dialog(window)
    view.set_vocoders(["griffin-lim", "hifigan"])
    window.current_canvas().set_selection(None)  # the whole document
    assert view.compare() and view.busy
    view.cancel_button.click()
    qtbot.waitUntil(lambda: not window.runner.lane_busy("long"), timeout=WAIT_MS)
    assert view.comparison is None and not view.busy and "cancelled" in view.message.text()
    assert view.cache.renders < 2  # stopped before both vocoders had rendered the whole document
    view.set_vocoders(["griffin-lim"])
    assert not view.compare() and "two or more" in view.message.text()


def test_an_edit_with_the_view_open_renders_again_and_never_shows_the_old_result(window, dialog, qtbot) -> None:
    shown: list = []
    dialog.comparisonShown.connect(shown.append)
    first, renders = dialog.comparison, dialog.cache.renders
    doc = window.current_document()
    window.edits.apply_gain_db(6.0)
    assert dialog.busy and dialog.outdated and dialog.dim.opacity() < 1.0  # the old result, dimmed, while it waits
    qtbot.waitUntil(lambda: dialog.comparison is not first and not dialog.busy, timeout=WAIT_MS)
    result = dialog.comparison
    assert result.version == doc.version and not dialog.outdated and dialog.dim.opacity() == 1.0
    assert dialog.cache.renders == renders + 2  # both vocoders, once
    assert (result.start, result.end) == (START, END)  # still the selection
    for image, take, old in zip(dialog.grid.mel_images[1:], result.takes, first.takes, strict=True):
        np.testing.assert_allclose(image.image, 20 * np.log10(np.e) * take.mel, rtol=1e-5)
        assert not np.allclose(take.mel, old.mel)  # the new version is what is shown
    assert [c.version for c in shown] == [doc.version]


def test_changing_a_vocoder_setting_in_the_panel_renders_that_take_again(window, dialog, qtbot) -> None:
    first, renders = dialog.comparison, dialog.cache.renders
    panel = window.vocoder_panel
    panel.panels["hifigan"].controls["mel_match"].setValue(1)  # Compare follows the panel's settings
    assert dialog.busy and dialog.dim.opacity() < 1.0
    qtbot.waitUntil(lambda: dialog.comparison is not first and not dialog.busy, timeout=WAIT_MS)
    assert dialog.cache.renders == renders + 1  # only HiFi-GAN's take: Griffin-Lim's comes from the cache
    result = dialog.comparison
    assert [t.choice.name for t in result.takes] == ["griffin-lim", "hifigan"]
    assert dict(result.takes[1].choice.params)["mel_match"] == 1
    np.testing.assert_array_equal(result.takes[0].audio, first.takes[0].audio)
    assert not np.array_equal(result.takes[1].audio, first.takes[1].audio)


def test_quick_edits_render_once_and_a_stale_job_is_never_shown(window, dialog, qtbot) -> None:
    shown: list = []
    dialog.comparisonShown.connect(shown.append)
    started: list[str] = []
    window.runner.jobStarted.connect(lambda label: started.append(label) if label == COMPARE_LABEL else None)
    doc, renders = window.current_document(), dialog.cache.renders
    for _ in range(3):  # one stroke, several edits: the wait restarts with each
        window.edits.apply_gain_db(2.0)
    qtbot.waitUntil(lambda: bool(started), timeout=WAIT_MS)  # rendering the third version …
    stale = doc.version
    dialog.rerender_timer.setInterval(600_000)  # (hold the next rendering back while the stale job ends)
    window.edits.apply_gain_db(-4.0)  # … when a fourth comes
    qtbot.waitUntil(lambda: not window.runner.lane_busy("long"), timeout=WAIT_MS)
    assert stale not in [c.version for c in shown] and dialog.comparison.version < stale and dialog.outdated
    dialog.rerender_timer.setInterval(RERENDER_DELAY_MS)
    qtbot.waitUntil(lambda: dialog.comparison.version == doc.version and not dialog.busy, timeout=WAIT_MS)
    assert [c.version for c in shown] == [doc.version]
    assert dialog.cache.renders <= renders + 4  # never once per edit


def test_playback_goes_on_at_the_same_time_through_a_re_render_and_switches(window, dialog, qtbot) -> None:
    require(playback_status() is None, f"no audio output: {playback_status()}")
    switcher, player = dialog.playback.switcher, dialog.playback.switcher.player
    positions: list[int] = []
    dialog.comparisonShown.connect(lambda _result: positions.append(player.position))
    qtbot.keyClick(dialog, Qt.Key.Key_2)
    qtbot.keyClick(dialog, Qt.Key.Key_Space)
    started = player.start_time
    hop = dialog.comparison.config.hop_length
    qtbot.waitUntil(lambda: player.position > (START + 20) * hop, timeout=10_000)
    first = dialog.comparison
    window.edits.apply_gain_db(6.0)
    qtbot.waitUntil(lambda: dialog.comparison is not first and not dialog.busy, timeout=WAIT_MS)
    assert switcher.is_playing and player.start_time == started  # the stream never stopped
    assert dialog.playback.current == 2 and len(positions) == 1
    new = dialog.comparison.takes[1].audio
    ahead = positions[0] - switcher.offset + player.blocksize + switcher.crossfade
    np.testing.assert_array_equal(player.snapshot()[ahead:], new[ahead:])  # the rest of the range: the new take
    before = player.position
    qtbot.keyClick(dialog, Qt.Key.Key_1)  # switching after the re-render keeps the time too
    assert dialog.playback.current == 1 and 0 <= player.position - before <= player.blocksize
    qtbot.keyClick(dialog, Qt.Key.Key_Space)
    assert not switcher.is_playing


def test_the_phase_view_shows_each_outputs_instantaneous_frequency_and_the_convergence(dialog) -> None:
    """Issue 20: the phase made visible. One map per output (and the original's, when there is a recording),
    Griffin-Lim's spectral convergence per iteration falls, and from PGHI it starts lower than from random."""
    view = dialog.show_phase()
    assert view is not None
    takes = len(dialog.comparison.takes)
    assert len(view.deviations) == takes + (dialog.comparison.reference is not None)
    assert all(d.shape[1] == END - START and np.isfinite(d).any() for d in view.deviations)
    random, pghi = view.curves["random"], view.curves["pghi"]
    assert random[-1] < random[0] and pghi[0] < random[0]
    # quiet coefficients are drawn as the background (NaN is transparent), not as "at the bin centre" (0 Hz); one
    # colour scale in Hz serves every map
    assert len(view.images) == len(view.deviations)
    assert all(np.isnan(image.image).any() and np.isfinite(image.image).any() for image in view.images)
    assert tuple(view.colour_bar.values) == (-40.0, 40.0)
    view.close()


def test_file_export_image_writes_the_compare_view_as_png_and_svg(window, dialog, tmp_path) -> None:
    """Issue 22: File ▸ Export image of the Compare view, opened and checked as a reader of the file would."""
    files = menu_named(window.menuBar(), "File")
    assert files is not None and window.station.export_compare_action in files.actions()
    png = window.station.export_image(tmp_path / "compare.png", width=1200, compare=True)
    assert png is not None and png.is_file()
    image = QImage(str(png))
    grid = dialog.grid
    assert image.width() == 1200
    assert image.height() == pytest.approx(1200 * grid.ci.sceneBoundingRect().height()
                                           / grid.ci.sceneBoundingRect().width(), abs=3)
    # not blank: three rows of images and two colour bars make many colours down the middle and across a row
    column = {image.pixel(image.width() // 4, y) for y in range(0, image.height(), 4)}
    row = {image.pixel(x, image.height() // 2) for x in range(0, image.width(), 4)}
    assert len(column) > 40 and len(row) > 40
    svg = dialog.export_image(tmp_path / "compare.svg")
    root = ElementTree.parse(svg).getroot()  # well-formed XML …
    assert root.tag.endswith("svg") and QSvgRenderer(str(svg)).isValid()  # … that Qt draws
    text = svg.read_text()
    assert "Difference (dB)" in text and "Griffin" in text and "Time (s)" in text
    assert len(root.findall(".//{http://www.w3.org/2000/svg}image")) >= 5  # 3 mels + 2 difference maps


def test_exporting_the_compare_view_before_a_comparison_says_why(window, tmp_path) -> None:
    assert window.station.export_image(tmp_path / "compare.png", compare=True) is None
    assert "nothing compared" in (window.last_error or "") and not (tmp_path / "compare.png").exists()
    window.window_actions.compare_action.trigger()
    with pytest.raises(AudioFileError, match="empty"):
        compare_dialog(window).export_image(tmp_path / "compare.png")
    assert not (tmp_path / "compare.png").exists()
