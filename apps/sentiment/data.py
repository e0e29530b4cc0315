"""Review data: raw (text, label) splits from TFDS or an aclImdb-layout folder, and batching."""

import dataclasses
from pathlib import Path

import keras
import tensorflow as tf

from apps.sentiment.config import SentimentConfig
from apps.sentiment.tokenizer import ReviewTokenizer
from shared.data import AUTOTUNE
from shared.data import batch_sequences
from shared.data import count
from shared.data import load_tfds_dataset
from shared.data import split_validation
from shared.data import with_options
from shared.errors import UserError
from shared.io import read_user_text
from shared.io import text_argument
from shared.sharding import InputShard


@dataclasses.dataclass
class Splits:
    """Unbatched `(text, label)` datasets for train/val/test, class names and example counts."""

    datasets: dict[str, tf.data.Dataset]
    class_names: tuple[str, ...]
    counts: dict[str, int]


def make_dataset(
    examples: tf.data.Dataset,
    tokenizer: ReviewTokenizer,
    config: SentimentConfig,
    *,
    training: bool,
    shard: InputShard = InputShard(),
) -> tf.data.Dataset:
    """Batched `({"token_ids": ids}, label)` through the model's tokenizer (each review
    tokenized once, then cached); shuffled only for training. Only this worker's `shard` of
    the reviews is tokenized."""
    dataset = (
        shard.dataset(examples)
        .batch(256)
        .map(
            lambda text, label: (tokenizer.token_ids(text), label),
            num_parallel_calls=AUTOTUNE,
        )
        .unbatch()
        .map(
            lambda ids, label: ({"token_ids": ids}, label),
            num_parallel_calls=AUTOTUNE,
        )
        .cache()
    )
    if training:
        dataset = dataset.shuffle(20_000, seed=config.seed, reshuffle_each_iteration=True)
    dataset = dataset.apply(
        batch_sequences(
            config.batch_size,
            length_fn=lambda features, label: tf.shape(features["token_ids"])[0],
            max_length=config.max_length,
            bucketing=config.bucketing,
            shuffle_seed=config.seed if training else None,
        )
    )
    return with_options(dataset.prefetch(AUTOTUNE))


# === Loading raw splits ===


def load_splits(config: SentimentConfig) -> Splits:
    """Train/val/test `(text, label)` splits from `--data_dir`, or from TFDS by default."""
    if config.data_dir:
        datasets, class_names = load_folder(Path(config.data_dir), config.class_names)
    else:
        datasets, class_names = load_tfds(config.tfds_name, config.tfds_data_dir)
    if "val" not in datasets:
        datasets["train"], datasets["val"] = split_validation(
            datasets["train"], config.validation_split, config.seed
        )
    counts = {split: count(dataset) for split, dataset in datasets.items()}
    for split, n in counts.items():
        if n == 0:
            raise UserError(
                f"the {split} split is empty; add examples or change --validation_split"
            )
    return Splits(datasets, class_names, counts)


def load_tfds(name: str, data_dir: str | None) -> tuple[dict[str, tf.data.Dataset], tuple]:
    """`train` and `test` of a TFDS text-classification data set, as `(text, label)`."""
    (train, test), info = load_tfds_dataset(
        name, split=["train", "test"], as_supervised=True, with_info=True, data_dir=data_dir
    )
    class_names = tuple(info.features["label"].names)
    return {"train": train, "test": test}, class_names


def load_folder(root: Path, class_names: tuple[str, ...] = ()) -> tuple[dict, tuple]:
    """`<root>/<split>/<label>/*.txt` in the aclImdb layout; every file is checked first."""
    if not root.is_dir():
        raise UserError(f"--data_dir {root}: no such folder")
    splits = [s for s in ("train", "val", "test") if (root / s).is_dir()]
    for required in ("train", "test"):
        if required not in splits:
            raise UserError(
                f"--data_dir {root}: missing the {required}/ folder (layout: <split>/<label>/*.txt)"
            )
    labels = {split: check_split(root / split) for split in splits}
    class_names = class_names or labels["train"]
    for split in splits:
        if set(labels[split]) != set(class_names):
            raise UserError(
                f"{root / split}: labels {list(labels[split])} differ from the "
                f"class names {list(class_names)}"
            )
    datasets = {
        split: keras.utils.text_dataset_from_directory(
            root / split,
            labels="inferred",
            label_mode="int",
            class_names=list(class_names),
            batch_size=None,
            shuffle=False,
        )
        for split in splits
    }
    return datasets, tuple(class_names)


def check_split(split_dir: Path) -> tuple[str, ...]:
    """Label folder names of a split; raises `UserError` naming any bad folder or file."""
    labels = tuple(sorted(p.name for p in split_dir.iterdir() if p.is_dir()))
    if len(labels) < 2:
        raise UserError(
            f"{split_dir}: found {len(labels)} label folder(s) {list(labels)}; "
            f"need at least 2 (layout: <split>/<label>/*.txt)"
        )
    for label in labels:
        files = sorted((split_dir / label).glob("*.txt"))
        if not files:
            raise UserError(f"{split_dir / label}: no .txt files")
        for path in files:
            check_text_file(path)
    return labels


def check_text_file(path: Path) -> None:
    if not read_user_text(path).strip():
        raise UserError(f"{path}: empty review")


def read_input(item: str) -> tuple[str, str]:
    """(text, display name) of a `predict` input: a file's text, else the argument itself
    (`shared.io.text_argument`: a mistyped file name is an error, not a review)."""
    path = text_argument(item)
    if path is None:
        return item, repr(item if len(item) <= 60 else item[:57] + "...")
    return read_user_text(path), str(path)
