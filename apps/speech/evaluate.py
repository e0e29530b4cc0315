"""Evaluate a finished speech run again (through its export) and rewrite `metrics.json`.

python -m apps.speech.evaluate --run_dir runs/speech [--data_dir DIR]

With folder data, the test clips are also sent to both endpoints (float waveforms and WAV
bytes) and `export_check` reports how often the two give the same label.
"""

from pathlib import Path
from typing import Callable
from typing import Optional
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from apps.speech import audio as audio_ops
from apps.speech.config import SpeechConfig
from apps.speech.data import load_splits
from apps.speech.model import explain_model
from apps.speech.plots import plot_examples
from shared.cli import command
from shared.data import labels_of
from shared.errors import UserError
from shared.evaluation import check_classes
from shared.evaluation import evaluation_parser
from shared.evaluation import finished_run
from shared.evaluation import merged_metrics
from shared.evaluation import run_config
from shared.evaluation import write_classifier_report
from shared.metrics import classifier_metrics

EXAMPLES_PLOTTED = 4


def test_metrics(labels, probabilities, train_labels, class_names) -> dict:
    return classifier_metrics(labels, probabilities, train_labels, class_names, top_k=2)


def plot_test_examples(model: keras.Model, test: tf.data.Dataset, config: SpeechConfig, path):
    """Waveform, spectrogram and attention of the first test clips of different classes."""
    picked, seen = [], set()
    for clip, label in test.as_numpy_iterator():
        if int(label) not in seen or len(seen) == len(config.class_names):
            seen.add(int(label))
            picked.append((clip, int(label)))
        if len(picked) == EXAMPLES_PLOTTED:
            break
    clips = np.stack([clip for clip, _ in picked])
    features, attention = explain_model(model).predict({"audio": clips}, verbose=0)
    probabilities = model.predict({"audio": clips}, verbose=0)
    titles = [
        f"true {config.class_names[label]}, said {config.class_names[int(p.argmax())]}"
        for (_, label), p in zip(picked, probabilities)
    ]
    plot_examples(clips, features, attention, titles, config.sample_rate, path)


_load_audio = tf.function(
    audio_ops.load_audio,
    input_signature=[tf.TensorSpec([], tf.string), tf.TensorSpec([], tf.int32)],
)


def export_agreement(
    serve_audio: Callable[..., dict],
    serve_wav: Callable[..., dict],
    files: Sequence[tuple[Path, int]],
    sample_rate: int,
    batch_size: int = 32,
) -> dict:
    """Send the same files to both endpoints: as float waveforms and as WAV bytes.

    The waveforms are the files decoded and resampled to the run's rate, not centred: the
    export does that. They are zero-padded to batch them, which must not change any answer.
    """
    same, gap, accuracy = 0, 0.0, {"audio": 0, "wav_bytes": 0}
    for start in range(0, len(files), batch_size):
        chunk = files[start : start + batch_size]
        contents = [path.read_bytes() for path, _ in chunk]
        waves = [_load_audio(tf.constant(c), sample_rate).numpy() for c in contents]
        padded = np.zeros((len(waves), max(len(w) for w in waves)), np.float32)
        for row, wave in enumerate(waves):
            padded[row, : len(wave)] = wave
        from_audio = serve_audio(audio=tf.constant(padded))
        from_wav = serve_wav(wav_bytes=tf.constant(contents))
        labels_a = from_audio["probabilities"].numpy().argmax(-1)
        labels_w = from_wav["probabilities"].numpy().argmax(-1)
        truth = np.array([label for _, label in chunk])
        same += int(np.sum(labels_a == labels_w))
        accuracy["audio"] += int(np.sum(labels_a == truth))
        accuracy["wav_bytes"] += int(np.sum(labels_w == truth))
        difference = np.abs(from_audio["probabilities"].numpy() - from_wav["probabilities"].numpy())
        gap = max(gap, float(difference.max()))
    return {
        "clips": len(files),
        "same_label": same / len(files),
        "max_probability_difference": gap,
        "accuracy_audio": accuracy["audio"] / len(files),
        "accuracy_wav_bytes": accuracy["wav_bytes"] / len(files),
    }


def predict_clips(serve: Callable[..., dict], clips: tf.data.Dataset, batch_size: int = 64):
    """Probabilities from the `audio` endpoint for a dataset of clips."""
    return np.concatenate(
        [serve(audio=batch)["probabilities"].numpy() for batch in clips.batch(batch_size)]
    )


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = evaluation_parser("python -m apps.speech.evaluate", __doc__)
    args = parser.parse_args(argv)
    run = finished_run(args.run_dir)
    config = run_config(SpeechConfig, run, data_dir=args.data_dir, tfds_data_dir=args.tfds_data_dir)
    try:
        loaded = tf.saved_model.load(str(run.latest_export()))
    except FileNotFoundError as error:
        raise UserError(f"{error}; train the run to the end first") from None
    splits = load_splits(config)
    check_classes(splits.class_names, config.class_names)
    serve_audio, serve_wav = loaded.signatures["serving_default"], loaded.signatures["audio_wav"]
    test = splits.datasets["test"]
    probabilities = predict_clips(serve_audio, test.map(lambda clip, label: clip))
    metrics = test_metrics(
        labels_of(test), probabilities, labels_of(splits.datasets["train"]), config.class_names
    )
    if splits.files:
        metrics["export_check"] = export_agreement(
            serve_audio, serve_wav, splits.files["test"], config.sample_rate
        )
    metrics = merged_metrics(run, metrics, test_examples=len(probabilities))
    write_classifier_report(run, metrics, config.class_names)
    print(
        f"test accuracy {metrics['accuracy']:.4f} (majority baseline "
        f"{metrics['baseline_majority']['accuracy']:.4f}) -> {run.metrics}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
