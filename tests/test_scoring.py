"""`v2a_kit.evaluation.score`: FD, FAD, KL, IS and CS of clips in memory, on pocket-world audio.

In-memory scores must equal the folder evaluator's on the same clips written to disk; metrics
without their inputs are None; bad inputs are refused naming the input and the clip.
"""

import numpy as np
import pytest
import torch
from PIL import Image

from v2a_kit.errors import ConfigError, EmbeddingError, MediaError, SpaceMismatchError
from v2a_kit.evaluation import AudioOutputs, Scores, compare_protocols, extract, score
from v2a_kit.evaluation.folder import evaluate
from v2a_kit.media import load_audio, write_wav
from v2a_kit.pocket.world import sample_audio_for, sample_world
from v2a_kit.spaces import Embeddings, Space

N, SR = 6, 16000


@pytest.fixture(scope="module")
def world():
    batch = sample_world(N, 11)  # a judged seed (< 10,000): no evaluator trained on it
    return batch, sample_audio_for(batch, 12).audio


@pytest.fixture(scope="module")
def on_disk(world, tmp_path_factory):
    """The world's clips as 16-bit WAVs (gen: c00_s0.wav ..., ref: c00.wav ...) and PNGs, and
    the clips read back (what the folder evaluator scores: 16-bit quantised)."""
    batch, other = world
    root = tmp_path_factory.mktemp("scoring")
    names = [f"c{i:02d}" for i in range(N)]
    for folder in ("gen", "ref", "img"):
        (root / folder).mkdir()
    for i, name in enumerate(names):
        write_wav(root / "gen" / f"{name}_s0.wav", batch.audio[i], SR)
        write_wav(root / "ref" / f"{name}.wav", other[i], SR)
        Image.fromarray(batch.images[i]).save(root / "img" / f"{name}.png")
    read = {k: np.stack([load_audio(p, SR) for p in sorted((root / k).glob("*.wav"))])
            for k in ("gen", "ref")}
    return root, read


def test_in_memory_equals_the_folder_evaluator(pocket, world, on_disk):
    root, read = on_disk
    folder = evaluate(root / "gen", references=root / "ref", images=root / "img",
                      extractors=pocket)
    memory = score(pocket, read["gen"], read["ref"], world[0].images)
    assert isinstance(memory, Scores)
    for key in ("fd", "fad", "kl", "is_mean", "is_std", "cs"):
        assert getattr(memory, key) == pytest.approx(getattr(folder, key), rel=1e-6, abs=1e-9), key
    for key in ("kad", "fad_inf"):
        assert getattr(memory, key) == pytest.approx(getattr(folder, key), rel=1e-6, abs=1e-9), key
    assert memory.counts == {"generated": N, "references": N, "kl_pairs": N, "cs_pairs": N,
                             "is_splits": 1, "fad_rows": [N, N]}
    assert memory.notes == folder.notes and len(memory.notes) == 2  # IS chunks, FD rank
    assert memory.intervals == folder.intervals
    assert set(memory.to_dict()) == {"fd", "fad", "kad", "fad_inf", "kl", "is_mean", "is_std",
                                     "cs", "counts", "notes", "intervals", "protocol",
                                     "attributes", "diversity", "rms"}
    assert memory.attributes is None and memory.diversity is None  # not asked for
    # the folder's card differs only in what it knows of the pairing and the files
    diffs = {d["field"] for d in compare_protocols(memory.protocol, folder.protocol)}
    assert diffs == {"pairing.rule"}, diffs
    # paths, precomputed outputs and image embeddings give the same numbers
    files = {k: sorted((root / k).glob("*.*")) for k in ("gen", "ref", "img")}
    paths = score(pocket, files["gen"], files["ref"], files["img"])
    outputs = score(pocket, extract(pocket, read["gen"]), extract(pocket, read["ref"], cs=False),
                    Embeddings(torch.from_numpy(pocket.cs.embed_images(world[0].images)),
                               pocket.cs.space))
    for other in (paths, outputs):
        for key in ("fd", "fad", "kl", "is_mean", "is_std", "cs"):
            assert getattr(other, key) == pytest.approx(getattr(memory, key), rel=1e-5), key
        assert other.counts == memory.counts


