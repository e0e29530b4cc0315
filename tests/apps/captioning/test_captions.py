"""Caption words, the vocabulary, readable output and the COCO scores."""

import pytest
import tensorflow as tf

from apps.captioning.captions import END_ID
from apps.captioning.captions import START_ID
from apps.captioning.captions import UNK_ID
from apps.captioning.captions import Vocabulary
from apps.captioning.captions import scoring_words
from apps.captioning.captions import standardize
from apps.captioning.scores import caption_scores


def test_standardize_lowercases_and_splits_punctuation_off():
    assert standardize("A Dog's  ball, on   GRASS.") == [
        "a",
        "dog's",
        "ball",
        ",",
        "on",
        "grass",
        ".",
    ]
    assert scoring_words("A Dog's ball, on grass.") == ["a", "dog's", "ball", "on", "grass"]
    assert standardize("  ") == []


def test_vocabulary_keeps_frequent_words_and_round_trips_to_text():
    captions = [standardize(c) for c in ("A cat.", "A dog, a cat.", "A zebra.")]
    vocabulary = Vocabulary.learn(captions, min_count=2)
    assert vocabulary.words == ["", "[UNK]", "[START]", "[END]", "a", ".", "cat"]
    ids = vocabulary.encode(standardize("A zebra cat."))
    assert ids.tolist() == [START_ID, 4, UNK_ID, 6, 5, END_ID]
    tokens = tf.constant([[4, UNK_ID, 6, 5, END_ID, 0], [6, 5, END_ID, 0, 0, 0]])
    assert vocabulary.detokenize(tokens).numpy().tolist() == [b"a [UNK] cat.", b"cat."]
    assert vocabulary.words_of(tokens).numpy()[1].tolist() == [b"cat", b".", b"", b"", b"", b""]


def test_scores_match_coco_caption():
    """Expected values computed with pycocoevalcap 1.2 (Bleu(4), Cider) on the same words."""
    references = [
        [
            "a man riding a horse on a beach",
            "a person rides a horse near the sea",
            "a man on a brown horse",
        ],
        [
            "two dogs play in the snow",
            "a pair of dogs running through snow",
            "dogs playing outside in winter",
        ],
        [
            "a red bus on a city street",
            "a double decker bus driving down the road",
            "a bus parked by the sidewalk",
        ],
    ]
    hypotheses = ["a man riding a horse on the beach", "a dog in the snow", "a bus on a street"]
    scores = caption_scores(
        [h.split() for h in hypotheses], [[r.split() for r in refs] for refs in references]
    )
    assert [scores[f"bleu_{n}"] for n in range(1, 5)] == [89.341, 75.061, 64.351, 53.84]
    assert scores["cider"] == pytest.approx(2.1862, abs=1e-4)
    perfect = caption_scores([references[0][0].split()], [[references[0][0].split()]])
    assert perfect["bleu_4"] == pytest.approx(100.0)
