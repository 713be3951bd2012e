"""The generation's settings record: every value checked in one place, by one rule, which the
command line, the pipeline and a sharded run all use."""

import dataclasses
import math

import pytest

from v2a_kit.errors import ConfigError
from v2a_kit.preflight import GENERATOR_FACTS, OPTION_NAMES, RunSettings
from v2a_kit.settings import GENERATE_RULES, SEED_MAX, GenerateSettings, Rule

# (field, accepted values, refused values)
CASES = [
    ("num_samples", [1, 7], [0, -1, 1.5, True, None, "2"]),
    ("num_inference_steps", [None, 1, 200], [0, 2.0, False]),
    ("guidance_scale", [1, 1.0, 2.5, 30], [0.99, math.nan, math.inf, "2.5", None]),
    ("mapper_guidance_scale", [None, 1.0, 4], [0.0, -math.inf]),
    ("num_frames", [1, 64], [0, 8.0]),
    ("seed", [0, SEED_MAX], [-1, SEED_MAX + 1, 1.0, None]),
    ("audio_length_in_s", [None, 0.001, 10], [0, -1.0, math.nan]),
    ("batch_size", [1, 16], [0, None]),
    ("scheduler", ["ddim", "dpmsolver++"], ["euler", None, 1]),
    ("aggregate", ["mean", "median", "middle"], ["max", ""]),
    ("timing", ["none", "onsets"], ["beats", None]),
]


@pytest.mark.parametrize("name, good, bad", CASES, ids=[c[0] for c in CASES])
def test_each_setting_refuses_what_is_out_of_range_naming_it(name, good, bad):
    for v in good:
        assert getattr(GenerateSettings(**{name: v}), name) == v
    for v in bad:
        with pytest.raises(ConfigError, match=f"^{name} must be"):
            GenerateSettings(**{name: v})


def test_every_field_is_checked():
    checked = {c[0] for c in CASES}
    assert checked == {f.name for f in dataclasses.fields(GenerateSettings)}


def test_the_record_is_frozen_and_replaced_by_name():
    s = GenerateSettings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.seed = 3
    t = GenerateSettings.make(s, seed=3, num_samples=2)
    assert (t.seed, t.num_samples, s.seed) == (3, 2, 0)
    with pytest.raises(ConfigError, match=r"unknown generation setting\(s\) \['num_sample'\]"):
        GenerateSettings.make(num_sample=2)
    with pytest.raises(ConfigError, match="settings is a dict"):
        GenerateSettings.make({"seed": 1})
    with pytest.raises(ConfigError, match="^seed must be"):
        GenerateSettings.make(s, seed=-4)


def test_steps_resolve_to_the_schedulers_default():
    assert GenerateSettings().steps == 10
    assert GenerateSettings(scheduler="ddim").steps == 200
    assert GenerateSettings(scheduler="ddim", num_inference_steps=7).steps == 7


def test_a_generators_range_is_checked_with_the_callers_names():
    facts = GENERATOR_FACTS["pocket-audioldm"]
    args = (facts.min_length_s, facts.max_length_s, facts.train_steps)
    GenerateSettings(audio_length_in_s=facts.max_length_s).check_generator(*args)
    GenerateSettings(audio_length_in_s=facts.min_length_s).check_generator(*args)
    with pytest.raises(ConfigError, match=r"^audio_length_in_s 1.5: expected seconds in "
                                          r"\[0.04, 1\]"):
        GenerateSettings(audio_length_in_s=1.5).check_generator(*args)
    with pytest.raises(ConfigError, match=r"^--length 0.01: .* \(what pocket-audioldm makes"):
        GenerateSettings(audio_length_in_s=0.01).check_generator(
            *args, name="pocket-audioldm", options=OPTION_NAMES)
    with pytest.raises(ConfigError, match=r"^--steps 1001: expected an integer in \[1, 1000\]"):
        GenerateSettings(num_inference_steps=1001).check_generator(*args, options=OPTION_NAMES)
    GenerateSettings(num_inference_steps=1000).check_generator(*args)


