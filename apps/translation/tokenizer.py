"""Subword tokenization in TensorFlow ops only, so a SavedModel takes and returns raw text.

Text is normalized (composed Unicode accents, single spaces, optional lower-casing) and cut
into words and punctuation; a word's first piece carries the marker `▁` for the space before
it (the SentencePiece convention), so detokenizing is joining the pieces and turning each `▁`
back into a space: "Ein Mann." -> `▁Ein ▁Mann .` -> "Ein Mann.". Words are split into the
longest vocabulary pieces from left to right (WordPiece's greedy rule), found for all words of
a batch at once with hash-table lookups of every substring up to the longest piece. Only core
TensorFlow ops are used: TF Serving and any `tf.saved_model.load` run the export unmodified.
"""

import collections
import unicodedata
from typing import Iterable
from typing import Sequence

import tensorflow as tf

from apps.translation.bpe import learn_bpe_vocabulary

WORD_START = "▁"
PAD, UNK, START, END = "", "[UNK]", "[START]", "[END]"
SPECIAL_TOKENS = (PAD, UNK, START, END)
PAD_ID, UNK_ID, START_ID, END_ID = range(4)
# Characters that stand alone as pieces (split from the letters and digits around them).
_PUNCTUATION = rf"([^\pL\pN\pM{WORD_START} ])"


def _composition_pairs() -> list[tuple[str, str]]:
    """(decomposed, composed) for the accented letters of the Latin, Greek and Cyrillic blocks."""
    pairs = []
    for code in list(range(0x00C0, 0x0250)) + list(range(0x0370, 0x0530)):
        char = chr(code)
        decomposed = unicodedata.normalize("NFD", char)
        if decomposed != char and unicodedata.normalize("NFC", decomposed) == char:
            pairs.append((decomposed, char))
    return pairs


_COMPOSITIONS = _composition_pairs()


def normalize(text: tf.Tensor, lowercase: bool = False) -> tf.Tensor:
    """Compose accents (NFC for Latin, Greek, Cyrillic), collapse whitespace, lower-case."""
    text = tf.strings.regex_replace(text, WORD_START, " ")
    has_marks = tf.strings.regex_full_match(text, r"(?s).*\pM.*")

    def compose(text):
        for decomposed, composed in _COMPOSITIONS:
            text = tf.strings.regex_replace(text, decomposed, composed, replace_global=True)
        return text

    text = tf.cond(tf.reduce_any(has_marks), lambda: compose(text), lambda: text)
    text = tf.strings.strip(tf.strings.regex_replace(text, r"\s+", " "))
    if lowercase:
        text = tf.strings.lower(text, encoding="utf-8")
    return text


def split_words(text: tf.Tensor, lowercase: bool = False) -> tf.RaggedTensor:
    """`[batch]` strings -> `[batch, (words)]`: `▁`-marked words and punctuation marks."""
    text = normalize(text, lowercase)
    text = tf.strings.regex_replace(text, r"([^ ]+)", WORD_START + r"\1")
    text = tf.strings.regex_replace(text, _PUNCTUATION, r" \1 ")
    return tf.strings.split(text)


def detokenize(pieces: tf.Tensor) -> tf.Tensor:
    """`[batch, pieces]` strings (padding `""`) -> `[batch]` text."""
    text = tf.strings.reduce_join(pieces, axis=-1)
    return tf.strings.strip(tf.strings.regex_replace(text, WORD_START, " "))


def count_words(texts: Iterable[str], lowercase: bool = False, batch_size: int = 4096) -> dict:
    """How often each word of `split_words` occurs in `texts`."""
    counts: collections.Counter = collections.Counter()
    batch: list[str] = []
    for text in [*texts, None]:
        if text is not None:
            batch.append(text)
        if batch and (text is None or len(batch) == batch_size):
            words = split_words(tf.constant(batch), lowercase).flat_values.numpy()
            counts.update(word.decode("utf-8") for word in words)
            batch = []
    return dict(counts)


