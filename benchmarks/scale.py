"""Benchmark: time and peak memory of each stage as the data grow from 1x to 4x to 16x.

For each app, data sets of 1x, 4x and 16x the app's development size are generated with
the generators the tests use (sentiment repeats the repository's review sample), and the
real `train` runs on each in a fresh process (two epochs, no final fit, a cold cache),
with each stage timed and the process's peak RSS read after it:

    load_data -> fit_preprocessing -> make_datasets -> epoch 1 -> epoch 2 -> evaluate

Models are small (the input side, which is what grows, keeps each app's defaults: clip
length and rate, image and frame sizes, caption and sentence limits), so the epochs
measure the input pipelines rather than the network. The growth ratios (16x over 1x) show
what is flat and what is linear; the projection scales each stage linearly to the full
standard data set of the app. Translation repeats the real Multi30k
pairs when `RNN_SUITE_DATA` holds them (the number sentences of the tests tokenize far faster
than real text). With `--workers 2` a two-worker cluster trains speech on the 1x data and
each worker's count of decoded training clips is printed.

`--baseline PATH` also runs the same measurements with the code of another checkout of this
repository (e.g. a `git worktree` of an older commit) and prints its figures after; `--code
PATH` measures only that checkout.

    python benchmarks/scale.py [--apps speech translation] [--scales 1 4 16]
        [--baseline /tmp/old-checkout] [--workers 2]
"""

import argparse
import json
import math
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from dev_data import data_dir  # noqa: E402

# Examples at 1x (the development data: ../data/README.md of each app) and in the standard
# data set each app downloads by default, as (1x count, full count, what is counted).
SIZES = {
    "sentiment": (3_000, 25_000, "training reviews (IMDB)"),
    "weather": (35_064, 420_551, "hourly rows (Jena climate, 10-minute rows)"),
    "translation": (29_000, 4_508_785, "training pairs (WMT14 de-en)"),
    "speech": (1_800, 85_511, "training clips (Speech Commands)"),
    "captioning": (80, 123_287, "images (COCO 2014, Karpathy splits)"),
    "video": (96, 13_320, "clips (UCF101)"),
}

# Small networks; the input side keeps each app's defaults.
SMALL_MODEL = {
    "sentiment": ["--units", "16", "--embedding_dim", "16"],
    "weather": ["--units", "16", "--members", "1", "--target_columns", "temp"],
    "translation": ["--units", "16", "--decoder_units", "16", "--embedding_dim", "16",
                    "--attention_units", "16", "--beam_width", "2"],
    "speech": ["--units", "8", "--conv_filters", "8", "--attention_units", "8",
               "--head_units", "8"],
    "captioning": ["--backbone_weights", "none", "--units", "16", "--embedding_dim", "16",
                   "--attention_units", "16", "--min_word_count", "1"],
    "video": ["--backbone_weights", "none", "--units", "8", "--frame_units", "16",
              "--attention_units", "8", "--num_layers", "1"],
}  # fmt: skip

STAGES = ("load_data", "fit_preprocessing", "make_datasets", "epoch_1", "epoch_2", "evaluate")


# === Data at a scale ===


