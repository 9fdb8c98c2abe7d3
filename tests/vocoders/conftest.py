"""The toy plug-in, installed for a test as a real distribution: a ``*.dist-info`` folder with an entry point on
sys.path (what ``pip install`` leaves behind), so ``importlib.metadata`` finds it as it would in a user's venv."""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

from vocoder_studio.vocoders import registry
from vocoder_studio.vocoders.melgan import MelGANGenerator

PLUGIN_SOURCE = Path(__file__).parent / "plugin_src" / "toy_vocoder_plugin.py"


def install_toy_plugin(site: Path) -> Path:
    """Write the plug-in and its dist-info into ``site``; returns ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    shutil.copy(PLUGIN_SOURCE, site / PLUGIN_SOURCE.name)
    info = site / "toy_vocoder_plugin-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-vocoder-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[vocoder_studio.vocoders]\ntoy = toy_vocoder_plugin\n")
    return site


def plugins_on_path(site: Path, models: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The packages installed in ``site`` on sys.path for one test, with an empty models directory of its own
    (``$VOCODER_STUDIO_MODELS``), the registry read again before and after; yields ``models``."""
    models.mkdir(exist_ok=True)
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(models))
    importlib.invalidate_caches()
    registry.refresh()
    yield models
    registry.refresh()


@pytest.fixture
def toy_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The toy plug-in installed on sys.path for this test; yields its models directory (empty)."""
    yield from plugins_on_path(install_toy_plugin(tmp_path / "site"), tmp_path / "models", monkeypatch)


#: Broken plug-ins, one package each (module name -> source): every way a plug-in can fail that the registry
#: must survive (issue 18).
BROKEN_PLUGINS = {
    "exits_at_import": "import sys\nsys.exit(3)\n",
    "raises_at_import": "raise RuntimeError('no driver for this card\\nsecond line of the message')\n",
    "generator_exit_at_import": "raise GeneratorExit\n",
    "vocoders_of_wrong_type": "VOCODERS = 42\n",
    "vocoders_of_strings": "VOCODERS = 'griffin-lim'\n",
    "prints_at_import": "print('a plug-in talking on stdout')\nVOCODERS = ()\n",
    "vocoder_impostor": (
        "from vocoder_studio.vocoders.entry import VocoderEntry\n"
        "def factory(**kwargs):\n"
        "    raise SystemExit('an impostor was built')\n"
        "VOCODERS = (VocoderEntry(name='griffin-lim', label='An impostor', factory=factory),\n"
        "            VocoderEntry(name='toy-sine', label='Another impostor', factory=factory))\n"
    ),
    "hooks_raise": (
        "import sys\n"
        "from toy_vocoder_plugin import ToySine\n"
        "from vocoder_studio.vocoders.entry import VocoderEntry\n"
        "def divide():\n"
        "    return 1 / 0\n"
        "def leave(*args, **kwargs):\n"
        "    sys.exit(5)\n"
        "VOCODERS = (\n"
        "    VocoderEntry(name='check-raises', label='Check raises', factory=ToySine, check=divide),\n"
        "    VocoderEntry(name='check-exits', label='Check exits', factory=ToySine, check=leave),\n"
        "    VocoderEntry(name='card-exits', label='Card exits', factory=ToySine, card=leave),\n"
        "    VocoderEntry(name='check-says-yes', label='Check returns True', factory=ToySine, check=lambda: True),\n"
        "    VocoderEntry(name='factory-exits', label='Factory exits', factory=leave),\n"
        "    VocoderEntry(name='bad-label', label=7, factory=ToySine),\n"
        ")\n"
    ),
}


def install_broken_plugins(site: Path, unparsable: bool = False) -> Path:
    """Install :data:`BROKEN_PLUGINS` into ``site`` as separate packages (entry point ``NAME`` with dashes);
    returns ``site``.

    Args:
        unparsable: add a package whose ``entry_points.txt`` cannot be parsed. Only for a process that has
            imported torch already: ``import torch`` reads every package's entry points and fails on it.
    """
    site.mkdir(parents=True, exist_ok=True)
    for module, source in BROKEN_PLUGINS.items():
        (site / f"{module}.py").write_text(source)
        _dist_info(site, module, f"{module.replace('_', '-')} = {module}\n")
    if unparsable:
        _dist_info(site, "unparsable_entry_points", "this line has no equals sign\n")
    return site


def _dist_info(site: Path, module: str, points: str) -> None:
    info = site / f"{module}-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[vocoder_studio.vocoders]\n{points}")


def lively(model: MelGANGenerator, gain: float = 0.8) -> MelGANGenerator:
    """Re-draw every convolution weight with about ``gain`` times unit gain, in place (through weight norm).

    Torch's default initialisation under weight norm makes a near-constant output (std 3e-4 around 0.15 on
    speech): too tame to show a wrong splice or a wrong fold. This one varies with the mel without saturating.
    """
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.Conv1d):
                fan_in = module.weight[0].numel()
            elif isinstance(module, torch.nn.ConvTranspose1d):
                fan_in = module.weight.shape[0] * module.weight.shape[2] // module.stride[0]
            else:
                continue
            module.weight = torch.randn_like(module.weight) * gain / fan_in**0.5  # right_inverse sets g and v
    return model
