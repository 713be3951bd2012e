"""The direct baseline (pocket-AudioLDM conditioned on pocket-CLIP) and the efficiency benchmark's
parts: bad training options, checkpoints of the wrong kind, the report's targets and table.
Tiny settings only; timings are never asserted."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from v2a_kit import registry
from v2a_kit.checkpoints import DIRECT_FORMAT, MAPPER_FORMAT
from v2a_kit.errors import ConfigError, SpaceMismatchError
from v2a_kit.mappers import create_mapper, save_mapper
from v2a_kit.pocket.efficiency import (
    check_direct_options,
    check_efficiency_targets,
    efficiency_table,
    measure_efficiency,
    train_direct,
)
from v2a_kit.pocket.models.direct import (
    build_direct_unet,
    is_direct,
    load_direct_folder,
    save_direct,
)
from v2a_kit.spaces import Embeddings, Space

CLIP = Space("clip", "test/clip", "x", 8)
CLAP = Space("clap", "test/clap", "y", 6)


@pytest.mark.parametrize("option,value,match", [
    ("steps", 0, r"steps=0; expected an int ≥ 1"),
    ("steps", 2.5, r"steps=2.5; expected an int ≥ 1"),
    ("batch_size", True, r"batch_size=True; expected an int ≥ 1"),
    ("lr", 0.0, r"lr=0.0; expected a number in \(0, 1\)"),
    ("lr", float("nan"), r"lr=nan; expected a number in \(0, 1\)"),
    ("cond_dropout", 1.0, r"cond_dropout=1.0; expected a number in \[0, 1\)"),
    ("ema_decay", "0.9", r"ema_decay='0.9'; expected a number in \(0, 1\)"),
])
def test_training_options_are_refused_in_one_line_naming_option_and_range(option, value, match):
    good = dict(steps=1, batch_size=4, lr=1e-3, cond_dropout=0.1, ema_decay=0.999)
    with pytest.raises(ConfigError, match=match) as e:
        check_direct_options(**{**good, option: value})
    assert "\n" not in str(e.value)
    # train_direct refuses it before it loads or trains anything
    with pytest.raises(ConfigError, match=match):
        train_direct(None, None, None, **{**good, option: value})


@pytest.mark.parametrize("kw,match", [
    (dict(sizes=(64, 32)), r"sizes=\(64, 32\); expected increasing ints ≥ 16"),
    (dict(sizes=(8,)), r"sizes=\(8,\); expected increasing"),
    (dict(seeds=(0, 0)), r"seeds=\(0, 0\); expected distinct ints ≥ 0"),
    (dict(num_samples=1), r"num_samples=1; expected an int ≥ 2"),
    (dict(direct_steps=0), r"direct_steps=0; expected an int ≥ 1"),
])
def test_benchmark_settings_are_refused_before_anything_loads(kw, match):
    with pytest.raises(ConfigError, match=match):
        measure_efficiency(**kw)


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    unet = build_direct_unet(CLIP.dim, seed=0)
    null = torch.nn.functional.normalize(torch.ones(CLIP.dim), dim=0)
    save_direct(unet, root / "direct", CLIP, null, extra={"steps": 0})
    torch.manual_seed(0)
    save_mapper(create_mapper("regression", CLIP, CLAP, hidden_dim=16, num_blocks=1),
                root / "mapper")
    return root, unet


def test_a_direct_checkpoint_round_trips_as_a_generator_in_its_clip_space(checkpoints):
    root, unet = checkpoints
    gen = load_direct_folder(root / "direct", clip_space=CLIP)
    assert is_direct(gen) and gen.space == CLIP
    assert all(torch.equal(a, b) for a, b in zip(gen.unet.state_dict().values(),
                                                 unet.state_dict().values()))
    assert registry.load_direct(root / "direct").space == CLIP
    other = Space("clip", "test/clip", "another", 8)
    with pytest.raises(SpaceMismatchError):
        load_direct_folder(root / "direct", clip_space=other)
    # a CLAP embedding is no condition for it
    from v2a_kit.generation import check_inputs
    with pytest.raises(SpaceMismatchError):
        check_inputs(gen, Embeddings(torch.ones(1, 8) / 8 ** 0.5, Space("clap", "c", "c", 8)),
                     None, 1, 2.5, 1.0, 1)


def test_a_direct_checkpoint_is_refused_as_a_mapper_and_the_reverse_naming_both(checkpoints):
    root, _ = checkpoints
    with pytest.raises(ConfigError, match=f"is a {DIRECT_FORMAT} checkpoint; expected a "
                                          f"{MAPPER_FORMAT} .mapper.: it holds a direct "
                                          "baseline .*not a V2A-Mapper") as e:
        registry.load_mapper(root / "direct")
    assert "\n" not in str(e.value)
    with pytest.raises(ConfigError, match=f"is a {MAPPER_FORMAT} checkpoint; expected a "
                                          f"{DIRECT_FORMAT} .direct baseline.: it holds a "
                                          "V2A-Mapper .*not a direct baseline"):
        registry.load_direct(root / "mapper")
    with pytest.raises(ConfigError, match="is a v2a-kit-mapper-1 checkpoint"):
        load_direct_folder(root / "mapper")


def test_reproduce_refuses_a_direct_baseline_as_a_mapper_and_the_reverse(checkpoints):
    from v2a_kit.mappers import load_mapper_folder
    from v2a_kit.pocket.reproduce import reproduce
    root, _ = checkpoints
    gen = load_direct_folder(root / "direct")
    mapper = load_mapper_folder(root / "mapper")
    with pytest.raises(ConfigError, match=r"mappers \['d'\] are direct baselines .*not "
                                          r"mappers .*pass them as direct="):
        reproduce(n=4, seeds=(0,), mappers={"d": gen}, baselines=())
    with pytest.raises(ConfigError, match=r"direct \['m'\] are mappers .*not direct "
                                          r"baselines .*pass them as mappers="):
        reproduce(n=4, seeds=(0,), mappers={}, direct={"m": mapper}, baselines=())
    with pytest.raises(ConfigError, match=r"direct {'x': 'object'} are not direct baselines"):
        reproduce(n=4, seeds=(0,), mappers={}, direct={"x": object()}, baselines=())


def test_the_registry_lists_the_direct_baseline_and_ships_none():
    assert registry.list_models("direct") == ["pocket-direct"]
    with pytest.raises(ConfigError, match="no direct baseline ships with the kit"):
        registry.load_direct("pocket-direct")
    with pytest.raises(ConfigError, match="load_direct takes a checkpoint folder"):
        registry.load_direct(3)


def test_train_direct_trains_the_pocket_unet_on_clip_embeddings(tmp_path):
    g = torch.Generator().manual_seed(0)
    clip = Embeddings(torch.nn.functional.normalize(torch.randn(6, 64, generator=g), dim=-1),
                      Space("clip", "test/clip", "x", 64))
    audio = 0.1 * torch.randn(6, 16000, generator=g).numpy()
    gen, info = train_direct(clip, audio, torch.ones(64), steps=3, batch_size=4,
                             out=tmp_path / "d")
    assert is_direct(gen) and gen.space == clip.space
    assert info["steps"] == 3 and info["num_train"] == 6 and info["parameters"] > 0
    assert np.isfinite(info["final_loss"])
    assert load_direct_folder(tmp_path / "d").space == clip.space
    with pytest.raises(ConfigError, match=r"audio has shape \(5, 16000\); expected \(6, "):
        train_direct(clip, audio[:5], torch.ones(64), steps=1)
    with pytest.raises(ConfigError, match="clip_embed must be CLIP Embeddings"):
        train_direct(Embeddings(clip.embeds, Space("clap", "c", "c", 64)), audio,
                     torch.ones(64), steps=1)


def _stat(values):
    v = np.asarray(values, float)
    return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else None,
            "per_seed": list(v)}


def _report(g_fd, d_fd, g_acc, d_acc, params=(2e6, 3e6, 2.5e6), train=(10, 50, 100)):
    def row(fd, acc, p, t):
        split = {"fd": _stat(fd), "acc_all": _stat(acc), "fad": _stat([1, 1, 1]),
                 "kl": _stat([1, 1, 1]), "cs": _stat([50, 50, 50]),
                 "diversity": _stat([1, 1, 1])}
        return {"seen": split, "unseen": split, "parameters": int(p),
                "train_s": _stat([t] * 3), "infer_s_per_sound": _stat([0.1] * 3)}
    return {"systems": {"regression": {"256": row(g_fd, g_acc, params[0], train[0])},
                        "generative": {"256": row(g_fd, g_acc, params[1], train[1])},
                        "direct": {"256": row(d_fd, d_acc, params[2], train[2])}},
            "shipped": {"generator": {"parameters": 2_500_000, "train_s": 1000.0}},
            "settings": {"sizes": [256], "seeds": [0, 1, 2], "n": 4, "num_samples": 2,
                         "scheduler": "dpmsolver++", "num_inference_steps": 10,
                         "direct_steps": 150, "direct_training": {"batch_size": 64}}}


def test_targets_read_the_report_against_twice_the_seeds_spread():
    won = check_efficiency_targets(_report([10, 11, 12], [30, 31, 32], [.8, .8, .8],
                                           [.2, .2, .3]))
    by = {t["target"]: t for t in won}
    assert [t["met"] for t in won if "beats" in t["target"]] == [True] * 4
    params = next(t for t in won if "parameters" in t["target"])
    assert params["met"] is False and params["measured"]["ratio"] == pytest.approx(3 / 2.5)
    bench, full = [t for t in won if "training time" in t["target"] or "full recipe"
                   in t["target"]]
    assert bench["met"] is False and bench["measured"]["worst_ratio"] == pytest.approx(0.5)
    assert full["met"] is True and full["measured"]["worst_ratio"] == pytest.approx(0.05)
    # within twice the spread: not met
    close = check_efficiency_targets(_report([10, 20, 30], [25, 26, 27], [.8, .8, .8],
                                             [.2, .2, .3]))
    fd = [t for t in close if "fd beats" in t["target"]]
    assert [t["met"] for t in fd] == [False, False]
    assert len(by) == len(won)
    # one seed has no spread: those targets are not judged
    single = _report([10], [30], [.8], [.2])
    single["settings"]["seeds"] = [0]
    assert [t["met"] for t in check_efficiency_targets(single) if "beats" in t["target"]] \
        == [None] * 4


def test_the_table_has_a_row_per_system_and_size():
    table = efficiency_table(_report([10, 11, 12], [30, 31, 32], [.8, .8, .8], [.2, .2, .3]),
                             "unseen")
    assert "| direct | 256 | 31.0 ± 1.0 |" in table and "| 2.50 M |" in table
    assert "UNSEEN held-out pictures" in table and "150 steps of batch 64" in table
    with pytest.raises(ConfigError, match="split='all'; expected 'seen' or 'unseen'"):
        efficiency_table({}, "all")
    with pytest.raises(ConfigError, match=r"metrics \['is'\] unknown"):
        efficiency_table({}, "seen", metrics=("is",))


def test_the_figure_plots_quality_against_pairs_and_trained_parameters():
    from v2a_kit import viz
    report = _report([10, 11, 12], [30, 31, 32], [.8, .8, .8], [.2, .2, .3])
    report["real audio"] = {"unseen": {"fd": {"mean": 5.0, "std": 0.1, "per_seed": []}}}
    fig = viz.plot_efficiency(report)
    axes = [ax for ax in fig.axes if ax.axison]
    assert len(axes) == 3 and fig._suptitle.get_text()
    for ax in axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert [ax.get_xscale() for ax in axes] == ["log", "log", "linear"]
    assert [ax.get_xlabel() for ax in axes] == ["training pairs", "training pairs",
                                                "trained parameters"]


def test_the_registered_architecture_builds_untrained_and_generates_from_clip_embeddings():
    from v2a_kit.generation import generate
    state = torch.get_rng_state()
    gen = registry.load_direct("pocket-direct", random_init=True, device="cpu")
    assert torch.equal(torch.get_rng_state(), state)   # its own seed, not the caller's stream
    clip = registry.load_clip("pocket", device="cpu")
    assert is_direct(gen) and gen.space == clip.space
    with pytest.raises(ConfigError, match="not both"):
        registry.load_direct("pocket-direct", folder="x", random_init=True)
    embeds = Embeddings(torch.nn.functional.normalize(torch.ones(1, clip.space.dim), dim=-1),
                        clip.space)
    out = generate(gen, embeds, num_inference_steps=1, progress=False,
                   generator=torch.Generator().manual_seed(0))
    assert out.waveforms.shape == (1, 16000) and np.isfinite(out.waveforms).all()
    from v2a_kit.generation import encode_prompt
    with pytest.raises(ConfigError, match="no text encoder"):
        encode_prompt(gen, "a prompt")    # conditioned on images, not on text