def test_explicit_pairs_several_samples_per_image(pocket, world):
    batch, other = world
    generated = np.repeat(batch.audio, 2, axis=0)  # two "samples" of each image, consecutive
    pairs = [(i, i // 2) for i in range(2 * N)]
    two = score(pocket, generated, other, batch.images, reference_pairs=pairs, image_pairs=pairs,
                is_splits=2)
    one = score(pocket, batch.audio, other, batch.images)
    # duplicated pairs average to the same KL and CS; IS as asked
    assert two.kl == pytest.approx(one.kl, rel=1e-5) and two.cs == pytest.approx(one.cs, rel=1e-5)
    assert two.counts["kl_pairs"] == two.counts["cs_pairs"] == 2 * N
    assert two.protocol["pairing"]["rule"] == "explicit (reference_pairs, image_pairs)"
    assert two.counts["is_splits"] == 2 and not any("IS over" in n for n in two.notes)
    # a subset of pairs: KL over those only, FD still over every clip
    some = score(pocket, batch.audio, other, reference_pairs=[(0, 0), (1, 1)])
    assert some.counts["kl_pairs"] == 2 and some.fd == pytest.approx(one.fd)


def test_metrics_without_their_inputs_are_none(pocket, world):
    batch, other = world
    alone = score(pocket, batch.audio)
    assert alone.fd is alone.fad is alone.kl is alone.cs is None
    assert alone.is_mean > 1 and alone.counts == {"generated": N, "references": 0, "kl_pairs": 0,
                                                  "cs_pairs": 0, "is_splits": 1}
    assert set(alone.intervals) == {"is"} and alone.kad is alone.fad_inf is None
    assert set(alone.protocol["extractors"]) == {"fd"}
    with_images = score(pocket, batch.audio, images=batch.images)
    assert with_images.fd is None and with_images.cs > 50
    with_refs = score(pocket, batch.audio, other)
    assert with_refs.cs is None and with_refs.fd > 0 and with_refs.kl >= 0


def test_clip_samples_is_a_property_of_the_extractor(pocket, world):
    assert pocket.clip_samples == SR and all(e.clip_samples == SR for e in pocket)
    clips = [world[0].audio[0], world[0].audio[1][:8000]]
    with pytest.raises(MediaError, match=r"generated #1 has 8000 samples at 16000 Hz; "
                                         r"pocket-tagger reads clips of exactly 16000"):
        score(pocket, clips)
    with pytest.raises(MediaError, match=r"references #0 has 32000 samples"):
        score(pocket, world[0].audio, [np.tile(world[1][0], 2)] * 2)
    with pytest.raises(MediaError, match=r"clip #0 has 8000 samples"):
        pocket.fad.fd_features([clips[1]])


def test_bad_inputs_are_refused_naming_them(pocket, world):
    batch, other = world
    with pytest.raises(MediaError, match=r"generated has shape \(1, 6, 16000\)"):
        score(pocket, batch.audio[None])
    with pytest.raises(MediaError, match="generated has 6 clips but references has 5 rows"):
        score(pocket, batch.audio, other[:5])
    with pytest.raises(MediaError, match="generated has 6 clips but images has 4 rows"):
        score(pocket, batch.audio, images=batch.images[:4])
    bad = batch.audio.copy()
    bad[2, 100] = np.nan
    with pytest.raises(MediaError, match=r"generated #2: 1 of 16000 samples are NaN"):
        score(pocket, bad)
    with pytest.raises(MediaError, match="references has 1 clip"):
        score(pocket, batch.audio, other[:1], reference_pairs=[(0, 0)])
    with pytest.raises(MediaError, match="reference_pairs holds 1 pair; .* at least 2"):
        score(pocket, batch.audio, other, reference_pairs=[(0, 0)])
    with pytest.raises(MediaError, match="generated is empty"):
        score(pocket, [])
    with pytest.raises(ConfigError, match=r"reference_pairs pairs \[\[0, 9\]\] point outside "
                                          "references"):
        score(pocket, batch.audio, other, reference_pairs=[(0, 9)])
    with pytest.raises(ConfigError, match="image_pairs must be"):
        score(pocket, batch.audio, images=batch.images, image_pairs=[0, 1])
    with pytest.raises(ConfigError, match="is_splits"):
        score(pocket, batch.audio, is_splits=7)
    with pytest.raises(ConfigError, match="extractors is a str"):
        score("pocket", batch.audio)
    elsewhere = Space("clip", "other", "x", pocket.cs.space.dim)
    embeds = torch.nn.functional.normalize(torch.randn(N, elsewhere.dim), dim=-1)
    with pytest.raises(SpaceMismatchError, match="images are in space"):
        score(pocket, batch.audio, images=Embeddings(embeds, elsewhere))
    no_fad = extract(pocket, batch.audio, fad_rows=False)
    with pytest.raises(EmbeddingError, match="generated has no fad outputs"):
        score(pocket, no_fad, other)
    nan = AudioOutputs(no_fad.features.copy(), no_fad.logits)
    nan.features[0, 0] = np.nan
    with pytest.raises(EmbeddingError, match="generated.features holds NaN"):
        score(pocket, nan)