@pytest.mark.parametrize("name", sorted(GENERATE_RULES))
def test_the_command_line_accepts_exactly_what_the_record_accepts(name):
    """One rule: a number typed on the command line is accepted iff the record accepts it."""
    rule = GENERATE_RULES[name]
    for v in (-1, 0, 0.5, 1, 1.5, 2, 1000, SEED_MAX, SEED_MAX + 1, math.inf, math.nan):
        whole = rule.kind is int and math.isfinite(v) and float(v).is_integer()
        value = int(v) if whole else v
        text = str(value)
        try:
            parsed = rule.parse(text)
        except ValueError:
            parsed = None
        try:
            GenerateSettings(**{name: value})
            record = True
        except (ConfigError, ValueError, OverflowError):
            record = False
        assert (parsed is not None) == record, (name, v)


def test_rule_refusals_say_the_range():
    assert Rule(int, 1, what="denoising steps").wanted() == "an integer ≥ 1 (denoising steps)"
    assert Rule(float, 0, above=True).wanted() == "a finite number > 0"
    assert Rule(int, 0, SEED_MAX).wanted() == "an integer in [0, 2**63 - 1]"
    with pytest.raises(ValueError, match=r"^'x': expected an integer ≥ 1"):
        Rule(int, 1).parse("x")
    with pytest.raises(ValueError, match=r"^0: expected an integer ≥ 1"):
        Rule(int, 1).parse("0")


def test_a_runs_record_is_checked_by_the_same_rules():
    gen = GenerateSettings(num_samples=2, scheduler="ddim")
    run = RunSettings.of(gen, preset="pocket", mapper="diffusion", mux_videos=True)
    assert run.num_inference_steps == 200 and run.generate.num_samples == 2
    fields = {**run.to_dict(), "batch_size": 0}
    with pytest.raises(ConfigError, match="^batch_size must be"):
        RunSettings(**fields)


FLAGS = {"--num-samples": "num_samples", "--steps": "num_inference_steps",
         "--guidance": "guidance_scale", "--mapper-guidance": "mapper_guidance_scale",
         "--num-frames": "num_frames", "--seed": "seed", "--length": "audio_length_in_s",
         "--batch-size": "batch_size"}


@pytest.mark.parametrize("flag", sorted(FLAGS))
def test_v2a_kit_generate_options_refuse_what_the_record_refuses(flag):
    from v2a_kit.cli import _UsageError, build_parser

    parser, name = build_parser(), FLAGS[flag]
    for text in ("-1", "0", "0.5", "1", "1.5", "3", "nan", "inf", str(SEED_MAX + 1)):
        try:
            got = getattr(parser.parse_args(["generate", "a.png", "-o", "o", flag, text]), {
                "--steps": "steps", "--guidance": "guidance", "--length": "length",
                "--mapper-guidance": "mapper_guidance"}.get(flag, flag[2:].replace("-", "_")))
        except _UsageError as e:
            assert flag in str(e) or "expected" in str(e)
            got = None
        kind = GENERATE_RULES[name].kind
        try:
            value = kind(text) if kind is float else int(text)
            GenerateSettings(**{name: value})
            accepted = True
        except (ValueError, ConfigError):
            accepted = False
        assert (got is not None) == accepted, (flag, text)


@pytest.mark.parametrize("kw, match", [
    (dict(epochs=0), "TrainConfig.epochs must be an integer ≥ 1"),
    (dict(batch_size=2.0), "TrainConfig.batch_size must be an integer"),
    (dict(lr=0.0), r"TrainConfig.lr must be a finite number > 0"),
    (dict(lr=math.nan), "TrainConfig.lr"),
    (dict(weight_decay=-1e-3), "TrainConfig.weight_decay"),
    (dict(warmup_frac=1.0), r"TrainConfig.warmup_frac must be a finite number in \[0, 1\)"),
    (dict(patience=0), "TrainConfig.patience"),
    (dict(seed=-1), "TrainConfig.seed"),
    (dict(val_sample_kwargs=None), "TrainConfig.val_sample_kwargs must be a dict"),
])
def test_a_training_config_refuses_a_value_out_of_range_naming_it(kw, match):
    from v2a_kit.train import TrainConfig

    assert TrainConfig(patience=None, warmup_frac=0.0, weight_decay=0.0).patience is None
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**kw)
    with pytest.raises(dataclasses.FrozenInstanceError):
        TrainConfig().epochs = 3


