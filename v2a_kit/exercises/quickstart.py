"""Notebook 00's exercises (the quickstart): the tagger's reading of generated sounds against
their pictures' labels (00.1), and what one diffusion-mapper seed changes in a sound (00.2)."""

from __future__ import annotations

from .checking import (
    Exercise,
    Wrong,
    Z,
    close_to,
    default_of,
    describe,
    read_accuracy_dict,
    read_dict,
    read_number,
    seed_spread,
)


# The reference solutions: public API only, so each runs pasted into a notebook cell.
# 00 — quickstart
def solve_00_1(n: int = 6, world_seed: int = 11):
    """Accuracy of the tagger's reading of sounds generated (regression mapper, one call to
    ``generate`` with generator seed 0) for ``sample_world(n, world_seed)``."""
    import torch

    from v2a_kit import generation
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket import world as pw
    from v2a_kit.pocket.gates import attribute_accuracy
    m = load_models()
    scenes = pw.sample_world(n, seed=world_seed)
    clap_embed = m["regression"].map(m["clip"].encode_images(list(scenes.images), progress=False))
    waves = generation.generate(m["audioldm"], clap_embed,
                                generator=torch.Generator().manual_seed(0)).waveforms
    return attribute_accuracy(m["tagger"].predict(waves), scenes.labels)


def solve_00_2(world_seed: int = 7, seeds=(0, 1)):
    """The diffusion mapper's CLAP samples for one image under two mapper seeds: their cosine,
    and whether the tagger hears the same attributes in the two sounds (both generated with
    AudioLDM noise seed 0, so only the mapper's seed differs)."""
    import torch

    from v2a_kit import generation
    from v2a_kit.pocket import load_models
    from v2a_kit.pocket import world as pw
    m = load_models()
    image = m["clip"].encode_images(list(pw.sample_world(1, seed=world_seed).images),
                                    progress=False)
    a, b = (m["diffusion"].map(image, generator=torch.Generator().manual_seed(s)) for s in seeds)
    cosine = float((a.embeds * b.embeds).sum())
    heard = [m["tagger"].predict(generation.generate(
        m["audioldm"], e, generator=torch.Generator().manual_seed(0)).waveforms) for e in (a, b)]
    same = all(int(heard[0][k][0]) == int(heard[1][k][0]) for k in heard[0])
    return {"cosine": cosine, "same_attributes": same}


# Check-time references (the expected value and its noise) and the checkers, per exercise.
def _ref_00_1():
    return {"value": solve_00_1(), "n": default_of(solve_00_1, "n")}


def _check_00_1(answer, ref):
    from ..pocket import world as pw
    read_accuracy_dict(answer, ref["value"], ref["n"], pw.ATTRIBUTES)


def _ref_00_2():
    import torch

    from ..pocket import load_models
    from ..pocket import world as pw
    m = load_models()
    image = m["clip"].encode_images(list(pw.sample_world(1, seed=default_of(solve_00_2,
                                                                          "world_seed")).images),
                                    progress=False)

    def cosine(s, t):
        a, b = (m["diffusion"].map(image, generator=torch.Generator().manual_seed(x))
                for x in (s, t))
        return float((a.embeds * b.embeds).sum())
    others = [cosine(2 * k, 2 * k + 1) for k in range(1, 9)]
    return {"value": solve_00_2(), "tol": max(seed_spread(others), 1e-4)}


def _check_00_2(answer, ref):
    got = read_dict(answer, ["cosine", "same_attributes"],
                shape="{'cosine': float, 'same_attributes': bool}")
    c = read_number(got["cosine"], "the answer['cosine']", -1.0, 1.0)
    expected, tol = ref["value"]["cosine"], ref["tol"]
    if abs(c - 1) <= 1e-4 < abs(expected - 1) - tol:
        raise Wrong("the answer['cosine'] is 1: that is a sample's cosine with itself — were "
                     "both samples drawn with the same mapper seed? Use seeds 0 and 1")
    close_to(c, expected, tol, "the answer['cosine']", f"{Z:g} standard deviations of the cosine "
          "over other pairs of mapper seeds")
    same = got["same_attributes"]
    if not isinstance(same, bool) and type(same).__name__ != "bool_":
        raise Wrong(f"the answer['same_attributes']: expected True or False, got "
                     f"{describe(same)}")
    if bool(same) != ref["value"]["same_attributes"]:
        raise Wrong(f"the answer['same_attributes'] is {bool(same)}; with mapper seeds 0 and "
                     "1 and AudioLDM noise seed 0 the tagger hears "
                     + ("the same" if ref["value"]["same_attributes"] else "different")
                     + " attributes")


EXERCISES = [
    Exercise("00.1", "Generate for `pw.sample_world(6, seed=11)` (regression mapper, one "
             "`generate` call with generator seed 0) and compare the tagger's reading with "
             "the labels: pass the accuracy dict of `attribute_accuracy`.",
             solve_00_1, _check_00_1, "a dict {attribute: accuracy, 'all': accuracy}",
             "Each attribute's accuracy is the share of the six sounds in which the tagger "
             "hears the image's value; `all` needs every attribute right at once, so it is "
             "never above the lowest of them.",
             reference=_ref_00_1),
    Exercise("00.2", "Change the diffusion mapper's generator seed (0, then 1) for the image of "
             "section 2: what changes in the sound, what stays? Pass the cosine of the two CLAP "
             "samples and whether the tagger hears the same attributes.",
             solve_00_2, _check_00_2,
             "a dict {'cosine': float, 'same_attributes': bool}",
             "A cosine near 1 means the mapper's seed hardly moves the CLAP embedding: the "
             "variety one hears then comes from AudioLDM's own noise. A clearly lower cosine "
             "means the prior samples different sounds; the tagger's verdict says whether they "
             "still carry the image's attributes (what the image shows should stay, what it "
             "cannot show may change).",
             reference=_ref_00_2),
]
