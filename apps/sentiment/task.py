"""The sentiment app as a `shared.task.Task`: what the shared runner needs to know of it."""

import argparse
import dataclasses
from typing import Callable
from typing import Mapping

import tensorflow as tf

from apps.sentiment.config import SentimentConfig
from apps.sentiment.data import Splits
from apps.sentiment.data import load_splits
from apps.sentiment.data import make_dataset
from apps.sentiment.data import read_input
from apps.sentiment.export import make_endpoints
from apps.sentiment.model import build_classifier
from apps.sentiment.tokenizer import ReviewTokenizer
from shared.data import labels_of
from shared.evaluation import classifier_report
from shared.evaluation import print_classes
from shared.evaluation import served_probabilities
from shared.pipeline import Pipeline
from shared.sharding import input_shard
from shared.task import Datasets
from shared.task import Evaluation
from shared.task import Serving
from shared.task import Task
from shared.task import Trained


class SentimentTask(Task[SentimentConfig, Splits, ReviewTokenizer]):
    preprocessing_fields = ("vocab_size",)  # the vocabulary
    config_class = SentimentConfig
    training_keys = ("vocabulary_size",)

    def load_data(self, config: SentimentConfig) -> tuple[Splits, SentimentConfig]:
        splits = load_splits(config)
        return splits, dataclasses.replace(config, class_names=splits.class_names)

    def fit_preprocessing(self, config: SentimentConfig, data: Splits) -> ReviewTokenizer:
        texts = data.datasets["train"].map(lambda text, label: text)
        return ReviewTokenizer(config.max_length, config.vocab_size, name="tokenizer").adapt(texts)

    def make_datasets(
        self, config: SentimentConfig, data: Splits, tokenizer: ReviewTokenizer
    ) -> Datasets:
        shard = input_shard(config)  # this worker's share of the reviews
        train, val = (
            make_dataset(
                data.datasets[split], tokenizer, config, training=split == "train", shard=shard
            )
            for split in ("train", "val")
        )
        everything = data.datasets["train"].concatenate(data.datasets["val"])
        train_and_val = make_dataset(everything, tokenizer, config, training=True, shard=shard)
        total = data.counts["train"] + data.counts["val"]
        counts = {split: shard.size(data.counts[split]) for split in ("train", "val")}
        counts["train_and_val"] = shard.size(total)
        return Datasets(train, val, counts, train_and_val)

    def build_model(self, config: SentimentConfig, tokenizer, *, steps_per_epoch: int) -> Pipeline:
        return build_classifier(config, tokenizer)

    def describe_training(self, trained: Trained[SentimentConfig, Splits]) -> dict:
        return {"vocabulary_size": trained.model.preprocessor.vocabulary_size}

    def serving(self, model: Pipeline, config: SentimentConfig, data: Splits) -> Serving:
        return Serving(make_endpoints(model, config), track=[model])

    def evaluate(self, evaluation: Evaluation[SentimentConfig, Splits]) -> dict:
        splits, config = evaluation.data, evaluation.config
        labels, probabilities = served_probabilities(
            evaluation.serving["serving_default"], splits.datasets["test"], "text"
        )
        train_labels = labels_of(splits.datasets["train"])
        return classifier_report(
            labels, probabilities, train_labels, config.class_names, evaluation.plots
        )

    def summary(self, metrics: dict) -> str:
        return (
            f"test accuracy {metrics['accuracy']:.4f} (majority baseline "
            f"{metrics['baseline_majority']['accuracy']:.4f})"
        )

    def predict(
        self,
        serving: Mapping[str, Callable[..., dict]],
        config: SentimentConfig,
        args: argparse.Namespace,
    ) -> None:
        texts, names = zip(*(read_input(item) for item in args.inputs))
        outputs = serving["serving_default"](text=tf.constant(texts))
        print_classes(
            names,
            outputs["label"].numpy(),
            outputs["probabilities"].numpy(),
            config.class_names,
        )
