"""The model registry: one table of every loadable model, one factory, loaders over it."""

import subprocess
import sys
from pathlib import Path

import pytest
import torch

import v2a_kit as vk
from v2a_kit import registry
from v2a_kit.errors import ConfigError, WeightsNotFoundError

ROOT = Path(__file__).resolve().parents[1]


def test_every_kind_is_listed():
    assert registry.list_models("clip") == ["ViT-B-32/openai", "ViT-L-14/openai", "pocket-clip",
                                            "tiny-clip"]
    assert registry.list_models("clap") == ["audioldm-s-full-clap", "laion-630k-audioset-best",
                                            "pocket-clap", "tiny-clap"]
    assert registry.list_models("audioldm") == ["cvssp/audioldm-s-full-v2", "pocket-audioldm",
                                                "tiny-audioldm"]
    assert registry.list_models("mapper") == ["pocket-diffusion", "pocket-regression",
                                              "pocket-ridge"]
    assert registry.list_models("extractor") == ["paper-extractors", "pocket-extractors"]
    assert registry.list_models("direct") == ["pocket-direct"]
    assert set(registry.list_models()) == {n for k in registry.KINDS
                                           for n in registry.list_models(k)}
    with pytest.raises(ConfigError, match="model kind must be one of"):
        registry.list_models("vocoder")


def test_every_preset_names_registered_models():
    for name in vk.list_presets():
        p = vk.get_preset(name)
        for kind in ("clip", "clap", "audioldm"):
            assert getattr(p, kind) in registry.list_models(kind), (name, kind)
        if p.extractors:
            assert p.extractors in registry.list_models("extractor")
        if p.mappers:
            assert all(f"{p.mappers}-{k}" in registry.list_models("mapper")
                       for k in vk.list_mappers())


def test_entries_state_their_space_and_build():
    for kind in registry.KINDS:
        for name in registry.list_models(kind):
            e = registry.get_model_entry(name, kind)
            assert e.kind == kind and e.build in ("tiny", "pocket", "paper") and e.about
            assert (e.space is None) == (e.build == "pocket" or kind in ("mapper", "extractor"))
            # the direct baseline ships no weights: its architecture builds at random init
            assert e.random_init == (e.build == "paper" or kind == "direct")
    # the paper CLAP and the paper AudioLDM are one space: its embeddings condition the generator
    clap = registry.get_model_entry(vk.get_preset("paper").clap, "clap")
    gen = registry.get_model_entry(vk.get_preset("paper").audioldm, "audioldm")
    assert clap.space == gen.space == registry.PAPER_CLAP_SPACE
    clip = registry.get_model_entry(vk.get_preset("paper").clip, "clip")
    assert clip.space == registry.PAPER_CLIP_SPACE and clip.space.dim == 768


def test_tiny_models_embed_into_their_registered_space():
    for kind, load in (("clip", vk.load_clip), ("clap", vk.load_clap),
                       ("audioldm", vk.load_audioldm)):
        entry = registry.get_model_entry(getattr(vk.get_preset("tiny"), kind), kind)
        assert load("tiny", device="cpu").space == entry.space


@pytest.mark.parametrize("load,kind,label", [(vk.load_clip, "clip", "CLIP"),
                                             (vk.load_clap, "clap", "CLAP"),
                                             (vk.load_audioldm, "audioldm", "AudioLDM")])
def test_unknown_name_lists_the_registered_ones(load, kind, label):
    with pytest.raises(ConfigError, match=f"unknown {label} 'nope'") as e:
        load("nope")
    for name in registry.list_models(kind):
        assert name in str(e.value)


def test_random_init_is_for_paper_architectures_only():
    with pytest.raises(ConfigError, match="random_init=True applies to the paper"):
        vk.load_clip("pocket", random_init=True)
    with pytest.raises(ConfigError, match="random_init=True applies to the paper"):
        vk.load_audioldm("tiny", random_init=True)


def test_mappers_through_the_registry():
    m = vk.load_mapper("pocket-regression")
    assert m.kind == "regression"
    assert vk.load_mapper("pocket", kind="regression").state_dict().keys() == \
        m.state_dict().keys()
    with pytest.raises(ConfigError, match="is a regression mapper; expected diffusion"):
        vk.load_mapper("pocket-regression", kind="diffusion")
    with pytest.raises(ConfigError, match="needs kind="):
        vk.load_mapper("pocket")
    with pytest.raises(WeightsNotFoundError, match="no mapper ships with preset 'paper'"):
        vk.load_mapper("paper", kind="diffusion")
    with pytest.raises(ConfigError, match="no evaluators for preset 'tiny'"):
        vk.load_extractors("tiny")


