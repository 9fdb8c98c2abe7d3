"""Adversarial training in the shared trainer, with the MelGAN recipe: the generator warm-up lowers the loss
without building a discriminator, the discriminator trains when it is on, resume stays exact with it, the log
widens when it turns on, and the export gives a model the registry loads."""

from __future__ import annotations

import csv
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.training.data import Pack
from vocoder_studio.training.discriminators import DiscriminatorConfig
from vocoder_studio.training.recipes import RECIPES, MelGANRecipe
from vocoder_studio.training.trainer import DiscriminatorSettings, Trainer, TrainSettings
from vocoder_studio.vocoders.melgan import MelGANConfig, MelGANGenerator

HOP = DEFAULT_CONFIG.hop_length
SMALL_G = MelGANConfig(ngf=4)
SMALL_D = DiscriminatorConfig(ndf=4, n_layers=2, max_channels=32)


def small_recipe(start_step: int) -> MelGANRecipe:
    return MelGANRecipe(SMALL_G, SMALL_D, DiscriminatorSettings(start_step=start_step))


@pytest.fixture
def packs(speech: np.ndarray) -> tuple[Pack, Pack]:
    audio = np.round(speech * 32767).astype(np.int16)
    half = audio.size // 2
    train = Pack(audio[:half], np.array([0, half // 3, half]), DEFAULT_CONFIG.sample_rate)
    valid = Pack(audio[half:], np.array([0, audio.size - half]), DEFAULT_CONFIG.sample_rate)
    return train, valid


def test_the_melgan_recipe_warms_up_before_the_discriminator() -> None:
    recipe, settings = RECIPES["melgan"]()
    assert isinstance(recipe, MelGANRecipe)
    assert recipe.discriminator_settings.start_step == 100_000 and settings.learning_rate == 1e-3
    assert (recipe.feature_weight, recipe.mel_weight) == (10.0, 45.0)
    assert "until step 100000" in recipe.describe(recipe.build())


def test_warm_up_steps_lower_the_loss_without_a_discriminator(tmp_path: Path, speech: np.ndarray) -> None:
    """The paper's generator on one real 0.37 s segment (a one-clip pack: every batch is that segment): 12
    warm-up steps of mel-L1 + MR-STFT at lr 1e-3 lower the loss; no discriminator is built or saved."""
    segment = np.round(speech[30000 : 30000 + 8192] * 32767).astype(np.int16)
    pack = Pack(segment, np.array([0, segment.size]), DEFAULT_CONFIG.sample_rate)
    settings = TrainSettings(batch_size=1, segment_samples=8192, learning_rate=1e-3, log_every=1,
                             validate_every=0)
    trainer = Trainer(MelGANRecipe(), pack, None, tmp_path, settings)
    trainer.run(steps=12)
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    losses = [float(r["loss"]) for r in rows]
    assert {"mel_l1", "stft_sc", "stft_mag"} <= set(rows[0]) and "d_loss" not in rows[0]
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3])
    assert float(rows[-1]["mel_l1"]) < float(rows[0]["mel_l1"])
    assert trainer.discriminator is None and not trainer.discriminator_on
    assert "discriminator" not in torch.load(trainer.checkpoint_path, weights_only=False)


def test_with_the_discriminator_on_from_step_0_both_networks_train(tmp_path: Path,
                                                                  packs: tuple[Pack, Pack]) -> None:
    train, _ = packs
    settings = TrainSettings(batch_size=2, segment_samples=4096, learning_rate=1e-3, log_every=1,
                             validate_every=0)
    trainer = Trainer(small_recipe(0), train, None, tmp_path, settings)
    assert trainer.discriminator_on and trainer.discriminator is None
    terms = trainer.train_step()
    assert trainer.discriminator is not None
    initial = {k: v.clone() for k, v in trainer.discriminator.state_dict().items()}
    trainer.run(steps=2)
    for key in ("loss", "adv", "fm", "mel_l1", "d_loss", "d_real", "d_fake"):
        assert math.isfinite(terms[key]), key
    assert terms["d_loss"] == pytest.approx(terms["d_real"] + terms["d_fake"])
    assert any(not torch.equal(initial[k], v) for k, v in trainer.discriminator.state_dict().items())
    assert trainer.optimizer.param_groups[0]["lr"] == 2e-4  # the generator slows down when the D turns on
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert len(rows) == 2 and all(math.isfinite(float(r["d_loss"])) for r in rows)
    saved = torch.load(trainer.checkpoint_path, weights_only=False)
    assert {"discriminator", "discriminator_optimizer"} <= set(saved)


def _same_weights(a: Trainer, b: Trainer) -> None:
    assert a.discriminator is not None and b.discriminator is not None
    for x, y in zip(a.model.state_dict().values(), b.model.state_dict().values(), strict=True):
        assert torch.equal(x, y)
    for x, y in zip(a.discriminator.state_dict().values(), b.discriminator.state_dict().values(), strict=True):
        assert torch.equal(x, y)


@pytest.mark.parametrize("start_step", [0, 4])
def test_resume_is_exact_with_the_discriminator(tmp_path: Path, packs: tuple[Pack, Pack], start_step: int) -> None:
    """6 steps straight and 3 + 3 with a resume reach bit-identical generator and discriminator weights, with
    the discriminator on throughout (start 0) or switched on after the resume (start 4)."""
    train, _ = packs
    settings = TrainSettings(batch_size=2, segment_samples=2048, validate_every=0)
    straight = Trainer(small_recipe(start_step), train, None, tmp_path / "a", settings)
    straight.run(steps=6)
    first = Trainer(small_recipe(start_step), train, None, tmp_path / "b", settings)
    first.run(steps=3)
    resumed = Trainer(small_recipe(start_step), train, None, tmp_path / "b", settings)
    assert resumed.state.step == 3 and (resumed.discriminator is None) == (start_step > 3)
    resumed.run(steps=3)
    _same_weights(straight, resumed)
    # the start step is not part of the run's identity: a resume may switch the discriminator on earlier
    Trainer(small_recipe(start_step + 1), train, None, tmp_path / "b", settings)


def test_a_generator_carried_alone_resumes_with_a_fresh_discriminator(tmp_path: Path,
                                                                     packs: tuple[Pack, Pack]) -> None:
    """A checkpoint without the discriminator (G + D with Adam is ≈ 250 MB: too big to carry) resumes
    the generator exactly and starts a new discriminator, initialised as the run's first one was."""
    train, _ = packs
    settings = TrainSettings(batch_size=2, segment_samples=2048, validate_every=0)
    trainer = Trainer(small_recipe(0), train, None, tmp_path, settings)
    first_d = {k: v.clone() for k, v in trainer._ensure_discriminator(switching=True)[0].state_dict().items()}
    trainer.run(steps=2)
    data = torch.load(trainer.checkpoint_path, weights_only=False)
    del data["discriminator"], data["discriminator_optimizer"]
    torch.save(data, trainer.checkpoint_path)
    carried = Trainer(small_recipe(0), train, None, tmp_path, settings)
    assert carried.state.step == 2 and carried.discriminator is None
    for a, b in zip(trainer.model.state_dict().values(), carried.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    fresh = Trainer(small_recipe(0), train, None, tmp_path / "fresh", settings)
    fresh_d, _ = fresh._ensure_discriminator(switching=True)
    assert all(torch.equal(first_d[k], v) for k, v in fresh_d.state_dict().items())  # seeded with seed + 1
    carried.run(steps=1)
    assert carried.state.step == 3 and carried.discriminator is not None


def test_the_log_widens_when_the_discriminator_turns_on(tmp_path: Path, packs: tuple[Pack, Pack]) -> None:
    train, _ = packs
    settings = TrainSettings(batch_size=2, segment_samples=2048, log_every=1, validate_every=0)
    Trainer(small_recipe(2), train, None, tmp_path, settings).run(steps=4)
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == [1, 2, 3, 4]
    assert [r["d_loss"] == "" for r in rows] == [True, True, False, False]
    assert rows[0]["stft_sc"] != "" and rows[3]["fm"] != ""


def test_export_gives_a_model_the_registry_loads(tmp_path: Path, packs: tuple[Pack, Pack],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from vocoder_studio.training import corpus
    from vocoder_studio.training.run import export
    from vocoder_studio.vocoders import create_vocoder, get_entry, registry

    train, valid = packs
    settings = TrainSettings(batch_size=2, segment_samples=2048, validate_every=0, valid_clips=1)
    trainer = Trainer(small_recipe(1), train, valid, tmp_path / "run", settings)
    trainer.run(steps=2)
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr(corpus, "read_manifest", lambda path=None: [
        corpus.Clip("a/cs/x-m-1.ogg", "cs", "cs-m", "a", "train", 60.0)])
    assert [p.name for p in export("melgan", trainer, torch.device("cpu"), models)] == ["melgan.pt", "melgan.json"]
    card = json.loads((models / "melgan.json").read_text())
    assert card["steps"] == 2 and "MelGAN generator" in card["architecture"]
    assert "until step 1, then with the 3-scale discriminator" in card["architecture"]
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(models))
    registry.refresh()
    try:
        assert get_entry("melgan").unavailable_reason() is None
        vocoder = create_vocoder("melgan")
        assert vocoder.vocode(np.full((DEFAULT_CONFIG.n_mels, 7), -4.0, np.float32)).shape == (7 * HOP,)
        assert isinstance(trainer.model, MelGANGenerator) and trainer.model.config == replace(SMALL_G)
    finally:
        registry.refresh()


def test_the_adversarial_terms_ramp_in_after_the_discriminator_starts(tmp_path: Path,
                                                                     packs: tuple[Pack, Pack]) -> None:
    """With ``generator_ramp_steps`` the generator's hinge and feature-matching terms weigh 0 at the
    discriminator's first step and reach 1 after the ramp; the log records the weight."""
    ramp = DiscriminatorSettings(start_step=2, generator_ramp_steps=4)
    assert [ramp.adversarial_weight(s) for s in range(8)] == [0, 0, 0, 0.25, 0.5, 0.75, 1, 1]
    assert DiscriminatorSettings(start_step=2).adversarial_weight(2) == 1.0
    train, _ = packs
    settings = TrainSettings(batch_size=2, segment_samples=2048, log_every=1, validate_every=0)
    recipe = MelGANRecipe(SMALL_G, SMALL_D, ramp)
    Trainer(recipe, train, None, tmp_path, settings).run(steps=5)
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [r["adv_weight"] for r in rows] == ["", "", "0.0", "0.25", "0.5"]


def test_the_generator_objective_can_keep_the_warm_up_loss(speech: np.ndarray) -> None:
    """``stft_weight`` adds the warm-up's multi-resolution STFT terms to the generator's adversarial objective;
    ``adversarial_weight`` scales the hinge and feature-matching terms only (0: reconstruction alone)."""
    from vocoder_studio.training.losses import mel_l1_loss, multi_resolution_stft_loss

    recipe = MelGANRecipe(SMALL_G, SMALL_D, feature_weight=2.0, mel_weight=45.0, stft_weight=45.0)
    torch.manual_seed(0)
    discriminator = recipe.build_discriminator()
    real = torch.from_numpy(speech[20000:24096]).unsqueeze(0)
    fake = recipe.generate(recipe.build(), real)
    convergence, log_l1 = multi_resolution_stft_loss(fake, real)
    reconstruction = 45.0 * mel_l1_loss(fake, real) + 45.0 * (convergence + log_l1)
    alone, terms = recipe.generator_loss(discriminator, real, fake, adversarial_weight=0.0)
    assert float(alone) == pytest.approx(float(reconstruction), rel=1e-5)
    assert {"adv", "fm", "mel_l1", "stft_sc", "stft_mag"} <= set(terms)
    full, terms = recipe.generator_loss(discriminator, real, fake)
    assert float(full) == pytest.approx(float(reconstruction) + terms["adv"] + 2.0 * terms["fm"], rel=1e-5)
    # without the new terms the run's identity is what it was (runs from before them still resume)
    plain = MelGANRecipe(SMALL_G, SMALL_D)
    assert "stft_weight" not in plain.hyperparameters() and recipe.hyperparameters()["stft_weight"] == 45.0


def test_the_shipped_generator_fine_tunes_adversarially_and_resumes_exactly(
        tmp_path: Path, packs: tuple[Pack, Pack]) -> None:
    """The adversarial phase as ``scripts/melgan_adversarial.py`` runs it, on real speech: the shipped
    generator warm-started, a small discriminator, the warm-up loss kept and the adversarial terms ramped in;
    three steps straight and 2 + 1 with a resume between reach bit-identical weights, and the generator moves."""
    from vocoder_studio.vocoders import melgan
    from vocoder_studio.vocoders.trained import load_checkpoint

    shipped = Path(__file__).resolve().parents[2] / "models" / "melgan.pt"
    generator, _ = load_checkpoint(shipped, "melgan", melgan.MelGANConfig, melgan.MelGANGenerator)
    train, _ = packs

    def trainer(folder: str) -> Trainer:
        recipe = MelGANRecipe(generator.config, DiscriminatorConfig(max_channels=64),
                              DiscriminatorSettings(start_step=0, generator_learning_rate=2e-5,
                                                    generator_ramp_steps=2),
                              feature_weight=2.0, mel_weight=45.0, stft_weight=45.0)
        settings = TrainSettings(batch_size=1, segment_samples=4096, learning_rate=1e-3, validate_every=0)
        made = Trainer(recipe, train, None, tmp_path / folder, settings)
        if made.state.step == 0:
            made.model.load_state_dict(generator.float().state_dict())
        return made

    straight = trainer("a")
    straight.run(steps=3)
    trainer("b").run(steps=2)
    resumed = trainer("b")
    assert resumed.state.step == 2 and resumed.discriminator is not None
    resumed.run(steps=1)
    _same_weights(straight, resumed)
    assert straight.optimizer.param_groups[0]["lr"] == 2e-5
    start = generator.float().state_dict()
    assert any(not torch.equal(start[k], v) for k, v in straight.model.state_dict().items())
    assert "generator_ramp_steps" not in straight._identity()["discriminator"]


def test_the_spectrogram_discriminator_is_blind_to_polarity(speech: np.ndarray) -> None:
    """UnivNet's multi-resolution spectrogram discriminator gives one list of feature maps per resolution (the
    score map last, the waveform discriminator's layout) and the same scores for a segment and its negation."""
    from vocoder_studio.training.discriminators import MultiResolutionDiscriminator, ResolutionDiscriminatorConfig

    config = ResolutionDiscriminatorConfig(channels=4)
    torch.manual_seed(0)
    discriminator = MultiResolutionDiscriminator(config)
    audio = torch.from_numpy(speech[20000:28192]).reshape(2, 4096)
    out = discriminator(audio)
    assert len(out) == 3 and all(len(scale) == 6 and scale[-1].shape[:2] == (2, 1) for scale in out)
    assert out[0][-1].shape[2] == 4096 // 120 + 1  # frames of its first resolution (hop 120, centred)
    for a, b in zip(out, discriminator(-audio), strict=True):
        assert torch.allclose(a[-1], b[-1], atol=1e-5)
    with pytest.raises(ValueError, match="win_length"):
        ResolutionDiscriminatorConfig(resolutions=((512, 64, 1024),))


def test_least_squares_objective() -> None:
    """LSGAN's losses vanish where the discriminator scores real 1 and generated 0 (its loss) or generated 1
    (the generator's), and are the mean squared distances otherwise."""
    from vocoder_studio.training.losses import discriminator_lsgan_loss, generator_lsgan_loss

    ones, zeros = [[torch.ones(2, 1, 5)]], [[torch.zeros(2, 1, 5)]]
    real_term, fake_term = discriminator_lsgan_loss(ones, zeros)
    assert float(real_term) == 0 and float(fake_term) == 0 and float(generator_lsgan_loss(ones)) == 0
    real_term, fake_term = discriminator_lsgan_loss([[torch.full((1, 1, 3), 0.5)]], [[torch.full((1, 1, 3), 2.0)]])
    assert (float(real_term), float(fake_term)) == (0.25, 4.0)
    assert float(generator_lsgan_loss(zeros + zeros)) == 2.0  # summed over scales


@pytest.mark.parametrize("options", [
    {"random_polarity": True},
    {"objective": "lsgan", "waveform_discriminator": False, "resolution_config": "small"},
    {"random_polarity": True, "resolution_config": "small"},
])
def test_the_discriminator_options_train_and_resume_exactly(tmp_path: Path, packs: tuple[Pack, Pack],
                                                            options: dict[str, object]) -> None:
    """Random polarity, the spectrogram discriminator (alone or beside the waveform one) and the least-squares
    objective: 4 steps straight and 2 + 2 with a resume reach bit-identical weights (the polarity draws come
    from torch's generator, saved in the checkpoint); the options are part of the run's identity, and a recipe
    without them keeps the identity runs from before them had."""
    from vocoder_studio.training.discriminators import ResolutionDiscriminatorConfig
    from vocoder_studio.training.trainer import TrainingError

    chosen = {**options}
    if chosen.get("resolution_config") == "small":
        chosen["resolution_config"] = ResolutionDiscriminatorConfig(channels=4)

    def recipe(**changes: object) -> MelGANRecipe:
        return MelGANRecipe(SMALL_G, SMALL_D, DiscriminatorSettings(start_step=0), **{**chosen, **changes})

    train, _ = packs
    settings = TrainSettings(batch_size=2, segment_samples=2048, validate_every=0)
    straight = Trainer(recipe(), train, None, tmp_path / "a", settings)
    straight.run(steps=4)
    Trainer(recipe(), train, None, tmp_path / "b", settings).run(steps=2)
    resumed = Trainer(recipe(), train, None, tmp_path / "b", settings)
    resumed.run(steps=2)
    _same_weights(straight, resumed)
    assert set(recipe().hyperparameters()) - set(small_recipe(0).hyperparameters())
    with pytest.raises(TrainingError, match="other settings"):
        Trainer(small_recipe(0), train, None, tmp_path / "b", settings)


def test_the_recipe_refuses_an_unknown_objective_or_no_discriminator() -> None:
    with pytest.raises(ValueError, match="objective"):
        MelGANRecipe(objective="wasserstein")
    with pytest.raises(ValueError, match="no discriminator"):
        MelGANRecipe(waveform_discriminator=False)


def test_random_polarity_negates_real_and_generated_segments_alike() -> None:
    """Each real segment and its generated counterpart get the same sign; about half are negated."""
    recipe = MelGANRecipe(SMALL_G, SMALL_D, random_polarity=True)
    real, fake = torch.ones(64, 8), torch.full((64, 8), 2.0)
    torch.manual_seed(0)
    signed_real, signed_fake = recipe._signed(real, fake)
    assert torch.equal(signed_fake, 2 * signed_real) and 16 < int((signed_real[:, 0] < 0).sum()) < 48
    assert MelGANRecipe(SMALL_G, SMALL_D)._signed(real, fake) == (real, fake)
