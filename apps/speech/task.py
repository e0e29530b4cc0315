"""The speech app as a `shared.task.Task`: what the shared runner needs to know of it."""

import argparse
import dataclasses
from pathlib import Path
from typing import Callable
from typing import Mapping

import tensorflow as tf

from apps.speech.batches import make_dataset
from apps.speech.config import SpeechConfig
from apps.speech.data import STATISTICS_CLIPS
from apps.speech.data import Splits
from apps.speech.data import load_splits
from apps.speech.export import export_agreement
from apps.speech.export import make_endpoints
from apps.speech.model import ClipInput
from apps.speech.model import build_classifier
from apps.speech.model import feature_statistics
from apps.speech.plots import plot_test_examples
from apps.speech.wav import decode_wav
from apps.speech.wav import wav_error
from shared.errors import UserError
from shared.evaluation import classifier_report
from shared.evaluation import print_classes
from shared.evaluation import served_probabilities
from shared.pipeline import Pipeline
from shared.task import Datasets
from shared.task import Evaluation
from shared.task import Serving
from shared.task import Task


class SpeechTask(Task[SpeechConfig, Splits, ClipInput]):
    config_class = SpeechConfig
    # On a voice training never heard, the validation loss starts rising (confident errors)
    # while accuracy still climbs for many epochs: selecting on the loss stopped at epoch 12
    # where accuracy went on from 0.50 to 0.63 by epoch 20 (seed 2, FSDD, lucas held out).
    selection_metric = "val_accuracy"
    selection_mode = "max"
    # The feature statistics are per band of these features.
    preprocessing_fields = (
        "sample_rate",
        "clip_seconds",
        "mel_bins",
        "window_ms",
        "hop_ms",
        "max_frequency",
        "pre_emphasis",
        "dynamic_range_db",
        "cepstral_coefficients",
        "utterance_normalization",
        "ignore_silence",
    )

    def load_data(self, config: SpeechConfig) -> tuple[Splits, SpeechConfig]:
        splits = load_splits(config)
        resolved = dataclasses.replace(
            config, class_names=splits.class_names, max_frequency=splits.max_frequency(config)
        )
        return splits, resolved

    def fit_preprocessing(self, config: SpeechConfig, data: Splits) -> ClipInput:
        clean = make_dataset(data.clips("train", sample=STATISTICS_CLIPS), config, training=False)
        mean, variance = feature_statistics(config, clean.map(lambda x, label: x["audio"]))
        return ClipInput(config.clip_samples, mean, variance, name="clip_input")

    def make_datasets(self, config: SpeechConfig, data: Splits, clip_input: ClipInput) -> Datasets:
        def batches(*splits: str, training: bool) -> tf.data.Dataset:
            clips = data.clips(*splits, shuffle_seed=config.seed if training else None)
            return make_dataset(clips, config, training=training, noise=data.noise)

        counts = {split: data.share_count(split) for split in ("train", "val")}
        counts["train_and_val"] = counts["train"] + counts["val"]
        return Datasets(
            batches("train", training=True),
            batches("val", training=False),
            counts,
            batches("train", "val", training=True),
            report=data.report,
        )

    def build_model(
        self, config: SpeechConfig, clip_input: ClipInput, *, steps_per_epoch: int
    ) -> Pipeline:
        return build_classifier(config, clip_input, steps_per_epoch=steps_per_epoch)

    def serving(self, model: Pipeline, config: SpeechConfig, data: Splits) -> Serving:
        return Serving(make_endpoints(model, config), track=[model])

    def evaluate(self, evaluation: Evaluation[SpeechConfig, Splits]) -> dict:
        splits, config, serving = evaluation.data, evaluation.config, evaluation.serving
        labels, probabilities = served_probabilities(
            serving["serving_default"], splits.clips("test"), "audio"
        )
        train_labels = splits.labels("train")
        metrics = classifier_report(
            labels, probabilities, train_labels, config.class_names, evaluation.plots, top_k=2
        )
        metrics["data"] = splits.report
        if splits.files:  # the same test files as float waveforms and as WAV bytes
            metrics["export_check"] = export_agreement(
                serving["serving_default"],
                serving["audio_wav"],
                splits.files["test"],
                config.sample_rate,
            )
        path = evaluation.plots / "test_examples.png"
        plot_test_examples(evaluation.model.network, splits.clips("test"), config, path)
        return metrics

    def summary(self, metrics: dict) -> str:
        return (
            f"test accuracy {metrics['accuracy']:.4f}, top-2 {metrics['top2_accuracy']:.4f} "
            f"(majority baseline {metrics['baseline_majority']['accuracy']:.4f})"
        )

    def predict(
        self,
        serving: Mapping[str, Callable[..., dict]],
        config: SpeechConfig,
        args: argparse.Namespace,
    ) -> None:
        for item in args.inputs:  # one at a time, so a bad file is named
            contents = read_wav(item)
            outputs = serving["audio_wav"](wav_bytes=tf.constant([contents]))
            if outputs["error"].numpy()[0]:  # the decoder's own reason names what is wrong
                try:
                    decode_wav(tf.constant(contents))
                except tf.errors.InvalidArgumentError as error:
                    raise UserError(f"{item}: {wav_error(error)}") from None
                raise UserError(f"{item}: {outputs['error'].numpy()[0].decode()}")
            print_classes(
                [item],
                outputs["label"].numpy(),
                outputs["probabilities"].numpy(),
                config.class_names,
                top=args.top,
            )


def read_wav(item: str) -> bytes:
    """The bytes of a `predict` input file, or a `UserError` naming it."""
    path = Path(item)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        return path.read_bytes()
    except OSError as error:
        raise UserError(f"{path}: cannot read ({error.strerror})") from None
