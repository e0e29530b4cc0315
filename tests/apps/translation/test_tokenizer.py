"""Subword tokenization in TF ops: round trips, normalization, the greedy rule, BPE learning."""

import tensorflow as tf

from apps.translation.bpe import learn_bpe_vocabulary
from apps.translation.tokenizer import END_ID
from apps.translation.tokenizer import UNK_ID
from apps.translation.tokenizer import SubwordTokenizer
from apps.translation.tokenizer import count_words
from apps.translation.tokenizer import split_words

TEXTS = [
    "Zwei junge, weiße Männer sind im Freien.",
    'A man (in a red hat) says: "Hello!"',
    "Das Café öffnet um 8:30 Uhr.",
    "   spaces\tand\nnewlines  ",
]


def pieces(tokenizer, text):
    ids = tokenizer.tokenize(tf.constant([text]))[0].numpy()
    return [tokenizer.vocabulary[i] for i in ids]


def test_words_carry_the_space_marker_and_punctuation_stands_alone():
    words = split_words(tf.constant(["Hello, world (again)."]))[0].numpy()
    assert [w.decode() for w in words] == ["▁Hello", ",", "▁world", "▁", "(", "again", ")", "."]


def test_detokenize_inverts_tokenize_up_to_whitespace():
    tokenizer = SubwordTokenizer.learn(TEXTS, vocab_size=60)
    ids = tokenizer.tokenize(tf.constant(TEXTS))
    back = [t.decode() for t in tokenizer.detokenize(ids.to_tensor()).numpy()]
    assert back == [" ".join(text.split()) for text in TEXTS]


def test_unseen_words_split_into_known_pieces_not_one_unk():
    tokenizer = SubwordTokenizer.learn(TEXTS * 3, vocab_size=80)
    split = pieces(tokenizer, "Männerfreien")
    assert "".join(split) == "▁Männerfreien" and len(split) > 1
    assert pieces(tokenizer, "Zwei ✓")[-2:] == ["▁", "[UNK]"]  # an unseen character


def test_decomposed_accents_tokenize_like_composed_ones():
    tokenizer = SubwordTokenizer.learn(TEXTS, vocab_size=60)
    assert pieces(tokenizer, "Cafe\u0301 Ma\u0308nner") == pieces(tokenizer, "Café Männer")


def test_lowercase_option_folds_unicode_case():
    tokenizer = SubwordTokenizer.learn(TEXTS, vocab_size=60, lowercase=True)
    assert pieces(tokenizer, "ÄRGER") == pieces(tokenizer, "ärger")


def test_longest_piece_wins_from_left_to_right():
    tokenizer = SubwordTokenizer(["▁", "u", "n", "b", "e", "▁un", "▁unbe", "nbe", "be"])
    assert pieces(tokenizer, "unbe") == ["▁unbe"]
    assert pieces(tokenizer, "unbeb") == ["▁unbe", "b"]
    assert pieces(tokenizer, "xun") == ["▁", "[UNK]", "u", "n"]
    assert tokenizer.vocabulary[UNK_ID] == "[UNK]" and tokenizer.vocabulary[END_ID] == "[END]"


def test_empty_text_gives_no_pieces():
    tokenizer = SubwordTokenizer.learn(TEXTS, vocab_size=60)
    ids = tokenizer.tokenize(tf.constant(["", "   ", "a"]))
    assert ids.row_lengths().numpy().tolist()[:2] == [0, 0]


def test_bpe_merges_frequent_words_into_one_piece_and_is_deterministic():
    counts = count_words(["the cat sat on the mat"] * 20 + ["a rare zyzzyva"])
    first = learn_bpe_vocabulary(counts, 40)
    assert first == learn_bpe_vocabulary(counts, 40)
    assert "▁the" in first and "▁cat" in first
    assert set("zyzzyva") <= set(first)  # every character is kept
    assert len(first) <= 40
