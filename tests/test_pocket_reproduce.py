"""The paper's comparison on the pocket world (v2a_kit.pocket.reproduce), on a small run."""

import json
import math

import numpy as np
import pytest
import torch

import v2a_kit as vk
from v2a_kit.pocket.mappers import MAPPER_SEED
from v2a_kit.pocket.reproduce import (
    ALL_BASELINES,
    METRICS,
    REPRODUCE_SEED,
    audio_caption,
    nearest_neighbours,
    reproduce,
    reproduction_table,
    training_pool,
)
from v2a_kit.pocket.world import sample_world

SMALL = dict(n=8, num_inference_steps=2, num_samples=2, num_train=128)


def _ignores_the_image():
    """A deliberately broken mapper: the shipped ridge map with its weights zeroed, so every
    image gets the same CLAP embedding (its bias)."""
    m = vk.load_mapper("pocket", kind="ridge", device="cpu")
    with torch.no_grad():
        m.linear.weight.zero_()
    return m


@pytest.fixture(scope="module")
def report():
    mappers = {name: vk.load_mapper("pocket", kind=kind, device="cpu")
               for name, kind in (("regression", "regression"), ("generative", "diffusion"))}
    mappers["ignores the image"] = _ignores_the_image()
    return reproduce(seeds=(0, 1), mappers=mappers, baselines=ALL_BASELINES, keep_audio=True,
                     **SMALL)


# metrics a system has no value for: decoded real audio has no CLAP embedding here; the sounds
# of a system not made by the generator are never limited; only a sound whose own contour is
# known (real draws, their decoding, the oracle) is judged on all five attributes
_NO_EMBEDDING = ("recall@1", "recall@5", "clap_spread", "spread_ratio_mean",
                 "spread_ratio_median", "spread_ratio_q1", "spread_ratio_q3",
                 *(m for m in METRICS if m.startswith("emb_acc_")))


def _expected_none(name: str) -> set:
    none = set()
    if name == "ceiling":
        none |= set(_NO_EMBEDDING)
    if name in ("real audio", "ceiling", "nearest neighbour"):
        none.add("limited")
    if name not in ("real audio", "ceiling", "oracle"):
        none |= {"acc_contour", "acc_all5"}
    return none


def test_report_structure_is_finite_and_json_safe(report):
    audio, images = report.pop("audio"), report.pop("images")
    try:
        back = json.loads(json.dumps(report, allow_nan=False))
    finally:
        report["audio"], report["images"] = audio, images
    assert back["settings"]["n"] == 8 and back["settings"]["seeds"] == [0, 1]
    assert back["settings"]["world_seed"] == REPRODUCE_SEED
    systems = back["systems"]
    assert list(systems) == ["real audio", "regression", "generative", "ignores the image",
                             "nearest neighbour", "text bridge", "oracle", "ceiling"]
    for name, row in systems.items():
        assert set(row["metrics"]) == set(METRICS), name
        for metric, stat in row["metrics"].items():
            assert len(stat["per_seed"]) == 2, (name, metric)
            if metric in _expected_none(name):
                assert stat["mean"] is None, (name, metric)
                continue
            assert all(math.isfinite(v) for v in stat["per_seed"]), (name, metric)
            assert stat["mean"] == pytest.approx(np.mean(stat["per_seed"]), abs=1e-5)
            assert stat["std"] == pytest.approx(np.std(stat["per_seed"], ddof=1), abs=1e-5)
        assert len(row["seconds"]) == 2
    for name, waves in audio.items():
        assert waves.shape == (8, 2, 16000) and np.isfinite(waves).all(), name
    assert images.shape == (8, 64, 64, 3)
    # the prior's samples and the generator noise change with the seed
    assert len(set(systems["generative"]["metrics"]["fd"]["per_seed"])) == 2


