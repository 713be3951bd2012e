"""v2a_kit.datasets: VGGSound / ImageHear protocols on fake folders built in tmp_path.

Only names matter to the loaders unless ``validate=True``, so most clips are placeholder files;
one real (tiny) mp4 and one corrupt one exercise validation.
"""

import re
import shutil
import warnings

import av
import numpy as np
import pytest
from PIL import Image

from v2a_kit.datasets import (
    IMAGEHEAR_CLASSES,
    IMAGEHEAR_NUM_CLASSES,
    IMAGEHEAR_NUM_IMAGES,
    PUBLISHED,
    ImageHearItem,
    IncompleteDatasetWarning,
    VGGSoundItem,
    imagehear_ids,
    load_imagehear,
    load_vggsound,
    match_generated,
    parse_vggsound_name,
    published_table,
)
from v2a_kit.errors import ConfigError, MediaError

# Real VGGSound ids, chosen for the awkward characters: leading '-', '_' inside, '_s' inside.
A, B, C, D, E, F = ("glLQrEijrKg", "-_yRmyG71Z0", "7L5ceYe0f_s", "0nYltlo90Zc", "apZT-WEJ--A",
                    "NlCfScKw_Mk")


def names(path):
    return re.escape(str(path))


def touch(path, data=b"placeholder"):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def write_video(path, num_frames=3, size=16):
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        v = c.add_stream("libx264", rate=10)
        v.width = v.height = size
        v.pix_fmt = "yuv420p"
        for k in range(num_frames):
            frame = np.full((size, size, 3), 40 * k, np.uint8)
            c.mux(v.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        c.mux(v.encode(None))
    return path


def write_csv(path, text):
    path.write_text(text.lstrip("\n"))
    return path


OFFICIAL_CSV = f"""
{A},300,playing hammond organ,test
{B},36,"donkey, ass braying",test
{C},120,wind rustling leaves,test
{D},147,playing bongo,test
{E},175,people slurping,test
{F},30,playing synthesizer,test
{A},10,playing hammond organ,train
"""


@pytest.fixture
def vgg_folder(tmp_path):
    """Every naming variant; E is missing; the train clip is present but unlisted."""
    root = tmp_path / "vggsound"
    touch(root / "video" / f"{A}_000300.mp4")                    # {id}_{start:06d}
    touch(root / "audio" / f"{A}_000300.wav")                    # audio alongside, elsewhere
    touch(root / "video" / f"{B}_36.mp4")                        # {id}_{start}
    touch(root / "video" / f"{C}_120000_130000.mp4")             # {id}_{ms}_{ms} (Im2Wav)
    touch(root / f"{D}_147_157.mkv")                             # {id}_{s}_{s}
    touch(root / f"{F}_000030.flac")                             # audio only
    touch(root / f"{A}_000010.mp4")                              # a train clip
    touch(root / "README.txt")
    touch(root / ".hidden" / f"{E}_000175.mp4")                  # hidden: not found
    return root


# ------------------------------------------------------------------------------ names


@pytest.mark.parametrize("name, expected", [
    (f"{A}_000300", (A, 300)),
    (f"{A}_000300.mp4", (A, 300)),
    (f"{A}_300.wav", (A, 300)),
    (f"{A}_300000_310000.flac", (A, 300)),
    (f"{A}_0_10000", (A, 0)),
    (f"{A}_300_310", (A, 300)),
    (f"{A}_0_10", (A, 0)),
    (f"{B}_000036", (B, 36)),
    (f"{C}_000120", (C, 120)),
    (f"sub/dir/{D}_147000_157000.mp4", (D, 147)),
    (f"{A}_001083", (A, 1083)),
    ("dog1", None),
    ("short_000030", None),                   # not an 11-character id
    (f"{A}_000300_s0", None),                 # a sample suffix is not a clip name
    (f"{A}_1500_11500", None),                # milliseconds, but not a whole second
    (f"{A}_310_300", None),                   # ends before it starts
    (f"{A}_000300_v2a", None),
])
def test_parse_vggsound_name(name, expected):
    assert parse_vggsound_name(name) == expected


def test_item_id_is_the_official_name():
    assert VGGSoundItem(B, 36).id == f"{B}_000036"


# --------------------------------------------------------------------------- VGGSound


def test_load_vggsound_official_csv_every_naming_variant(tmp_path, vgg_folder):
    csv_path = write_csv(tmp_path / "vggsound.csv", OFFICIAL_CSV)
    with pytest.warns(IncompleteDatasetWarning) as record:
        ds = load_vggsound(csv_path, vgg_folder)
    message = str(record[0].message)
    assert "5 of 6 listed clips" in message and "1 missing" in message
    assert f"{E}_000175" in message and "15,446" in message and str(vgg_folder) in message

    assert [it.id for it in ds] == [f"{A}_000300", f"{B}_000036", f"{C}_000120", f"{D}_000147",
                                    f"{F}_000030"]  # list order
    assert ds.missing == [f"{E}_000175"] and ds.num_listed == 6 and len(ds) == 5
    by_id = {it.id: it for it in ds}
    a = by_id[f"{A}_000300"]
    assert a.video_path == vgg_folder / "video" / f"{A}_000300.mp4"
    assert a.audio_path == vgg_folder / "audio" / f"{A}_000300.wav"
    assert a.label == "playing hammond organ" and a.split == "test" and a.start_s == 300
    assert by_id[f"{B}_000036"].label == "donkey, ass braying"  # quoted comma
    assert by_id[f"{B}_000036"].audio_path is None
    assert by_id[f"{C}_000120"].video_path.name == f"{C}_120000_130000.mp4"
    assert by_id[f"{D}_000147"].video_path.suffix == ".mkv"
    f = by_id[f"{F}_000030"]
    assert f.video_path is None and f.audio_path.suffix == ".flac"
    assert ds.name == "VGGSound test" and len(ds.labels) == 5
    assert "not in the list" in ds.summary()  # the train clip


def test_load_vggsound_train_split_and_all_rows(tmp_path, vgg_folder):
    csv_path = write_csv(tmp_path / "vggsound.csv", OFFICIAL_CSV)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train = load_vggsound(csv_path, vgg_folder, split="train")
    assert [(it.id, it.split) for it in train] == [(f"{A}_000010", "train")]
    with pytest.warns(IncompleteDatasetWarning):
        everything = load_vggsound(csv_path, vgg_folder, split=None)
    assert len(everything) == 6 and everything.num_listed == 7
    with pytest.raises(ConfigError, match="split='val'"):
        load_vggsound(csv_path, vgg_folder, split="val")


def test_load_vggsound_id_list_and_two_column_csv(tmp_path, vgg_folder):
    # V2A-Mapper's meta_data/vggsound_test_id.txt: one {id}_{start:06d} per line
    ids = write_csv(tmp_path / "vggsound_test_id.txt",
                    f"{A}_000300\n\n# comment\n{C}_000120\n{D}_147000_157000\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_vggsound(ids, vgg_folder)
    assert [it.id for it in ds] == [f"{A}_000300", f"{C}_000120", f"{D}_000147"]
    assert all(it.label is None and it.split is None for it in ds) and ds.name == "VGGSound"
    # the VGGSound repo's data/test.csv: file name, label
    two = write_csv(tmp_path / "test.csv", f'{B}_000036.mp4,"donkey, ass braying"\n'
                                           f"{E}_000175.mp4,people slurping\n")
    with pytest.warns(IncompleteDatasetWarning, match=f"1 missing: {E}_000175"):
        ds = load_vggsound(two, vgg_folder)
    assert [(it.id, it.label) for it in ds] == [(f"{B}_000036", "donkey, ass braying")]


def test_load_vggsound_header_and_duplicates(tmp_path, vgg_folder):
    csv_path = write_csv(tmp_path / "v.csv", "YouTube ID,start seconds,label,train/test split\n"
                                             f"{A},300,organ,test\n{A},300,organ,test\n")
    ds = load_vggsound(csv_path, vgg_folder)
    assert [it.id for it in ds] == [f"{A}_000300"]
    assert "1 duplicate rows ignored" in ds.summary()


def test_load_vggsound_require_all(tmp_path, vgg_folder):
    csv_path = write_csv(tmp_path / "vggsound.csv", OFFICIAL_CSV)
    with pytest.raises(MediaError, match=f"1 missing: {E}_000175"):
        load_vggsound(csv_path, vgg_folder, require_all=True)


def test_load_vggsound_missing_many_shows_the_first_few(tmp_path):
    root = tmp_path / "clips"
    touch(root / f"{A}_000000.mp4")
    ids = "\n".join(f"{A}_{k:06d}" for k in range(40))
    with pytest.warns(IncompleteDatasetWarning, match=r"39 missing: .*_000001, .*\(\+34 more\)"):
        load_vggsound(write_csv(tmp_path / "ids.txt", ids), root)


@pytest.mark.parametrize("text, line, why", [
    (f"{A},300,organ,test\n{B},36,donkey\n", 2, "3 columns, but line 1 has 4"),
    (f"{A},300,organ,test\n{B},3.5,donkey,test\n", 2, "start_seconds '3.5'"),
    (f"{A},300,organ,test\n\n{B},36,donkey,val\n", 3, "split 'val'"),
    (f"{A},300,organ,test\nshort,36,donkey,test\n", 2, "youtube id 'short'"),
    (f"{A},300,,test\n", 1, "empty label"),
    (f"{A}_000300\ndog1\n", 2, "'dog1' is not a clip name"),
    (f"{A},300,organ\n", 1, "3 columns; expected"),
])
def test_load_vggsound_malformed_rows_name_the_line(tmp_path, vgg_folder, text, line, why):
    csv_path = write_csv(tmp_path / "bad.csv", text)
    where = names(f"{csv_path}, line {line}: ")
    with pytest.raises(MediaError, match=where + ".*" + re.escape(why)):
        load_vggsound(csv_path, vgg_folder)


def test_load_vggsound_bad_lists(tmp_path, vgg_folder):
    with pytest.raises(MediaError, match=names(tmp_path / "nope.csv") + ": no such file"):
        load_vggsound(tmp_path / "nope.csv", vgg_folder)
    empty = write_csv(tmp_path / "empty.csv", "\n# nothing\n")
    with pytest.raises(MediaError, match=names(empty) + ": no rows"):
        load_vggsound(empty, vgg_folder)
    train_only = write_csv(tmp_path / "train.csv", f"{A},10,organ,train\n")
    with pytest.raises(MediaError, match=r"no rows with split 'test' \(it has train\)"):
        load_vggsound(train_only, vgg_folder)
    binary = touch(tmp_path / "binary.csv", b"\xff\xfe\x00\x81" * 10)
    with pytest.raises(MediaError, match=names(binary) + ": cannot read it as text"):
        load_vggsound(binary, vgg_folder)


def test_load_vggsound_folder_errors(tmp_path):
    csv_path = write_csv(tmp_path / "vggsound.csv", OFFICIAL_CSV)
    with pytest.raises(MediaError, match=names(tmp_path / "absent") + ": no such directory"):
        load_vggsound(csv_path, tmp_path / "absent")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(MediaError, match=names(empty) + ": none of the 6 clips listed in "
                       + names(csv_path) + f".*{A}_000300.mp4.*{A}_300000_310000.mp4"):
        load_vggsound(csv_path, empty)
    other = tmp_path / "other"
    touch(other / "holiday.mp4")
    with pytest.raises(MediaError, match="found 1 other media files"):
        load_vggsound(csv_path, other)


def test_load_vggsound_two_videos_for_one_clip(tmp_path, vgg_folder):
    touch(vgg_folder / f"{A}_300000_310000.mp4")
    csv_path = write_csv(tmp_path / "vggsound.csv", OFFICIAL_CSV)
    with pytest.raises(MediaError, match=names(vgg_folder) + ": 1 clip.* two files of one kind: "
                       f"{A}_300000_310000.mp4 and video/{A}_000300.mp4; expected"):
        load_vggsound(csv_path, vgg_folder)


def test_load_vggsound_validate_opens_videos(tmp_path):
    root = tmp_path / "clips"
    write_video(root / f"{A}_000300.mp4")
    ids = write_csv(tmp_path / "ids.txt", f"{A}_000300\n")
    assert load_vggsound(ids, root, validate=True)[0].video_path.name == f"{A}_000300.mp4"
    bad = touch(root / f"{B}_000036.mp4", b"\x00not a video" * 20)
    ids = write_csv(tmp_path / "ids.txt", f"{A}_000300\n{B}_000036\n")
    assert len(load_vggsound(ids, root)) == 2  # names only, unless asked
    with pytest.raises(MediaError, match=names(bad)):
        load_vggsound(ids, root, validate=True)


# -------------------------------------------------------------------------- ImageHear


def write_image(path, fmt=None, size=8):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (size, size), (200, 30, 30)).save(path, fmt)
    return path


@pytest.fixture(scope="module")
def imagehear(tmp_path_factory):
    """The Im2Wav layout: Data/ImageHear/{class}{n}.jpg, all 101."""
    root = tmp_path_factory.mktemp("im2wav") / "Data" / "ImageHear"
    for stem in imagehear_ids():
        write_image(root / f"{stem}.jpg")
    return root


def test_imagehear_ids_constants():
    ids = imagehear_ids()
    assert len(ids) == len(set(ids)) == IMAGEHEAR_NUM_IMAGES == 101
    assert len(IMAGEHEAR_CLASSES) == IMAGEHEAR_NUM_CLASSES == 30
    assert {"guitar8", "people4", "frog2", "bird1"} <= set(ids) and "frog3" not in ids
    assert all(2 <= n <= 8 for n in IMAGEHEAR_CLASSES.values())


def test_load_imagehear_flat_layout(imagehear):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = load_imagehear(imagehear, validate=True)
    assert len(ds) == 101 and len(ds.labels) == 30 and not ds.missing
    assert ds.labels == sorted(IMAGEHEAR_CLASSES)
    guitars = [it.id for it in ds if it.label == "guitar"]
    assert guitars == [f"guitar{i}" for i in range(1, 9)]  # natural order
    first = ds[0]
    assert isinstance(first, ImageHearItem) and first.id == "accordion1"
    assert first.image_path == imagehear / "accordion1.jpg"
    assert first.load_image().mode == "RGB"
    assert "101 of 101 listed images found (30 classes)" in ds.summary()


def test_load_imagehear_incomplete_warns_with_counts(tmp_path, imagehear):
    root = tmp_path / "ImageHear"
    shutil.copytree(imagehear, root)
    for stem in ("dog1", "dog2", "dog3", "cat2"):
        (root / f"{stem}.jpg").unlink()
    write_image(root / "owl_1.png")  # an extra class, "owl"
    with pytest.warns(IncompleteDatasetWarning) as record:
        ds = load_imagehear(root)
    message = str(record[0].message)
    assert "97 of 101 listed images found (30 classes)" in message
    assert "4 missing: cat2, dog1, dog2, dog3" in message
    assert "1 images not in the list kept: owl_1" in message
    assert "98 in 30" in message and "101 images in 30 classes" in message
    assert set(ds.missing) == {"dog1", "dog2", "dog3", "cat2"}
    assert "dog" not in ds.labels and "owl" in ds.labels and len(ds) == 98


def test_load_imagehear_class_subfolders(tmp_path):
    root = tmp_path / "by_class"
    for label, n in (("dog", 3), ("rain", 2)):
        for i in range(1, n + 1):
            write_image(root / label / f"{i}.png", size=12)
    with pytest.warns(IncompleteDatasetWarning, match="5 in 2"):
        ds = load_imagehear(root, ids=["dog/1", "dog/2", "dog/3", "rain/1", "rain/2"])
    assert [(it.id, it.label) for it in ds] == [("dog/1", "dog"), ("dog/2", "dog"),
                                                ("dog/3", "dog"), ("rain/1", "rain"),
                                                ("rain/2", "rain")]
    assert not ds.missing


def test_load_imagehear_id_file_restricts(tmp_path, imagehear):
    ids = write_csv(tmp_path / "imagehear_id.txt", "sheep3\nbass3.jpg\nunicorn1\n")
    with pytest.warns(IncompleteDatasetWarning, match="unicorn1"):
        ds = load_imagehear(imagehear, ids)
    assert [it.id for it in ds] == ["bass3", "sheep3"] and ds.missing == ["unicorn1"]
    assert ds.source == ids and "99 images not in the list left out" in ds.summary()


def test_load_imagehear_errors(tmp_path, imagehear):
    with pytest.raises(MediaError, match=names(tmp_path / "absent") + ": no such directory"):
        load_imagehear(tmp_path / "absent")
    empty = tmp_path / "empty"
    touch(empty / "notes.txt")
    with pytest.raises(MediaError, match=names(empty) + ": no images found.*ImageHear"):
        load_imagehear(empty)
    # pointed one level too high (Im2Wav's Data/ rather than Data/ImageHear)
    with pytest.raises(MediaError, match=r"all images are inside ImageHear/.*did you mean "
                                         + names(imagehear)):
        load_imagehear(imagehear.parent)
    mixed = tmp_path / "mixed"
    write_image(mixed / "dog1.jpg")
    write_image(mixed / "cat" / "cat1.jpg")
    with pytest.raises(MediaError, match="both images.*and subfolders"):
        load_imagehear(mixed)
    nameless = tmp_path / "nameless"
    write_image(nameless / "dog1.jpg")
    write_image(nameless / "123.jpg")
    with pytest.raises(MediaError, match=names(nameless / "123.jpg") + ": no class name"):
        load_imagehear(nameless)
    twice = tmp_path / "twice"
    write_image(twice / "dog1.jpg")
    write_image(twice / "dog1.png")
    with pytest.raises(MediaError, match="two images named dog1"):
        load_imagehear(twice)


def test_load_imagehear_unreadable_image(tmp_path):
    root = tmp_path / "ImageHear"
    write_image(root / "dog1.jpg")
    broken = touch(root / "dog2.jpg", b"\xff\xd8\xff\xe0 truncated jpeg")
    with pytest.warns(IncompleteDatasetWarning):
        ds = load_imagehear(root)  # lazily: listed, not decoded
    with pytest.raises(MediaError, match=names(broken)):
        ds[1].load_image()
    with pytest.raises(MediaError, match=names(broken)):  # before any count warning
        load_imagehear(root, validate=True)


# --------------------------------------------------------------------------- matching


def vgg_items():
    return [VGGSoundItem(A, 300, "organ"), VGGSoundItem(B, 36, "donkey"),
            VGGSoundItem(C, 120, "wind"), VGGSoundItem(D, 147, "bongo")]


def test_match_generated_vggsound_names_and_samples(tmp_path):
    gen = tmp_path / "generated"
    touch(gen / f"{A}_000300.wav")                  # the id
    touch(gen / "sub" / f"{B}_36000_46000.flac")    # another variant of the clip, nested
    touch(gen / f"{C}_000120_s0.wav")               # samples of several
    touch(gen / f"{C}_000120_s1.wav")
    touch(gen / "stray.wav")
    touch(gen / f"{A}_000300_v2a.mp4")              # a muxed video: not audio, ignored
    touch(gen / ".cache" / f"{D}_000147.wav")       # hidden
    items = vgg_items()
    m = match_generated(items, gen)
    assert [(it.id, p.relative_to(gen).as_posix()) for it, p in m.pairs] == [
        (f"{A}_000300", f"{A}_000300.wav"), (f"{B}_000036", f"sub/{B}_36000_46000.flac"),
        (f"{C}_000120", f"{C}_000120_s0.wav"), (f"{C}_000120", f"{C}_000120_s1.wav")]
    assert m.unmatched == [gen / "stray.wav"]
    assert m.missing == [items[3]]
    assert "4 generated files matched 3 of 4 items" in m.summary()


def test_match_generated_from_an_evalset(tmp_path, vgg_folder):
    ds = load_vggsound(write_csv(tmp_path / "ids.txt", f"{A}_000300\n{C}_000120\n"), vgg_folder)
    gen = tmp_path / "generated"
    touch(gen / f"{A}_000300.wav")
    touch(gen / f"{C}_120000_130000.wav")
    m = match_generated(ds, gen)
    assert [it.id for it, _ in m.pairs] == [f"{A}_000300", f"{C}_000120"] and not m.missing


def test_match_generated_imagehear(tmp_path, imagehear):
    ds = load_imagehear(imagehear)
    gen = tmp_path / "generated"
    for stem in imagehear_ids()[:-1]:
        touch(gen / f"{stem}.wav")
    m = match_generated(ds, gen)
    assert len(m.pairs) == 100 and [it.id for it in m.missing] == ["waterfall3"]
    assert all(p.stem == it.id for it, p in m.pairs)

    by_class = [ImageHearItem("dog/1", "dog", tmp_path / "dog/1.png"),
                ImageHearItem("cat/1", "cat", tmp_path / "cat/1.png"),
                ImageHearItem("cat/tabby", "cat", tmp_path / "cat/tabby.png")]
    gen2 = tmp_path / "generated2"
    touch(gen2 / "dog" / "1.wav")          # mirrors the layout
    touch(gen2 / "cat" / "1_s0.wav")
    touch(gen2 / "tabby.wav")              # a stem unique among the items
    touch(gen2 / "1.wav")                  # "1" is ambiguous (dog/1, cat/1): unmatched
    m = match_generated(by_class, gen2)
    assert [(it.id, p.relative_to(gen2).as_posix()) for it, p in m.pairs] == [
        ("dog/1", "dog/1.wav"), ("cat/1", "cat/1_s0.wav"), ("cat/tabby", "tabby.wav")]
    assert m.unmatched == [gen2 / "1.wav"]


def test_match_generated_errors(tmp_path):
    items = vgg_items()
    with pytest.raises(MediaError, match=names(tmp_path / "absent") + ": no such directory"):
        match_generated(items, tmp_path / "absent")
    empty = tmp_path / "empty"
    touch(empty / "notes.txt")
    with pytest.raises(MediaError, match=names(empty) + f": no audio files.*{A}_000300.wav"):
        match_generated(items, empty)
    strangers = tmp_path / "strangers"
    touch(strangers / "x.wav")
    with pytest.raises(MediaError, match=r"none of its 1 audio files \(x.wav\) matches an item"):
        match_generated(items, strangers)
    twice = tmp_path / "twice"
    touch(twice / f"{A}_000300.wav")
    touch(twice / f"{A}_300000_310000.wav")
    with pytest.raises(MediaError, match=f"both the sound of {A}_000300"):
        match_generated(items, twice)
    with pytest.raises(MediaError, match="share the id"):
        match_generated(items + [VGGSoundItem(A, 300)], twice)
    with pytest.raises(TypeError, match="no string .id"):
        match_generated([object()], twice)


# -------------------------------------------------------------------------- published


def test_published_numbers_match_the_paper():
    v2a, im2wav, clipsonic = (PUBLISHED[k] for k in ("V2A-Mapper", "Im2Wav", "CLIPSonic-IQ"))
    assert (v2a["fd"], v2a["fad"], v2a["cs_vggsound"], v2a["cs_imagehear"]) == \
        (24.168, 0.841, 9.720, 11.950)
    assert (im2wav["fd"], im2wav["fad"], im2wav["cs_vggsound"], im2wav["cs_imagehear"]) == \
        (51.500, 6.005, 7.827, 9.843)
    assert (clipsonic["fd"], clipsonic["fad"], clipsonic["cs_vggsound"],
            clipsonic["cs_imagehear"], clipsonic["params_m"], clipsonic["inference_s"]) == \
        (27.124, 3.495, 7.251, 11.392, 142.58, 53.94)
    reference = PUBLISHED["Reference (real audio)"]
    assert reference["cs_vggsound"] == 8.925 < v2a["cs_vggsound"]               # real audio's CS
    assert all(reference[k] is None for k in ("fd", "fad", "cs_imagehear", "params_m"))
    # the paper's headline claims follow from the rows
    assert round(1 - v2a["params_m"] / im2wav["params_m"], 2) == 0.86        # "86% fewer"
    assert round(im2wav["inference_s"] / v2a["inference_s"]) == 24            # "24x faster"
    assert round(1 - v2a["fd"] / im2wav["fd"], 2) == 0.53                      # "53% in FD"
    assert all("2308.09300" in row["source"] for row in PUBLISHED.values())
    with pytest.raises(TypeError):
        PUBLISHED["V2A-Mapper"]["fd"] = 0.0  # read-only


def test_published_table_markdown():
    table = published_table({"ours (pocket)": {"fd": 30.1234, "cs_vggsound": 8.5}})
    lines = table.strip().splitlines()
    assert lines[0].startswith("| Method | FD ↓ | FAD ↓ | CS VGGSound ↑ | CS ImageHear ↑")
    assert "| V2A-Mapper | 24.168 | 0.841 | 9.720 | 11.950 | 48.83 | 35.45 |" in lines
    assert "| Im2Wav | 51.500 | 6.005 | 7.827 | 9.843 | 360.40 | 864.12 |" in lines
    assert "| CLIPSonic-IQ | 27.124 | 3.495 | 7.251 | 11.392 | 142.58 | 53.94 |" in lines
    assert "| Reference (real audio) | – | – | 8.925 | – | – | – |" in lines
    assert "| ours (pocket) | 30.123 | – | 8.500 | – | – | – |" in lines
    assert "heng-hw/V2A-Mapper" in lines[-1]
    assert "Published rows" not in published_table(with_source=False)
    with pytest.raises(ConfigError, match="unknown keys \\['FD'\\]"):
        published_table({"typo": {"FD": 1.0}})
