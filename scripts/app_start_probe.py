"""Time the app's start in a fresh process (run by ``vocoder-studio bench``, which passes its start time).

Usage: python scripts/app_start_probe.py T0 FILE
Prints one line: seconds from T0 to a drawn window, seconds from T0 to FILE vocoded in the background by the
app's default vocoder (render ahead), and the peak resident memory in MB.
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path


def main() -> int:
    t0 = float(sys.argv[1])
    from vocoder_studio.ui.app import create_main_window, ensure_app

    app = ensure_app()
    window = create_main_window([Path(sys.argv[2])], show_dialogs=False)
    window.show()
    window.repaint()
    app.processEvents()
    drawn = time.time() - t0
    # the app vocodes the file with its default vocoder in the background: wait for it
    deadline = time.time() + 120
    while window.render_ahead.completed == 0 and time.time() < deadline:
        app.processEvents()
        time.sleep(0.02)
    vocoded = time.time() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{drawn:.3f} {vocoded:.3f} {peak:.0f}")
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
