"""Benchmark: video clip cache, training on cached features, and the export.

On generated motion clips (`tests/apps/video/motion.py`, mixed .mp4/.avi/frame folders) with a
frozen EfficientNetB0 at 224 pixels (random weights saved to a file: this machine cannot
download ImageNet's; the speed is the same), it measures in one run:
  1. clips/second of the first pass that decodes, samples, resizes, runs the CNN on every
     sampled frame and caches the features, and of an epoch reading the cache, against the
     naive pipeline that decodes and runs the CNN again every epoch;
  2. training clips/second on cached features against the naive model that holds the frozen
     CNN and recomputes it at every step;
  3. clips/second of the export (sampling, resizing, CNN and classifier in one SavedModel call
     per batch of raw frames) against one call per clip.

    python benchmarks/video.py [--clips 32] [--batch 8]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.apps.video.motion

from apps.video.cache import make_dataset
from apps.video.config import VideoConfig
from apps.video.model import build_model
from apps.video.model import compile_model
from apps.video.task import VideoTask
from shared.export import export_saved_model
from shared.pipeline import Pipeline
from tests.apps.video.motion import write_motion


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--clips", type=int, default=32, help="Training clips per class (2)")
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="video-bench-"))
    counts = {"train": args.clips, "val": 4, "test": 4}
    data_dir = write_motion(root / "data", counts, classes=("left", "right"), seed=2)
    weights = root / "efficientnetb0.weights.h5"
    keras.applications.EfficientNetB0(
        include_top=False, weights=None, input_shape=(224, 224, 3)
    ).save_weights(weights)
    config = VideoConfig(
        data_dir=str(data_dir),
        backbone_weights=str(weights),
        cache_dir=str(root / "cache"),
        batch_size=args.batch,
    )
    task = VideoTask()
    first = time.perf_counter()
    data, config = task.load_data(config)  # decodes and caches every split
    first = time.perf_counter() - first
    cache = task.cache(config)
    clips = task.cached(cache, data, "train")
    n = len(clips.records)
    total = sum(len(task.cached(cache, data, s).records) for s in ("train", "val", "test"))
    dataset = make_dataset(cache, clips, config, training=True)
    read = seconds(lambda: [None for _ in dataset])

    sources = [source for _, _, source in data.splits["train"].sources()]
    pixels = []

    def naive_epoch():
        pixels.clear()
        for source in sources:
            frames = cache.pixels("none", source)  # decodes again (no such cache file)
            pixels.append(frames)
            cache.backbone.predict_on_batch(frames.astype(np.float32))

    naive = seconds(naive_epoch)
    print(
        f"1. first pass (decode + CNN + write) {total / first:.1f} clips/s; cached epoch "
        f"{n / read:.1f} clips/s vs decode + CNN every epoch {n / naive:.1f} clips/s: "
        f"{naive / read:.0f}x per epoch"
    )

    # 2. Training on cached features vs a model that recomputes the frozen CNN.
    classes = len(config.class_names)
    model = compile_model(
        build_model(config, num_classes=classes, frame_shape=cache.frame_shape),
        config,
        num_classes=classes,
    )
    model.fit(dataset.take(1), epochs=1, verbose=0)  # trace
    cached_fit = seconds(lambda: model.fit(dataset, epochs=1, verbose=0))
    frames_in = keras.Input((config.num_frames, 224, 224, 3), name="frames")
    length = keras.Input((), dtype="int32", name="length")
    features = keras.layers.TimeDistributed(cache.backbone)(frames_in)
    probabilities = model({"frames": features, "length": length})
    naive_model = keras.Model({"frames": frames_in, "length": length}, probabilities)
    naive_model.compile("adam", "sparse_categorical_crossentropy")
    padded = np.zeros((n, config.num_frames, 224, 224, 3), np.uint8)
    for row, frames in zip(padded, pixels):
        row[: len(frames)] = frames
    lengths = np.array([len(p) for p in pixels], np.int32)
    inputs = {"frames": padded, "length": lengths}
    naive_model.fit(inputs, clips.labels, batch_size=args.batch, epochs=1, verbose=0)  # trace
    naive_fit = seconds(
        lambda: naive_model.fit(inputs, clips.labels, batch_size=args.batch, epochs=1, verbose=0)
    )
    print(
        f"2. training on cached features {n / cached_fit:.1f} clips/s vs CNN inside the model "
        f"{n / naive_fit:.1f} clips/s: {naive_fit / cached_fit:.1f}x"
    )

    # 3. The export: batches of raw frames vs one call per clip.
    classifier = Pipeline(model, task.fit_preprocessing(config, data))
    serving = task.serving(classifier, config, data)
    _, loaded = export_saved_model(root / "export", serving.endpoints, track=serving.track)
    serve = loaded.signatures["serving_default"]
    raw = tf.constant(padded[: 4 * args.batch])
    serve(frames=raw[: args.batch])
    batched = seconds(
        lambda: [serve(frames=raw[i : i + args.batch]) for i in range(0, len(raw), args.batch)]
    )
    single = seconds(lambda: [serve(frames=raw[i : i + 1]) for i in range(len(raw))])
    print(
        f"3. export {len(raw) / batched:.1f} clips/s in batches of {args.batch} vs "
        f"{len(raw) / single:.1f} clips/s one by one: {single / batched:.1f}x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
