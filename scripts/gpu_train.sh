#!/bin/sh
# Runs ON the lent GPU machine, from the repository root (the device tool's `run`, carry [".gpu-pack", ".whl"]):
# installs the carried wheels, trains MODEL on the carried pack for MINUTES of wall clock (the trainer stops
# itself and checkpoints), then exports the model and its card and copies the curves into $OUT.
#
#   scripts/gpu_train.sh MODEL MINUTES       # e.g. scripts/gpu_train.sh melgan 8   (timeout_s ≈ 60 s more)
#   TRAIN_ARGS="--augment-gain 1.5 --augment-speed 0.1" scripts/gpu_train.sh melnet 8   (more train options)
set -eu
MODEL=$1
MINUTES=$2
OUT=${OUT:-/tmp/out}
[ "${SKIP_WHEELS:-}" = 1 ] || python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 VOCODER_STUDIO_DATA=$PWD/.gpu-pack
mkdir -p "$OUT/models"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
python3 -m vocoder_studio train "$MODEL" --device "${DEVICE:-cuda}" --minutes "$MINUTES" --run "/tmp/run/$MODEL" \
  --export "$OUT/models" ${TRAIN_ARGS:-}
cp "/tmp/run/$MODEL/log.csv" "$OUT/$MODEL-log.csv" 2>/dev/null || true
cp "/tmp/run/$MODEL/valid.csv" "$OUT/$MODEL-valid.csv" 2>/dev/null || true
ls -la "$OUT" "$OUT/models"
