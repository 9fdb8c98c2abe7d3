"""The desktop entry and icon (issue 22): ``vocoder-studio install-desktop`` writes them where the freedesktop.org
specifications look (``$XDG_DATA_HOME``), valid as ``desktop-file-validate`` reads them, launching this very
installation; ``--uninstall`` removes exactly those files."""

from __future__ import annotations

import configparser
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest

from vocoder_studio.desktop import FILES, desktop_entry, exec_quote

from .conftest import ROOT, require

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG folders are Linux's")


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vocoder_studio", *args], capture_output=True, text=True, env=env,
                          timeout=300, cwd=ROOT)


def _env(tmp_path: Path, data_home: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "XDG_DATA_HOME"}
    env["HOME"] = str(tmp_path / "home")
    if data_home is not None:
        env["XDG_DATA_HOME"] = str(data_home)
    return env


def _entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def test_install_desktop_writes_a_valid_entry_icon_and_mime_type_under_xdg_data_home(tmp_path: Path) -> None:
    data = tmp_path / "xdg-data"
    keep = data / "applications" / "someone-else.desktop"  # a file of another program, left alone
    keep.parent.mkdir(parents=True)
    keep.write_text("[Desktop Entry]\n")
    done = _cli("install-desktop", env=_env(tmp_path, data))
    assert done.returncode == 0, done.stderr
    for relative in FILES:
        assert (data / relative).is_file() and f"wrote {data / relative}" in done.stdout
        assert (data / relative).stat().st_mode & 0o777 == 0o644
    entry = _entry(data / "applications" / "vocoder-studio.desktop")
    assert entry["Type"] == "Application" and entry["Name"] == "Vocoder Studio" and entry["Icon"] == "vocoder-studio"
    command = shlex.split(entry["Exec"])
    assert command[-2:] == ["open", "%f"]
    assert command[:-2] == [sys.executable, "-m", "vocoder_studio"] or Path(command[0]).name == "vocoder-studio"
    assert Path(command[0]).is_absolute() and os.access(command[0], os.X_OK) and entry["TryExec"] == command[0]
    assert "application/x-vocoder-studio-project" in entry["MimeType"].split(";")
    icon = ElementTree.parse(data / "icons/hicolor/scalable/apps/vocoder-studio.svg").getroot()
    assert icon.tag == "{http://www.w3.org/2000/svg}svg" and icon.get("viewBox") == "0 0 256 256"
    mime = ElementTree.parse(data / "mime/packages/vocoder-studio.xml").getroot()
    glob = mime.find(".//{http://www.freedesktop.org/standards/shared-mime-info}glob")
    assert glob is not None and glob.get("pattern") == "*.vsproj"
    require(shutil.which("desktop-file-validate") is not None, "desktop-file-validate is not installed")
    valid = subprocess.run(["desktop-file-validate", str(data / "applications" / "vocoder-studio.desktop")],
                           capture_output=True, text=True, timeout=60)
    assert valid.returncode == 0 and valid.stdout.strip() == "", valid.stdout + valid.stderr

    # the entry's command runs: `open` of a bad file is one error line, before any window
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio")
    ran = subprocess.run(command[:-2] + ["open", str(bad)], capture_output=True, text=True, timeout=300,
                         env=_env(tmp_path, data))
    assert ran.returncode == 2 and str(bad) in ran.stderr and ran.stderr.strip().count("\n") == 0

    gone = _cli("install-desktop", "--uninstall", env=_env(tmp_path, data))
    assert gone.returncode == 0, gone.stderr
    assert not any((data / relative).exists() for relative in FILES) and keep.is_file()
    again = _cli("install-desktop", "--uninstall", env=_env(tmp_path, data))
    assert again.returncode == 0 and "nothing to remove" in again.stdout


def test_without_xdg_data_home_it_is_the_local_share_folder_of_home(tmp_path: Path) -> None:
    done = _cli("install-desktop", env=_env(tmp_path, None))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "home/.local/share/applications/vocoder-studio.desktop").is_file()


def test_an_unwritable_data_folder_is_one_error_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = _cli("install-desktop", "--data-home", str(blocker), env=_env(tmp_path, None))
    assert done.returncode == 2 and "cannot write" in done.stderr and done.stderr.strip().count("\n") == 0


@pytest.mark.parametrize(("argument", "written"), [
    ("/usr/bin/vocoder-studio", "/usr/bin/vocoder-studio"),
    ("/home/a b/venv/bin/vocoder-studio", '"/home/a b/venv/bin/vocoder-studio"'),
    ('/x/"q"$`\\', '"/x/\\\\"q\\\\"\\\\$\\\\`\\\\\\\\"'),
    ("/x/100%", "/x/100%%"),
])
def test_exec_arguments_are_quoted_as_the_desktop_entry_spec_says(argument: str, written: str) -> None:
    assert exec_quote(argument) == written
    assert desktop_entry([argument]).count(f"Exec={written} open %f") == 1

