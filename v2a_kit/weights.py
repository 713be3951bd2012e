"""Finding pretrained weights: a local path, ``$V2A_KIT_WEIGHTS``, the usual caches, the hub.

Every ``paper``-preset loader goes through :func:`hub_file` or :func:`hub_snapshot`. They look in
this order and stop at the first hit:

1. ``local``: a path the caller gives (a file, or a folder holding the file / the snapshot);
2. ``$V2A_KIT_WEIGHTS``: a folder holding ``<repo_id>/<filename>`` or ``<filename>``;
3. the Hugging Face cache (``$HF_HOME``, ``$HF_HUB_CACHE``), without touching the network;
4. the hub itself — only when the network is allowed (``HF_HUB_OFFLINE`` unset) **and** the hub
   host answers within a few seconds.

When all four fail, one :class:`~v2a_kit.errors.WeightsNotFoundError` says what is missing, where
it was looked for and what to do — in seconds, never a hub client's traceback or a minutes-long
retry loop (which is what a plain ``from_pretrained`` does on a machine without network).
"""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

from .errors import WeightsNotFoundError

__all__ = ["hub_file", "hub_snapshot", "url_file", "hub_reachable", "offline_mode", "weights_dirs"]

HUB_HOST = "huggingface.co"
PROBE_TIMEOUT_S = 3.0


def offline_mode() -> bool:
    """True when the user asked the Hugging Face clients to stay offline."""
    truthy = {"1", "true", "yes", "on"}
    return any(os.environ.get(v, "").strip().lower() in truthy
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "V2A_KIT_OFFLINE"))


def hub_reachable(host: str = HUB_HOST, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """Whether a TCP connection to ``host:443`` opens within ``timeout`` seconds.

    Runs in a daemon thread so that a hanging DNS lookup (which ``socket`` timeouts do not cover)
    cannot stall the caller.
    """
    result: list[bool] = []

    def probe():
        try:
            with socket.create_connection((host, 443), timeout=timeout):
                result.append(True)
        except OSError:
            result.append(False)

    t = threading.Thread(target=probe, daemon=True)
    t.start()
    t.join(timeout + 0.5)
    return bool(result and result[0])


def weights_dirs() -> list[Path]:
    env = os.environ.get("V2A_KIT_WEIGHTS")
    return [Path(p).expanduser() for p in env.split(os.pathsep) if p] if env else []


def _hf_cache_dir() -> Path:
    from huggingface_hub import constants
    return Path(constants.HF_HUB_CACHE)


def _missing(what: str, source: str, looked: list[str],
             host: str = HUB_HOST) -> WeightsNotFoundError:
    where = "\n".join(f"  - {p}" for p in looked)
    why = ("offline mode is on (HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE)" if offline_mode()
           else f"{host} cannot be reached from this machine")
    return WeightsNotFoundError(
        f"weights for {what} ({source}) are not available: {why}, and they were not found in\n"
        f"{where}\n"
        "What to do: connect to the network once so they are downloaded into the cache; or point "
        "the V2A_KIT_WEIGHTS environment variable (or the loader's `weights=` argument) at a "
        "local copy; or use preset='pocket', which needs no download.")


def _candidates(local: str | os.PathLike | None, repo_id: str, filename: str | None) -> list[Path]:
    out = []
    bases = ([Path(local).expanduser()] if local else []) + weights_dirs()
    for b in bases:
        if filename is None:
            out += [b / repo_id, b / repo_id.split("/")[-1], b]
        else:
            out += [b, b / repo_id / filename, b / repo_id.split("/")[-1] / filename, b / filename]
    return out


def hub_file(repo_id: str, filename: str, *, what: str, local=None,
             revision: str | None = None) -> Path:
    """Path to one weights file of a hub repository (downloaded only if allowed and reachable).

    Args:
        repo_id: e.g. ``"timm/vit_large_patch14_clip_224.openai"``.
        filename: file inside the repository.
        what: human name for messages, e.g. ``"CLIP ViT-L-14 (openai)"``.
        local: optional path to the file itself or to a folder that holds it.
    """
    looked = []
    for c in _candidates(local, repo_id, filename):
        looked.append(str(c))
        if c.is_file() and (c.name == filename or c == Path(local or "").expanduser()):
            return c
    from huggingface_hub import try_to_load_from_cache
    cached = try_to_load_from_cache(repo_id, filename, revision=revision)
    looked.append(f"{_hf_cache_dir()} (Hugging Face cache, {repo_id}/{filename})")
    if isinstance(cached, str) and Path(cached).is_file():
        return Path(cached)
    if offline_mode() or not hub_reachable():
        raise _missing(what, f"{repo_id}/{filename}", looked)
    from huggingface_hub import hf_hub_download
    try:
        return Path(hf_hub_download(repo_id, filename, revision=revision))
    except Exception as e:  # network trouble mid-way: report it plainly, not the client's stack
        raise WeightsNotFoundError(
            f"downloading {what} ({repo_id}/{filename}) failed: {type(e).__name__}: {e}") from None


def hub_snapshot(repo_id: str, *, what: str, local=None, allow_patterns=None,
                 required: tuple[str, ...] = ()) -> Path:
    """Folder with a snapshot of a hub repository (e.g. a diffusers pipeline).

    Args:
        required: relative paths that must exist in the folder for it to count as found.
    """
    looked = []

    def complete(p: Path) -> bool:
        return p.is_dir() and all((p / r).exists() for r in required)

    for c in _candidates(local, repo_id, None):
        looked.append(str(c))
        if complete(c):
            return c
    from huggingface_hub import snapshot_download
    looked.append(f"{_hf_cache_dir()} (Hugging Face cache, {repo_id})")
    try:
        p = Path(snapshot_download(repo_id, allow_patterns=allow_patterns, local_files_only=True))
        if complete(p):
            return p
    except Exception:  # not in the cache: huggingface_hub raises LocalEntryNotFoundError
        pass
    if offline_mode() or not hub_reachable():
        raise _missing(what, repo_id, looked)
    try:
        return Path(snapshot_download(repo_id, allow_patterns=allow_patterns))
    except Exception as e:
        raise WeightsNotFoundError(
            f"downloading {what} ({repo_id}) failed: {type(e).__name__}: {e}") from None


def _kit_cache_dir() -> Path:
    base = os.environ.get("V2A_KIT_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "v2a_kit")
    return Path(base) / "weights"


def url_file(url: str, filename: str, *, what: str, local=None) -> Path:
    """Path to a weights file published at a plain URL (e.g. Zenodo), cached under
    ``$V2A_KIT_CACHE/weights`` (default ``~/.cache/v2a_kit/weights``).

    Same search order and the same fast, clear failure as :func:`hub_file`; the download itself
    is torch's ``download_url_to_file`` (temp file + rename, so an interrupted download never
    leaves a truncated file under the final name).
    """
    from urllib.parse import urlparse

    looked = []
    for c in _candidates(local, "", filename) + [_kit_cache_dir() / filename]:
        looked.append(str(c))
        if c.is_file() and (c.name == filename or c == Path(local or "").expanduser()):
            return c
    host = urlparse(url).hostname or ""
    if offline_mode() or not hub_reachable(host):
        raise _missing(what, url, looked, host)
    from torch.hub import download_url_to_file
    dst = _kit_cache_dir() / filename
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        download_url_to_file(url, str(dst), progress=True)
    except Exception as e:
        raise WeightsNotFoundError(f"downloading {what} from {url} failed: "
                                   f"{type(e).__name__}: {e}") from None
    return dst
