"""Translation data: sentence pairs from `<split>.tsv` files or TFDS, tokenized and bucketed.

Tokenization runs in TensorFlow (`apps.translation.tokenizer`), the same functions the export
uses. Model inputs are `{"source": text ids + [END], "target_in": [START] + target ids}` and
the label is `target ids + [END]`.
"""

import csv
import dataclasses
from pathlib import Path

import tensorflow as tf

from apps.translation.config import TranslationConfig
from apps.translation.tokenizer import END_ID
from apps.translation.tokenizer import START_ID
from apps.translation.tokenizer import SubwordTokenizer
from shared.data import AUTOTUNE
from shared.data import batch_sequences
from shared.data import count
from shared.data import load_tfds_dataset
from shared.data import split_validation
from shared.data import with_options
from shared.errors import UserError
from shared.io import read_user_text

TOKENIZE_BATCH = 1024


@dataclasses.dataclass
class Splits:
    """`(source text, target text)` string datasets per split, unbatched, and their counts."""

    datasets: dict[str, tf.data.Dataset]
    counts: dict[str, int]


def load_splits(config: TranslationConfig) -> Splits:
    """Train/val/test pairs from `--data_dir` (`<split>.tsv`), or from TFDS by default."""
    datasets = load_folder(config) if config.data_dir else load_tfds(config)
    if config.max_train_pairs:
        datasets["train"] = datasets["train"].take(config.max_train_pairs)
    if "val" not in datasets:
        datasets["train"], datasets["val"] = split_validation(
            datasets["train"], config.validation_split, config.seed
        )
    # Not cached here: the training pipeline caches the token ids, one copy in memory.
    datasets = {split: datasets[split] for split in ("train", "val", "test")}
    counts = {split: count(data) for split, data in datasets.items()}
    for split, n in counts.items():
        if n == 0:
            raise UserError(f"the {split} split has no sentence pair")
    return Splits(datasets, counts)


