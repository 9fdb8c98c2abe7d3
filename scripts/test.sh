#!/usr/bin/env bash
# The whole suite: lint, types, the import layering (pyproject's [tool.importlinter]), then pytest (with a
# PulseAudio null sink for the playback tests).
set -uo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
"$VENV/bin/ruff" check vocoder_studio tests || exit 1
"$VENV/bin/mypy" vocoder_studio || exit 1
PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" "$VENV/bin/lint-imports" --no-cache || exit 1  # this checkout, not an installed copy
if command -v pulseaudio >/dev/null; then
  scripts/pulse-null-sink.sh || echo "test: no PulseAudio null sink; playback tests will skip (fail under CI)"
fi
"$VENV/bin/python" -m pytest -q -ra "$@"
status=$?
[ "${KEEP_PULSE:-}" = 1 ] || [ "${CI:-}" != true ] || scripts/pulse-null-sink.sh stop
exit $status
