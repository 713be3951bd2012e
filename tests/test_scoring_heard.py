"""What `score` reads from the sounds beside the paper's columns: attribute accuracy
(``labels``), diversity between one input's samples (``num_samples``) and loudness (``rms``) —
the numbers the pocket benchmarks used to compute on their own — and the one table of metric
words every report shows them with."""

import numpy as np
import pytest

from v2a_kit.errors import ConfigError
from v2a_kit.evaluation import extract, pairwise_diversity, score
from v2a_kit.evaluation.labels import METRIC_LABELS, axis_label, header, is_fraction
from v2a_kit.pocket.world import ATTRIBUTES, sample_audio_for, sample_world

N = 8


@pytest.fixture(scope="module")
def world():
    batch = sample_world(N, 21)  # a judged seed (< 10,000): no evaluator trained on it
    return batch, sample_audio_for(batch, 22).audio


def _labels(batch, shift=0):
    return {a: (np.asarray(batch.labels[a]) + shift) % len(v) for a, v in ATTRIBUTES.items()}


def test_attributes_read_the_classifier_against_each_clips_labels(pocket, world):
    batch, _ = world
    out = extract(pocket, batch.audio)
    right = score(pocket, out, labels=_labels(batch)).attributes
    groups = pocket.fd.logit_groups
    for a in ATTRIBUTES:  # the pick in the attribute's own logit group, clip by clip
        pick = out.logits[:, groups[a]].argmax(1)
        assert right[a] == pytest.approx(float((pick == batch.labels[a]).mean()))
    assert right["all"] <= min(right[a] for a in ATTRIBUTES)
    assert right["all"] >= 0.75  # real pocket sounds are heard right
    # wrong labels (every value moved by one) are heard wrong: the check is not a tautology
    wrong = score(pocket, out, labels=_labels(batch, shift=1)).attributes
    assert wrong["all"] < right["all"] - 0.5
    assert all(wrong[a] < right[a] for a in ATTRIBUTES if right[a] > 0.5)


def test_diversity_and_loudness(pocket, world):
    batch, other = world
    two = np.stack([batch.audio, other], 1).reshape(2 * N, -1)  # two sounds per image
    s = score(pocket, two, num_samples=2)
    assert s.diversity == pytest.approx(pairwise_diversity(extract(pocket, two).features, 2))
    assert s.rms == pytest.approx(float(np.sqrt((two.astype(np.float64) ** 2).mean(1)).mean()))
    assert score(pocket, 0.5 * two).rms == pytest.approx(0.5 * s.rms, rel=1e-5)
    same = score(pocket, np.repeat(batch.audio, 2, 0), num_samples=2)
    assert same.diversity == pytest.approx(0.0, abs=1e-4) and s.diversity > 1.0
    assert s.protocol["metrics"]["diversity"]["num_samples"] == 2
    assert "diversity" in s.summary() and "RMS" in s.summary()


def test_take_keeps_each_clips_rows(pocket, world):
    batch, other = world
    out = extract(pocket, batch.audio)
    sub = out.take([3, 1])
    np.testing.assert_array_equal(sub.features, out.features[[3, 1]])
    np.testing.assert_array_equal(sub.cs, out.cs[[3, 1]])
    np.testing.assert_array_equal(sub.rms, out.rms[[3, 1]])
    ref = extract(pocket, other, cs=False)
    whole = score(pocket, out.take(range(N)), ref)
    assert whole.fd == pytest.approx(score(pocket, out, ref).fd)
    with pytest.raises(ConfigError, match="clip indices in 0..7"):
        out.take([N])


@pytest.mark.parametrize("labels, match", [
    ({"shape": np.zeros(N, int), "mood": np.zeros(N, int)}, "no logit group 'mood'"),
    ({"shape": np.zeros(N - 1, int)}, r"labels\['shape'\] has shape \(7,\)"),
    ({"shape": np.full(N, 0.5)}, r"labels\['shape'\].*int value indices"),
    ({"colour": np.full(N, 99)}, r"labels\['colour'\] holds values outside"),
    ({}, "non-empty dict"),
])
def test_bad_labels_are_refused_naming_them(pocket, world, labels, match):
    with pytest.raises(ConfigError, match=match):
        score(pocket, world[0].audio, labels=labels)


