"""All-or-nothing writes of files and folders, for caches, checkpoints and outputs.

A reader of the target sees the old version or the new one, never half of one:

- :func:`atomic_path` yields a temporary *name* beside the target for any writer that needs one
  (soundfile, PyAV, ``Figure.savefig``, ``safetensors.save_file``); on success the file is
  fsynced and ``os.replace``\\ d over the target, on any exception it is removed;
- :func:`atomic_write` writes bytes through :func:`atomic_path`;
- :func:`atomic_folder` yields a temporary folder beside the target folder and renames it into
  place once the block has filled it; an existing folder is replaced only then, so an exception
  leaves the old folder as it was and no temporary folder behind.

Temporary names record their writer (``.tmp~HOST~PID~HEX.part`` + the target's suffix, which
format-sniffing writers need), so that :func:`remove_stale_temps` can clear what a killed
process left behind without touching a live writer's file.

:func:`scratch_folder` gives a session (a notebook) a folder in the temp directory named the
same way, so that one a killed kernel left behind is removed by the next session.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write", "atomic_folder", "remove_stale_temps", "scratch_folder",
           "recorded_path",
           "TEMP_PREFIX"]

TEMP_PREFIX = ".tmp~"
STALE_TEMP_S = 3600  # another host's temp file this old belongs to a dead run


def _temp_beside(path: Path, suffix: str) -> Path:
    """A fresh name in ``path``'s folder: ``.tmp~HOST~PID~HEX.part<suffix>``."""
    return path.parent / (f"{TEMP_PREFIX}{socket.gethostname()}~{os.getpid()}~"
                          f"{uuid.uuid4().hex}.part{suffix}")


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries where the filesystem allows it, to disk."""
    if path.is_dir():
        with contextlib.suppress(OSError):  # not every filesystem can fsync a folder
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_path(path, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write; on success it replaces ``path``.

    The temporary file is in the same folder (so the rename is atomic) and ends with ``suffix``,
    the target's own suffix by default, for writers that pick a format from the name. When the
    block returns, the file is fsynced and renamed over ``path``; when it raises (or writes
    nothing), the temporary file is removed and ``path`` is left as it was. The folder must
    exist.

    Example::

        with atomic_path("out.wav") as tmp:
            soundfile.write(tmp, wave, 16000)
    """
    path = Path(path)
    tmp = _temp_beside(path, path.suffix if suffix is None else suffix)
    try:
        yield tmp
        if not tmp.is_file():
            raise FileNotFoundError(f"nothing was written to {tmp} for {path}")
        _fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    _fsync(path.parent)  # make the rename durable where the filesystem can


def atomic_write(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` all or nothing: a temp file beside it, fsync, rename."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


@contextlib.contextmanager
def atomic_folder(folder) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``folder``; on success it becomes ``folder``.

    Write the folder's files into the yielded one. When the block returns, its files are fsynced
    and it is renamed to ``folder``; an existing ``folder`` is moved aside only then and deleted
    after the rename (it is put back if the rename fails). When the block raises, the temporary
    folder is deleted and an existing ``folder`` is untouched. Missing parent folders are
    created.
    """
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_beside(folder, "")
    tmp.mkdir()
    old = None
    try:
        yield tmp
        for f in sorted(tmp.rglob("*")):
            if f.is_file() and not f.is_symlink():
                _fsync(f)
        if folder.exists() or folder.is_symlink():
            old = _temp_beside(folder, ".old")
            os.replace(folder, old)
        try:
            os.replace(tmp, folder)
        except BaseException:
            if old is not None:
                os.replace(old, folder)
                old = None
            raise
    except BaseException:
        _remove(tmp)
        raise
    _fsync(folder.parent)
    if old is not None:
        _remove(old)


def _writer_is_dead(tmp: Path) -> bool:
    """This host's temp file by its writer's pid; another host's by the file's age."""
    _, host, pid, _ = (tmp.name.split("~") + ["", "", "", ""])[:4]
    if host != socket.gethostname() or not pid.isdigit():
        return time.time() - tmp.stat().st_mtime > STALE_TEMP_S
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except OSError:
        pass  # alive, another user's
    return False


def remove_stale_temps(folder) -> None:
    """Delete the temp files and folders in ``folder`` whose writer is gone."""
    for tmp in Path(folder).glob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):  # another process may be removing it too
            if _writer_is_dead(tmp):
                _remove(tmp)


def scratch_folder(prefix: str) -> Path:
    """A new, empty folder in the temp directory for one session's scratch files (a notebook's
    sounds and videos), named ``PREFIX~HOST~PID~HEX``.

    Remove it when done (``shutil.rmtree``; the notebooks' last cell does). It is also removed
    at an orderly exit (``atexit``); a notebook kernel stopped by nbval or Jupyter is killed,
    which runs no ``atexit``, so each call first removes the folders of this prefix whose
    process is gone (as :func:`remove_stale_temps` judges them).
    """
    if not prefix or "~" in prefix or os.sep in prefix:
        raise ValueError(f"scratch_folder prefix {prefix!r}: expected a name without '~' or "
                         f"{os.sep!r}")
    base = Path(tempfile.gettempdir())
    for old in base.glob(f"{prefix}~*"):
        with contextlib.suppress(OSError):  # another session may be removing it too
            if old.is_dir() and _writer_is_dead(old):
                _remove(old)
    folder = base / f"{prefix}~{socket.gethostname()}~{os.getpid()}~{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    atexit.register(_remove, folder)
    return folder


_CHECKOUT = Path(__file__).resolve().parent.parent


def recorded_path(path) -> str:
    """``path`` as a record the kit writes into JSON should hold it: relative to the source
    checkout when it lies inside (``v2a_kit/pocket/weights``), else only its last part after
    ``…/`` — a committed record names no machine's folders."""
    p = Path(path).expanduser().resolve()
    try:
        return p.relative_to(_CHECKOUT).as_posix() or "."
    except ValueError:
        return f"…/{p.name}"
