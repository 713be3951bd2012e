"""v2a_kit.checkpoints: the one checkpoint format of mappers and evaluators, and what ships."""

import hashlib
import json

import pytest
import torch

from v2a_kit import load_mapper
from v2a_kit.checkpoints import (
    CONFIG,
    EVALUATOR_FORMAT,
    MAPPER_FORMAT,
    WEIGHTS,
    load_module,
    read_config,
    save_module,
)
from v2a_kit.errors import ConfigError, WeightsNotFoundError
from v2a_kit.mappers import create_mapper, load_mapper_folder, save_mapper
from v2a_kit.pocket.models.evaluators import (
    PocketAudioToImage,
    PocketTagger,
    load_evaluator,
    save_evaluator,
)
from v2a_kit.pocket.models.loading import pocket_dir
from v2a_kit.spaces import Space

CLIP = Space("clip", "test/clip", "w", 16)
CLAP = Space("clap", "test/clap", "w", 12)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[k].dtype == b[k].dtype and torch.equal(a[k], b[k].to(a[k].device)) for k in a)


def _digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("kind", ["regression", "diffusion", "ridge"])
def test_shipped_mappers_load_unchanged(kind):
    folder = pocket_dir() / "mappers" / kind
    before = _digests(folder)
    m = load_mapper_folder(folder, kind=kind)
    assert m.kind == kind and not m.training
    state, meta = load_module(folder, format=MAPPER_FORMAT, what="mapper")
    assert meta["format"] == MAPPER_FORMAT and meta["kind"] == kind
    assert _same(m.state_dict(), state)
    assert _same(load_mapper("pocket", kind=kind).state_dict(), state)
    assert _digests(folder) == before  # loading writes nothing


@pytest.mark.parametrize("name, cls", [("tagger", PocketTagger),
                                       ("audio_to_image", PocketAudioToImage)])
def test_shipped_evaluators_load_unchanged(name, cls):
    folder = pocket_dir() / "evaluators" / name
    before = _digests(folder)
    assert json.loads((folder / CONFIG).read_text())["format"] == "v2a-kit-evaluator-1"
    model = load_evaluator(folder, kind=cls.__name__)
    assert isinstance(model, cls) and not model.training
    state, meta = load_module(folder, what="evaluator")  # any format: recognised by "class"
    assert meta["format"] == EVALUATOR_FORMAT and meta["class"] == cls.__name__
    assert _same(model.state_dict(), state)
    assert _digests(folder) == before


def test_mapper_and_evaluator_share_the_format_and_round_trip_bit_for_bit(tmp_path):
    torch.manual_seed(0)
    mapper = create_mapper("regression", CLIP, CLAP, hidden_dim=32, num_blocks=1)
    tagger = PocketTagger()
    with torch.no_grad():
        for p in tagger.parameters():
            p.add_(torch.randn_like(p))
    for module, folder, fmt, save in [
            (mapper, tmp_path / "m", MAPPER_FORMAT, lambda m, f: save_mapper(m, f)),
            (tagger, tmp_path / "t", EVALUATOR_FORMAT, save_evaluator)]:
        save(module, folder)
        assert sorted(p.name for p in folder.iterdir()) == [CONFIG, WEIGHTS]
        state, meta = load_module(folder, format=fmt)
        assert meta["format"] == fmt and _same(module.state_dict(), state)
    assert _same(load_mapper(tmp_path / "m").state_dict(), mapper.state_dict())
    assert _same(load_evaluator(tmp_path / "t").state_dict(), tagger.state_dict())
    with pytest.raises(ConfigError, match=f"m/{CONFIG} is a {MAPPER_FORMAT} checkpoint; "
                                          f"expected a {EVALUATOR_FORMAT}"):
        load_evaluator(tmp_path / "m")
    with pytest.raises(ConfigError, match=f"t/{CONFIG} is a {EVALUATOR_FORMAT} checkpoint"):
        load_mapper(tmp_path / "t")


