#!/usr/bin/env bash
# The workstation's pictures for docs/ (scripts/docs_pictures.py), by the real window under Xvfb.
# Writes build/docs/ unless given a folder:   scripts/docs_pictures.sh docs
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
OUT=${1:-build/docs}
command -v xvfb-run >/dev/null || { echo "docs_pictures.sh: xvfb-run is not installed" >&2; exit 1; }
HOME_DIR=$(mktemp -d)  # fresh settings: none of the user's own
trap 'rm -rf "$HOME_DIR"' EXIT
xvfb-run -a -s "-screen 0 1600x1000x24" env QT_QPA_PLATFORM=xcb VOCODER_STUDIO_NO_DIALOGS=1 \
    VOCODER_STUDIO_HOME="$HOME_DIR" PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" \
    "$PY" scripts/docs_pictures.py "$OUT"
