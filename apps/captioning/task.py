"""The captioning app as a `shared.task.Task`: what the shared runner needs to know of it."""

import argparse
import dataclasses
from pathlib import Path
from typing import Callable
from typing import Mapping

import tensorflow as tf

from apps.captioning.captions import Vocabulary
from apps.captioning.captions import standardize
from apps.captioning.config import CaptioningConfig
from apps.captioning.data import CaptionData
from apps.captioning.data import load_splits
from apps.captioning.export import make_endpoints
from apps.captioning.features import FeatureCache
from apps.captioning.features import check_readable
from apps.captioning.features import image_captions
from apps.captioning.features import make_dataset
from apps.captioning.model import build_captioner
from apps.captioning.pipeline import CaptioningModel
from apps.captioning.pipeline import CaptionInputs
from apps.captioning.scoring import score_test_split
from shared.backbones import build_backbone
from shared.backbones import check_weights
from shared.errors import UserError
from shared.pipeline import Pipeline
from shared.sharding import input_shard
from shared.task import Datasets
from shared.task import Evaluation
from shared.task import Serving
from shared.task import Task
from shared.task import Trained

PREDICT_BATCH = 16


class CaptioningTask(Task[CaptioningConfig, CaptionData, CaptionInputs]):
    test_metric = "beam.cider"
    # The vocabulary, and the image cache (backbone, weights, size).
    preprocessing_fields = (
        "min_word_count",
        "backbone",
        "backbone_weights",
        "image_size",
        "cache_dir",
    )
    config_class = CaptioningConfig
    training_keys = ("data", "vocabulary_size", "train_captions_per_second")

    def load_data(self, config: CaptioningConfig) -> tuple[CaptionData, CaptioningConfig]:
        check_weights(config)  # before the run directory is touched
        if not config.pretrained:
            print(
                "--backbone_weights none: a small CNN is trained end to end on "
                f"{config.input_size}x{config.input_size} images (frozen random "
                f"{config.backbone} features would carry no information)"
            )
        data = load_splits(config)
        for name, split in data.splits.items():  # before anything is written
            check_readable(split, name, config.input_size)
        return data, config

    def fit_preprocessing(self, config: CaptioningConfig, data: CaptionData) -> CaptionInputs:
        """The vocabulary of the training captions, and the frozen backbone (if any)."""
        captions = (standardize(c) for r in data.splits["train"].records for c in r.captions)
        vocabulary = Vocabulary.learn(captions, config.min_word_count)
        backbone = build_backbone(config) if config.pretrained else None
        return CaptionInputs(
            vocabulary.words,
            config.input_size,
            config.max_caption_length,
            backbone,
            name="caption_inputs",
        )

    def make_datasets(
        self, config: CaptioningConfig, data: CaptionData, inputs: CaptionInputs
    ) -> Datasets:
        cache = FeatureCache(config, inputs.backbone)
        shard = input_shard(config)  # this worker's share of the images
        report = {split: dict(values) for split, values in data.report.items()}
        datasets, examples, captioned = {}, {}, {}
        for split in ("train", "val"):
            share = dataclasses.replace(
                data.splits[split], records=shard.take(data.splits[split].records)
            )
            images = cache.prepare(share, split)
            captioned[split], too_long = image_captions(
                images, inputs.vocabulary, config.max_caption_length
            )
            if not captioned[split].captions:
                raise UserError(f"the {split} split has no usable caption (see the warnings)")
            report[split].update(
                unreadable_images=len(images.unreadable),
                captions_too_long=too_long,
                cached_images_reused=images.reused,
                images_encoded=images.computed,
            )
            datasets[split] = make_dataset(
                cache, captioned[split], config, training=split == "train"
            )
            examples[split] = captioned[split].captions
            examples[f"{split}_images"] = len(images.records)
        everything = captioned["train"] + captioned["val"]
        train_and_val = make_dataset(cache, everything, config, training=True)
        examples["train_and_val"] = everything.captions
        report["features"] = {
            "cache": str(cache.folder),
            "input": "backbone regions" if config.pretrained else "pixels",
            "shape": list(cache.shape),
        }
        return Datasets(datasets["train"], datasets["val"], examples, train_and_val, report)

    def build_model(
        self, config: CaptioningConfig, inputs: CaptionInputs, *, steps_per_epoch: int
    ) -> Pipeline:
        return build_captioner(config, inputs)

    def describe_training(self, trained: Trained[CaptioningConfig, CaptionData]) -> dict:
        seconds = sum(r["fit_seconds"] for r in trained.history)
        captions = trained.summary["examples"]["train"] * len(trained.history)
        return {
            "train_captions_per_second": round(captions / seconds, 1),
            "vocabulary_size": len(trained.model.preprocessor.words),
        }

    def serving(
        self, model: CaptioningModel, config: CaptioningConfig, data: CaptionData
    ) -> Serving:
        return Serving(make_endpoints(model, config), track=[model, model.captioner])

    def evaluate(self, evaluation: Evaluation[CaptioningConfig, CaptionData]) -> dict:
        signature = evaluation.serving["caption_with_attention"]
        model = evaluation.model  # the export serves beam search only: greedy from Keras
        greedy = tf.function(
            lambda images: model.caption(images, beam_width=1),
            input_signature=[tf.TensorSpec([None], tf.string)],
        )
        return score_test_split(
            lambda images: signature(image_bytes=images),
            greedy,
            evaluation.data,
            evaluation.config,
            evaluation.plots,
        )

    def summary(self, metrics: dict) -> str:
        beam, base = metrics["beam"], metrics["baseline_most_frequent_caption"]
        greedy = ""
        if "greedy" in metrics:
            greedy = (
                f" ({metrics['greedy']['bleu_4']:.2f}, {metrics['greedy']['cider']:.3f} greedy)"
            )
        return (
            f"test BLEU-4 {beam['bleu_4']:.2f}, CIDEr {beam['cider']:.3f} with beam search "
            f"(width {metrics['decoding']['beam_width']}){greedy}; most frequent training "
            f"caption {base['bleu_4']:.2f}, {base['cider']:.3f}"
        )

    def predict(
        self,
        serving: Mapping[str, Callable[..., dict]],
        config: CaptioningConfig,
        args: argparse.Namespace,
    ) -> None:
        paths = [Path(item) for item in args.inputs]
        for path in paths:
            if not path.is_file():
                raise UserError(f"{path}: no such image file")
        for start in range(0, len(paths), PREDICT_BATCH):
            batch = paths[start : start + PREDICT_BATCH]
            images = tf.constant([p.read_bytes() for p in batch])
            outputs = serving["caption_with_attention"](image_bytes=images)
            for path, caption, decoded in zip(
                batch, outputs["caption"].numpy(), outputs["decoded"].numpy()
            ):
                text = caption.decode("utf-8") if decoded else "(not a decodable JPEG or PNG)"
                print(f"{path}\t{text}")