def test_save_module_writes_one_unit_and_refuses_unknown_formats(tmp_path):
    state = {"w": torch.arange(6, dtype=torch.float64).reshape(2, 3), "i": torch.tensor([1, 2])}
    folder = save_module(tmp_path / "c", state, {"kind": "x", "note": [1]}, format=MAPPER_FORMAT)
    back, meta = load_module(folder)
    assert _same(state, back) and meta["note"] == [1]
    assert meta["sha256"] == hashlib.sha256((folder / WEIGHTS).read_bytes()).hexdigest()
    with pytest.raises(ConfigError, match="format='other'"):
        save_module(tmp_path / "d", state, {"kind": "x"}, format="other")
    with pytest.raises(ConfigError, match="'kind' field"):
        save_module(tmp_path / "d", state, {"class": "x"}, format=MAPPER_FORMAT)
    with pytest.raises(TypeError):  # not JSON-able: the old checkpoint stays, nothing is left
        save_module(folder, state, {"kind": object()}, format=MAPPER_FORMAT)
    assert _same(load_module(folder)[0], state)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c"]


@pytest.fixture
def ckpt(tmp_path):
    return save_module(tmp_path / "c", {"w": torch.ones(4)}, {"kind": "x"}, format=MAPPER_FORMAT)


def test_missing_files_are_named(ckpt, tmp_path):
    with pytest.raises(WeightsNotFoundError, match=f"nowhere/{CONFIG} is missing"):
        load_module(tmp_path / "nowhere")
    (ckpt / WEIGHTS).unlink()
    with pytest.raises(WeightsNotFoundError, match=f"mapper checkpoint file .*c/{WEIGHTS} is "
                                                   "missing"):
        load_module(ckpt, what="mapper")


def test_truncated_weights_are_named(ckpt):
    data = (ckpt / WEIGHTS).read_bytes()
    (ckpt / WEIGHTS).write_bytes(data[:-8])
    with pytest.raises(ConfigError, match=f"c/{WEIGHTS} does not match .*c/{CONFIG} .*sha256.*"
                                          "truncated, or written by another save"):
        load_module(ckpt)


def test_weights_that_match_but_do_not_parse_are_named(ckpt):
    junk = b"not safetensors"
    (ckpt / WEIGHTS).write_bytes(junk)
    meta = json.loads((ckpt / CONFIG).read_text())
    (ckpt / CONFIG).write_text(json.dumps({**meta, "sha256": hashlib.sha256(junk).hexdigest()}))
    with pytest.raises(ConfigError, match=f"c/{WEIGHTS} is not a readable safetensors file"):
        load_module(ckpt)


@pytest.mark.parametrize("text, match", [
    ("{not json", "is not a v2a-kit mapper config .JSONDecodeError"),
    ("[1, 2]", "is not a v2a-kit mapper config: it holds a list, expected a JSON object"),
    ('{"format": "v2a-kit-mapper-9", "kind": "x"}', "has format 'v2a-kit-mapper-9'"),
    ('{"kind": "x"}', "has format None"),
    ('{"format": "v2a-kit-mapper-1"}', "is not a v2a-kit mapper config: no 'kind' field"),
])
def test_bad_configs_are_named(ckpt, text, match):
    (ckpt / CONFIG).write_text(text)
    with pytest.raises(ConfigError, match=f"c/{CONFIG} {match}"):
        read_config(ckpt, format=MAPPER_FORMAT, what="mapper")


def test_wrong_format_is_named(ckpt):
    with pytest.raises(ConfigError, match=f"c/{CONFIG} is a {MAPPER_FORMAT} checkpoint; "
                                          f"expected a {EVALUATOR_FORMAT} .evaluator"):
        load_module(ckpt, format=EVALUATOR_FORMAT, what="evaluator")