@pytest.mark.parametrize("load", [
    lambda: vk.load_clip("tiny"), lambda: vk.load_clap("tiny"), lambda: vk.load_audioldm("tiny"),
    lambda: vk.load_clip("pocket"), lambda: vk.load_clap("pocket"),
    lambda: vk.load_audioldm("pocket"), lambda: vk.load_mapper("pocket", kind="diffusion"),
    lambda: vk.load_extractors("pocket"),
], ids=["tiny-clip", "tiny-clap", "tiny-audioldm", "pocket-clip", "pocket-clap",
        "pocket-audioldm", "pocket-mapper", "pocket-extractors"])
def test_loaders_leave_the_global_rng_alone(load):
    torch.manual_seed(1234)
    expected = torch.rand(4)
    torch.manual_seed(1234)
    load()
    assert torch.equal(torch.rand(4), expected)


def test_adding_a_model_is_adding_one_entry(monkeypatch):
    monkeypatch.setattr(registry, "_ENTRIES", dict(registry._ENTRIES))
    made = []

    def builder(entry, **options):
        made.append((entry.name, options))
        return vk.load_clip("tiny", device=options["device"])

    registry.register(registry.ModelEntry("my-clip", "clip", "tiny", registry.TINY_CLIP_SPACE,
                                          builder, about="a test entry"))
    assert "my-clip" in registry.list_models("clip")
    clip = vk.load_clip("my-clip", device="cpu")
    assert clip.space == registry.TINY_CLIP_SPACE and made[0][0] == "my-clip"
    with pytest.raises(ConfigError, match="registered already"):
        registry.register(registry.get_model_entry("my-clip", "clip"))


def test_the_package_has_no_import_cycles():
    """Every v2a_kit import counts, also inside functions (tools/import_graph.py)."""
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "import_graph.py")],
                         capture_output=True, text=True)
    assert out.returncode == 0 and " 0 import cycle(s)" in out.stdout, out.stdout


def test_the_layer_rule_holds_and_would_fail_on_an_upward_import():
    """Every module has a layer in docs/design.md §2 and imports only from its layer or below;
    an injected upward import, one through a package's __init__, a module the table misses and
    a name that is no module are each caught (tools/import_graph.py)."""
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import import_graph as g
    finally:
        sys.path.pop(0)
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "import_graph.py")],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "\n0 layer problem(s)" in out.stdout, out.stdout
    graph, table = g.edges(g.modules()), g.layer_table()
    assert g.layer_problems(graph, table) == []
    assert table["errors"] == 0 and table["registry"] == 3 and g.layer_of(
        "v2a_kit.media.audio", table) == 0            # "media.*" covers the package's modules
    upward = {**graph, "v2a_kit.errors": graph["v2a_kit.errors"] | {"v2a_kit.registry"}}
    assert g.layer_problems(upward, table) == [
        "v2a_kit.errors (layer 0) imports v2a_kit.registry (layer 3)"]
    # importing v2a_kit.evaluation.folder runs the package's __init__ first: edges() adds the
    # package; a package facade placed above an importer is a breach too
    eager = {**table, "evaluation": 4}
    assert any("imports v2a_kit.evaluation (layer 4)" in p
               for p in g.layer_problems(graph, eager))
    missing = {k: v for k, v in table.items() if k != "viz"}
    assert "v2a_kit.viz: no layer in docs/design.md §2" in g.layer_problems(graph, missing)
    assert "nowhere.module: in the layers table but no such module" in g.layer_problems(
        graph, {**table, "nowhere.module": 1})


def test_importing_one_module_of_a_lazy_package_runs_no_other():
    """`import v2a_kit.pocket.world.vocab` or `v2a_kit.evaluation.metrics` loads neither the pocket
    loaders nor the paper's judges: their packages' facades import nothing themselves."""
    code = ("import sys, v2a_kit.pocket.world.vocab, v2a_kit.evaluation.metrics\n"
            "bad = [m for m in ('v2a_kit.pocket.models.loading', 'v2a_kit.models.extractors', "
            "'v2a_kit.registry', 'transformers', 'diffusers') if m in sys.modules]\n"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0 and out.stdout.strip() == "[]", out.stdout + out.stderr
    from v2a_kit import evaluation, pocket
    assert callable(evaluation.build_paper_extractors) and callable(pocket.load_models)
    assert "score" in dir(evaluation) and "load_tagger" in dir(pocket)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        evaluation.nothing  # noqa: B018