def test_real_audio_is_the_floor_and_a_blind_mapper_is_worse(report):
    systems = report["systems"]
    fd = {k: r["metrics"]["fd"]["mean"] for k, r in systems.items()}
    # other draws of the same images: the lowest FD, but not 0 (hidden onsets and pitch) — of
    # every system that does not see the reference sounds; the oracle does (it is generated
    # from their own CLAP embeddings, so it keeps their contours, which other draws redraw),
    # and at this size it can come below real audio (measured: 383 vs 443, n = 8); the ceiling
    # is the same real draws decoded, which at n = 8 ties with them within FD's noise
    # (measured: below them once the real draws' seeds changed)
    fd_blind = {k: v for k, v in fd.items() if k not in ("oracle", "ceiling")}
    assert min(fd_blind, key=fd_blind.get) == "real audio" and fd["real audio"] > 0
    assert systems["real audio"]["metrics"]["acc_all"]["mean"] == 1.0
    # one embedding for every image retrieves each true one with probability exactly k / n
    chance = report["settings"]["chance_recall_at_1"], report["settings"]["chance_recall_at_5"]
    blind = systems["ignores the image"]["metrics"]
    assert (blind["recall@1"]["mean"], blind["recall@5"]["mean"]) == pytest.approx(chance)
    for k in ("recall@1", "recall@5"):
        assert systems["regression"]["metrics"][k]["mean"] > blind[k]["mean"], k
    assert systems["oracle"]["metrics"]["recall@1"]["mean"] == 1.0
    cs = {k: r["metrics"]["cs"]["mean"] for k, r in systems.items()}
    assert cs["regression"] > cs["ignores the image"]


def test_sound_by_sound_measures(report):
    systems = {k: r["metrics"] for k, r in report["systems"].items()}
    for name in ("real audio", "ceiling", "oracle"):
        m = systems[name]
        # all five right implies all four right and the contour right
        assert m["acc_all5"]["mean"] <= min(m["acc_all"]["mean"], m["acc_contour"]["mean"])
    # every real sound of an image has the image's loudness (its rattles' noise peaks read up
    # to 3 dB above it), and the real draws carry their own contours
    assert systems["real audio"]["level_within_3db"]["mean"] >= 0.9
    assert systems["real audio"]["acc_contour"]["mean"] >= 0.9
    # the CLAP embeddings of real sounds carry what they show; one embedding for every image
    # carries it for few
    assert systems["real audio"]["emb_acc_all"]["mean"] >= 0.75
    assert systems["ignores the image"]["emb_acc_all"]["mean"] <= 0.25
    for name, m in systems.items():
        for k in ("level_within_3db", "limited"):
            v = m[k]["mean"]
            assert v is None or 0.0 <= v <= 1.0, (name, k)
    # a repeated embedding does not spread; real draws do (against an independent set of real
    # draws: with two sounds an image, one pair each, the ratio is far from 1 by chance alone)
    assert systems["oracle"]["spread_ratio_median"]["mean"] == pytest.approx(0.0, abs=1e-6)
    ratio = systems["real audio"]["spread_ratio_median"]["mean"]
    assert ratio > 0 and math.isfinite(ratio)
    ceiling = report["embedding_ceiling"]
    assert set(ceiling) == {"shape", "colour", "count", "size", "contour", "all", "level"}
    assert ceiling["all"] <= min(ceiling[a] for a in ("shape", "colour", "count", "size"))


def test_nearest_neighbour_returns_real_training_sounds(report):
    details = report["systems"]["nearest neighbour"]["details"]
    assert details["world_seed"] == MAPPER_SEED and details["num_train"] == 128
    train = sample_world(128, MAPPER_SEED, split="seen")    # what the mappers trained on
    idx = np.asarray(details["indices"][0])
    # the first sound of each image is, sample for sample, the training pair's own audio
    np.testing.assert_array_equal(report["audio"]["nearest neighbour"][:, 0], train.audio[idx])
    # and it is the nearest image of the seed's half-pool (a half of 64 cannot hold the 80 SEEN
    # combinations, so the neighbour's attributes often differ here)
    clip = vk.load_clip("pocket", device="cpu", dtype=torch.float32)
    held = sample_world(8, REPRODUCE_SEED)
    pool = training_pool(128, clip)
    again = nearest_neighbours(clip.encode_images(list(held.images)).embeds, pool, 2, seed=0)
    np.testing.assert_array_equal(again[:, 0], idx)


def test_nearest_neighbours_searches_a_seeded_half_of_the_pool():
    clip = vk.load_clip("pocket", device="cpu", dtype=torch.float32)
    pool = training_pool(32, clip)
    own = nearest_neighbours(pool.clip_embed.embeds[:5], pool, num_samples=2)
    np.testing.assert_array_equal(own[:, 0], np.arange(5))  # each training image finds itself
    a = nearest_neighbours(pool.clip_embed.embeds, pool, num_samples=2, seed=0)
    b = nearest_neighbours(pool.clip_embed.embeds, pool, num_samples=2, seed=1)
    assert a.shape == (32, 2) and len(np.unique(a)) <= 16 and len(np.unique(b)) <= 16
    assert set(np.unique(a)) != set(np.unique(b))
    np.testing.assert_array_equal(a, nearest_neighbours(pool.clip_embed.embeds, pool, 2, seed=0))


