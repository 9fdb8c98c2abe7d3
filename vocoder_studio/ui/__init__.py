"""The Qt user interface (PySide6 + pyqtgraph). Nothing below ``vocoder_studio.ui`` imports Qt."""
