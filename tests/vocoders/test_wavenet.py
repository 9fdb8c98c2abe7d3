"""WaveNet: μ-law, an honest receptive field (causality), the queued sampler equal to the parallel pass, seeded
and repeatable generation in batched segments, a stream that concatenates to ``vocode``, checkpoints that
round-trip or make the entry unavailable with the reason, and a model that learns on real speech."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG, wav_to_mel
from vocoder_studio.document import Document, Region
from vocoder_studio.editing import apply_gain
from vocoder_studio.engine.render import Renderer
from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.training.recipes import RECIPES, WaveNetRecipe
from vocoder_studio.vocoders import create_vocoder, get_entry, registry
from vocoder_studio.vocoders.base import chunk_bounds
from vocoder_studio.vocoders.checkpoints import ModelCard, model_dirs
from vocoder_studio.vocoders.wavenet import (
    CHECKPOINT,
    QueuedSampler,
    WaveNet,
    WaveNetConfig,
    WaveNetVocoder,
    intra_op_threads,
    load_model,
    mu_law_decode,
    mu_law_encode,
    naive_step_logits,
    plan_segments,
    read_checkpoint,
    save_model,
)

HOP = DEFAULT_CONFIG.hop_length
#: a small model for the tests that generate many samples: 2 × 4 layers, receptive field 31 samples
SMALL = WaveNetConfig(residual_channels=16, skip_channels=32, layers_per_stack=4, cond_channels=32)


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """An empty models directory searched first ($VOCODER_STUDIO_MODELS), with the registry re-read."""
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(folder))
    registry.refresh()
    yield folder
    registry.refresh()


def write_card(checkpoint: Path) -> None:
    card = ModelCard(name="wavenet", summary="WaveNet test model, untrained", steps=0,
                     mel_config={"hop_length": DEFAULT_CONFIG.hop_length, "n_fft": DEFAULT_CONFIG.n_fft})
    checkpoint.with_suffix(".json").write_text(json.dumps(card.to_dict()))


def small_vocoder(seed: int = 0, **kwargs: object) -> WaveNetVocoder:
    torch.manual_seed(11)
    return WaveNetVocoder(WaveNet(SMALL), seed=seed, **kwargs)


def test_mu_law_round_trip(speech: np.ndarray) -> None:
    codes = torch.arange(256)
    assert torch.equal(mu_law_encode(mu_law_decode(codes)), codes)
    assert mu_law_encode(torch.tensor([-1.0, 0.0, 1.0, 7.0])).tolist() == [0, 128, 255, 255]
    x = torch.from_numpy(speech)
    y = mu_law_decode(mu_law_encode(x))
    # the μ-law step is relative: about 3 % of the value (π / 100 at the top), 1 / 8000 near zero
    assert float((y - x).abs().max()) < 0.035 * float(x.abs().max()) + 1e-3
    snr = 10 * torch.log10(x.pow(2).sum() / (x - y).pow(2).sum())
    assert float(snr) > 30


def test_default_size_and_receptive_field() -> None:
    config = WaveNetConfig()
    assert config.dilations == [2**i for i in range(10)] * 2
    assert config.receptive_field == 2047 and config.receptive_field_frames == 8 + 2
    assert 0.9e6 < sum(p.numel() for p in WaveNet(config).parameters()) < 1.2e6
    assert SMALL.receptive_field == 31 and SMALL.receptive_field_frames == 1 + 2
    with pytest.raises(ValueError, match="residual_channels"):
        WaveNetConfig(residual_channels=0)


def test_causality_and_receptive_field_in_samples() -> None:
    """Changing sample j changes the logits of exactly samples j + 1 … j + receptive_field: never an earlier
    one (causal) and none further (the field is honest)."""
    torch.manual_seed(0)
    model = WaveNet(SMALL).eval()
    mel = torch.randn(1, DEFAULT_CONFIG.n_mels, 3) - 5
    samples = torch.randint(0, 256, (1, 3 * HOP))
    j = 300
    changed = samples.clone()
    changed[0, j] = (samples[0, j] + 77) % 256
    with torch.no_grad():
        diff = (model(mel, samples) - model(mel, changed)).abs().amax(dim=1)[0]
    reached = (diff > 0).nonzero().flatten()
    assert (int(reached.min()), int(reached.max())) == (j + 1, j + SMALL.receptive_field)
    assert len(reached) == SMALL.receptive_field


def test_the_conditioning_reaches_two_frames_each_side() -> None:
    torch.manual_seed(0)
    model = WaveNet(SMALL).eval()
    mel = torch.randn(1, DEFAULT_CONFIG.n_mels, 12) - 5
    samples = torch.randint(0, 256, (1, 12 * HOP))
    changed = mel.clone()
    changed[0, :, 6] += 1.0
    with torch.no_grad():
        diff = (model(mel, samples) - model(changed, samples)).abs().amax(dim=1)[0]
    frames = sorted({int(t) // HOP for t in (diff > 0).nonzero().flatten()})
    assert frames[0] == 6 - SMALL.cond_context_frames
    # later frames change through the sample history too, but nothing before frame 4
    assert diff[: 4 * HOP].abs().max() == 0


def test_the_queued_sampler_equals_the_parallel_pass() -> None:
    """Per-step logits of the queued sampler (full-size model, two streams, sampled at temperature 1) against
    the teacher-forced forward pass over the samples it drew, and the naive recomputation at one step."""
    torch.manual_seed(0)
    model = WaveNet().eval()
    frames = 10
    mel = torch.randn(2, DEFAULT_CONFIG.n_mels, frames) - 5
    with torch.no_grad(), intra_op_threads(1):
        cond = model.conditioning(mel)
        sampler = QueuedSampler(model, 2, 1.0, torch.Generator().manual_seed(3), record=True)
        codes = torch.cat([sampler.frame(cond[:, :, k]) for k in range(frames)], dim=1)
        queued = torch.stack(sampler.logits, dim=-1)
        parallel = model(mel, codes)
        assert codes.shape == (2, frames * HOP) and len(torch.unique(codes)) > 10  # really sampled
        assert float((queued - parallel).abs().max()) < 1e-5
        n = 2400  # beyond the receptive field: the naive window starts past sample 0
        assert float((naive_step_logits(model, cond, codes[:, :n]) - parallel[:, :, n]).abs().max()) < 1e-5


def test_the_tail_cut_never_draws_an_unlikely_class() -> None:
    """LPCNet's sampling floor: with ``tail_cut`` every drawn class had at least that probability at the
    sampling temperature; without it the untrained model's flat softmax draws below it; out of range is refused."""
    torch.manual_seed(0)
    model = WaveNet(SMALL).eval()
    mel = torch.randn(1, DEFAULT_CONFIG.n_mels, 4) - 5
    with torch.no_grad():
        cond = model.conditioning(mel)
        for cut, expect_below in ((0.0, True), (0.003, False)):
            sampler = QueuedSampler(model, 1, 0.7, torch.Generator().manual_seed(1), record=True, tail_cut=cut)
            codes = torch.cat([sampler.frame(cond[:, :, k]) for k in range(4)], dim=1)[0]
            probs = torch.softmax(torch.stack(sampler.logits)[:, 0] / 0.7, dim=1)
            drawn = probs[torch.arange(codes.numel()), codes]
            assert bool((drawn < 0.003).any()) is expect_below
    with pytest.raises(ValueError, match="tail_cut"):
        QueuedSampler(model, 1, tail_cut=0.01)
    assert small_vocoder(tail_cut=0.002).tail_cut == 0.002