def test_text_bridge_reads_the_right_caption(report):
    details = report["systems"]["text bridge"]["details"]
    # pocket-CLIP zero-shot is ≈ 0.99 on all four attributes (the quality gates)
    assert details["caption_accuracy"]["all"] >= 0.75
    held = sample_world(8, REPRODUCE_SEED)
    truth = [audio_caption({a: int(y[i]) for a, y in held.labels.items()}) for i in range(8)]
    assert np.mean([c == t for c, t in zip(details["audio_captions"], truth)]) >= 0.75
    assert audio_caption(dict(shape=1, colour=3, count=1, size=1)) == \
        "the sound of two loud shrill buzzes"


def test_the_unseen_split_holds_only_unseen_combinations_and_the_ceiling_decodes_real_audio(
        report):
    from v2a_kit.pocket.world import is_unseen
    unseen = reproduce(seeds=(0,), split="unseen", mappers={}, baselines=("ceiling",),
                       keep_audio=True, **SMALL)
    assert unseen["settings"]["split"] == "unseen"
    assert is_unseen(sample_world(8, REPRODUCE_SEED, split="unseen").labels).all()
    real, ceiling = unseen["audio"]["real audio"], unseen["audio"]["ceiling"]
    assert real.shape == ceiling.shape and not np.allclose(real, ceiling)
    rms = {k: unseen["systems"][k]["metrics"]["rms"]["mean"] for k in ("real audio", "ceiling")}
    assert rms["ceiling"] == pytest.approx(rms["real audio"], rel=0.3)   # same sounds, decoded


def test_same_seed_same_numbers(report):
    # seed 1 alone, with fewer systems: each system's numbers depend on its seed only
    again = reproduce(seeds=(1,), mappers={"generative": vk.load_mapper(
        "pocket", kind="diffusion", device="cpu")}, baselines=("nearest neighbour",), **SMALL)
    for name in ("real audio", "generative", "nearest neighbour"):
        first = report["systems"][name]["metrics"]
        for metric, stat in again["systems"][name]["metrics"].items():
            if stat["mean"] is None:     # a metric the system has no value for (e.g. limited)
                assert first[metric]["per_seed"][1] is None, (name, metric)
                continue
            # equal up to float rounding: CLAP embeds the retrieved sounds in other batches
            assert stat["per_seed"] == pytest.approx([first[metric]["per_seed"][1]], rel=1e-4,
                                                     abs=1e-6), (name, metric)
            assert stat["std"] is None


def test_table_puts_real_audio_first(report):
    table = reproduction_table(report)
    lines = table.splitlines()
    assert lines[0].startswith("| system | FD ↓ |") and lines[2].startswith("| real audio |")
    assert "±" in lines[3] and len(lines) == 2 + 8 + 2
    assert lines[-1].startswith("mean ± std over seeds 0, 1; n = 8 held-out images")
    one = reproduction_table(report, columns=["acc_shape", "acc_all"])
    assert one.splitlines()[0] == "| system | shape acc ↑ | all 4 right ↑ |"
    with pytest.raises(vk.ConfigError, match="columns"):
        reproduction_table(report, columns=["bleu"])


@pytest.mark.parametrize("kwargs, match", [
    (dict(world_seed=MAPPER_SEED), "shipped mappers"),
    (dict(world_seed=0), "foundation models"),
    (dict(world_seed=10_000), "evaluators"),
    (dict(seeds=(0, 0)), "seeds"),
    (dict(seeds=()), "seeds"),
    (dict(n=1), "n=1"),
    (dict(baselines=("oracle", "retrieval")), "retrieval"),
    (dict(scheduler="euler"), "scheduler"),
    (dict(mappers={"oracle": None}), "clash"),
    (dict(num_train=2, num_samples=2), "num_train"),
    (dict(split="train"), "split='train'"),
])
def test_bad_input_is_refused_before_any_work(kwargs, match):
    with pytest.raises(vk.ConfigError, match=match):
        reproduce(**kwargs)
