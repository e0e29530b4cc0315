"""Train a spoken-keyword classifier, evaluate it on the test split and export it for serving.

python -m apps.speech.train                               # TFDS speech_commands
python -m apps.speech.train --data_dir DIR                # DIR/<split>/<label>/*.wav
"""

import dataclasses
from typing import Optional
from typing import Sequence

import tensorflow as tf

from apps.speech.config import SpeechConfig
from apps.speech.data import load_splits
from apps.speech.data import make_dataset
from apps.speech.evaluate import export_agreement
from apps.speech.evaluate import plot_test_examples
from apps.speech.evaluate import test_metrics
from apps.speech.export import export_model
from apps.speech.model import adapt_normalization
from apps.speech.model import build_model
from apps.speech.model import compile_model
from shared.cli import command
from shared.cli import parse_config
from shared.data import labels_of
from shared.evaluation import write_classifier_report
from shared.plots import plot_history
from shared.training import finish_run
from shared.training import fit
from shared.training import prepare_run
from shared.training import run_summary


@command
def main(argv: Optional[Sequence[str]] = None) -> int:
    config = parse_config(SpeechConfig, argv, __doc__, prog="python -m apps.speech.train")
    splits = load_splits(config)
    config = dataclasses.replace(
        config, class_names=splits.class_names, max_frequency=splits.max_frequency(config)
    )
    run = prepare_run(config)

    data = {
        split: make_dataset(clips, config, training=split == "train", noise=splits.noise)
        for split, clips in splits.datasets.items()
    }
    model = build_model(config, num_classes=len(config.class_names))
    clean_train = make_dataset(splits.datasets["train"], config, training=False)
    adapt_normalization(model, clean_train.map(lambda features, label: features["audio"]))
    compile_model(model, config, steps_per_epoch=-(-splits.counts["train"] // config.batch_size))
    result = fit(
        model, data["train"], data["val"], config, num_train_examples=splits.counts["train"]
    )
    plot_history(result.history, run.plots / "training_curves.png", result.best_epoch)

    probabilities = model.predict(data["test"], verbose=0)
    metrics = test_metrics(
        labels_of(data["test"]), probabilities, labels_of(clean_train), config.class_names
    )
    metrics.update(run_summary(result, splits.counts), data=splits.report)
    export_dir = export_model(model, config, run.export)
    metrics["export"] = str(export_dir)
    if splits.files:  # the same test files as float waveforms and as WAV bytes
        loaded = tf.saved_model.load(str(export_dir))
        metrics["export_check"] = export_agreement(
            loaded.signatures["serving_default"],
            loaded.signatures["audio_wav"],
            splits.files["test"],
            config.sample_rate,
        )
    write_classifier_report(run, metrics, config.class_names)
    plot_test_examples(model, splits.datasets["test"], config, run.plots / "test_examples.png")
    finish_run(run)
    print(
        f"test accuracy {metrics['accuracy']:.4f}, top-2 {metrics['top2_accuracy']:.4f} "
        f"(majority baseline {metrics['baseline_majority']['accuracy']:.4f}); "
        f"run directory {run.root}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