@pytest.fixture
def pocket_copy(tmp_path):
    """The shipped build's pocket-CLIP and pocket-CLAP folders (and build.json) in tmp_path."""
    import shutil
    src = pocket_dir()
    for name in ("clip", "clap"):
        shutil.copytree(src / name, tmp_path / name)
    shutil.copy(src / "build.json", tmp_path / "build.json")
    return tmp_path


def test_pocket_foundation_models_are_tagged_checkpoints_checked_on_load(pocket_copy):
    """pocket-CLIP and pocket-CLAP are checkpoints of the one helper: tagged, their sha256 in
    config.json checked before loading, and their space named by that digest."""
    from v2a_kit import load_clap, load_clip
    from v2a_kit.checkpoints import POCKET_CLAP_FORMAT, POCKET_CLIP_FORMAT, read_config
    for name, fmt in (("clip", POCKET_CLIP_FORMAT), ("clap", POCKET_CLAP_FORMAT)):
        meta = read_config(pocket_copy / name, format=fmt)
        data = (pocket_copy / name / "model.safetensors").read_bytes()
        assert meta["sha256"] == hashlib.sha256(data).hexdigest()
    clip = load_clip("pocket", weights=pocket_copy, device="cpu")
    clap = load_clap("pocket", weights=pocket_copy, device="cpu")
    assert clip.space == load_clip("pocket", device="cpu").space  # same bytes, same space
    assert clip.space.checkpoint == "pocket-build:" + read_config(pocket_copy / "clip")[
        "sha256"][:16]
    assert clap.space.checkpoint.startswith("pocket-build:")
    # a weights file changed after the save is refused, naming it
    f = pocket_copy / "clap" / "model.safetensors"
    f.write_bytes(f.read_bytes()[:-8])
    with pytest.raises(ConfigError, match=r"clap/model\.safetensors does not match .*sha256"):
        load_clap("pocket", weights=pocket_copy, device="cpu")
    # a pocket-CLAP folder where pocket-CLIP is expected is refused naming both formats
    import shutil
    shutil.rmtree(pocket_copy / "clip")
    shutil.copytree(pocket_dir() / "clap", pocket_copy / "clip")
    with pytest.raises(ConfigError, match="is a v2a-kit-pocket-clap-1 checkpoint; expected a "
                                          "v2a-kit-pocket-clip-1"):
        load_clip("pocket", weights=pocket_copy, device="cpu")


def test_pocket_folders_written_before_the_tag_are_refused_with_the_rebuild(pocket_copy):
    from v2a_kit import load_clip
    cfg = pocket_copy / "clip" / "config.json"
    meta = json.loads(cfg.read_text())
    cfg.write_text(json.dumps({k: v for k, v in meta.items() if k not in ("format", "sha256")}))
    with pytest.raises(ConfigError, match=r"clip/config\.json is a pocket-CLIP checkpoint "
                                          r"written before .*`v2a-kit pocket build"):
        load_clip("pocket", weights=pocket_copy, device="cpu")


def test_one_learning_rate_schedule_warms_up_then_decays():
    """warmup_cosine: the first step already trains, the peak is reached at the end of the
    warm-up, the last step is near zero; out-of-range settings are refused by name."""
    from v2a_kit.lr_schedule import warmup_cosine
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=2.0)
    sched = warmup_cosine(opt, 100, 5)
    lrs = []
    for _ in range(100):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs[0] == pytest.approx(2.0 / 5) and lrs[4] == pytest.approx(2.0)
    assert all(a <= b for a, b in zip(lrs[:5], lrs[1:5]))  # rising
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:]))  # then falling
    assert lrs[-1] < 0.01
    for total, warm, name in ((0, 1, "total_steps"), (10, 0, "warmup_steps"),
                              (10, 11, "warmup_steps")):
        with pytest.raises(ConfigError, match=f"{name}="):
            warmup_cosine(opt, total, warm)
