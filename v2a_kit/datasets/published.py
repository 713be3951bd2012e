"""The paper's published results as data (:data:`PUBLISHED`) and as a markdown table
(:func:`published_table`)."""

from __future__ import annotations

from types import MappingProxyType

from ..errors import ConfigError

_SOURCE = ("V2A-Mapper (Wang et al., AAAI 2024, arXiv 2308.09300), main results table as "
           "published in the official repository github.com/heng-hw/V2A-Mapper (docs/table.png)")


def _row(fd, fad, cs_vggsound, cs_imagehear, params_m, inference_s):
    return MappingProxyType({"fd": fd, "fad": fad, "cs_vggsound": cs_vggsound,
                             "cs_imagehear": cs_imagehear, "params_m": params_m,
                             "inference_s": inference_s, "source": _SOURCE})


# FD: PANNs CNN14 features, FAD: VGGish, CS: 100 x cosine(Wav2CLIP audio, CLIP ViT-B/32 image);
# FD/FAD on VGGSound test (15,446 clips). params_m: trainable parameters in millions;
# inference_s: the paper's reported inference time in seconds, on its own hardware and setting.
# None: not given in our source for that row (rendered "–"). "Reference (real audio)" is the
# table's row for the real VGGSound test audio itself: only its CS is defined (FD and FAD would
# compare the references with themselves; ImageHear has no audio). Its CS is *below*
# V2A-Mapper's: the CS judge (Wav2CLIP) finds generated audio closer to the image than the real
# soundtrack.
PUBLISHED = MappingProxyType({
    "V2A-Mapper": _row(24.168, 0.841, 9.720, 11.950, 48.83, 35.45),
    "Im2Wav": _row(51.500, 6.005, 7.827, 9.843, 360.40, 864.12),
    "CLIPSonic-IQ": _row(27.124, 3.495, 7.251, 11.392, 142.58, 53.94),
    "Reference (real audio)": _row(None, None, 8.925, None, None, None),
})

_COLUMNS = (("fd", "FD ↓", ".3f"), ("fad", "FAD ↓", ".3f"), ("cs_vggsound", "CS VGGSound ↑", ".3f"),
            ("cs_imagehear", "CS ImageHear ↑", ".3f"), ("params_m", "Params (M) ↓", ".2f"),
            ("inference_s", "Inference (s) ↓", ".2f"))


def published_table(extra: dict[str, dict] | None = None, *, with_source: bool = True) -> str:
    """The published results as a markdown table, with optional rows of your own below.

    Args:
        extra: ``{name: {"fd": ..., "cs_vggsound": ..., ...}}`` with any of the keys of
            :data:`PUBLISHED`'s rows (absent or ``None`` shows "–"), e.g. a reproduction's scores.
        with_source: append a line citing where the published numbers come from.
    """
    rows = dict(PUBLISHED)
    for name, values in (extra or {}).items():
        unknown = set(values) - {k for k, _, _ in _COLUMNS} - {"source"}
        if unknown:
            raise ConfigError(f"published_table: row {name!r} has unknown keys {sorted(unknown)}; "
                              f"expected some of {[k for k, _, _ in _COLUMNS]}")
        rows[name] = values
    lines = ["| Method | " + " | ".join(title for _, title, _ in _COLUMNS) + " |",
             "|---|" + "---:|" * len(_COLUMNS)]
    for name, values in rows.items():
        cells = [("–" if values.get(k) is None else format(values[k], fmt))
                 for k, _, fmt in _COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if with_source:
        lines += ["", f"Published rows: {_SOURCE}."]
    return "\n".join(lines) + "\n"
