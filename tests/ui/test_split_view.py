"""Rough edge 10: the split view's untouched original is read-only, and says so."""

from __future__ import annotations

import numpy as np

from vocoder_studio.document import Region
from vocoder_studio.ui.tools import Tool

from .conftest import drag


def test_painting_the_original_changes_nothing_and_says_why(window, qtbot) -> None:
    window.window_actions.split_action.trigger()
    qtbot.wait(150)  # layout settles before mapping cells to pixels
    original = window.split_canvas.doc
    edited = window.current_document()
    assert original is not edited and window.split.read_only_label.isVisible()
    assert window.split.combo.currentText().startswith("Original:")
    before_original, before_edited = original.mel.copy(), edited.mel.copy()
    window.tool_bar.set_tool(Tool.BRUSH)
    window.tools.brush_gain_db = 12.0
    drag(qtbot, window.split_canvas, [(100.5, 20.5), (140.5, 24.5), (180.5, 28.5)])
    np.testing.assert_array_equal(original.mel, before_original)
    np.testing.assert_array_equal(edited.mel, before_edited)
    assert not original.modified and not original.can_undo
    assert "read-only" in window.statusBar().currentMessage()
    # commands refuse too (the active canvas is the original after the drag)
    assert window.active_canvas() is window.split_canvas
    window.split_canvas.set_selection(Region(10, 40, 0, 80))
    window.edits.apply_gain_db(6.0)
    window.edits.clear_selection()
    np.testing.assert_array_equal(original.mel, before_original)
    actions = window.window_actions
    assert not actions.gain_up_action.isEnabled() and actions.copy_action.isEnabled()  # copying from it is fine


def test_another_tab_in_the_split_view_stays_editable(window, qtbot) -> None:
    window.window_actions.split_action.trigger()
    index = window.split.combo.findText(window.tabs.tab().name)  # the edited document itself, not its original
    window.split.combo.setCurrentIndex(index)
    qtbot.wait(150)
    doc = window.split_canvas.doc
    assert doc is window.current_document() and not window.split.read_only_label.isVisible()
    before = doc.mel.copy()
    window.tool_bar.set_tool(Tool.BRUSH)
    drag(qtbot, window.split_canvas, [(100.5, 20.5), (140.5, 24.5)])
    assert not np.array_equal(doc.mel, before) and doc.modified
