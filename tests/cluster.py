"""Run an app's `train` as a `MultiWorkerMirroredStrategy` cluster of processes on localhost."""

import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
FINGERPRINT = re.compile(r"Worker (\d+) of (\d+): trained weights ([0-9a-f]+)")


def free_ports(count: int) -> list[int]:
    """Ports free right now (bound to port 0, then released)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("localhost", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class Cluster:
    """`workers` processes of `python -m apps.<app>.train --strategy multi_worker ARGS`.

    Always used as a context manager: every process still alive on exit is killed.
    Each worker's output goes to `logs/worker<i>.log`.
    """

    def __init__(
        self,
        app: str,
        args: list[str],
        logs: Path,
        workers: int = 2,
        crash_after_epoch: Optional[dict[int, int]] = None,
    ):
        """`crash_after_epoch` {worker: epoch}: that worker exits hard once it has saved the
        epoch's resume state (`tests.crash_worker`), at the same point in every run."""
        self.app, self.args, self.logs, self.workers = app, args, Path(logs), workers
        self.crash_after_epoch = crash_after_epoch or {}
        self.processes: list[subprocess.Popen] = []

    def __enter__(self) -> "Cluster":
        self.logs.mkdir(parents=True, exist_ok=True)
        hosts = [f"localhost:{port}" for port in free_ports(self.workers)]
        for index in range(self.workers):
            spec = {"cluster": {"worker": hosts}, "task": {"type": "worker", "index": index}}
            env = {**os.environ, "TF_CONFIG": json.dumps(spec), "TF_CPP_MIN_LOG_LEVEL": "2"}
            command = [sys.executable, "-m", f"apps.{self.app}.train", "--strategy"]
            if index in self.crash_after_epoch:
                crash = ["tests.crash_worker", str(self.crash_after_epoch[index])]
                command = [sys.executable, "-m", *crash, f"apps.{self.app}.train", "--strategy"]
            with open(self.log(index), "w") as log:
                self.processes.append(
                    subprocess.Popen(
                        [*command, "multi_worker", *self.args],
                        cwd=ROOT,
                        env=env,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        return self

    def __exit__(self, *exc) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.wait()

    def log(self, index: int) -> Path:
        return self.logs / f"worker{index}.log"

    def output(self, index: int) -> str:
        return self.log(index).read_text(errors="replace")

    def wait(self, timeout: float) -> list[int]:
        """Every worker's exit status; fails the test if one is still running after `timeout`."""
        deadline = time.monotonic() + timeout
        codes = []
        for index, process in enumerate(self.processes):
            try:
                codes.append(process.wait(max(deadline - time.monotonic(), 0.1)))
            except subprocess.TimeoutExpired:
                raise AssertionError(
                    f"worker {index} still running after {timeout} s:\n{self.output(index)[-3000:]}"
                ) from None
        return codes

    def fingerprints(self) -> dict[int, str]:
        """Each worker's logged weights fingerprint."""
        found = {}
        for index in range(self.workers):
            match: Optional[re.Match] = FINGERPRINT.search(self.output(index))
            assert match, f"worker {index} logged no fingerprint:\n{self.output(index)[-3000:]}"
            found[int(match.group(1))] = match.group(3)
        return found
