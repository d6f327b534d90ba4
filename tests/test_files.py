"""Atomic writes and the clean-up of interrupted ones (ptm.files)."""

import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import ptm
from ptm.files import STALE_SECONDS, atomic_write, remove_stale_temporaries


def test_atomic_write_creates_the_folder_and_the_file(tmp_path):
    path = atomic_write(tmp_path / "new" / "deeper" / "x.bin", lambda file: file.write(b"abc"))
    assert path.read_bytes() == b"abc"
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.bin"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    path = atomic_write(tmp_path / "x.bin", lambda file: file.write(b"old"))

    def half_then_crash(file):
        file.write(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        atomic_write(path, half_then_crash)
    assert path.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]


def test_only_stale_temporaries_are_removed(tmp_path):
    target = tmp_path / "model.pt"
    stale = tmp_path / ".model.pt.abc123.tmp"
    fresh = tmp_path / ".model.pt.def456.tmp"  # a save in progress in another process
    other = tmp_path / ".other.pt.ghi789.tmp"
    for path in (stale, fresh, other):
        path.write_bytes(b"partial")
    old = time.time() - STALE_SECONDS - 60
    os.utime(stale, (old, old))
    os.utime(other, (old, old))
    assert remove_stale_temporaries(target) == [stale]
    assert fresh.exists() and other.exists() and not stale.exists()
    atomic_write(target, lambda file: file.write(b"x"))
    assert fresh.exists()


SAVE_FOREVER = """
import sys, time, torch, ptm
from ptm import checkpoint

real_save = torch.save

def slow_save(obj, file):
    file.write(b"partial checkpoint bytes")
    file.flush()
    print("writing", flush=True)
    time.sleep(60)

checkpoint.torch.save = slow_save
ptm.save_checkpoint(sys.argv[1], ptm.build_fc_classifier(8, seed=1))
"""


def test_kill_9_during_a_save_keeps_the_old_checkpoint(tmp_path):
    path = tmp_path / "model.pt"
    model = ptm.build_fc_classifier(8, seed=0)
    ptm.save_checkpoint(path, model)
    process = subprocess.Popen(
        [sys.executable, "-c", SAVE_FOREVER, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline().strip() == "writing"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait(timeout=60)
        process.stdout.close()
    restored = ptm.load_checkpoint(path)
    assert all(
        torch.equal(a, b)
        for a, b in zip(restored.model.parameters(), model.parameters(), strict=True)
    )
    leftovers = list(tmp_path.glob(".model.pt.*.tmp"))
    assert len(leftovers) == 1  # killed: nothing could clean up, but it is not in the way
    old = time.time() - STALE_SECONDS - 1
    os.utime(leftovers[0], (old, old))
    ptm.save_checkpoint(path, model)  # a later save removes it once it is stale
    assert list(tmp_path.glob(".model.pt.*.tmp")) == []
