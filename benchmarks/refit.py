"""Benchmark: the final fit after model selection (`--refit`), every variant from one selection.

For each seed, the app trains once with the first variant; the moment its model selection has
finished, the run directory is copied, and every other variant resumes a copy (a resumed run
keeps its selection and runs only the final fit: the `--refit` flags may change on resume).
So the variants differ only in their final fit, and "none" is the selected model's own test
figure, which every run records (`metrics.json`, `refit.selection`). A variant is
`NAME=FLAGS` (flags of the final fit); plain `scratch` or `fine_tune` means `--refit <it>`.

    python benchmarks/refit.py --app speech --seeds 1337,2 \\
        --variants "scratch;scaled=--refit scratch --scale_refit_epochs;fine_tune;
                    kfold=--refit scratch --scale_refit_epochs --selection_folds 3" \\
        --out /tmp/refit-speech -- --data_dir $RNN_SUITE_DATA/speech

Prints one row per seed and variant (test metric, final-fit epochs and seconds), the mean per
variant, and writes them to `OUT/refit.json`.
"""

import argparse
import dataclasses
import json
import shutil
import statistics
import sys
from pathlib import Path
from typing import Any
from unittest import mock

from shared import runner
from shared.cli import parse_config
from shared.run_dir import RunDir
from tuning.search import load_app


def train_from_one_selection(task, configs: dict[str, Any], out: Path) -> dict[str, dict]:
    """`metrics.json` of each variant's run (`configs` by name), all from one model selection."""
    selection = out / "selection"
    original = runner.refit

    def copy_then_refit(*args, **kwargs):
        run = next(arg for arg in args if isinstance(arg, RunDir))
        if not selection.exists():  # the first mode: keep its finished selection
            shutil.copytree(run.root, selection)
        return original(*args, **kwargs)

    results = {}
    for i, (name, config) in enumerate(configs.items()):
        run_dir = out / name
        shutil.rmtree(run_dir, ignore_errors=True)
        if i:
            shutil.copytree(selection, run_dir)
        config = dataclasses.replace(config, output_dir=str(run_dir))
        with mock.patch.object(runner, "refit", copy_then_refit):
            results[name] = runner.train(task, config)
    return results


def parse_variants(text: str) -> dict[str, list[str]]:
    """`"scratch;scaled=--refit scratch --scale_refit_epochs"` -> flags by variant name."""
    variants = {}
    for item in filter(None, (part.strip() for part in text.split(";"))):
        name, _, flags = item.partition("=")
        variants[name] = flags.split() if flags else ["--refit", name]
    return variants


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", required=True)
    parser.add_argument("--seeds", default="1337,2")
    parser.add_argument("--variants", default="scratch;fine_tune")
    parser.add_argument("--out", required=True)
    args, app_flags = parser.parse_known_args(argv)
    app_flags = [flag for flag in app_flags if flag != "--"]
    task, _ = load_app(args.app)
    variants = parse_variants(args.variants)
    modes = list(variants)
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        out = Path(args.out) / f"seed{seed}"
        shutil.rmtree(out, ignore_errors=True)
        configs = {
            name: parse_config(
                task.config_class, [*app_flags, *flags, "--seed", str(seed)], "benchmark"
            )
            for name, flags in variants.items()
        }
        for mode, metrics in train_from_one_selection(task, configs, out).items():
            value = metrics
            for key in task.test_metric.split("."):
                value = value[key]
            refit = metrics["refit"]
            if mode == modes[0]:
                selected = refit["selection"]["test"][task.test_metric]
                rows.append({"seed": seed, "mode": "none", "test": selected, "epochs": 0})
                rows[-1]["selection_seconds"] = metrics["train_seconds"] - refit["seconds"]
            rows.append(
                {"seed": seed, "mode": mode, "test": value, "epochs": refit["epochs"]}
                | {"refit_seconds": refit["seconds"], "best_epoch": metrics["best_epoch"]}
            )
            print(json.dumps(rows[-1]), flush=True)
    means = {
        mode: round(statistics.mean(r["test"] for r in rows if r["mode"] == mode), 4)
        for mode in ("none", *modes)
    }
    print(f"{task.test_metric} per seed and mode:")
    for row in rows:
        print(f"  seed {row['seed']:>5}  {row['mode']:<10} {row['test']:.4f}  ({row})")
    print(f"mean {task.test_metric}: {means}")
    Path(args.out, "refit.json").write_text(json.dumps({"rows": rows, "means": means}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
