"""devices.seeded, and the loaders and trainers that use it to leave the caller's RNG alone."""

import pytest
import torch

from v2a_kit import load_mapper
from v2a_kit.devices import seeded
from v2a_kit.mappers import create_mapper, save_mapper
from v2a_kit.pocket.models.evaluators import load_evaluator
from v2a_kit.pocket.models.generator import build_unet
from v2a_kit.pocket.models.loading import pocket_dir
from v2a_kit.spaces import Embeddings, Space
from v2a_kit.train import Pairs, train_named

CLIP = Space("clip", "test/clip", "a", 16)
CLAP = Space("clap", "test/clap", "b", 12)


def test_seeded_runs_as_after_manual_seed_and_restores_the_callers_state():
    torch.manual_seed(5)
    want = torch.rand(3)
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    with seeded(5):
        assert torch.equal(torch.rand(3), want)
    assert torch.equal(torch.random.get_rng_state(), before)
    with pytest.raises(RuntimeError, match="inside"), seeded(5):
        torch.rand(3)
        raise RuntimeError("inside")
    assert torch.equal(torch.random.get_rng_state(), before)


def _untouched(fn):
    torch.manual_seed(99)
    before = torch.random.get_rng_state()
    out = fn()
    assert torch.equal(torch.random.get_rng_state(), before), fn
    return out


def test_loaders_leave_the_global_state_alone(tmp_path):
    folder = save_mapper(create_mapper("regression", CLIP, CLAP, hidden_dim=8, num_blocks=1),
                         tmp_path / "m")
    _untouched(lambda: load_mapper(folder))
    _untouched(lambda: load_mapper("pocket", kind="diffusion"))
    _untouched(lambda: load_evaluator(pocket_dir() / "evaluators" / "tagger"))


@pytest.mark.parametrize("preset", ["pocket", "tiny"])
def test_every_registry_loader_leaves_the_global_state_alone(preset):
    """Each loader of the registry (random init included: the tiny preset), the pocket
    evaluators and the extractors: none reseeds or advances the caller's random stream."""
    from v2a_kit import registry
    from v2a_kit.pocket import load_audio_to_image, load_tagger
    for load in (registry.load_clip, registry.load_clap, registry.load_audioldm):
        _untouched(lambda load=load: load(preset, device="cpu"))
    if preset == "pocket":
        for kind in ("regression", "diffusion", "ridge"):
            _untouched(lambda kind=kind: registry.load_mapper(preset, kind=kind, device="cpu"))
        _untouched(lambda: registry.load_extractors(preset, device="cpu"))
        _untouched(load_tagger)
        _untouched(load_audio_to_image)


def test_exercise_solutions_leave_the_global_state_alone(monkeypatch):
    """A pasted solution that seeds its own training (03.2) gives the student's stream back."""
    from v2a_kit import exercises
    _untouched(lambda: exercises.solution("03.2")(num_train=256, epochs=1))


def test_seeded_builders_and_trainers_leave_the_global_state_alone():
    a = _untouched(lambda: build_unet(8, seed=3))
    torch.manual_seed(3)  # what build_unet did before: the same initial weights
    from diffusers import UNet2DConditionModel

    from v2a_kit.pocket.models.generator import UNET_CONFIG
    b = UNet2DConditionModel(sample_size=25, projection_class_embeddings_input_dim=8,
                             **UNET_CONFIG)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                  b.state_dict().values()))
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(40, 16, generator=g), torch.randn(40, 12, generator=g)
    pairs = Pairs(Embeddings(x / x.norm(dim=1, keepdim=True), CLIP),
                  Embeddings(y / y.norm(dim=1, keepdim=True), CLAP))
    m1, _ = _untouched(lambda: train_named(pairs, "regression-pocket", num_val=8, seed=1,
                                           progress=False, epochs=1, batch_size=16))
    m2, _ = train_named(pairs, "regression-pocket", num_val=8, seed=1, progress=False, epochs=1,
                        batch_size=16)
    assert all(torch.equal(p, q) for p, q in zip(m1.state_dict().values(),
                                                  m2.state_dict().values()))
