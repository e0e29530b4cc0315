"""Translation data: sentence pairs from `<split>.tsv` files or TFDS, tokenized and bucketed.

Tokenization runs in TensorFlow (`apps.translation.tokenizer`), the same functions the export
uses. Model inputs are `{"source": text ids + [END], "target_in": [START] + target ids}` and
the label is `target ids + [END]`.
"""

import dataclasses
import hashlib
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
from shared.io import text_argument

TOKENIZE_BATCH = 1024
PARSE_BATCH = 4096  # TSV lines split and unquoted at a time


@dataclasses.dataclass
class Splits:
    """`(source text, target text)` string datasets per split, unbatched and streamed from
    the files (never held in memory), their counts, and `key`: what names the pairs of each
    split (file contents or the TFDS set, and how validation was split off), so token ids
    computed from them can be kept on disk (`apps.translation.token_cache`)."""

    datasets: dict[str, tf.data.Dataset]
    counts: dict[str, int]
    key: str = ""


def load_splits(config: TranslationConfig) -> Splits:
    """Train/val/test pairs from `--data_dir` (`<split>.tsv`), or from TFDS by default."""
    datasets, key = load_folder(config) if config.data_dir else load_tfds(config)
    if config.max_train_pairs:
        datasets["train"] = datasets["train"].take(config.max_train_pairs)
    if "val" not in datasets:
        datasets["train"], datasets["val"] = split_validation(
            datasets["train"], config.validation_split, config.seed
        )
        key += f"|val={config.validation_split}@{config.seed}"
    datasets = {split: datasets[split] for split in ("train", "val", "test")}
    counts = {split: count(data) for split, data in datasets.items()}
    for split, n in counts.items():
        if n == 0:
            raise UserError(f"the {split} split has no sentence pair")
    key += f"|max_train_pairs={config.max_train_pairs}"
    return Splits(datasets, counts, hashlib.sha1(key.encode()).hexdigest())


@dataclasses.dataclass(frozen=True)
class TsvColumns:
    """What checking a `<split>.tsv` found: the two language columns, and its content hash."""

    source: int
    target: int
    width: int
    digest: str


def scan_tsv(path: Path, source_lang: str, target_lang: str) -> TsvColumns:
    """Check a `<split>.tsv` line by line (the header row names the languages; every row has
    its columns), without keeping it in memory; a `UserError` names the line."""
    digest = hashlib.sha1()
    header: list[str] = []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            digest.update(raw)
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                raise UserError(
                    f"{path}, line {number}: not UTF-8 text ({error.reason} at byte "
                    f"{error.start} of the line)"
                ) from None
            fields = line.rstrip("\r\n").split("\t")
            if not header:
                header = [name.strip() for name in fields]
                continue
            if len(fields) != len(header) and line.strip():
                raise UserError(
                    f"{path}, line {number}: {len(fields)} columns, the header has {len(header)}"
                )
    if not header:
        raise UserError(f"{path}: empty file; expected a header row such as 'en<TAB>de'")
    for lang in (source_lang, target_lang):
        if lang not in header:
            raise UserError(
                f"{path}: no column {lang!r} in the header {header}; "
                f"set --source_lang/--target_lang to two of them"
            )
    return TsvColumns(
        header.index(source_lang), header.index(target_lang), len(header), digest.hexdigest()
    )


def tsv_pairs(path: Path, columns: TsvColumns) -> tf.data.Dataset:
    """The `(source, target)` rows of a checked `<split>.tsv`, streamed: one pair per line,
    tabs between fields, a field wrapped in quotes unquoted as `csv` writes it (`""` inside
    is one quote), any other quote kept as text; a pair with an empty side teaches nothing
    and is left out."""

    def pairs(lines):  # a batch of lines at a time: per-line ops cost ~100 us each
        parts = tf.strings.split(tf.strings.regex_replace(lines, "\r$", ""), "\t")
        rows = tf.ragged.boolean_mask(parts, parts.row_lengths() == columns.width)
        fields = rows.to_tensor(shape=[None, columns.width])
        source, target = unquote(fields[:, columns.source]), unquote(fields[:, columns.target])
        both = (tf.strings.strip(source) != "") & (tf.strings.strip(target) != "")
        return tf.boolean_mask(source, both), tf.boolean_mask(target, both)

    lines = tf.data.TextLineDataset(str(path)).skip(1).batch(PARSE_BATCH)
    return lines.map(pairs, num_parallel_calls=AUTOTUNE).unbatch()


def unquote(field: tf.Tensor) -> tf.Tensor:
    """A field wrapped in quotes without them (a doubled quote inside is one quote, as `csv`
    writes it); any other field as it is."""
    quoted = tf.strings.regex_full_match(field, '".*"')
    inner = tf.strings.regex_replace(field, '^"(.*)"$', "\\1")
    return tf.where(quoted, tf.strings.regex_replace(inner, '""', '"'), field)


def load_folder(config: TranslationConfig) -> tuple[dict[str, tf.data.Dataset], str]:
    root = Path(config.data_dir)
    datasets, key = {}, "tsv"
    for split in ("train", "val", "test"):
        path = root / f"{split}.tsv"
        if path.exists():
            columns = scan_tsv(path, config.source_lang, config.target_lang)
            datasets[split] = tsv_pairs(path, columns)
            key += f"|{split}={columns.digest}:{columns.source}:{columns.target}"
        elif split != "val":
            raise UserError(f"{path} not found (--data_dir needs train.tsv and test.tsv)")
    return datasets, key


def load_tfds(config: TranslationConfig) -> tuple[dict[str, tf.data.Dataset], str]:
    names = {"train": "train", "val": "validation", "test": "test"}
    loaded, info = load_tfds_dataset(
        config.tfds_name, split=list(names.values()), data_dir=config.tfds_data_dir, with_info=True
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
    key = f"tfds|{config.tfds_name}|{info.version}|{config.source_lang}|{config.target_lang}"
    return datasets, key


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


def source_ids(
    tokenizer: SubwordTokenizer, text: tf.Tensor, max_tokens: int | None = None
) -> tf.RaggedTensor:
    """`[batch]` text -> int32 ragged ids (the first `max_tokens`, if given) followed by
    `[END]` (never empty)."""
    ids = tokenizer.tokenize(text)
    if max_tokens:
        ids = ids[:, :max_tokens]
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
    """A `predict` input: the non-empty lines of a file, else the argument itself
    (`shared.io.text_argument`: a mistyped file name is an error, not a sentence)."""
    path = text_argument(item)
    if path is None:
        return [item]
    sentences = [line for line in read_user_text(path).splitlines() if line.strip()]
    if not sentences:
        raise UserError(f"{path}: no sentence (the file is empty)")
    return sentences
