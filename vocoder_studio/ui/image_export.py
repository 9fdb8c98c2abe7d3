"""Pictures of the spectrogram and the Compare view: a plot's scene (image, time and frequency axes, colour bars)
as PNG (through pyqtgraph's ``ImageExporter``) or SVG (Qt's ``QSvgGenerator`` painting the scene: axes and text as
vectors, the images embedded), written atomically; File ▸ Export image… and ``vocoder-studio mel IN --png``.

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
from PySide6.QtWidgets import QApplication, QFileDialog, QGraphicsItem, QWidget

from vocoder_studio.audio.io import atomic_path
from vocoder_studio.display import DEFAULT_COLORMAP
from vocoder_studio.document import Document
from vocoder_studio.errors import AudioFileError
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.levels import attach_display

IMAGE_SUFFIXES = (".png", ".svg")
IMAGE_FILTER = "PNG image (*.png);;SVG drawing (*.svg)"


def ask_image_path(parent: QWidget, caption: str, default_name: str) -> Path | None:
    """Ask where to save a picture (PNG or SVG); a name without either suffix gets the chosen filter's. None:
    cancelled."""
    name, chosen = QFileDialog.getSaveFileName(parent, caption, default_name, IMAGE_FILTER)
    if not name:
        return None
    path = Path(name)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        path = path.with_suffix(".svg" if "svg" in chosen.lower() else ".png")
    return path


def _paint_svg(item: QGraphicsItem, path: Path, title: str) -> None:
    rect = item.sceneBoundingRect()
    generator = QSvgGenerator()
    generator.setFileName(str(path))
    generator.setSize(QSize(int(rect.width()), int(rect.height())))
    generator.setViewBox(QRectF(0, 0, rect.width(), rect.height()))
    generator.setTitle(title)
    painter = QPainter(generator)
    try:
        item.scene().render(painter, QRectF(0, 0, rect.width(), rect.height()), rect)
    finally:
        painter.end()
    if not path.is_file() or path.stat().st_size == 0:
        raise OSError("the SVG could not be written")


def export_scene_image(item: QGraphicsItem, path: str | os.PathLike[str], width: int | None = None,
                       title: str = "mel-spectrogram", empty: bool = False) -> Path:
    """Write what ``item`` covers of its scene (a plot or a layout of plots, laid out) to ``path``.

    Args:
        item: the item to draw, e.g. a ``GraphicsLayoutWidget``'s ``ci``.
        path: ``.png`` (raster) or ``.svg`` (vector) file.
        width: the PNG's width in pixels (its height keeps the item's aspect); default: the item's own.
        title: the SVG's title.
        empty: there is nothing to draw yet (refused with a one-line error).
    Returns:
        the path written.
    Raises:
        AudioFileError: ``empty``, another suffix, or the file cannot be written (the message names it).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise AudioFileError(path, "an image must be a .png or .svg file")
    rect = item.sceneBoundingRect()
    if empty or rect.width() < 1 or rect.height() < 1:
        raise AudioFileError(path, f"nothing to draw: the {title} view is empty")
    try:
        with atomic_path(path) as tmp:
            if suffix == ".svg":
                _paint_svg(item, tmp, title)
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


def export_image(canvas: SpectrogramCanvas, path: str | os.PathLike[str], width: int | None = None) -> Path:
    """Write ``canvas``'s plot (what its view shows, with axes and colour bar) to ``path``: the canvas must have
    been laid out at its size (shown or not); the rest as :func:`export_scene_image`."""
    return export_scene_image(canvas.view.ci, path, width)


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
