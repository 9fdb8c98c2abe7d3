"""Pictures of the spectrogram: the canvas's plot (image, time and frequency axes, colour bar) as PNG (through
pyqtgraph's ``ImageExporter``) or SVG (Qt's ``QSvgGenerator`` painting the scene: axes and text as vectors, the
spectrogram as an embedded image), written atomically; File ▸ Export image… and ``vocoder-studio mel IN --png``.

pyqtgraph's own ``SVGExporter`` (0.14) fails on the path data Qt 6.12 writes (pyqtgraph issue #3485), so SVG
is painted by Qt directly.
"""

from __future__ import annotations

import os
from pathlib import Path

import pyqtgraph.exporters as exporters
from PySide6.QtCore import QRectF, QSize
from PySide6.QtGui import QPainter
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import QApplication

from vocoder_studio.audio.io import atomic_path
from vocoder_studio.display import DEFAULT_COLORMAP
from vocoder_studio.document import Document
from vocoder_studio.errors import AudioFileError
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.levels import attach_display

IMAGE_SUFFIXES = (".png", ".svg")
IMAGE_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"


def _paint_svg(canvas: SpectrogramCanvas, path: Path) -> None:
    rect = canvas.view.ci.sceneBoundingRect()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(int(rect.width()), int(rect.height())))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    generator.setTitle("mel-spectrogram")
    painter = QPainter(generator)
    try:
        canvas.view.scene().render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        painter.end()
    if not path.is_file() or path.stat().st_size == 0:
        raise OSError("the SVG could not be written")


def export_image(canvas: SpectrogramCanvas, path: str | os.PathLike[str], width: int | None = None) -> Path:
    """Write ``canvas``'s plot (what its view shows, with axes and colour bar) to ``path``.

    Args:
        canvas: the canvas (shown or not; it must have been laid out at its size).
        path: ``.png`` (raster) or ``.svg`` (vector) file.
        width: the PNG's width in pixels (its height keeps the canvas's aspect); default: the canvas's own.
    Returns:
        the path written.
    Raises:
        AudioFileError: another suffix, or the file cannot be written (the message names it).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise AudioFileError(path, "an image must be a .png or .svg file")
    item = canvas.view.ci
    try:
        with atomic_path(path) as tmp:
            if suffix == ".svg":
                _paint_svg(canvas, tmp)
            else:
                exporter = exporters.ImageExporter(item)
                if width is not None:
                    exporter.parameters()["width"] = int(width)
                image = exporter.export(toBytes=True)
                if not image.save(str(tmp), "PNG"):
                    raise OSError("the PNG could not be written")
    except OSError as exc:
        raise AudioFileError(path, f"cannot write ({getattr(exc, 'strerror', None) or exc})") from None
    return path


def mel_image(doc: Document, path: str | os.PathLike[str], width: int = 1400, height: int = 520,
              colormap: str = DEFAULT_COLORMAP) -> Path:
    """Draw ``doc`` on a canvas of its own (``width`` × ``height`` pixels, automatic levels unless its display
    keeps some) and write it as :func:`export_image` does. Needs a ``QApplication`` (offscreen is enough)."""
    canvas = SpectrogramCanvas(doc)
    try:
        attach_display(canvas, colormap)
        canvas.resize(width, height)
        canvas.show()
        QApplication.processEvents()
        canvas.fit()
        QApplication.processEvents()
        return export_image(canvas, path, width)
    finally:
        canvas.detach()
        canvas.close()
        canvas.deleteLater()
