#!/usr/bin/env bash
# Screenshot of the real Vocoder Studio window under Xvfb on the bundled example → docs/screenshot.png
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${1:-docs/screenshot.png}
mkdir -p "$(dirname "$OUT")"
command -v xvfb-run >/dev/null || { echo "screenshot.sh: xvfb-run is not installed" >&2; exit 1; }
xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb VOCODER_STUDIO_NO_DIALOGS=1 \
    "$PY" -m vocoder_studio.ui.snapshot "$OUT"
echo "$OUT"
