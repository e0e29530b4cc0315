"""The video app as a `shared.task.Task`: what the shared runner needs to know of it."""

import argparse
import dataclasses
from pathlib import Path
from typing import Callable
from typing import Mapping

import numpy as np

from apps.video.baseline import bag_of_frames
from apps.video.cache import CachedClips
from apps.video.cache import ClipCache
from apps.video.cache import make_dataset
from apps.video.config import VideoConfig
from apps.video.data import FileSource
from apps.video.data import VideoData
from apps.video.data import load_splits
from apps.video.decode import ClipError
from apps.video.decode import is_clip
from apps.video.export import export_agreement
from apps.video.export import make_endpoints
from apps.video.inputs import FrameInput
from apps.video.model import attention_model
from apps.video.model import build_classifier
from apps.video.plots import plot_clip_attention
from shared.backbones import check_weights
from shared.errors import UserError
from shared.evaluation import classifier_report
from shared.evaluation import print_classes
from shared.pipeline import Pipeline
from shared.sharding import InputShard
from shared.sharding import input_shard
from shared.task import Datasets
from shared.task import Evaluation
from shared.task import Serving
from shared.task import Task
from shared.task import Trained

PLOTTED_CLIPS = 4
EXPORT_CHECK_CLIPS = 8  # test clips decoded and sent to the export as raw frames
SPLITS = ("train", "val", "test")


