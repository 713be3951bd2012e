"""v2a_kit.atomic: all-or-nothing files and folders."""

import os
import re
import socket
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from v2a_kit.atomic import TEMP_PREFIX, atomic_folder, atomic_path, atomic_write, remove_stale_temps


def _names(folder):
    return sorted(p.name for p in folder.iterdir())


def test_atomic_path_replaces_on_success_and_keeps_the_suffix(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(TEMP_PREFIX)
        assert tmp.suffix == ".txt" and not tmp.exists()
        tmp.write_text("new")
        assert target.read_text() == "old"  # nothing visible until the block ends
    assert target.read_text() == "new" and _names(tmp_path) == ["a.txt"]


def test_atomic_path_exception_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    target = tmp_path / "a.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="writer failed"):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("writer failed")
    assert target.read_bytes() == b"old" and _names(tmp_path) == ["a.bin"]
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_path(target):
            pass  # a writer that wrote nothing does not replace the file
    assert target.read_bytes() == b"old" and _names(tmp_path) == ["a.bin"]


def test_atomic_path_serves_a_writer_that_needs_a_name(tmp_path):
    wave = np.linspace(-0.5, 0.5, 800, dtype=np.float32)
    target = tmp_path / "x.wav"
    with atomic_path(target) as tmp:
        sf.write(tmp, wave, 8000, subtype="PCM_16")  # soundfile picks WAV from the suffix
    back, sr = sf.read(target, dtype="float32")
    assert sr == 8000 and np.allclose(back, wave, atol=1e-4)
    assert _names(tmp_path) == ["x.wav"]
    with atomic_path(tmp_path / "y.json", suffix=".part") as tmp:
        assert tmp.name.endswith(".part")
        tmp.write_text("{}")
    assert (tmp_path / "y.json").read_text() == "{}"


def test_atomic_write(tmp_path):
    assert atomic_write(tmp_path / "f", b"abc") == tmp_path / "f"
    assert (tmp_path / "f").read_bytes() == b"abc" and _names(tmp_path) == ["f"]


def test_atomic_folder_replaces_the_old_folder_only_on_success(tmp_path):
    target = tmp_path / "ckpt"
    with atomic_folder(target) as tmp:
        (tmp / "a").write_text("1")
        assert not target.exists()
    assert _names(target) == ["a"]
    with pytest.raises(RuntimeError, match="half way"):
        with atomic_folder(target) as tmp:
            (tmp / "b").write_text("2")
            raise RuntimeError("half way")
    assert _names(target) == ["a"] and (target / "a").read_text() == "1"
    assert _names(tmp_path) == ["ckpt"]  # no temporary folder left
    with atomic_folder(target) as tmp:
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b").write_text("2")
        assert _names(target) == ["a"]  # the old one stays until the new one is complete
    assert _names(target) == ["sub"] and _names(tmp_path) == ["ckpt"]
    with atomic_folder(tmp_path / "new" / "deep") as tmp:  # parents are made
        (tmp / "c").write_text("3")
    assert (tmp_path / "new" / "deep" / "c").read_text() == "3"


def test_atomic_folder_failed_rename_puts_the_old_folder_back(tmp_path, monkeypatch):
    import v2a_kit.atomic as atomic

    target = tmp_path / "ckpt"
    with atomic_folder(target) as tmp:
        (tmp / "a").write_text("1")
    real, calls = os.replace, []

    def second_fails(src, dst):
        calls.append(src)
        if len(calls) == 2:
            raise OSError("disk full")
        real(src, dst)
    monkeypatch.setattr(atomic.os, "replace", second_fails)
    with pytest.raises(OSError, match="disk full"):
        with atomic_folder(target) as tmp:
            (tmp / "b").write_text("2")
    monkeypatch.undo()
    assert _names(target) == ["a"] and _names(tmp_path) == ["ckpt"]


def test_remove_stale_temps_clears_dead_writers_files_and_folders(tmp_path):
    host = socket.gethostname()
    dead = tmp_path / f"{TEMP_PREFIX}{host}~999999999~x.part"
    dead.write_text("x")
    dead_dir = tmp_path / f"{TEMP_PREFIX}{host}~999999999~y.part"
    (dead_dir / "sub").mkdir(parents=True)
    live = tmp_path / f"{TEMP_PREFIX}{host}~{os.getpid()}~z.part"
    live.write_text("x")
    remove_stale_temps(tmp_path)
    assert _names(tmp_path) == [live.name]


def test_recorded_path_names_no_machine_folder(tmp_path):
    """A record the kit commits holds a checkout-relative path, or only a folder's last part."""
    from v2a_kit.atomic import recorded_path
    root = Path(__file__).resolve().parent.parent
    assert recorded_path(root / "v2a_kit" / "pocket" / "weights") == "v2a_kit/pocket/weights"
    assert recorded_path(tmp_path / "cache") == "…/cache"
    assert str(tmp_path) not in recorded_path(tmp_path / "cache")


def test_committed_records_hold_no_absolute_path():
    import subprocess
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        pytest.skip("not a git checkout")
    files = subprocess.run(["git", "ls-files", "*.json"], cwd=root, capture_output=True,
                           text=True, check=True).stdout.split()
    leaks = [f for f in files if re.search(r'"(?:/home|/work|/tmp|/Users|[A-Z]:\\\\)[^"]*"',
                                           (root / f).read_text(errors="replace"))]
    assert not leaks, f"absolute paths of a machine in {leaks}"
