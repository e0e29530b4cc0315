"""The translation app as a `shared.task.Task`: what the shared runner needs to know of it."""

import argparse
import dataclasses
import time
from pathlib import Path
from typing import Callable
from typing import Mapping

import keras
import tensorflow as tf

from apps.translation.config import TranslationConfig
from apps.translation.data import Splits
from apps.translation.data import learn_tokenizers
from apps.translation.data import length_report
from apps.translation.data import load_splits
from apps.translation.data import make_dataset
from apps.translation.data import read_sentences
from apps.translation.data import tokenize_pairs
from apps.translation.decoding import Translator
from apps.translation.export import make_endpoints
from apps.translation.model import build_model
from apps.translation.model import compile_model
from apps.translation.scoring import score_test_split
from apps.translation.tokenizer import SubwordTokenizer
from shared import io
from shared.task import Datasets
from shared.task import Evaluation
from shared.task import Serving
from shared.task import Task
from shared.task import Trained

PREDICT_BATCH = 64


@dataclasses.dataclass
class Vocabularies:
    """The two subword tokenizers learned on the training pairs, and what they made of them."""

    source: SubwordTokenizer
    target: SubwordTokenizer
    lengths: dict  # `length_report` of the tokenized training pairs
    seconds: float  # time spent learning the vocabularies


class TranslationTask(Task):
    test_metric = "beam.bleu"
    preprocessing_fields = ("vocab_size", "lowercase", "vocab_sample_pairs", "max_length")
    config_class = TranslationConfig
    training_keys = ("data", "train_target_tokens_per_second")
    predict_inputs = ("INPUT", "Sentence or text file (one sentence per line)")

    def load_data(self, config: TranslationConfig) -> tuple[Splits, TranslationConfig]:
        return load_splits(config), config

    def fit_preprocessing(self, config, data: Splits) -> Vocabularies:
        start = time.perf_counter()
        source, target = learn_tokenizers(data.datasets["train"], config)
        seconds = round(time.perf_counter() - start, 2)
        tokenized = tokenize_pairs(data.datasets["train"], source, target)
        return Vocabularies(source, target, length_report(tokenized, config.max_length), seconds)

    def save_preprocessing(self, vocabularies: Vocabularies, folder: Path) -> None:
        for side in ("source", "target"):
            tokenizer = getattr(vocabularies, side)
            io.write_json(folder / f"{side}_vocabulary.json", tokenizer.vocabulary)
        io.write_json(
            folder / "lengths.json", {**vocabularies.lengths, "seconds": vocabularies.seconds}
        )

    def load_preprocessing(self, config, folder: Path) -> Vocabularies:
        source, target = (
            SubwordTokenizer(io.read_json(folder / f"{side}_vocabulary.json"), config.lowercase)
            for side in ("source", "target")
        )
        lengths = io.read_json(folder / "lengths.json")
        return Vocabularies(source, target, lengths, lengths.pop("seconds"))

    def make_datasets(self, config, data: Splits, vocabularies: Vocabularies) -> Datasets:
        # One in-memory cache per split, shared by the selection's and the final fit's pipelines.
        tokenized = {
            split: tokenize_pairs(
                data.datasets[split], vocabularies.source, vocabularies.target
            ).cache()
            for split in ("train", "val")
        }
        train, val = (
            make_dataset(tokenized[split], config, training=split == "train")
            for split in ("train", "val")
        )
        # One epoch trains on the pairs no longer than --max_length.
        examples = {**data.counts, "train": vocabularies.lengths["kept"]}
        if config.refit == "none":
            return Datasets(train, val, examples)
        everything = tokenized["train"].concatenate(tokenized["val"])
        val_kept = length_report(tokenized["val"], config.max_length)["kept"]
        examples["train_and_val"] = examples["train"] + val_kept
        return Datasets(train, val, examples, make_dataset(everything, config, training=True))

    def build_model(self, config, vocabularies, *, steps_per_epoch: int) -> keras.Model:
        model = build_model(
            config,
            source_vocab_size=vocabularies.source.vocabulary_size,
            target_vocab_size=vocabularies.target.vocabulary_size,
        )
        return compile_model(model, config, steps_per_epoch=steps_per_epoch)

    def after_fit(self, trained: Trained) -> dict:
        vocabularies = trained.preprocessing
        history = trained.history
        fit_seconds = sum(r["fit_seconds"] for r in history)
        target_tokens = vocabularies.lengths["kept_target_tokens"] * len(history)
        return {
            "train_target_tokens_per_second": round(target_tokens / fit_seconds, 1),
            "data": {
                **vocabularies.lengths,
                "vocabulary_sizes": {
                    "source": vocabularies.source.vocabulary_size,
                    "target": vocabularies.target.vocabulary_size,
                },
                "vocabulary_seconds": vocabularies.seconds,
            },
        }

    def serving(self, model, config, data, vocabularies) -> Serving:
        translator = self.translator(model, config, vocabularies)
        return Serving(make_endpoints(translator, config), track=[model, translator])

    def translator(self, model, config, vocabularies: Vocabularies) -> Translator:
        return Translator(model, vocabularies.source, vocabularies.target, config.max_output_ratio)

    def evaluate(self, evaluation: Evaluation) -> dict:
        config = evaluation.config
        served = evaluation.serving["translate_with_attention"]
        greedy = None
        if evaluation.model is not None:  # the export serves beam search only
            translator = self.translator(evaluation.model, config, evaluation.preprocessing)
            greedy = tf.function(
                lambda text: translator.translate(text, 1),
                input_signature=[tf.TensorSpec([None], tf.string)],
            )
        return score_test_split(
            lambda text: served(text=text),
            greedy,
            evaluation.data.datasets["test"],
            config,
            evaluation.plots,
        )

    def summary(self, metrics: dict) -> str:
        greedy = f", {metrics['greedy']['bleu']:.2f} greedy" if "greedy" in metrics else ""
        return (
            f"test BLEU {metrics['beam']['bleu']:.2f} beam (width "
            f"{metrics['decoding']['beam_width']}){greedy}, "
            f"{metrics['baseline_copy']['bleu']:.2f} copying the source; "
            f"chrF {metrics['beam']['chrf']:.2f}"
        )

    def predict(
        self, serving: Mapping[str, Callable[..., dict]], config, args: argparse.Namespace
    ) -> None:
        sentences = [sentence for item in args.inputs for sentence in read_sentences(item)]
        for start in range(0, len(sentences), PREDICT_BATCH):
            batch = sentences[start : start + PREDICT_BATCH]
            translations = serving["serving_default"](text=tf.constant(batch))["translation"]
            for source, translation in zip(batch, translations.numpy()):
                print(f"{source}\t{translation.decode('utf-8')}")
