"""The desktop entry and icon on Linux (``vocoder-studio install-desktop``, ``--uninstall``): the studio in the
applications menu, with its icon, opening audio files and projects.

Files go where the freedesktop.org specifications look for them under the user's data folder
(``$XDG_DATA_HOME``, default ``~/.local/share``, as ``paths.xdg_data_home()`` gives it):

- ``applications/vocoder-studio.desktop`` — the Desktop Entry Specification 1.5; its ``Exec`` names this
  installation's ``vocoder-studio`` by its absolute path, so it works from a venv that is not on ``PATH``;
- ``icons/hicolor/scalable/apps/vocoder-studio.svg`` — the Icon Theme Specification's fallback theme;
- ``mime/packages/vocoder-studio.xml`` — the Shared MIME-info database: ``*.vsproj`` is
  ``application/x-vocoder-studio-project``.

The menu's MIME cache and the MIME database are refreshed with ``update-desktop-database`` and
``update-mime-database`` where those programs are installed (as ``xdg-mime`` does; optional: desktops also rescan
by themselves). The icon theme's cache is left alone: a user folder's hicolor theme has none unless made.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.paths import APP_NAME, resource, xdg_data_home

#: where each shipped file goes, relative to the data folder, and its name in ``vocoder_studio.resources``
FILES = {
    Path("applications") / f"{APP_NAME}.desktop": f"{APP_NAME}.desktop",
    Path("icons") / "hicolor" / "scalable" / "apps" / f"{APP_NAME}.svg": f"{APP_NAME}.svg",
    Path("mime") / "packages" / f"{APP_NAME}.xml": f"{APP_NAME}-mime.xml",
}
#: each folder's cache refresher (run when installed: ``program folder``)
_REFRESH = {
    "applications": ["update-desktop-database", "-q"],
    "mime": ["update-mime-database"],
}
# The Desktop Entry Specification's reserved characters: an Exec argument holding one is quoted
_RESERVED = set(" \t\n\"'\\><~|&;$*?#()`")


@dataclass
class DesktopReport:
    """What :func:`install_desktop` or :func:`uninstall_desktop` did.

    Attributes:
        data_home: the data folder used.
        written: files written (install) or removed (uninstall).
        refreshed: the cache programs that ran.
    """

    data_home: Path
    written: list[Path] = field(default_factory=list)
    refreshed: list[str] = field(default_factory=list)


def data_home() -> Path:
    """The user's data folder: ``$XDG_DATA_HOME``, else ``~/.local/share`` (on Linux)."""
    return xdg_data_home()


def launch_command() -> list[str]:
    """This installation's command line for the window: the ``vocoder-studio`` script that runs now (absolute),
    else this Python with ``-m vocoder_studio``."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.name == APP_NAME and script.is_file():
        return [str(script.resolve())]
    found = shutil.which(APP_NAME, path=str(Path(sys.executable).parent))
    if found:
        return [str(Path(found).resolve())]
    return [str(Path(sys.executable).resolve()), "-m", "vocoder_studio"]


def exec_quote(argument: str) -> str:
    """``argument`` as the Desktop Entry Specification wants it in ``Exec`` (double quotes around an argument
    with a reserved character, ``"`` `` ` `` ``$`` ``\\`` escaped inside, and every backslash doubled again for
    the string value; ``%`` written ``%%``)."""
    argument = argument.replace("%", "%%")
    if _RESERVED & set(argument):
        inner = "".join("\\" + c if c in '"`$\\' else c for c in argument)
        argument = f'"{inner}"'
    return argument.replace("\\", "\\\\")


def desktop_entry(command: list[str]) -> str:
    """The shipped desktop entry with ``Exec`` (and ``TryExec``) set to ``command`` + ``open %f``."""
    template = resource(f"{APP_NAME}.desktop").read_text(encoding="utf-8")
    exec_line = " ".join(exec_quote(part) for part in command) + " open %f"
    lines = []
    for line in template.splitlines():
        if line.startswith("Exec="):
            lines.append(f"TryExec={exec_quote(command[0])}")
            line = f"Exec={exec_line}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def icon_path() -> Path:
    """The studio's icon (SVG, 256 × 256 view box) as shipped.

    Raises:
        VocoderStudioError: missing from this installation.
    """
    return resource(f"{APP_NAME}.svg")


def _refresh(home: Path, report: DesktopReport) -> None:
    for folder, program in _REFRESH.items():
        target = home / folder
        if target.is_dir() and shutil.which(program[0]):
            done = subprocess.run([*program, str(target)], capture_output=True, timeout=120, check=False)
            if done.returncode == 0:
                report.refreshed.append(program[0])


def install_desktop(home: Path | None = None, command: list[str] | None = None) -> DesktopReport:
    """Write the desktop entry, the icon and the project MIME type under ``home`` (default :func:`data_home`).

    Args:
        home: the data folder.
        command: the window's command line (default :func:`launch_command`).
    Raises:
        VocoderStudioError: a file that cannot be written (one line naming it).
    """
    report = DesktopReport(home if home is not None else data_home())
    entry = desktop_entry(command if command is not None else launch_command())
    for relative, name in FILES.items():
        target = report.data_home / relative
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if relative.suffix == ".desktop":
                target.write_text(entry, encoding="utf-8")
            else:
                shutil.copyfile(resource(name), target)
            os.chmod(target, 0o644)
        except OSError as exc:
            raise VocoderStudioError(f"{target}: cannot write ({exc.strerror or exc})") from None
        report.written.append(target)
    _refresh(report.data_home, report)
    return report


def uninstall_desktop(home: Path | None = None) -> DesktopReport:
    """Remove what :func:`install_desktop` wrote under ``home`` (nothing else); missing files are fine."""
    report = DesktopReport(home if home is not None else data_home())
    for relative in FILES:
        target = report.data_home / relative
        try:
            target.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise VocoderStudioError(f"{target}: cannot remove ({exc.strerror or exc})") from None
        report.written.append(target)
    _refresh(report.data_home, report)
    return report


def describe(report: DesktopReport, removed: bool = False) -> str:
    """What happened, for the command line: one line per file."""
    verb = "removed" if removed else "wrote"
    lines = [f"{verb} {path}" for path in report.written] or [f"nothing to remove under {report.data_home}"]
    if report.refreshed:
        lines.append("refreshed: " + ", ".join(report.refreshed))
    return "\n".join(lines)


__all__ = ["FILES", "DesktopReport", "data_home", "describe", "desktop_entry", "exec_quote", "icon_path",
           "install_desktop", "launch_command", "uninstall_desktop"]