class SubwordTokenizer(tf.Module):
    """Text <-> subword ids for one language, with a fixed vocabulary.

    Ids 0-3 are padding, `[UNK]` (a character never seen in training), `[START]` and `[END]`.
    """

    def __init__(
        self, vocabulary: Sequence[str], lowercase: bool = False, max_piece_chars: int = 16
    ):
        super().__init__()
        vocabulary = list(vocabulary)
        if tuple(vocabulary[: len(SPECIAL_TOKENS)]) != SPECIAL_TOKENS:
            vocabulary = list(SPECIAL_TOKENS) + [p for p in vocabulary if p not in SPECIAL_TOKENS]
        self.vocabulary = vocabulary
        self.lowercase = lowercase
        self.max_piece_chars = min(max_piece_chars, max(len(p) for p in vocabulary))
        pieces = tf.constant(vocabulary[len(SPECIAL_TOKENS) :])
        ids = tf.range(len(SPECIAL_TOKENS), len(vocabulary), dtype=tf.int64)
        self.table = tf.lookup.StaticHashTable(
            tf.lookup.KeyValueTensorInitializer(pieces, ids), default_value=-1
        )
        self.pieces = tf.constant(vocabulary)

    @classmethod
    def learn(
        cls, texts: Iterable[str], vocab_size: int, lowercase: bool = False
    ) -> "SubwordTokenizer":
        """A tokenizer whose byte-pair vocabulary is learned on `texts`."""
        counts = count_words(texts, lowercase)
        pieces = learn_bpe_vocabulary(counts, vocab_size - len(SPECIAL_TOKENS))
        return cls(pieces, lowercase)

    @property
    def vocabulary_size(self) -> int:
        return len(self.vocabulary)

    def tokenize(self, text: tf.Tensor) -> tf.RaggedTensor:
        """`[batch]` strings -> int64 `[batch, (pieces)]` ids (no start or end token)."""
        words = split_words(text, self.lowercase)
        chars = tf.strings.unicode_split(words.flat_values, "UTF-8")
        lengths = chars.row_lengths()  # [words]
        chars = chars.to_tensor("")  # [words, max chars]
        width = tf.shape(chars, out_type=tf.int64)[1]
        positions = tf.range(width)[tf.newaxis]
        # The longest piece starting at each position (one character: itself, or [UNK]).
        best_id = self.table.lookup(chars)
        best_id = tf.where(best_id < 0, tf.constant(UNK_ID, tf.int64), best_id)
        best_length = tf.ones_like(best_id)
        substring = chars
        for length in range(2, self.max_piece_chars + 1):
            shifted = tf.pad(chars[:, length - 1 :], [[0, 0], [0, length - 1]])[:, :width]
            substring = substring + shifted
            ids = self.table.lookup(substring)
            found = (ids >= 0) & (positions + length <= lengths[:, tf.newaxis])
            best_id = tf.where(found, ids, best_id)
            best_length = tf.where(found, tf.constant(length, tf.int64), best_length)
        # Left to right: a piece starts where the previous one ended.
        starts = tf.scan(
            lambda state, step: self._next_start(state, step, lengths),
            (tf.transpose(positions), tf.transpose(best_length)),
            initializer=(tf.zeros_like(lengths), tf.zeros_like(lengths, tf.bool)),
        )[1]
        starts = tf.transpose(starts)  # [words, max chars]
        piece_ids = tf.boolean_mask(best_id, starts)
        pieces_per_word = tf.reduce_sum(tf.cast(starts, tf.int64), axis=1)
        per_word = tf.RaggedTensor.from_row_lengths(piece_ids, pieces_per_word)
        return words.with_flat_values(per_word).merge_dims(1, 2)

    @staticmethod
    def _next_start(state, step, lengths):
        next_start, _ = state
        position, length = step
        position = position[0]
        is_start = tf.equal(next_start, position) & (position < lengths)
        return tf.where(is_start, position + length, next_start), is_start

    def id_to_piece(self, ids: tf.Tensor) -> tf.Tensor:
        """Ids of any shape -> their pieces (`""` for padding, start and end tokens)."""
        pieces = tf.gather(self.pieces, ids)
        return tf.where((ids < len(SPECIAL_TOKENS)) & (ids != UNK_ID), "", pieces)

    def detokenize(self, ids: tf.Tensor) -> tf.Tensor:
        """int `[batch, length]` ids -> `[batch]` text; special ids are dropped."""
        return detokenize(self.id_to_piece(ids))
