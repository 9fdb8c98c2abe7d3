"""MelNet generation as a job: partial blocks land on the right frames of the document, as one undo step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from vocoder_studio.document import Document
from vocoder_studio.engine.generate import GenerateRequest, generation_job
from vocoder_studio.engine.jobs import CancelToken, run_job
from vocoder_studio.melnet import MelNet, MelNetConfig, save_model


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("melnet") / "melnet.pt"
    save_model(path, MelNet(MelNetConfig(n_tiers=2, layers=(1, 1), hidden=8, mixtures=2)))
    return path


def _run(request: GenerateRequest, mel: np.ndarray, model: Path, doc: Document | None) -> list[Any]:
    pieces: list[Any] = []
    token = CancelToken()

    def on_partial(piece: Any) -> None:
        pieces.append(piece)
        if doc is not None:
            request.apply(doc, piece[0], piece[1], first=len(pieces) == 1)

    frames = run_job(generation_job(request, mel, model), cancel=token, on_partial=on_partial)
    assert frames == sum(p[1].shape[1] for p in pieces)
    return pieces


def test_fill_replaces_only_the_selection_in_one_undo_step(tiny_model: Path, speech_mel: np.ndarray) -> None:
    mel = speech_mel[:, :200]
    doc = Document(mel)
    _run(GenerateRequest("fill", start=80, end=120, seed=3), doc.mel, tiny_model, doc)
    assert doc.frames == 200
    np.testing.assert_array_equal(doc.mel[:, :80], mel[:, :80])
    np.testing.assert_array_equal(doc.mel[:, 120:], mel[:, 120:])
    assert not np.array_equal(doc.mel[:, 80:120], mel[:, 80:120])
    assert doc.undo_label == "Fill selection"
    doc.undo()
    np.testing.assert_array_equal(doc.mel, mel)


def test_continue_inserts_at_the_cursor(tiny_model: Path, speech_mel: np.ndarray) -> None:
    mel = speech_mel[:, :150]
    doc = Document(mel)
    request = GenerateRequest("continue", seconds=0.3, cursor=100, seed=1)
    new = request.frames()
    pieces = _run(request, doc.mel, tiny_model, doc)
    assert pieces[0][0] == 100 and len(pieces) >= 1
    assert doc.frames == 150 + new
    np.testing.assert_array_equal(doc.mel[:, :100], mel[:, :100])
    np.testing.assert_array_equal(doc.mel[:, 100 + new :], mel[:, 100:])  # the rest moved right, untouched
    assert doc.undo_label == "Continue"
    doc.undo()
    np.testing.assert_array_equal(doc.mel, mel)


def test_new_utterance_and_same_seed_same_frames(tiny_model: Path) -> None:
    request = GenerateRequest("new", seconds=0.2, seed=7)
    first = np.concatenate([b for _, b in _run(request, np.zeros((80, 0), np.float32), tiny_model, None)], axis=1)
    again = np.concatenate([b for _, b in _run(request, np.zeros((80, 0), np.float32), tiny_model, None)], axis=1)
    assert first.shape == (80, request.frames())
    np.testing.assert_array_equal(first, again)


def test_a_fill_outside_the_document_is_refused(tiny_model: Path, speech_mel: np.ndarray) -> None:
    from vocoder_studio.errors import VocoderStudioError

    with pytest.raises(VocoderStudioError, match="select frames inside the document"):
        _run(GenerateRequest("fill", start=10, end=5000), speech_mel[:, :100], tiny_model, None)


def test_new_frames_draw_each_tier_with_the_voiced_factors(tmp_path: Path) -> None:
    """A 4-tier model: the job's new utterance is ``sample`` at the request's temperature times the default
    per-tier factors (``VOICED_TIER_TEMPERATURES``), not every tier at the plain temperature."""
    from vocoder_studio.audio.mel import DEFAULT_CONFIG
    from vocoder_studio.engine.generate import default_temperature
    from vocoder_studio.melnet import sample
    from vocoder_studio.melnet.sampling import VOICED_TIER_TEMPERATURES

    torch.manual_seed(0)
    model = MelNet(MelNetConfig(n_tiers=4, layers=(1, 1, 1, 1), hidden=8, mixtures=2))
    path = save_model(tmp_path / "melnet.pt", model)
    request = GenerateRequest("new", seconds=0.1, seed=5)
    got = np.concatenate([b for _, b in _run(request, np.zeros((80, 0), np.float32), path, None)], axis=1)
    kwargs: dict[str, Any] = {"temperature": default_temperature(request.mode), "seed": 5,
                              "floor": DEFAULT_CONFIG.floor_ln}
    voiced = sample(model.eval(), request.frames(), tier_temperatures=VOICED_TIER_TEMPERATURES, **kwargs)
    np.testing.assert_array_equal(got, voiced)
    assert not np.array_equal(got, sample(model, request.frames(), **kwargs))
