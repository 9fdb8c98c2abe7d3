#!/bin/sh
# Prepare, on this machine, what a lent GPU needs to train one of our models (shared/recipes.md, "Training on a
# lent GPU"): a small data pack and the Python wheels the GPU image lacks. Both are git-ignored and travel with
# the working tree when the device call names them in `carry`: [".gpu-pack", ".whl"].
#
#   scripts/gpu_prepare.sh [MINUTES]        # default 12 minutes of training speech (about 31 MiB)
#
# The GPU image has torch, numpy, scipy, numba, scikit-learn, tqdm; it lacks librosa (mel filterbank), soundfile,
# soxr, platformdirs and their small dependencies. Versions are those of this venv (one of each).
set -eu
cd "$(dirname "$0")/.."
PY=${VENV:-.venv}/bin/python
MINUTES=${1:-12}
"$PY" -m vocoder_studio data pack --minutes "$MINUTES" -o .gpu-pack
rm -rf .whl && mkdir -p .whl
PINS=$("$PY" -m pip freeze 2>/dev/null | grep -i -E '^(librosa|audioread|pooch|decorator|soundfile|cffi|pycparser|soxr|platformdirs|pystoi|lazy.loader|msgpack)==')
# shellcheck disable=SC2086
"$PY" -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 -d .whl $PINS
du -sh .gpu-pack .whl