def test_seeded_generation_is_repeatable_and_one_hop_per_frame(speech_mel: np.ndarray) -> None:
    vocoder = small_vocoder(seed=5, segment_frames=8)
    mel = speech_mel[:, 100:130]
    first = vocoder.vocode(mel)
    assert first.shape == (30 * HOP,) and first.dtype == torch.float32
    assert float(first.abs().max()) <= 1.0 and float(first.std()) > 0
    assert torch.equal(first, vocoder.vocode(mel))
    assert not torch.equal(first, small_vocoder(seed=6, segment_frames=8).vocode(mel))
    assert vocoder.vocode(mel[:, :1]).shape == (HOP,)
    batch = vocoder.vocode(np.stack([mel, mel[:, ::-1]]))
    assert batch.shape == (2, 30 * HOP) and float(batch[1].std()) > 0


def test_the_sampler_runs_on_one_thread_and_restores_the_setting() -> None:
    before = torch.get_num_threads()
    with intra_op_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert small_vocoder().sampler_threads == 1


def test_segments_cover_every_frame_once_with_a_warm_up() -> None:
    plan = plan_segments(100, 4, 10)
    assert [(s.start, s.end, s.warm) for s in plan] == [(0, 25, 0), (15, 50, 10), (40, 75, 10), (65, 100, 10)]
    covered = [f for s in plan for f in range(s.start + s.warm, s.end)]
    assert covered == list(range(100))
    assert [(s.start, s.end, s.warm) for s in plan_segments(5, 8, 10)][-1] == (0, 5, 4)