def read_tsv(path: Path, source_lang: str, target_lang: str) -> tuple[list[str], list[str]]:
    """The two language columns of a `<split>.tsv` file (header row names the languages)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            rows = list(csv.reader(f, delimiter="\t"))
    except UnicodeDecodeError as error:
        raise UserError(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})") from None
    if not rows:
        raise UserError(f"{path}: empty file; expected a header row such as 'en<TAB>de'")
    header = [name.strip() for name in rows[0]]
    for lang in (source_lang, target_lang):
        if lang not in header:
            raise UserError(
                f"{path}: no column {lang!r} in the header {header}; "
                f"set --source_lang/--target_lang to two of them"
            )
    s, t = header.index(source_lang), header.index(target_lang)
    sources, targets = [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise UserError(
                f"{path}, line {line}: {len(row)} columns, the header has {len(header)}"
            )
        if row[s].strip() and row[t].strip():  # a pair with an empty side teaches nothing
            sources.append(row[s])
            targets.append(row[t])
    return sources, targets


def load_folder(config: TranslationConfig) -> dict[str, tf.data.Dataset]:
    root = Path(config.data_dir)
    datasets = {}
    for split in ("train", "val", "test"):
        path = root / f"{split}.tsv"
        if path.exists():
            sources, targets = read_tsv(path, config.source_lang, config.target_lang)
            datasets[split] = tf.data.Dataset.from_tensor_slices(
                (tf.constant(sources, tf.string), tf.constant(targets, tf.string))
            )
        elif split != "val":
            raise UserError(f"{path} not found (--data_dir needs train.tsv and test.tsv)")
    return datasets


def load_tfds(config: TranslationConfig) -> dict[str, tf.data.Dataset]:
    names = {"train": "train", "val": "validation", "test": "test"}
    loaded = load_tfds_dataset(
        config.tfds_name, split=list(names.values()), data_dir=config.tfds_data_dir
    )
    datasets = {}
    for split, data in zip(names, loaded):
        missing = {config.source_lang, config.target_lang} - set(data.element_spec)
        if missing:
            raise UserError(
                f"TFDS {config.tfds_name!r} has no feature {sorted(missing)}; "
                f"it has {sorted(data.element_spec)}"
            )
        datasets[split] = data.map(lambda ex: (ex[config.source_lang], ex[config.target_lang]))
    return datasets


def learn_tokenizers(
    train: tf.data.Dataset, config: TranslationConfig
) -> tuple[SubwordTokenizer, SubwordTokenizer]:
    """Source and target vocabularies learned on (a sample of) the training pairs."""
    sample = list(train.take(config.vocab_sample_pairs).as_numpy_iterator())
    sources = [s.decode("utf-8") for s, _ in sample]
    targets = [t.decode("utf-8") for _, t in sample]
    return (
        SubwordTokenizer.learn(sources, config.vocab_size, config.lowercase),
        SubwordTokenizer.learn(targets, config.vocab_size, config.lowercase),
    )


def source_ids(tokenizer: SubwordTokenizer, text: tf.Tensor) -> tf.RaggedTensor:
    """`[batch]` text -> int32 ragged ids followed by `[END]` (never empty)."""
    ids = tokenizer.tokenize(text)
    end = tf.fill([ids.nrows(), 1], tf.constant(END_ID, tf.int64))
    return tf.cast(tf.concat([ids, end], axis=1), tf.int32)


def tokenize_pairs(
    pairs: tf.data.Dataset, source: SubwordTokenizer, target: SubwordTokenizer
) -> tf.data.Dataset:
    """`(text, text)` -> `(source ids + [END], target ids)`, unbatched int32 vectors."""

    def tokenize(sources, targets):
        return source_ids(source, sources), tf.cast(target.tokenize(targets), tf.int32)

    return (
        pairs.batch(TOKENIZE_BATCH)
        .map(tokenize, num_parallel_calls=AUTOTUNE)
        .unbatch()
        # Rows of a ragged batch unbatch as ragged specs; identity makes them dense again.
        .map(lambda s, t: (tf.identity(s), tf.identity(t)))
    )


def length_report(tokenized: tf.data.Dataset, max_length: int) -> dict:
    """Pairs kept and dropped by `max_length`, the longest side seen, and the target tokens
    (with `[END]`) of the kept pairs, which one training epoch predicts."""

    def add(totals, pair):
        kept, dropped, longest, target_tokens = tf.unstack(totals)
        length = tf.cast(tf.maximum(tf.size(pair[0]) - 1, tf.size(pair[1])), tf.int64)
        over = tf.cast(length > max_length, tf.int64)
        target_tokens += (1 - over) * (tf.size(pair[1], tf.int64) + 1)
        return tf.stack(
            [kept + 1 - over, dropped + over, tf.maximum(longest, length), target_tokens]
        )

    kept, dropped, longest, target_tokens = (
        tokenized.reduce(tf.zeros([4], tf.int64), add).numpy().tolist()
    )
    return {
        "kept": kept,
        "dropped_longer_than_max_length": dropped,
        "longest_pair_tokens": longest,
        "kept_target_tokens": target_tokens,
    }


def make_dataset(
    tokenized: tf.data.Dataset, config: TranslationConfig, *, training: bool
) -> tf.data.Dataset:
    """Batches of `({"source", "target_in"}, target_out)`; training drops over-long pairs."""
    if training:
        tokenized = tokenized.filter(
            lambda s, t: (tf.size(s) - 1 <= config.max_length) & (tf.size(t) <= config.max_length)
        ).shuffle(20000, seed=config.seed, reshuffle_each_iteration=True)

    def to_example(source, target):
        start = tf.constant([START_ID], tf.int32)
        end = tf.constant([END_ID], tf.int32)
        inputs = {"source": source, "target_in": tf.concat([start, target], 0)}
        return inputs, tf.concat([target, end], 0)

    batches = tokenized.map(to_example, num_parallel_calls=AUTOTUNE).apply(
        batch_sequences(
            config.batch_size,
            length_fn=lambda inputs, label: tf.maximum(
                tf.size(inputs["source"]), tf.size(inputs["target_in"])
            ),
            max_length=config.max_length + 1,
            bucketing=config.bucketing,
            shuffle_seed=config.seed if training else None,
            # Only training pairs are length-filtered: other batches pad to their longest.
            padded_shapes=None if training else ({"source": [None], "target_in": [None]}, [None]),
        )
    )
    return with_options(batches.prefetch(AUTOTUNE))


def read_sentences(item: str) -> list[str]:
    """A `predict` input: the non-empty lines of an existing file, else the argument itself."""
    path = Path(item)
    if not path.is_file():
        return [item]
    sentences = [line for line in read_user_text(path).splitlines() if line.strip()]
    if not sentences:
        raise UserError(f"{path}: no sentence (the file is empty)")
    return sentences
