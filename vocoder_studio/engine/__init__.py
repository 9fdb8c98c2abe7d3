"""Jobs with progress and cancellation, device choice, the render cache and the audio player (no Qt)."""

from __future__ import annotations

from vocoder_studio.engine.device import choose_device, device_choices
from vocoder_studio.engine.jobs import CancelToken, Progress, run_job
from vocoder_studio.engine.render import Renderer

__all__ = ["CancelToken", "Progress", "Renderer", "choose_device", "device_choices", "run_job"]