def write_data(app: str, scale: int, root: Path) -> Path:
    """`scale` times the app's development size, in the app's folder layout."""
    sys.path.insert(0, str(ROOT))
    if app == "sentiment":
        return repeat_reviews(ROOT / "data" / "sentiment", scale, root)
    if app == "weather":
        from tests.apps.weather.conftest import signal_frame
        from tests.apps.weather.conftest import write_csv

        write_csv(signal_frame(hours=SIZES[app][0] * scale), root / "station.csv")
    elif app == "translation":
        real = data_dir("translation")
        if (real / "train.tsv").exists():  # real sentences: BPE and tokenizing cost as they do
            root.mkdir(parents=True)
            lines = (real / "train.tsv").read_text(encoding="utf-8").splitlines()
            body = "\n".join(lines[1:]) + "\n"
            (root / "train.tsv").write_text(lines[0] + "\n" + body * scale, encoding="utf-8")
            shutil.copy(real / "test.tsv", root / "test.tsv")
            return root
        from tests.apps.translation.conftest import number_pairs
        from tests.apps.translation.conftest import write_tsv

        write_tsv(root / "train.tsv", number_pairs(SIZES[app][0] * scale, seed=1, max_digits=12))
        write_tsv(root / "test.tsv", number_pairs(1_000, seed=2, max_digits=12))
    elif app == "speech":
        from tests.apps.speech.conftest import write_clips

        write_clips(root, "train", copies=SIZES[app][0] * scale // 3)
        write_clips(root, "test", copies=100)
    elif app == "captioning":
        from tests.apps.captioning.shapes import write_shapes

        write_shapes(root, {"train": SIZES[app][0] * scale, "test": 16}, size=128)
    elif app == "video":
        from tests.apps.video.motion import write_motion

        per_class = SIZES[app][0] * scale // 2
        write_motion(root, {"train": per_class, "test": 8}, classes=("left", "right"))
    return root


def repeat_reviews(sample: Path, scale: int, root: Path) -> Path:
    """The repository's review sample, its training reviews repeated `scale` times."""
    if not sample.is_dir():
        raise SystemExit(f"{sample} not found: the sentiment sample ships with the repository")
    shutil.copytree(sample / "test", root / "test")
    for label in ("pos", "neg"):
        folder = root / "train" / label
        folder.mkdir(parents=True)
        for path in sorted((sample / "train" / label).glob("*.txt")):
            for copy in range(scale):
                (folder / f"{copy}_{path.name}").write_bytes(path.read_bytes())
    return root


# === One measured run (in a child process) ===


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def measure(app: str, data_dir: Path, output: Path, cache: Path) -> dict:
    """Train `app` on `data_dir` with every stage timed; returns {stage: (seconds, peak MB)}."""
    from shared.cli import parse_config
    from shared.runner import train
    from tuning.search import load_app

    task, _ = load_app(app)
    stages: dict[str, list[float]] = {}

    def timed(name, function):
        def wrapper(*args, **kwargs):
            start = time.perf_counter()
            result = function(*args, **kwargs)
            stages[name] = [round(time.perf_counter() - start, 2), round(peak_rss_mb())]
            return result

        return wrapper

    for name in ("load_data", "fit_preprocessing", "make_datasets", "evaluate"):
        setattr(task, name, timed(name, getattr(task, name)))
    flags = [
        *SMALL_MODEL[app],
        "--data_dir", str(data_dir), "--output_dir", str(output), "--epochs", "2",
        "--patience", "9", "--refit", "none",
    ]  # fmt: skip
    config = parse_config(task.config_class, flags, "", prog=app)
    if "cache_dir" in vars(config):
        import dataclasses

        config = dataclasses.replace(config, cache_dir=str(cache))
    start = time.perf_counter()
    train(task, config)
    stages["total"] = [round(time.perf_counter() - start, 2), round(peak_rss_mb())]
    rows = [line.split(",") for line in (output / "history.csv").read_text().splitlines()]
    seconds = rows[0].index("epoch_seconds")
    for epoch, row in enumerate(rows[1:3], start=1):
        stages[f"epoch_{epoch}"] = [round(float(row[seconds]), 2), None]
    return stages


def run_child(app: str, scale: int, work: Path, code: Path) -> dict:
    """`measure` in a fresh process running the code in `code` (this or a baseline checkout)."""
    data = work / f"{app}-x{scale}"
    if not data.exists():
        write_data(app, scale, data)
    output = work / f"run-{app}-x{scale}-{code.name}"
    cache = work / f"cache-{app}-x{scale}-{code.name}"
    shutil.rmtree(output, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(code)}
    command = [sys.executable, __file__, "--child", app, str(data), str(output), str(cache)]
    result = subprocess.run(command, cwd=code, env=env, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{app} x{scale} failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


# === Reporting ===


def report(app: str, results: dict[int, dict], label: str) -> None:
    scales = sorted(results)
    low, high = scales[0], scales[-1]
    ratio = high / low
    print(f"\n{app} ({label}): seconds / peak RSS MB per stage")
    header = "".join(f"{f'x{s}':>18}" for s in scales)
    print(f"  {'stage':<18}{header}{f'time x{high}/x{low}':>16}{'RSS':>8}")
    for stage in (*STAGES, "total"):
        cells, first, last = "", results[low].get(stage), results[high].get(stage)
        for scale in scales:
            seconds, rss = results[scale].get(stage, [math.nan, None])
            cells += f"{seconds:>10.1f}s {rss or '':>6}"
        growth = last[0] / first[0] if first and last and first[0] > 0.05 else math.nan
        memory = last[1] / first[1] if first and last and first[1] and last[1] else math.nan
        print(f"  {stage:<18}{cells}{growth:>12.1f}x ({ratio}x){memory:>8.2f}")
    one, full, unit = SIZES[app]
    print(f"  projection to {full:,} {unit} (linear per stage, from x{high}):")
    factor = full / (one * high)
    epoch = results[high]["epoch_1"][0] * factor
    before_epoch = sum(results[high][s][0] for s in STAGES[:3]) * factor
    print(
        f"    before training {before_epoch / 60:,.0f} min, one epoch {epoch / 60:,.0f} min "
        f"(this CPU; the small model); peak RSS at x{high} {results[high]['total'][1]:,} MB"
    )


def two_workers(work: Path) -> None:
    """Speech on the 1x data with two local workers: the training clips each one decodes."""
    sys.path.insert(0, str(ROOT))
    from tests.cluster import Cluster

    data = work / "speech-x1"
    if not data.exists():
        write_data("speech", 1, data)
    flags = [
        *SMALL_MODEL["speech"], "--data_dir", str(data), "--output_dir", str(work / "cluster"),
        "--epochs", "1", "--refit", "none", "--batch_size", "16",
        "--cache_dir", str(work / "cluster-cache"),
    ]  # fmt: skip
    with Cluster("speech", flags, work / "cluster-logs", 2) as cluster:
        if any(cluster.wait(timeout=3600)):
            raise SystemExit(f"a worker failed:\n{cluster.output(0)[-3000:]}")
        outputs = [cluster.output(0), cluster.output(1)]
    counts = [
        sum(int(n.replace(",", "")) for n in re.findall(r"Decoding ([\d,]+) train clips", out))
        for out in outputs
    ]
    total = sum(counts)
    print("\nspeech, two local workers (1x data): training clips decoded by each worker")
    for worker, count in enumerate(counts):
        print(f"  worker {worker}: {count:,} of {total:,} ({count / max(total, 1):.1%})")
    fitted = ["receiving the fitted preprocessor" in out for out in outputs]
    print(f"  preprocessor received from the chief (not fitted): {fitted}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", nargs="*", default=list(SIZES), choices=list(SIZES))
    parser.add_argument("--scales", nargs="+", type=int, default=[1, 4, 16])
    parser.add_argument("--baseline", type=Path, help="Another checkout to measure after")
    parser.add_argument("--code", type=Path, help="Measure this checkout's code only")
    parser.add_argument("--workers", type=int, default=0, help="2: also the two-worker count")
    parser.add_argument("--work_dir", type=Path, help="Keep the generated data here")
    args = parser.parse_args()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="rnn-suite-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} CPUs; data and runs in {work}")
    for app in args.apps:
        codes = {"this checkout": ROOT} if not args.code else {str(args.code): args.code}
        if args.baseline:
            codes["baseline"] = args.baseline.resolve()
        for label, code in codes.items():
            results = {scale: run_child(app, scale, work, code) for scale in args.scales}
            report(app, results, label)
            (work / f"{app}-{label.replace(' ', '_')}.json").write_text(json.dumps(results))
    if args.workers == 2:
        two_workers(work)
    if not args.work_dir:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        app, data_dir, output, cache = sys.argv[2:6]
        sys.path.insert(0, os.getcwd())
        stages = measure(app, Path(data_dir), Path(output), Path(cache))
        print(json.dumps(stages))
    else:
        main()
