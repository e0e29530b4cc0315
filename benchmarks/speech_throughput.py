"""Benchmark: speech training throughput and batch inference of the export.

On `$RNN_SUITE_DATA/speech` (Free Spoken Digit Dataset, 8 kHz WAV) it measures in one run:
  1. training examples/second of the default model with augmentation, against the same model
     fed clean cached clips (the cost of on-the-fly augmentation), passes alternated;
  2. clips/second of the export at batch 64 through `audio` (float waveforms) and through
     `audio_wav` (WAV bytes decoded and resampled in the graph), against the compiled Keras
     model on already-prepared clips (the ratio is the cost of preprocessing in the graph).

    python benchmarks/speech_throughput.py [--data_dir DIR] [--steps 20] [--batches 8]
Without the data folder it generates tone clips.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from dev_data import data_dir

from apps.speech import audio as audio_ops
from apps.speech.batches import make_dataset
from apps.speech.config import SpeechConfig
from apps.speech.task import SpeechTask
from shared.export import export_saved_model

DEFAULT_DATA = data_dir("speech")
BATCH = 64


def generated_data(root: Path) -> Path:
    from tests.apps.speech.conftest import write_clips

    write_clips(root, "train", copies=64)
    write_clips(root, "test", copies=32)
    return root


def steps_per_second(model, dataset, steps: int) -> float:
    """Training steps per second over `steps` batches (after one warm-up step)."""
    iterator = iter(dataset.repeat())
    model.train_on_batch(*next(iterator))
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(*next(iterator))
    return steps / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data_dir", default=str(DEFAULT_DATA))
    parser.add_argument("--steps", type=int, default=20, help="training steps per measurement")
    parser.add_argument("--batches", type=int, default=8, help="inference batches of 64")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(args.data_dir)
        if not data_dir.is_dir():
            print(f"{data_dir} not found: using generated tone clips", file=sys.stderr)
            data_dir = generated_data(Path(tmp) / "data")
        task = SpeechTask()
        config = SpeechConfig(data_dir=str(data_dir), output_dir=str(Path(tmp) / "run"))
        splits, config = task.load_data(config)
        clip_input = task.fit_preprocessing(config, splits)
        augmented = task.make_datasets(config, splits, clip_input).train
        clean = make_dataset(splits.clips("train"), config, training=False)
        model = task.build_model(config, clip_input, steps_per_epoch=1)

        # 1. Training throughput, alternating the two pipelines so both see the same load.
        rates = {"augmented": [], "clean": []}
        for _ in range(2):
            for name, dataset in (("augmented", augmented), ("clean", clean)):
                rates[name].append(steps_per_second(model, dataset, args.steps) * config.batch_size)
        train = {name: float(np.median(values)) for name, values in rates.items()}
        print(
            f"training: {train['augmented']:.1f} examples/s with augmentation, "
            f"{train['clean']:.1f} on clean cached clips "
            f"(augmentation keeps {train['augmented'] / train['clean']:.2f}x of the speed)"
        )

        # 2. Export inference at batch 64.
        serving = task.serving(model, config, splits)
        _, loaded = export_saved_model(Path(tmp) / "export", serving.endpoints, track=serving.track)
        files = [path for path, _ in splits.files["test"]][: BATCH * args.batches]
        blobs = [path.read_bytes() for path in files]
        waves = [
            audio_ops.load_audio(tf.constant(blob), config.sample_rate).numpy() for blob in blobs
        ]
        clips = np.stack([audio_ops.centre_one(w, config.clip_samples).numpy() for w in waves])
        batches = range(0, len(files), BATCH)

        def padded(start):
            chunk = waves[start : start + BATCH]
            out = np.zeros((len(chunk), max(map(len, chunk))), np.float32)
            for row, wave in enumerate(chunk):
                out[row, : len(wave)] = wave
            return tf.constant(out)

        compiled = tf.function(
            lambda clips: model({"audio": clips}, training=False),
            input_signature=[tf.TensorSpec([None, config.clip_samples], tf.float32)],
        )
        feeds = {
            "keras model (prepared clips)": lambda s: compiled(tf.constant(clips[s : s + BATCH])),
            "export audio (float)": lambda s: loaded.signatures["serving_default"](audio=padded(s)),
            "export audio_wav (bytes)": lambda s: loaded.signatures["audio_wav"](
                wav_bytes=tf.constant(blobs[s : s + BATCH])
            ),
        }
        seconds = {name: [] for name in feeds}
        for name, feed in feeds.items():
            feed(0)  # warm-up (tracing)
        for start in batches:  # alternate per batch
            for name, feed in feeds.items():
                begin = time.perf_counter()
                feed(start)
                seconds[name].append(time.perf_counter() - begin)
        base = len(files) / sum(seconds["keras model (prepared clips)"])
        for name, values in seconds.items():
            rate = len(files) / sum(values)
            print(f"inference {name}: {rate:.1f} clips/s ({rate / base:.2f}x the Keras model)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
