"""The translation app as a `shared.task.Task`: what the shared runner needs to know of it."""

import argparse
import sys
import time
from typing import Callable
from typing import Mapping

import tensorflow as tf

from apps.translation.config import TranslationConfig
from apps.translation.data import Splits
from apps.translation.data import learn_tokenizers
from apps.translation.data import load_splits
from apps.translation.data import make_dataset
from apps.translation.data import read_sentences
from apps.translation.data import tokenize_pairs
from apps.translation.export import make_endpoints
from apps.translation.model import build_translator
from apps.translation.pipeline import Tokenizers
from apps.translation.pipeline import TranslationModel
from apps.translation.scoring import score_test_split
from apps.translation.token_cache import TokenCache
from shared.pipeline import Pipeline
from shared.sharding import input_shard
from shared.task import Datasets
from shared.task import Evaluation
from shared.task import Serving
from shared.task import Task
from shared.task import Trained

PREDICT_BATCH = 64


class TranslationTask(Task[TranslationConfig, Splits, Tokenizers]):
    test_metric = "beam.bleu"
    preprocessing_fields = ("vocab_size", "lowercase", "vocab_sample_pairs", "max_length")
    config_class = TranslationConfig
    training_keys = ("data", "vocabularies", "train_target_tokens_per_second")

    def load_data(self, config: TranslationConfig) -> tuple[Splits, TranslationConfig]:
        return load_splits(config), config

    def fit_preprocessing(self, config: TranslationConfig, data: Splits) -> Tokenizers:
        start = time.perf_counter()
        source, target = learn_tokenizers(data.datasets["train"], config)
        seconds = round(time.perf_counter() - start, 2)
        return Tokenizers(
            source.vocabulary, target.vocabulary, config.lowercase, seconds, name="tokenizers"
        )

    def make_datasets(
        self, config: TranslationConfig, data: Splits, tokenizers: Tokenizers
    ) -> Datasets:
        # Each split (this worker's share) is tokenized once, in the pass that counts its
        # lengths, into a file that training, the final fit and later runs stream back.
        shard = input_shard(config)
        cache = TokenCache(config.cache_dir, data.key, tokenizers, shard)
        tokenized = {
            split: cache.pairs(
                split,
                tokenize_pairs(
                    shard.dataset(data.datasets[split]), tokenizers.source, tokenizers.target
                ),
                config.max_length,
            )
            for split in ("train", "val")
        }
        lengths = {split: cache.report(split) for split in tokenized}
        train, val = (
            make_dataset(tokenized[split], config, training=split == "train")
            for split in ("train", "val")
        )
        # One epoch trains on the pairs no longer than --max_length (counts of this worker's
        # share: the runner adds up the workers').
        examples = {"train": lengths["train"]["kept"], "val": lengths["val"]["kept"]}
        report = {"lengths": lengths["train"]}
        everything = tokenized["train"].concatenate(tokenized["val"])
        examples["train_and_val"] = examples["train"] + lengths["val"]["kept"]
        train_and_val = make_dataset(everything, config, training=True)
        return Datasets(train, val, examples, train_and_val, report=report)

    def build_model(
        self, config: TranslationConfig, tokenizers: Tokenizers, *, steps_per_epoch: int
    ) -> Pipeline:
        return build_translator(config, tokenizers, steps_per_epoch=steps_per_epoch)

    def describe_training(self, trained: Trained[TranslationConfig, Splits]) -> dict:
        history, tokenizers = trained.history, trained.model.preprocessor
        fit_seconds = sum(r["fit_seconds"] for r in history)
        target_tokens = trained.summary["data"]["lengths"]["kept_target_tokens"] * len(history)
        return {
            "train_target_tokens_per_second": round(target_tokens / fit_seconds, 1),
            "vocabularies": {
                "source": tokenizers.source.vocabulary_size,
                "target": tokenizers.target.vocabulary_size,
                "seconds": tokenizers.learn_seconds,
            },
        }

    def serving(self, model: TranslationModel, config: TranslationConfig, data: Splits) -> Serving:
        return Serving(make_endpoints(model, config), track=[model, model.translator])

    def evaluate(self, evaluation: Evaluation[TranslationConfig, Splits]) -> dict:
        config = evaluation.config
        served = evaluation.serving["translate_with_attention"]
        model = evaluation.model  # the export serves beam search only: greedy from Keras
        greedy = tf.function(
            lambda text: model.translate(text, beam_width=1),
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
        self,
        serving: Mapping[str, Callable[..., dict]],
        config: TranslationConfig,
        args: argparse.Namespace,
    ) -> None:
        sentences = [sentence for item in args.inputs for sentence in read_sentences(item)]
        translate = serving["translate_with_attention"]
        for start in range(0, len(sentences), PREDICT_BATCH):
            batch = sentences[start : start + PREDICT_BATCH]
            outputs = translate(text=tf.constant(batch))
            pieces = tf.reduce_sum(tf.cast(outputs["source_tokens"] != b"", tf.int32), axis=1)
            for i, (source, translation) in enumerate(zip(batch, outputs["translation"].numpy())):
                if pieces[i] >= config.max_source_tokens:  # ([END] reads as "")
                    print(
                        f"warning: sentence {start + i + 1} has {config.max_source_tokens} or "
                        f"more source tokens: translated up to there (--max_source_tokens)",
                        file=sys.stderr,
                    )
                print(f"{source}\t{translation.decode('utf-8')}")