def test_each_segment_warms_up_on_the_conditioning_before_it(speech_mel: np.ndarray) -> None:
    """Segments of 8 frames, each but the first starting receptive_field_frames = 3 earlier. A change of mel frame
    13 reaches the conditioning of frames 11 … 15: the audio changes from frame 11 on (in the segment holding it
    and in the next one's warm-up), never before, and segments whose streams never see it stay the same."""
    vocoder = small_vocoder(seed=1, segment_frames=8, temperature=0.1)  # the untrained logits matter in each draw
    plan = [(s.start, s.end, s.warm) for s in vocoder.segments(40)]
    assert plan == [(0, 8, 0), (5, 16, 3), (13, 24, 3), (21, 32, 3), (29, 40, 3)]
    mel = speech_mel[:, 400:440].copy()
    before = vocoder.vocode(mel)
    mel[:, 13] += 5.0
    after = vocoder.vocode(mel)
    changed = [f for f in range(40) if not torch.equal(before[f * HOP : (f + 1) * HOP], after[f * HOP : (f + 1) * HOP])]
    assert changed[0] == 11 and changed[-1] < 24


def test_stream_yields_in_order_and_concatenates_to_vocode(speech_mel: np.ndarray) -> None:
    """The same segments are generated whatever the chunking: the streamed blocks are vocode's audio."""
    vocoder = small_vocoder(seed=2, segment_frames=12)
    mel = speech_mel[:, 200:250]
    full = vocoder.vocode(mel)
    blocks = []
    for block in vocoder.stream(mel, chunk_frames=16, first_chunk_frames=4):
        assert not torch.is_inference_mode_enabled()  # no grad mode leaks into the consumer between blocks
        blocks.append(block)
    sizes = [b - a for a, b in chunk_bounds(50, 16, 4)]
    assert [len(block) // HOP for block in blocks] == sizes
    assert torch.equal(torch.cat(blocks), full)
    assert torch.equal(torch.cat(list(vocoder.stream(mel, chunk_frames=50, first_chunk_frames=None))), full)
    assert vocoder.local_edits is False


def test_the_renderer_regenerates_from_the_edit_to_the_end(speech_mel: np.ndarray) -> None:
    """What the panel says: re-vocoding an edit regenerates WaveNet's audio from the edit's start (less the
    warm-up) to the end; the audio before it is kept."""
    vocoder = small_vocoder(seed=4, segment_frames=8)
    c = vocoder.receptive_field_frames
    doc = Document(speech_mel[:, 300:340])
    renderer = Renderer(vocoder)
    before = renderer.render(doc.mel, doc.version, chunk_frames=16)
    np.testing.assert_array_equal(before, vocoder.vocode(doc.mel).numpy())
    apply_gain(doc, Region(25, 30, 0, DEFAULT_CONFIG.n_mels), -12.0)
    assert renderer.update(doc.mel, doc.version) == (25 - c, 40)
    after = renderer.render(doc.mel, doc.version, chunk_frames=16)
    np.testing.assert_array_equal(after[: (25 - c) * HOP], before[: (25 - c) * HOP])
    warm = torch.cat(list(vocoder.stream(doc.mel[:, 25 - 2 * c :]))).numpy()
    np.testing.assert_array_equal(after[(25 - c) * HOP :], warm[c * HOP :])


def test_a_few_training_steps_lower_the_cross_entropy(speech: np.ndarray) -> None:
    """20 steps of the recipe's teacher-forced loss on real speech (the small model, 2 × 4096 samples, one
    thread: the tiny convolutions gain nothing from a second one on a busy machine)."""
    torch.manual_seed(0)
    recipe = WaveNetRecipe(model_config=SMALL)
    model = recipe.build()
    audio = torch.from_numpy(np.stack([speech[30000:34096], speech[60000:64096]]))
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    history = []
    with intra_op_threads(1):
        for _ in range(20):
            loss, parts = recipe.loss(model, audio)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            history.append(parts["ce"])
    assert history[0] > 5.0  # near ln 256 = 5.55 at the start
    assert history[-1] < history[0] - 1.0


def test_noise_injection_moves_the_inputs_only_and_only_in_training(speech: np.ndarray,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """LPCNet's noise injection: the past the network sees is the true μ-law past moved by at most ±k classes
    (clipped to the range), the targets stay clean, and an eval-mode loss sees the clean past."""
    seen: list[tuple[torch.Tensor, torch.Tensor | None]] = []
    forward = WaveNet.forward

    def spy(self: WaveNet, mel: torch.Tensor, samples: torch.Tensor, cond: torch.Tensor | None = None,
            inputs: torch.Tensor | None = None) -> torch.Tensor:
        seen.append((samples, inputs))
        return forward(self, mel, samples, cond, inputs)

    monkeypatch.setattr(WaveNet, "forward", spy)
    torch.manual_seed(3)
    recipe = WaveNetRecipe(model_config=SMALL, input_noise=2)
    model = recipe.build()
    audio = torch.from_numpy(np.stack([speech[30000:34096], np.full(4096, 0.999, np.float32)]))
    recipe.loss(model, audio)
    target, inputs = seen[-1]
    assert inputs is not None and torch.equal(target, mu_law_encode(audio))
    moved = inputs - target
    assert int(moved.abs().max()) == 2 and set(moved.unique().tolist()) <= {-2, -1, 0, 1, 2}
    assert 0.15 < float((moved[0] == 0).float().mean()) < 0.25  # uniform over the 5 values
    assert int(target[1].min()) == 255 and int(moved[1].max()) == 0  # clipped at the top class
    model.eval()
    recipe.loss(model, audio)
    assert seen[-1][1] is None
    assert WaveNetRecipe().hyperparameters()["input_noise"] == 2
    with pytest.raises(ValueError, match="inputs"):
        WaveNet(SMALL)(wav_to_mel(audio), target, inputs=target[:, :-HOP])


def test_recipe_is_registered_with_the_safe_learning_rate() -> None:
    recipe, settings = RECIPES["wavenet"]()
    assert recipe.name == "wavenet" and settings.learning_rate <= 5e-4 and settings.grad_clip == 1.0
    assert settings.segment_samples % HOP == 0
    assert "2 × 10 dilated causal layers" in recipe.describe(recipe.build())
    mel = wav_to_mel(torch.zeros(1, 4 * HOP))
    with torch.no_grad():
        audio = WaveNetRecipe(model_config=SMALL).vocode(WaveNet(SMALL).eval(), mel)
    assert audio.shape == (1, 4 * HOP)


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    torch.manual_seed(2)
    model = WaveNet(SMALL).eval()
    optimizer = torch.optim.AdamW(model.parameters())
    path = save_model(tmp_path / "sub" / CHECKPOINT, model, optimizer=optimizer.state_dict(), step=7)
    assert set(read_checkpoint(path)) == {"config", "model", "optimizer", "step"}
    loaded, config = load_model(path)
    assert config == SMALL and not loaded.training
    mel = torch.randn(1, DEFAULT_CONFIG.n_mels, 4) - 5
    samples = torch.randint(0, 256, (1, 4 * HOP))
    with torch.no_grad():
        assert torch.equal(model(mel, samples), loaded(mel, samples))
    with pytest.raises(ValueError, match="reserved"):
        save_model(path, model, SMALL, model=1)


def test_the_entry_loads_a_checkpoint_with_its_parameters(models_dir: Path, speech_mel: np.ndarray) -> None:
    torch.manual_seed(3)
    model = WaveNet(SMALL).eval()
    write_card(save_model(models_dir / CHECKPOINT, model))
    entry = get_entry("wavenet")
    assert entry.unavailable_reason() is None and entry.defaults() == {"temperature": 1.0, "tail_cut": 0.0, "seed": 0}
    vocoder = create_vocoder("wavenet", temperature=0.5, seed=9)
    assert isinstance(vocoder, WaveNetVocoder) and (vocoder.temperature, vocoder.seed) == (0.5, 9)
    assert vocoder.receptive_field_frames == SMALL.receptive_field_frames and not vocoder.local_edits
    expected = WaveNetVocoder(model, temperature=0.5, seed=9).vocode(speech_mel[:, :6])
    assert torch.equal(vocoder.vocode(speech_mel[:, :6]), expected)


def test_a_missing_or_broken_checkpoint_makes_the_entry_unavailable(models_dir: Path) -> None:
    entry = get_entry("wavenet")
    if not any((folder / CHECKPOINT).is_file() for folder in model_dirs()[1:]):  # none trained elsewhere yet
        reason = entry.unavailable_reason()
        assert reason is not None and "wavenet.pt: no trained checkpoint found" in reason
    path = models_dir / CHECKPOINT
    save_model(path, WaveNet(SMALL))
    write_card(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    assert "truncated or not a torch checkpoint" in (entry.unavailable_reason() or "")
    with pytest.raises(VocoderUnavailableError, match="truncated"):
        create_vocoder("wavenet")
    assert get_entry("griffin-lim").status() == "ready"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("notes.txt", "not a model")
    with pytest.raises(VocoderUnavailableError, match=r"wavenet\.pt: unreadable checkpoint"):
        create_vocoder("wavenet")
    torch.save({"gain": torch.tensor(1.0)}, path)
    with pytest.raises(VocoderUnavailableError, match="not a WaveNet checkpoint"):
        create_vocoder("wavenet")
    torch.save({"config": {**SMALL.to_dict(), "residual_channels": 8}, "model": WaveNet(SMALL).state_dict()}, path)
    with pytest.raises(VocoderUnavailableError, match="weights do not fit the stored config"):
        create_vocoder("wavenet")
