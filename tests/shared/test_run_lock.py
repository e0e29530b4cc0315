"""A run directory is owned by one process: the second is refused, naming the holder; the lock
goes with its process, even one killed with SIGKILL."""

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from shared.errors import UserError
from shared.run_lock import run_lock
from tests.bad_inputs import tree
from tests.shared.test_runner import train as toy_train

HOLD = """
import sys, time
from pathlib import Path
from shared.run_lock import run_lock
with run_lock(Path(sys.argv[1]), "python -m apps.toy.train"):
    print("locked", flush=True)
    time.sleep(600)
"""


def hold_lock(root: Path) -> subprocess.Popen:
    """Another process holding `root`'s lock until it is killed."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "locked"
    return holder


def test_second_process_is_refused_and_a_killed_holder_releases(tmp_path):
    root = tmp_path / "run"
    holder = hold_lock(root)
    try:
        with pytest.raises(UserError, match=rf"{root} is in use by process {holder.pid} "):
            with run_lock(root, "python -m apps.toy.evaluate"):
                pass
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with run_lock(root, "python -m apps.toy.train"):  # kill -9 left no stale lock behind
        assert (root / ".lock").read_text().startswith(f"process {os.getpid()} ")
    assert (root / ".lock").read_text() == ""


def test_train_into_a_directory_in_use_exits_1_and_changes_nothing(tmp_path, capsys):
    run_dir = tmp_path / "run"
    assert toy_train(["--output_dir", str(run_dir), "--epochs", "1"]) == 0
    holder = hold_lock(run_dir)
    before = tree(run_dir)  # the holder's name in .lock included
    try:
        assert toy_train(["--output_dir", str(run_dir), "--epochs", "1"]) == 1
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    err = capsys.readouterr().err
    assert err.startswith(f"error: {run_dir} is in use by process {holder.pid} ")
    assert err.count("\n") == 1
    assert tree(run_dir) == before