@pytest.mark.parametrize("k", [1, 3, 2.0, True])
def test_bad_num_samples_is_refused(pocket, world, k):
    with pytest.raises(ConfigError, match="num_samples"):
        score(pocket, world[0].audio, num_samples=k)


def test_one_table_of_metric_words():
    from v2a_kit.evaluation.folder import EvalReport
    from v2a_kit.pocket import efficiency, reproduce, science
    from v2a_kit.viz import label

    used = {*reproduce.METRICS, *science._TABLE_METRICS, *efficiency._TABLE_METRICS,
            *(k for k, _ in EvalReport.COLUMNS)}
    missing = sorted(k for k in used if header(k) == k and axis_label(k) == k)
    assert not missing, f"metric keys with no words in v2a_kit.evaluation.labels: {missing}"
    # every table and figure reads the same words
    assert dict(EvalReport.COLUMNS)["fd"] == header("fd") == "FD ↓"
    assert label("acc_all") == axis_label("acc_all") == METRIC_LABELS["acc_all"].axis
    assert header("acc_shape") == "shape acc ↑" and is_fraction("acc_shape")
    assert header("emb_acc_size") == "size in CLAP emb ↑"
    assert header("share_contour_rising") == "rising share"
    assert header("no such metric") == "no such metric" and not is_fraction("fd")
    for key, entry in METRIC_LABELS.items():  # the direction is said where one is better
        if key.startswith(("fd", "fad", "kad", "kl", "cs", "is", "acc", "recall@")):
            assert "↑" in entry.header or "↓" in entry.header, key


def test_one_definition_of_attribute_accuracy():
    """``label_accuracy`` is what score's attributes and the build's gates both report."""
    from v2a_kit.evaluation.metrics import label_accuracy
    from v2a_kit.pocket.gates import attribute_accuracy

    labels = {"shape": np.array([0, 1, 2, 3]), "size": np.array([0, 1, 0, 1])}
    pred = {"shape": np.array([0, 1, 2, 0]), "size": np.array([0, 0, 0, 1])}
    acc = label_accuracy(pred, labels)
    assert acc == {"shape": 0.75, "size": 0.75, "all": 0.5}  # rows 0 and 2 have both right
    assert label_accuracy(labels, labels)["all"] == 1.0
    assert label_accuracy(pred, labels, ["size"]) == {"size": 0.75, "all": 0.75}
    assert attribute_accuracy(pred, labels, ("shape", "size")) == acc
    with pytest.raises(ValueError, match="shape: .* one value index per clip"):
        label_accuracy({"shape": np.zeros(3)}, {"shape": np.zeros(4)})


def test_timed_scores_read_the_scenes_through_score(pocket):
    """The timing benchmark's accuracy and FD, scene by scene through ``score``, are what the
    tagger reads on its own (its picks and features), and a wrong soundtrack scores worse."""
    from v2a_kit.evaluation.metrics import frechet_distance, label_accuracy
    from v2a_kit.pocket.models.loading import load_tagger
    from v2a_kit.pocket.timing import timed_scores
    from v2a_kit.pocket.world.timed import sample_world_videos

    videos = sample_world_videos(4, 8401)
    tagger, real = load_tagger(), videos.audio
    noisy = real + np.random.default_rng(0).normal(0, 0.02, real.shape).astype(np.float32)
    labels = {a: videos.scenes.labels[a] for a in ATTRIBUTES}
    for tracks in (real, noisy, np.roll(real, 1, axis=0)):
        clips = tracks.reshape(len(videos) * videos.num_scenes, -1).astype(np.float32)
        got = timed_scores(videos, tracks, pocket)
        acc = label_accuracy(tagger.predict(clips), labels)
        assert {k: got[f"acc_{k}"] for k in acc} == pytest.approx(acc)
        fd = frechet_distance(tagger.features(clips).numpy(),
                              tagger.features(videos.scenes.audio.astype(np.float32)).numpy())
        assert got["fd"] == pytest.approx(fd, rel=1e-6, abs=1e-6)
    assert timed_scores(videos, np.roll(real, 1, axis=0), pocket)["f1"] < \
        timed_scores(videos, real, pocket, fd=False)["f1"]
    quiet = real.copy()
    quiet[0, :16000] = 0.0  # the first video's first scene silent: counted, not warned
    assert timed_scores(videos, quiet, pocket, fd=False)["silent_scenes"] == 1
    assert timed_scores(videos, real, pocket, fd=False)["silent_scenes"] == 0
