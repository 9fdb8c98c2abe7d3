#!/usr/bin/env bash
# Screenshot of the real Vocoder Studio window under Xvfb on the bundled example.
# Writes build/screenshot.png; the tracked docs/screenshot.png only when asked:
#   scripts/screenshot.sh docs/screenshot.png      or      OUT=docs/screenshot.png scripts/screenshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${1:-${OUT:-build/screenshot.png}}
mkdir -p "$(dirname "$OUT")"
command -v xvfb-run >/dev/null || { echo "screenshot.sh: xvfb-run is not installed" >&2; exit 1; }
HOME_DIR=$(mktemp -d)  # fresh settings: no recent files, window state or autosaves of the user's own
trap 'rm -rf "$HOME_DIR"' EXIT
xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb VOCODER_STUDIO_NO_DIALOGS=1 \
    VOCODER_STUDIO_HOME="$HOME_DIR" \
    "$PY" -m vocoder_studio.ui.snapshot "$OUT"
echo "$OUT"
