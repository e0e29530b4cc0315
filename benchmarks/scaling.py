"""Benchmark: training examples/second under each `--strategy`, at the same global batch.

Trains one app four ways in fresh processes and reads the steady-state speed (the last
epoch's training examples over its training seconds, from `history.csv`):
  1. `default` (the baseline: one process, one device);
  2. `mirrored` over two logical CPU devices (one process, two replicas);
  3. `multi_worker` with one worker (the collective machinery alone);
  4. `multi_worker` with two local workers (two processes, two replicas).
The global batch is the same in all four (`--batch_size` per replica is halved with two
replicas), so every run takes the same steps. On one machine's CPU the replicas share its
cores: the point is that nothing breaks and what the machinery costs; the speed-up belongs
to GPUs and machines.

    python benchmarks/scaling.py [--app sentiment] [--data_dir data/sentiment]
        [--batch 32] [--epochs 2] [-- extra app flags]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # for tests.cluster

from dev_data import data_dir  # noqa: E402

from tests.cluster import Cluster  # noqa: E402

DEFAULT_DATA = {
    "sentiment": data_dir("sentiment"),
    "weather": data_dir("weather"),
}


def run(app: str, flags: list[str], output: Path, workers: int = 0) -> float:
    """Train; the last epoch's training examples/second (all workers together)."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [sys.executable, "-m", f"apps.{app}.train", *flags, "--output_dir", str(output)]
    if not workers:
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    else:
        args = [*flags, "--output_dir", str(output)]
        with Cluster(app, args, output.parent / f"{output.name}-logs", workers) as cluster:
            if any(cluster.wait(timeout=24 * 3600)):
                raise SystemExit(f"a worker failed:\n{cluster.output(0)[-3000:]}")
    metrics = json.loads((output / "metrics.json").read_text())
    rows = [line.split(",") for line in (output / "history.csv").read_text().splitlines()]
    seconds = float(rows[-1][rows[0].index("fit_seconds")])
    return metrics["examples"]["train"] / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", default="sentiment", choices=sorted(DEFAULT_DATA))
    parser.add_argument("--data_dir", type=Path)
    parser.add_argument("--batch", type=int, default=32, help="Global batch size")
    parser.add_argument("--epochs", type=int, default=2)
    args, extra = parser.parse_known_args()
    extra = [flag for flag in extra if flag != "--"]
    data_dir = args.data_dir or DEFAULT_DATA[args.app]
    flags = ["--data_dir", str(data_dir), "--epochs", str(args.epochs), "--patience", "99"]
    flags += extra
    one, two = ["--batch_size", str(args.batch)], ["--batch_size", str(args.batch // 2)]
    mirrored = ["--strategy", "mirrored", "--devices", "CPU:0,CPU:1"]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        results = {
            "default (1 device)": run(args.app, [*flags, *one], out / "default"),
            "mirrored (2 logical CPUs)": run(args.app, [*flags, *two, *mirrored], out / "mirror"),
            "multi_worker, 1 worker": run(args.app, [*flags, *one], out / "one", workers=1),
            "multi_worker, 2 local workers": run(args.app, [*flags, *two], out / "two", workers=2),
        }
    baseline = results["default (1 device)"]
    cpus = os.cpu_count()
    print(f"{args.app}: global batch {args.batch}, last of {args.epochs} epochs, {cpus} CPUs")
    for name, speed in results.items():
        print(f"  {name:32s} {speed:8.1f} examples/s  {speed / baseline:5.2f}x default")


if __name__ == "__main__":
    main()
