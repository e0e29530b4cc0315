"""Captions as words and ids: standardization, the training vocabulary, readable output.

Standardization lower-cases and splits punctuation off words ("A dog's ball." -> `a dog's
ball .`). Ids: 0 padding, 1 `[UNK]`, 2 `[START]`, 3 `[END]`, then the words of the training
captions seen at least `min_word_count` times, most frequent first.
"""

import collections
import re
import unicodedata
from typing import Iterable
from typing import Sequence

import numpy as np
import tensorflow as tf

PAD_ID, UNK_ID, START_ID, END_ID = 0, 1, 2, 3
SPECIAL = ("", "[UNK]", "[START]", "[END]")
# What the searches need; a generated caption never says [UNK].
TOKEN_IDS = {"start_id": START_ID, "end_id": END_ID, "pad_id": PAD_ID, "forbidden": (UNK_ID,)}
WORD = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
PUNCTUATION = re.compile(r"^[^\w\s]+$")


def standardize(caption: str) -> list[str]:
    """Lower-cased words and punctuation marks of a caption."""
    return WORD.findall(unicodedata.normalize("NFKC", caption).lower())


def scoring_words(caption: str) -> list[str]:
    """The words scores compare: standardized, punctuation left out (as COCO's PTB tokenizer)."""
    return [w for w in standardize(caption) if not PUNCTUATION.match(w)]


class Vocabulary:
    """Word <-> id mapping learned from training captions."""

    def __init__(self, words: Sequence[str]):
        self.words = list(words)
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def learn(cls, captions: Iterable[Sequence[str]], min_count: int) -> "Vocabulary":
        """Words of the standardized `captions` seen at least `min_count` times."""
        counts = collections.Counter(w for words in captions for w in words)
        kept = sorted(
            (w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w)
        )
        return cls([*SPECIAL, *kept])

    @property
    def size(self) -> int:
        return len(self.words)

    def encode(self, words: Sequence[str]) -> np.ndarray:
        """`[START] ids [END]` of standardized words (unknown words: `[UNK]`)."""
        ids = [self.index.get(w, UNK_ID) for w in words]
        return np.asarray([START_ID, *ids, END_ID], np.int32)

    def words_of(self, ids: tf.Tensor) -> tf.Tensor:
        """string `[..., time]` of id tensors; `""` for padding and the end token."""
        table = tf.constant(["", "[UNK]", "", "", *self.words[len(SPECIAL) :]])
        return tf.gather(table, tf.cast(ids, tf.int32))

    def detokenize(self, ids: tf.Tensor) -> tf.Tensor:
        """Readable captions string `[batch]` from ids `[batch, time]` (in TensorFlow ops)."""
        text = tf.strings.reduce_join(self.words_of(ids), axis=-1, separator=" ")
        text = tf.strings.strip(tf.strings.regex_replace(text, " +", " "))
        return tf.strings.regex_replace(text, r" ([.,!?;:])", r"\1")
