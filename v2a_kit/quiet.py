"""Third-party libraries kept quiet: what they would print or leave behind on the kit's paths.

- :func:`import_open_clip` imports open_clip without timm's optional wandb hook. timm (which
  open_clip imports) tries ``import wandb`` to log training summaries the kit never writes;
  where wandb is installed (laion_clap pulls it in) that import costs most of a second and
  creates two folders in the temp directory (``tmp*wandb-media``, ``tmp*wandb-artifacts``) that
  only an orderly interpreter exit removes — a notebook kernel stopped by nbval or Jupyter leaves
  them. While open_clip is first imported, ``wandb`` reads as absent (timm then skips it); the
  block is lifted afterwards, so a user's own ``import wandb`` works as usual.
- :func:`open_clip_quietly` wraps open_clip's model factory, which logs through the *root*
  logger (module-level ``logging.info`` / ``logging.warning``): the first such call installs a
  handler on the root logger (``logging.basicConfig``), after which every library's log lines
  print. Inside, a handler of its own shows open_clip's warnings on stderr as before, the root
  logger is left as it was, and the "No pretrained weights loaded" line is dropped: the kit
  builds random-init models on purpose and says so in their space (``random-init:seed=N``).
"""

from __future__ import annotations

import contextlib
import logging
import sys

__all__ = ["import_open_clip", "open_clip_quietly"]

_RANDOM_INIT_LINE = "No pretrained weights loaded for model"


def import_open_clip():
    """``import open_clip``, without letting timm import wandb (see the module docstring)."""
    if "open_clip" in sys.modules:
        return sys.modules["open_clip"]
    blocked = "wandb" not in sys.modules
    if blocked:
        sys.modules["wandb"] = None  # `import wandb` raises ImportError: timm's optional hook
    try:
        import open_clip
    finally:
        if blocked and sys.modules.get("wandb", 0) is None:
            del sys.modules["wandb"]
    return open_clip


class _DropRandomInitLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(_RANDOM_INIT_LINE)


@contextlib.contextmanager
def open_clip_quietly():
    """Inside: open_clip's random-init line is dropped, and its module-level ``logging`` calls
    do not configure the root logger (see the module docstring)."""
    root = logging.getLogger()
    drop, spare = _DropRandomInitLine(), None
    if not root.handlers:  # what basicConfig would add, for this call only
        spare = logging.StreamHandler()
        spare.setLevel(logging.WARNING)
        spare.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
        root.addHandler(spare)
    root.addFilter(drop)
    try:
        yield
    finally:
        root.removeFilter(drop)
        if spare is not None:
            root.removeHandler(spare)
