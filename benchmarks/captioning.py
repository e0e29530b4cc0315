"""Benchmark: captioning feature cache, training speed and in-graph beam search.

On generated shapes images (224 pixels, `tests/apps/captioning/shapes.py`) with a frozen
EfficientNetB0 (random weights saved to a file: this machine cannot download ImageNet's; the
speed is the same), it measures in one run:
  1. images/second of the first pass that decodes, runs the CNN and caches features, and of
     an epoch's reading of the cache, against the naive pipeline that decodes and runs the CNN
     again every epoch;
  2. training captions/second on cached features against the naive model that holds the
     frozen CNN and recomputes it at every step;
  3. images/second of the export (decoding, CNN and beam search of width 3 inside one
     SavedModel call per batch) against a Python loop that calls the model once per token.

    python benchmarks/captioning.py [--images 256] [--batch 32]
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for tests.apps.captioning.shapes

from apps.captioning.captions import END_ID
from apps.captioning.captions import START_ID
from apps.captioning.config import CaptioningConfig
from apps.captioning.features import FeatureCache
from apps.captioning.task import CaptioningTask
from shared.export import export_saved_model
from tests.apps.captioning.shapes import write_shapes


def seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--batch", type=int, default=32)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="captioning-bench-"))
    data_dir = write_shapes(root / "data", {"train": args.images, "test": args.batch}, size=224)
    weights = root / "efficientnetb0.weights.h5"
    keras.applications.EfficientNetB0(
        include_top=False, weights=None, input_shape=(224, 224, 3)
    ).save_weights(weights)
    config = CaptioningConfig(
        data_dir=str(data_dir),
        backbone_weights=str(weights),
        cache_dir=str(root / "cache"),
        batch_size=args.batch,
        validation_split=0.1,
    )
    task = CaptioningTask()
    data, config = task.load_data(config)
    inputs = task.fit_preprocessing(config, data)
    cache = FeatureCache(config, inputs.backbone)
    train = data.splits["train"]
    n = len(train.records)

    # 1. Feature extraction: first pass, then reading the cache.
    first = seconds(lambda: cache.prepare(train, "train"))
    datasets = task.make_datasets(config, data, inputs)  # reads the cache
    epoch_read = seconds(lambda: [None for _ in datasets.train])
    decode = cache._decode
    backbone = cache.backbone

    def naive_epoch():
        for start in range(0, n, args.batch):
            batch = [decode(r.path.read_bytes()) for r in train.records[start : start + args.batch]]
            backbone.predict_on_batch(np.stack(batch).astype("float32"))

    naive = seconds(naive_epoch)
    print(f"1. first pass (decode + CNN + write): {n / first:8.1f} images/s")
    print(
        f"   an epoch reading the cache:        {n / epoch_read:8.1f} images/s "
        f"({datasets.examples['train']} captions)"
    )
    print(
        f"   naive epoch (decode + CNN again):  {n / naive:8.1f} images/s "
        f"-> the cache is {naive / epoch_read:.0f}x faster per epoch"
    )

    # 2. Training captions/second: cached features vs the CNN inside the model, on the same
    # captions (one per training image, 8 tokens each) and the same batches.
    model = task.build_model(config, inputs, steps_per_epoch=1)
    images = np.stack([decode(r.path.read_bytes()).numpy() for r in train.records])
    features = backbone.predict(images.astype("float32"), batch_size=args.batch, verbose=0)
    tokens = np.tile(np.arange(START_ID, START_ID + 8, dtype="int32"), (n, 1))
    targets = np.roll(tokens, -1, axis=1)
    pixels = keras.Input((config.input_size, config.input_size, 3), dtype="uint8", name="pixels")
    caption_in = keras.Input((None,), dtype="int32", name="caption_in")
    regions = backbone(keras.ops.cast(pixels, "float32"))
    logits = model({"image": regions, "caption_in": caption_in})
    naive_model = keras.Model({"pixels": pixels, "caption_in": caption_in}, logits)
    naive_model.compile(optimizer="adam", loss=model.loss)

    def fit(net, image_key, image_values):
        inputs = {image_key: image_values, "caption_in": tokens}
        net.fit(inputs, targets, batch_size=args.batch, epochs=1, verbose=0)

    fit(model, "image", features)  # warm-up (tracing)
    fit(naive_model, "pixels", images)
    cached_fit = seconds(lambda: fit(model, "image", features))
    naive_fit = seconds(lambda: fit(naive_model, "pixels", images))
    print(f"2. training on cached features:     {n / cached_fit:8.1f} captions/s")
    print(
        f"   naive (CNN at every step):       {n / naive_fit:8.1f} captions/s "
        f"-> {naive_fit / cached_fit:.1f}x"
    )

    # 3. Export: decode + CNN + beam search in one call per batch, against a Python loop that
    # decodes and encodes each image, then calls the (compiled) model once per token on the
    # whole prefix. Both include the CNN, the dominant cost at 224 pixels.
    model.fit(datasets.train, epochs=5, verbose=0)  # real captions: decoding runs ~8 tokens
    serving = task.serving(model, config, data)
    export_dir, loaded = export_saved_model(root / "export", serving.endpoints, track=serving.track)
    test = [r.path.read_bytes() for r in data.splits["test"].records][: args.batch]
    detailed = loaded.signatures["caption_with_attention"]
    words = detailed(image_bytes=tf.constant(test))["words"].numpy()
    served = seconds(lambda: detailed(image_bytes=tf.constant(test)))
    call = tf.function(lambda image, caption: model({"image": image, "caption_in": caption}))
    lengths = []

    def python_loop():
        lengths.clear()
        for encoded in test:
            pixels = decode(encoded).numpy()[None].astype("float32")
            feature = backbone.predict_on_batch(pixels)
            tokens = [START_ID]
            for _ in range(config.max_caption_length + 1):
                logits = call(feature, tf.constant([tokens], tf.int32))
                token = int(np.argmax(logits[0, -1]))
                tokens.append(token)
                if token == END_ID:
                    break
            lengths.append(len(tokens) - 1)

    python_loop()  # warm-up (one trace per prefix length)
    loop = seconds(python_loop)
    export_tokens = float(np.mean((words != b"").sum(axis=1) + 1))
    print(
        f"3. export, beam 3, one call per batch:  {len(test) / served:8.1f} images/s "
        f"({export_tokens:.1f} tokens per caption)"
    )
    print(
        f"   Python loop, greedy, per token:      {len(test) / loop:8.1f} images/s "
        f"({np.mean(lengths):.1f} tokens per caption) -> export {loop / served:.1f}x faster"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
