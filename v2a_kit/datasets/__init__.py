"""The paper's evaluation data — VGGSound test and ImageHear — from files the user supplies,
the generated sounds paired with them, and the published results as data (docs/design.md,
"Evaluation").

Nothing here downloads anything: VGGSound clips come from YouTube and cannot be shipped, and
ImageHear is one ``git clone`` away. The loaders say exactly what they found, what is missing
(a count and the first few ids) and refuse with a :class:`~v2a_kit.errors.MediaError` that names
the file, line or folder at fault.

Everything public is importable from here except :mod:`~v2a_kit.datasets.modes`; the code
lives in submodules:

- :mod:`~v2a_kit.datasets.items`: the item and result types (:class:`VGGSoundItem`,
  :class:`ImageHearItem`, :class:`EvalSet`, :class:`GeneratedMatch`),
  :class:`IncompleteDatasetWarning` and the helpers the loaders share;
- :mod:`~v2a_kit.datasets.vggsound`: :func:`parse_vggsound_name`, the list readers and
  :func:`load_vggsound`;
- :mod:`~v2a_kit.datasets.imagehear`: :data:`IMAGEHEAR_CLASSES`, :func:`imagehear_ids` and
  :func:`load_imagehear`;
- :mod:`~v2a_kit.datasets.matching`: :func:`match_generated`;
- :mod:`~v2a_kit.datasets.published`: :data:`PUBLISHED` and :func:`published_table`;
- :mod:`~v2a_kit.datasets.pairs`: :func:`paired_files`, a folder of one's own image-sound pairs
  (training data, not evaluation data: notebook 07) checked whole before anything is embedded.
- :mod:`~v2a_kit.datasets.modes`, imported on its own (``from v2a_kit.datasets import modes``,
  it trains mappers): the 2-D example of notebook 04, whose inputs each have several modes of
  targets.

**VGGSound** (Chen et al. 2020, https://www.robots.ox.ac.uk/~vgg/data/vggsound/,
github.com/hche11/VGGSound). Accepted lists, told apart by their number of columns:

- the official ``vggsound.csv``: no header, rows ``youtube_id,start_seconds,label,split`` with
  ``split`` "train" or "test" (labels with commas are quoted). It has 15,496 test rows;
- ``clip,label`` rows, as the VGGSound repo's ``data/test.csv`` (``glLQrEijrKg_000300.mp4,...``);
- one clip id per line, as V2A-Mapper's ``meta_data/vggsound_test_id.txt``
  (github.com/heng-hw/V2A-Mapper): the **15,446** test clips the paper evaluates, of the CSV's
  15,496 (the others could not be obtained). This is the list to reproduce the paper with.

Blank lines and ``#`` comments are skipped, and so is a header row (a first row without digits).
``split`` filters the 4-column CSV only; the other two formats are taken as given.

Clip files are found anywhere under ``folder`` (recursively, hidden entries skipped) by their
stem, whatever the suffix (video: mp4, mkv, webm, ...; audio: wav, flac, ...). A YouTube id is
11 characters of ``[A-Za-z0-9_-]`` (it may itself contain ``_``), so these names are
unambiguous and all recognised:

- ``{id}_{start:06d}``, e.g. ``glLQrEijrKg_000300.mp4``: the VGGSound repo, V2A-Mapper's ids;
- ``{id}_{start}``, e.g. ``glLQrEijrKg_300.mp4``: some download scripts;
- ``{id}_{start*1000}_{end*1000}`` (milliseconds), e.g. ``0nYltlo90Zc_147000_157000.mp4``:
  Im2Wav (``Data/examples/``) and SpecVQGAN (``data/vggsound/``);
- ``{id}_{start}_{end}`` (seconds), e.g. ``glLQrEijrKg_300_310.mp4``.

Two numbers are milliseconds when they span 1000 or more, seconds otherwise. A clip may have a
video, an audio file (e.g. ``.wav``/``.flac`` beside or below the videos), or both; it counts as
found when it has either. Two videos (or two audio files) for one clip are refused, not
guessed between. Items are named ``{id}_{start:06d}`` (the official form) whatever the files are
called.

**ImageHear** (Sheffer & Adi, "I Hear Your True Colors", arXiv 2211.03089): 101 web images in
30 classes, 2-8 per class, with no reference audio. Im2Wav ships it as ``Data/ImageHear/`` in
github.com/RoySheffer/im2wav: one flat folder of ``{class}{n}.jpg`` (``dog1.jpg`` ...
``guitar8.jpg``; the class is the stem without its trailing number). V2A-Mapper's
``meta_data/imagehear_id.txt`` lists the same 101 stems, and :data:`IMAGEHEAR_CLASSES` holds
them. Class-named subfolders (``dog/dog1.jpg``, torchvision's ImageFolder) are accepted too.
Images are checked for existence when listed, and decoded with :func:`v2a_kit.media.load_image`
on request (``validate=True``) or lazily (:meth:`ImageHearItem.load_image`).

**Generated sounds** are paired with items by name (:func:`match_generated`): a generated audio
file belongs to an item when its stem is the item's id (``glLQrEijrKg_000300.wav``, ``dog1.wav``)
or, for VGGSound, any naming variant above of the same clip; ``{name}_s{k}`` is sample ``k`` of
several (what :func:`v2a_kit.pipeline.write_outputs` writes); for class subfolders the relative
path (``dog/dog1.wav``) or a stem that is unique among the items both work.
"""

from .imagehear import (
    IMAGEHEAR_CLASSES,
    IMAGEHEAR_NUM_CLASSES,
    IMAGEHEAR_NUM_IMAGES,
    imagehear_ids,
    load_imagehear,
)
from .items import EvalSet, GeneratedMatch, ImageHearItem, IncompleteDatasetWarning, VGGSoundItem
from .matching import match_generated
from .pairs import PairedFiles, paired_files
from .published import PUBLISHED, published_table
from .vggsound import (
    VGGSOUND_CSV_TEST_ROWS,
    VGGSOUND_TEST_CLIPS,
    load_vggsound,
    parse_vggsound_name,
)

__all__ = ["VGGSOUND_TEST_CLIPS", "VGGSOUND_CSV_TEST_ROWS", "IMAGEHEAR_CLASSES",
           "IMAGEHEAR_NUM_IMAGES", "IMAGEHEAR_NUM_CLASSES", "IncompleteDatasetWarning",
           "VGGSoundItem", "ImageHearItem", "EvalSet", "GeneratedMatch", "parse_vggsound_name",
           "imagehear_ids", "load_vggsound", "load_imagehear", "match_generated", "PUBLISHED",
           "published_table", "PairedFiles", "paired_files"]
