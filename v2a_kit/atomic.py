"""All-or-nothing file writes (DESIGN.md §8), for caches, checkpoints and outputs.

:func:`atomic_write` writes to a temp file in the target's folder, fsyncs it and ``os.replace``\\ s
it over the target, so a reader sees the old file or the new one, never half of one. The temp
file's name records its writer (``.tmp~HOST~PID~UUID.part``) so that :func:`remove_stale_temps`
can clear what a killed process left behind without touching a live writer's file.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import uuid
from pathlib import Path

__all__ = ["atomic_write", "remove_stale_temps", "TEMP_PREFIX"]

TEMP_PREFIX = ".tmp~"
STALE_TEMP_S = 3600  # another host's temp file this old belongs to a dead run


def atomic_write(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` all or nothing: a temp file beside it, fsync, rename."""
    path = Path(path)
    tmp = path.parent / f"{TEMP_PREFIX}{socket.gethostname()}~{os.getpid()}~{uuid.uuid4().hex}.part"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):  # make the rename durable where the filesystem can
        fd = os.open(path.parent, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    return path


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
    """Delete the temp files in ``folder`` whose writer is gone."""
    for tmp in Path(folder).glob(f"{TEMP_PREFIX}*"):
        with contextlib.suppress(OSError):  # another process may be removing it too
            if _writer_is_dead(tmp):
                tmp.unlink()