@pytest.mark.parametrize("kw, match", [
    (dict(clip_steps=0), "BuildConfig.clip_steps must be an integer ≥ 1"),
    (dict(num_train=10.0), "BuildConfig.num_train"),
    (dict(unet_lr=-1e-3), "BuildConfig.unet_lr must be a finite number > 0"),
    (dict(clap_siblings=1.0), r"BuildConfig.clap_siblings must be .* in \[0, 1\)"),
    (dict(rescale_grid=()), "BuildConfig.rescale_grid is empty"),
    (dict(rescale_grid=(0.0, 2.0)), "BuildConfig.rescale_grid must be"),
])
def test_a_build_config_refuses_a_value_out_of_range_naming_it(kw, match):
    from v2a_kit.pocket.build import BuildConfig, get_build_config

    assert get_build_config(fast=True).clip_steps < get_build_config().clip_steps
    with pytest.raises(ConfigError, match=match):
        BuildConfig(**kw)


@pytest.mark.parametrize("kw, match", [
    (dict(resamples=9), r"resamples=9; expected an int ≥ 10"),
    (dict(resamples=True), "resamples=True"),
    (dict(level=1.0), "level=1.0; expected a number between 0 and 1"),
    (dict(seed=-1), "seed=-1"),
    (dict(fad_inf=1), "fad_inf=1; expected True or False"),
    (dict(resampler="nearest"), "resampler='nearest'; expected None or one of"),
    (dict(clip=(1, 2)), "clip is a tuple; expected a ClipRule or None"),
    (dict(kad_bandwidth="median"), "kad_bandwidth='median'"),
    (dict(kad_bandwidth=0.0), "kad_bandwidth=0.0"),
    (dict(kad_bandwidth=math.nan), "kad_bandwidth=nan"),
    (dict(is_splits=0), "is_splits=0"),
])
def test_score_settings_refuse_a_value_out_of_range_naming_it(kw, match):
    from v2a_kit.evaluation import ScoreSettings

    ok = ScoreSettings(resamples=10, level=0.5, kad_bandwidth=2.0, is_splits=1,
                       resampler="soxr_hq")
    assert ScoreSettings.make(ok, seed=4).seed == 4 and ok.seed == 0
    with pytest.raises(ConfigError, match=match):
        ScoreSettings(**kw)
    with pytest.raises(ConfigError, match=r"unknown scoring setting\(s\) \['resample'\]"):
        ScoreSettings.make(resample=100)


def test_score_takes_a_record_or_its_fields_by_name(pocket):
    """score(..., settings) and score(..., **fields) are one path: same card, same numbers;
    a bad field is refused before any clip is read."""
    from v2a_kit.evaluation import ScoreSettings, score
    from v2a_kit.pocket.world import sample_audio_for, sample_world

    ex = pocket
    gen = sample_audio_for(sample_world(6, 11), 12).audio
    ref = sample_audio_for(sample_world(6, 13), 14).audio
    a = score(ex, gen, ref, None, ScoreSettings(resamples=20, seed=3, fad_inf=False))
    b = score(ex, gen, ref, resamples=20, seed=3, fad_inf=False)
    c = score(ex, gen, ref, resamples=20, seed=4, fad_inf=False)
    assert a.fd == b.fd and a.intervals == b.intervals
    assert a.protocol["metrics"] == b.protocol["metrics"] != c.protocol["metrics"]
    with pytest.raises(ConfigError, match="resamples=5"):
        score(ex, "not even audio", ref, resamples=5)
