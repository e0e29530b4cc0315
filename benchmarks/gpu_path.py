"""Benchmark: the GPU path, read and timed on this CPU.

For each app, on data of its development size made by the tests' generators (as
`scale.py` writes them; translation repeats the real Multi30k pairs when `RNN_SUITE_DATA`
has them):

1. the kernel each LSTM/GRU layer of the default model would take on a GPU (`shared.cudnn`:
   Keras is told a GPU is visible), and of each variant below;
2. training examples per second on this CPU of the default model against its variants, in
   one process, on the same cached batches (the input pipeline excluded):
   - translation, captioning: the step-wise decoder (today's before the parallel one;
     translation's with input feeding, as it trained);
   - weather: recurrent dropout 0.1 (the default before it was dropped for cuDNN);
   - every app: `--mixed_precision` (bfloat16 here).

Models keep each app's default sizes, except `--backbone_weights none` (no downloads here).
Nothing here says how fast a GPU is: nobody has timed these apps on one.

    python benchmarks/gpu_path.py [--apps translation weather] [--steps 40]
"""

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from scale import write_data  # noqa: E402

from tuning.search import APPS  # noqa: E402
from tuning.search import load_app  # noqa: E402

# What every run needs here (no downloads; the generated data's own columns and words).
SETUP = {
    "weather": dict(target_columns=("temp",)),
    "captioning": dict(backbone_weights="none", min_word_count=1),
    "video": dict(backbone_weights="none"),
}
VARIANTS = {
    "translation": {"step-wise decoder": dict(decoder="stepwise", input_feeding=True)},
    "captioning": {"step-wise decoder": dict(decoder="stepwise", context_layer=False)},
    "weather": {"recurrent dropout 0.1": dict(recurrent_dropout=0.1)},
}
MIXED = {"mixed precision (bfloat16)": dict(mixed_precision=True)}


def batch_size(batch) -> int:
    import tensorflow as tf

    targets = batch[1]
    return int(tf.shape(tf.nest.flatten(targets)[0])[0])


def examples_per_second(model, batches, repeats: int = 3) -> tuple[float, int, float]:
    """Training examples per second over `batches` after one warm-up pass (the compile): the
    fastest of `repeats` passes (the least disturbed by other work), its examples and seconds."""
    model.fit(batches.take(2), epochs=1, verbose=0)
    examples = sum(batch_size(batch) for batch in batches)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(batches, epochs=1, verbose=0)
        seconds.append(time.perf_counter() - start)
    return examples / min(seconds), examples, min(seconds)


def measure(app: str, steps: int, work: Path) -> list[tuple]:
    """Rows of (app, variant, kernels, examples/s) for the default and each variant."""
    from shared.cudnn import cudnn_report

    task, _ = load_app(app)
    data_dir = write_data(app, 1, work / app)
    config = task.config_class(
        data_dir=str(data_dir), output_dir=str(work / f"run-{app}"), **SETUP.get(app, {})
    )
    if "cache_dir" in vars(config):
        config = dataclasses.replace(config, cache_dir=str(work / f"cache-{app}"))
    data, config = task.load_data(config)
    preprocessor = task.fit_preprocessing(config, data)
    datasets = task.make_datasets(config, data, preprocessor)
    batches = datasets.train.take(steps).cache()
    for _ in batches:  # read and cached once, before any timing
        pass
    rows = []
    for name, changes in {"default": {}, **VARIANTS.get(app, {}), **MIXED}.items():
        variant = dataclasses.replace(config, **changes)
        model = task.build_model(variant, preprocessor, steps_per_epoch=steps)
        report = cudnn_report(model.network, batches.take(1))
        kernels = ", ".join(sorted({f"{c.kernel}" + (f" ({c.reason})" if c.reason else "")
                                    for c in report}))  # fmt: skip
        speed, examples, seconds = examples_per_second(model, batches)
        rows.append((app, name, kernels, speed))
        print(
            f"{app:<12} {name:<28} {speed:>9.1f} examples/s ({examples} in {seconds:.1f} s)"
            f"   {kernels}",
            flush=True,
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--apps", nargs="+", default=list(APPS), choices=APPS)
    parser.add_argument("--steps", type=int, default=40, help="Training batches per timed pass")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gpu-path-"))
    rows = []
    for app in args.apps:
        rows += measure(app, args.steps, work)
    print("\n| app | model | kernels on a GPU | examples/s on this CPU | vs default |")
    print("| --- | --- | --- | ---: | ---: |")
    base = {app: speed for app, name, _, speed in rows if name == "default"}
    for app, name, kernels, speed in rows:
        print(f"| {app} | {name} | {kernels} | {speed:,.0f} | {speed / base[app]:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
