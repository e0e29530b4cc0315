"""One process at a time in a run directory: an OS file lock on `<run>/.lock`.

The lock is `fcntl.flock` on an open file, so the operating system releases it when its process
ends however it ends (kill -9 included): a killed run resumes without anyone removing a stale
lock file. The file's content only names the holder while it holds it, for the message the next
process prints; it is empty again once the holder is done.
"""

import contextlib
import fcntl
import os
from pathlib import Path
from typing import Iterator

from shared.errors import UserError

LOCK_NAME = ".lock"


@contextlib.contextmanager
def run_lock(root: Path, command: str) -> Iterator[None]:
    """Hold `root`'s lock while inside; a `UserError` naming the holder if another has it."""
    root.mkdir(parents=True, exist_ok=True)
    fd = os.open(root / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", errors="replace").strip()
            raise UserError(
                f"{root} is in use by {holder or 'another process'}; wait for it to end or "
                f"choose another directory"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"process {os.getpid()} ({command})\n".encode(), 0)
        try:
            yield
        finally:
            os.ftruncate(fd, 0)  # a finished run's lock file is empty (and stays so)
    finally:
        os.close(fd)  # releases the lock
