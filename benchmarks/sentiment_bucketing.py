"""Benchmark: length bucketing vs padding every batch to a fixed length (sentiment app).

Trains two identical models (same seed, vocabulary and data) on a fixed corpus, one with every
batch padded to `--max_length`, one bucketed by length, alternating training steps so that both
see the same machine load, then prints training examples/second (wall clock and per CPU second),
test accuracy after the same number of epochs, and the ratios.

    python benchmarks/sentiment_bucketing.py                      # data/sentiment
    python benchmarks/sentiment_bucketing.py --data_dir DIR --epochs 3
Without the data folder it generates a corpus of reviews with realistic lengths.
"""

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
from dev_data import data_dir

from apps.sentiment.config import SentimentConfig
from apps.sentiment.data import make_dataset
from apps.sentiment.task import SentimentTask

DEFAULT_DATA = data_dir("sentiment")
GOOD = "great wonderful superb moving loved brilliant touching fun".split()
BAD = "awful boring dull terrible hated wooden tedious mess".split()
FILLER = "the a film movie plot actor scene story and it was of in to".split()


def generate_corpus(root: Path, num_train: int = 3000, num_test: int = 1000) -> Path:
    """Reviews of log-normal length (median ~180 words, like IMDB) with a few sentiment words."""
    rng = np.random.default_rng(0)
    for split, total in (("train", num_train), ("test", num_test)):
        for label, words in (("pos", GOOD), ("neg", BAD)):
            folder = root / split / label
            folder.mkdir(parents=True, exist_ok=True)
            for i in range(total // 2):
                length = int(np.clip(rng.lognormal(np.log(180), 0.7), 10, 2000))
                text = rng.choice(FILLER, size=length)
                marks = rng.integers(0, length, size=max(1, length // 40))
                text[marks] = rng.choice(words, size=len(marks))
                (folder / f"{i}.txt").write_text(" ".join(text), encoding="utf-8")
    return root


def interleaved_epoch(models: dict, datasets: dict) -> dict:
    """One epoch of every model, alternating batch by batch; training seconds per model.

    This VM's CPU is shared (steal time comes in bursts), so timing whole epochs one after the
    other mostly measures the neighbours. Alternating single steps exposes both models to the
    same load. Wall seconds and process CPU seconds are both recorded.
    """
    iterators = {mode: iter(datasets[mode]) for mode in models}
    totals = {mode: {"wall": 0.0, "cpu": 0.0, "examples": 0} for mode in models}
    while iterators:
        for mode in list(iterators):
            try:
                features, labels = next(iterators[mode])
            except StopIteration:
                del iterators[mode]
                continue
            wall, cpu = time.perf_counter(), time.process_time()
            models[mode].train_on_batch(features, labels)
            totals[mode]["wall"] += time.perf_counter() - wall
            totals[mode]["cpu"] += time.process_time() - cpu
            totals[mode]["examples"] += len(labels)
    return totals


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data_dir", default=None, help="aclImdb-layout folder")
    parser.add_argument("--epochs", type=int, default=3, help="Timed epochs per mode")
    parser.add_argument("--max_length", type=int, default=SentimentConfig.max_length)
    args = parser.parse_args()
    data_dir = Path(args.data_dir) if args.data_dir else DEFAULT_DATA
    scratch = tempfile.TemporaryDirectory()
    if not data_dir.is_dir():
        print(f"{data_dir} not found: generating a corpus", file=sys.stderr)
        data_dir = generate_corpus(Path(scratch.name) / "corpus")

    task = SentimentTask()
    splits, base = task.load_data(
        SentimentConfig(data_dir=str(data_dir), max_length=args.max_length)
    )
    tokenizer = task.fit_preprocessing(base, splits)
    models, datasets = {}, {}
    for mode, bucketing in (("fixed_length", False), ("bucketing", True)):
        config = dataclasses.replace(base, bucketing=bucketing)
        keras.utils.set_random_seed(config.seed)
        models[mode] = task.build_model(config, tokenizer, steps_per_epoch=1)
        datasets[mode] = {
            "train": task.make_datasets(config, splits, tokenizer).train,
            "test": make_dataset(splits.datasets["test"], tokenizer, config, training=False),
        }
    epochs = []
    for epoch in range(args.epochs):
        totals = interleaved_epoch(models, {mode: datasets[mode]["train"] for mode in models})
        epochs.append(totals)
        speeds = {mode: t["examples"] / t["wall"] for mode, t in totals.items()}
        print(
            f"epoch {epoch + 1}: "
            + ", ".join(f"{m} {v:.1f} examples/s" for m, v in speeds.items()),
            flush=True,
        )
    # Epoch 1 includes tf.function tracing (more shapes with bucketing): time epochs 2+ only.
    steady = epochs[1:] or epochs
    results = {}
    for mode, model in models.items():
        _, accuracy = model.evaluate(datasets[mode]["test"], verbose=0)
        examples = sum(e[mode]["examples"] for e in steady)
        results[mode] = {
            "examples_per_second": round(examples / sum(e[mode]["wall"] for e in steady), 1),
            "examples_per_cpu_second": round(examples / sum(e[mode]["cpu"] for e in steady), 1),
            "test_accuracy": round(float(accuracy), 4),
        }
    ratio = (
        results["bucketing"]["examples_per_second"] / results["fixed_length"]["examples_per_second"]
    )
    cpu_ratio = (
        results["bucketing"]["examples_per_cpu_second"]
        / results["fixed_length"]["examples_per_cpu_second"]
    )
    summary = {
        "data_dir": str(data_dir),
        "train_examples": splits.counts["train"],
        "max_length": args.max_length,
        "epochs": args.epochs,
        **results,
        "speedup_bucketing_over_fixed": round(ratio, 2),
        "cpu_speedup_bucketing_over_fixed": round(cpu_ratio, 2),
        "accuracy_difference": round(
            results["bucketing"]["test_accuracy"] - results["fixed_length"]["test_accuracy"], 4
        ),
    }
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
