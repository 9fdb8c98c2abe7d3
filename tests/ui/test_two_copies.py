"""Issue 7, sections 3 and 4, with real windows: two copies of the app on one settings folder, and kills in a
row mid-recovery. Each copy that gets killed is a child process running an offscreen :class:`MainWindow`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

ROOT = Path(__file__).resolve().parents[2]

EDITING_COPY = """
import sys, time
import numpy as np
from vocoder_studio.document import Region
from vocoder_studio.paths import example_path
from vocoder_studio.ui.app import create_main_window
win = create_main_window([example_path()], show_dialogs=False)
win.current_canvas().set_selection(Region(40, 90, 10, 50))
win.window_actions.gain_up_action.trigger()
np.save(sys.argv[1], win.current_document().mel)
print(win.autosave_now()[0], flush=True)
time.sleep(120)
"""

RECOVERING_COPY = """
import time
from vocoder_studio.ui.app import create_main_window
win = create_main_window([], show_dialogs=False)
print(win.recover_autosaves(ask=False), flush=True)
time.sleep(120)  # killed before the next autosave tick
"""


def start_copy(script: str, home: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VOCODER_STUDIO_HOME": str(home), "QT_QPA_PLATFORM": "offscreen",
           "VOCODER_STUDIO_NO_DIALOGS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    if not line:
        proc.kill()
        raise AssertionError(proc.stderr.read() if proc.stderr else "the copy printed nothing")
    return proc, line


def kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for stream in (proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("VOCODER_STUDIO_HOME", str(folder))
    return folder


def test_a_second_copy_leaves_the_first_ones_work_alone_and_it_is_recovered_after_a_kill(
        home: Path, tmp_path: Path, qtbot) -> None:
    from vocoder_studio.ui.app import create_main_window

    first, line = start_copy(EDITING_COPY, home, str(tmp_path / "edited.npy"))
    live = Path(line)
    try:
        second = create_main_window([], show_dialogs=False)
        qtbot.addWidget(second)
        asked: list[str] = []

        def answer_no() -> None:  # a recovery prompt for a live copy's file would be a bug: answer No
            box = QApplication.activeModalWidget()
            if isinstance(box, QMessageBox):
                asked.append(box.text())
                box.button(QMessageBox.StandardButton.No).click()

        QTimer.singleShot(3000, answer_no)
        try:
            assert second.recover_autosaves(ask=True) == 0  # nothing offered, nothing asked, nothing deleted
            assert asked == []
            assert live.exists()
        finally:
            second.shutdown()
        assert live.exists()  # a clean exit of the second copy leaves the first one's file alone
        kill(first)  # now the first copy is gone: its work is recovered by the next start
        third = create_main_window([], show_dialogs=False)
        qtbot.addWidget(third)
        try:
            assert third.recover_autosaves(ask=False) == 1
            np.testing.assert_array_equal(third.current_document().mel, np.load(tmp_path / "edited.npy"))
        finally:
            third.shutdown()
    finally:
        kill(first)


def test_killed_twice_in_a_row_mid_recovery_the_third_start_still_recovers(
        home: Path, tmp_path: Path, qtbot) -> None:
    from vocoder_studio.ui.app import create_main_window

    editor, _ = start_copy(EDITING_COPY, home, str(tmp_path / "edited.npy"))
    kill(editor)
    for _ in range(2):
        copy, count = start_copy(RECOVERING_COPY, home)
        kill(copy)
        assert count == "1"
    last = create_main_window([], show_dialogs=False)
    qtbot.addWidget(last)
    try:
        assert last.recover_autosaves(ask=False) == 1
        doc = last.current_document()
        assert doc is not None and doc.modified
        np.testing.assert_array_equal(doc.mel, np.load(tmp_path / "edited.npy"))
    finally:
        last.shutdown()


def test_a_damaged_autosave_is_reported_once_and_the_window_starts(home: Path, qtbot) -> None:
    from vocoder_studio.autosave import autosave_dir
    from vocoder_studio.ui.app import create_main_window

    with zipfile.ZipFile(autosave_dir() / "0123.4567.vsproj", "w") as damaged:  # meta.json a list, not an object
        damaged.writestr("meta.json", "[]")
        damaged.writestr("mel.npy", b"")
    errors: list[str] = []
    for expected in (1, 0):
        win = create_main_window([], show_dialogs=False)
        qtbot.addWidget(win)
        win.errorShown.connect(errors.append)
        try:
            assert win.recover_autosaves(ask=False) == 0
        finally:
            win.shutdown()
        assert len(errors) == expected
        errors.clear()