class VideoTask(Task[VideoConfig, VideoData, FrameInput]):
    config_class = VideoConfig
    training_keys = ("data", "bag_of_frames")
    # What the clip cache holds depends on these (a search that changes one reads the clips again).
    preprocessing_fields = (
        "backbone",
        "backbone_weights",
        "image_size",
        "num_frames",
        "frame_step",
        "cache_dir",
    )

    def __init__(self):
        # Clip caches by setting, and each split read through one (the data objects hold
        # no state: a tuning trial with other frames gets its own cache and reads).
        self._caches: dict[tuple, ClipCache] = {}
        self._prepared: dict[tuple, CachedClips] = {}

    def load_data(self, config: VideoConfig) -> tuple[VideoData, VideoConfig]:
        check_weights(config)  # before the run directory is touched
        if not config.pretrained:
            print(
                "--backbone_weights none: a small frame CNN is trained end to end on "
                f"{config.input_size}x{config.input_size} frames (frozen random "
                f"{config.backbone} features would carry no information)"
            )
        data = load_splits(config)
        # Every clip is read (or found in the cache) now, before anything is written: a
        # split with no readable clip stops the run here.
        cache = self.cache(config)
        for split in SPLITS:
            self.cached(cache, data, split, config)
        return data, dataclasses.replace(config, class_names=data.class_names)

    def fit_preprocessing(self, config: VideoConfig, data: VideoData) -> FrameInput:
        """Nothing is fitted to the data: the frame sampling and the frozen backbone."""
        backbone = self.cache(config).backbone
        return FrameInput(
            config.num_frames, config.frame_step, config.input_size, backbone, name="frame_input"
        )

    def cache(self, config: VideoConfig) -> ClipCache:
        """The clip cache for `config`'s frames and backbone, one per setting (a tuning trial
        that changes them gets its own)."""
        key = tuple(str(getattr(config, name)) for name in self.preprocessing_fields)
        if key not in self._caches:
            self._caches[key] = ClipCache(config)
        return self._caches[key]

    def cached(
        self, cache: ClipCache, data: VideoData, split: str, config: VideoConfig
    ) -> CachedClips:
        """This worker's clips of a split through the cache, read once per data set and cache
        (under `--strategy multi_worker` each worker reads its share; the chief, which
        evaluates, every test clip)."""
        key = (id(data), split, str(cache.folder))
        if key not in self._prepared:
            shard = input_shard(config)
            if split == "test" and shard.index == 0:
                shard = InputShard()
            records = shard.take(data.splits[split].records)
            clips = cache.prepare(dataclasses.replace(data.splits[split], records=records), split)
            if not clips.records:
                raise UserError(f"no clip of the {split} split could be read (see the warnings)")
            self._prepared[key] = clips
        return self._prepared[key]

    def make_datasets(
        self, config: VideoConfig, data: VideoData, frame_input: FrameInput
    ) -> Datasets:
        cache = self.cache(config)
        datasets, examples = {}, {}
        for split in ("train", "val"):
            clips = self.cached(cache, data, split, config)
            datasets[split] = make_dataset(cache, clips, config, training=split == "train")
            examples[split] = len(clips.records)
        everything = self.cached(cache, data, "train", config) + self.cached(
            cache, data, "val", config
        )
        train_and_val = make_dataset(cache, everything, config, training=True)
        examples["train_and_val"] = len(everything.records)
        report = {
            **data.report,
            **{split: _clip_report(self.cached(cache, data, split, config)) for split in SPLITS},
            "features": {
                "cache": str(cache.folder),
                "input": "backbone features" if config.pretrained else "pixels",
                "frame_shape": list(cache.frame_shape),
            },
        }
        return Datasets(datasets["train"], datasets["val"], examples, train_and_val, report)

    def build_model(
        self, config: VideoConfig, frame_input: FrameInput, *, steps_per_epoch: int
    ) -> Pipeline:
        return build_classifier(config, frame_input)

    def describe_training(self, trained: Trained[VideoConfig, VideoData]) -> dict:
        config, data = trained.config, trained.data
        cache = self.cache(config)
        datasets = {
            split: make_dataset(
                cache, self.cached(cache, data, split, config), config, training=False
            )
            for split in SPLITS
        }
        print("Fitting the bag-of-frames baseline (mean frame vector, no recurrence)")
        return {
            "bag_of_frames": bag_of_frames(
                trained.model.network, datasets, config.class_names, config.seed
            ),
        }

    def serving(self, model: Pipeline, config: VideoConfig, data: VideoData) -> Serving:
        return Serving(make_endpoints(model, config), track=[model])

    def evaluate(self, evaluation: Evaluation[VideoConfig, VideoData]) -> dict:
        """Test metrics from the cached model inputs of the test clips (read once, when the
        data was loaded: no clip is decoded again), and the export checked on a few clips
        sent as raw frames: it must give the same probabilities."""
        config, data = evaluation.config, evaluation.data
        cache = self.cache(config)
        clips = self.cached(cache, data, "test", config)
        test = make_dataset(cache, clips, config, training=False)
        probabilities = evaluation.model.network.predict(test, verbose=0)
        train_labels = np.array([r.label for r in data.splits["train"].records])
        classes = len(config.class_names)
        metrics = classifier_report(
            clips.labels,
            probabilities,
            train_labels,
            config.class_names,
            evaluation.plots,
            top_k=5 if classes > 5 else 1,
        )
        unreadable = clips.unreadable
        metrics["test_data"] = {"unreadable_clips": len(unreadable), "unreadable": unreadable[:20]}
        decoded = self._decoded_test_clips(cache, data)
        metrics["export_check"] = export_agreement(
            evaluation.serving["serving_default"], evaluation.model.network, cache, decoded, config
        )
        kept, seen = [], set()
        for record, _, pixels in decoded:  # the first clip of a few different classes
            if record.label not in seen and len(kept) < PLOTTED_CLIPS:
                seen.add(record.label)
                kept.append((record, pixels))
        self._plot_attention(evaluation.model.network, cache, kept, config, evaluation.plots)
        return metrics

    def _decoded_test_clips(self, cache: ClipCache, data: VideoData) -> list[tuple]:
        """`(record, content key, pixels)` of the first readable test clips (a few per class
        at most), decoded for the export check and the attention plot."""
        decoded, per_class = [], {}
        for record, key, source in data.splits["test"].sources():
            if per_class.get(record.label, 0) >= 2 or not cache.store.rows(key):
                continue
            decoded.append((record, key, cache.pixels(key, source)))
            per_class[record.label] = per_class.get(record.label, 0) + 1
            if len(decoded) == EXPORT_CHECK_CLIPS:
                break
        return decoded

    def _plot_attention(self, model, cache: ClipCache, kept, config, plots: Path) -> None:
        explain = attention_model(model)
        if explain is None or not kept:
            return
        rows = []
        for record, pixels in kept:
            inputs = {
                "frames": cache.model_inputs(pixels)[np.newaxis],
                "length": np.array([len(pixels)], np.int32),
            }
            probabilities, weights = (v.numpy()[0] for v in explain(inputs, training=False))
            predicted = config.class_names[int(probabilities.argmax())]
            rows.append((pixels, weights, config.class_names[record.label], predicted))
        plot_clip_attention(rows, plots / "attention.png")

    def summary(self, metrics: dict) -> str:
        bag = metrics.get("bag_of_frames", {}).get("accuracy")
        bag_text = f"bag of frames {bag:.4f}, " if bag is not None else ""
        return (
            f"test accuracy {metrics['accuracy']:.4f} ({bag_text}majority baseline "
            f"{metrics['baseline_majority']['accuracy']:.4f})"
        )

    def predict(
        self,
        serving: Mapping[str, Callable[..., dict]],
        config: VideoConfig,
        args: argparse.Namespace,
    ) -> None:
        for item in args.inputs:  # one clip at a time: clips differ in size
            path = Path(item)
            if not path.exists() or not is_clip(path):
                raise UserError(f"{path}: not a video file (.mp4 .avi .mov .webm .mkv) or folder")
            try:
                frames = FileSource(path).read(config.num_frames, config.frame_step)
            except ClipError as error:
                raise UserError(f"{path}: {error}") from None
            outputs = serving["serving_default"](frames=frames[np.newaxis])
            print_classes(
                [item],
                outputs["label"].numpy(),
                outputs["probabilities"].numpy(),
                config.class_names,
                top=args.top,
            )


def _clip_report(clips: CachedClips) -> dict:
    """What `metrics.json` says of a split's clips."""
    return {
        "clips": len(clips.records),
        "unreadable_clips": len(clips.unreadable),
        "unreadable": clips.unreadable[:20],
        "cached_clips_reused": clips.reused,
        "clips_decoded": clips.computed,
        "frames": _frame_counts(clips.lengths),
    }


def _frame_counts(lengths: list[int]) -> dict:
    values = np.asarray(lengths)
    return {
        "min": int(values.min()),
        "mean": round(float(values.mean()), 2),
        "max": int(values.max()),
    }
