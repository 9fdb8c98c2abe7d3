"""Calibrate HiFi-GAN's int8 path once and write its activation quantisation parameters (the file
``HiFiGAN(precision="int8")`` reads), so no user needs the corpus or waits for a calibration.

The residual blocks' convolutions of all four upsampling stages are calibrated (``hifigan.INT8_STAGES`` says how
many of them the int8 path quantises); their input and output scales and zero points (7-bit activations, as
AVX2's int8 kernels need) come from histogram observers run over eight 3 s clips of the corpus's valid split
(``scripts/hifigan_speed.py``'s calibration, never the held-out clips). The per-channel int8 weights are not
stored: they are quantised from the float weights at load.

    PYTHONPATH=$PWD python scripts/hifigan_int8_calibrate.py [OUT.json]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hifigan_speed import int8_generator  # noqa: E402

from vocoder_studio.vocoders.hifigan import INT8_QPARAMS, load_generator  # noqa: E402

STAGES = 4


def main() -> int:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else INT8_QPARAMS
    torch.set_num_threads(1)
    model = int8_generator(load_generator(cache=False), stages=STAGES)
    qparams = {}
    for name, module in model.named_modules():
        if hasattr(module, "quant") and hasattr(module, "module"):
            qparams[name] = {"in_scale": float(module.quant.scale), "in_zero_point": int(module.quant.zero_point),
                             "out_scale": float(module.module.scale),
                             "out_zero_point": int(module.module.zero_point)}
    out.write_text(json.dumps({"stages": STAGES, "engine": torch.backends.quantized.engine,
                               "calibration": "8 clips of 3 s from the corpus's valid split, histogram observers",
                               "convolutions": qparams}, indent=1) + "\n")
    print(f"{len(qparams)} convolutions → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
