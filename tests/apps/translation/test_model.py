"""The decoder and the searches: one computation for training and decoding, exact beam search."""

import itertools

import keras
import numpy as np
import pytest
import tensorflow as tf

from apps.translation.config import TranslationConfig
from apps.translation.decoding import Translator
from apps.translation.model import build_model
from apps.translation.tokenizer import END_ID
from apps.translation.tokenizer import START_ID
from apps.translation.tokenizer import SubwordTokenizer
from shared.losses import MaskedSequenceLoss

SOURCE = np.array([[5, 6, 7, END_ID], [6, END_ID, 0, 0]], dtype="int32")


def tiny_translator(
    attention="luong", decoder="parallel", input_feeding=False, vocab=("a", "b", "c", "d"), **kw
):
    config = TranslationConfig(
        embedding_dim=8,
        units=6,
        decoder_units=10,
        attention=attention,
        attention_units=5,
        decoder=decoder,
        input_feeding=input_feeding,
    )
    tokenizer = SubwordTokenizer(list(vocab))
    model = build_model(
        config,
        source_vocab_size=tokenizer.vocabulary_size,
        target_vocab_size=tokenizer.vocabulary_size,
    )
    return Translator(model, tokenizer, tokenizer, **kw)


def teacher_forced_log_probs(translator, source, target_in):
    logits = translator.model({"source": source, "target_in": target_in}, training=False)
    return tf.nn.log_softmax(logits).numpy()


@pytest.mark.parametrize("attention", ["luong", "bahdanau"])
@pytest.mark.parametrize(
    "decoder, input_feeding", [("parallel", False), ("stepwise", True), ("stepwise", False)]
)
def test_greedy_decoding_reproduces_teacher_forcing(attention, decoder, input_feeding):
    """The search loop's steps compute what training computed for the same prefix."""
    translator = tiny_translator(attention, decoder, input_feeding)
    result = tf.function(translator.greedy)(tf.constant(SOURCE))
    tokens = result["tokens"].numpy()
    target_in = np.concatenate([np.full((2, 1), START_ID), tokens[:, :-1]], axis=1)
    log_probs = teacher_forced_log_probs(translator, SOURCE, target_in.astype("int32"))
    for row in range(2):
        for t, token in enumerate(tokens[row]):
            if token == END_ID:
                break
            allowed = log_probs[row, t].copy()
            allowed[[0, START_ID]] = -np.inf
            assert token == allowed.argmax()
    weights = result["attention"].numpy()
    np.testing.assert_allclose(weights[0, 0].sum(), 1.0, rtol=1e-5)
    assert np.all(weights[1, :, 2:] == 0)  # padding gets no attention


def test_beam_width_one_equals_greedy():
    translator = tiny_translator(max_output_ratio=2.0)
    source = tf.constant(SOURCE)
    greedy = tf.function(translator.greedy)(source)
    beam = tf.function(lambda s: translator.beam_search(s, 1))(source)
    width = greedy["tokens"].shape[1]
    np.testing.assert_array_equal(beam["tokens"].numpy()[:, :width], greedy["tokens"].numpy())
    assert np.all(beam["tokens"].numpy()[:, width:] == 0)


@pytest.mark.parametrize("length_penalty", [0.0, 1.0])
def test_wide_beam_finds_the_best_sequence_by_enumeration(length_penalty):
    """With a beam as wide as the search space, beam search is exact."""
    translator = tiny_translator(vocab=("a", "b"), max_output_ratio=1.0, extra_output_tokens=1)
    source = np.array([[4, 5, END_ID]], dtype="int32")  # 2 tokens: outputs of at most 3
    producible = [1, 3, 4, 5]  # [UNK], [END], a, b (padding and [START] are never produced)
    candidates = [(END_ID,)]
    candidates += [(x, END_ID) for x in producible if x != END_ID]
    candidates += [
        (x, y, END_ID) for x, y in itertools.product(producible, repeat=2) if END_ID not in (x, y)
    ]
    best, best_score = None, -np.inf
    for sequence in candidates:
        target_in = np.array([[START_ID, *sequence[:-1]]], dtype="int32")
        log_probs = teacher_forced_log_probs(translator, source, target_in)[0]
        score = sum(log_probs[t, token] for t, token in enumerate(sequence))
        score /= ((5 + len(sequence)) / 6) ** length_penalty
        if score > best_score:
            best, best_score = sequence, score
    result = translator.beam_search(tf.constant(source), len(candidates), length_penalty)
    found = [int(t) for t in result["tokens"].numpy()[0] if t != 0]
    assert tuple(found) == best


def test_padding_in_the_source_changes_nothing():
    translator = tiny_translator()
    alone = translator.translate(tf.constant(["a b"]), beam_width=3)
    batched = translator.translate(tf.constant(["a b", "a b c d a b c d a b"]), beam_width=3)
    assert alone["translation"].numpy()[0] == batched["translation"].numpy()[0]
    np.testing.assert_allclose(
        alone["attention"].numpy()[0],
        batched["attention"].numpy()[
            0, : alone["attention"].shape[1], : alone["attention"].shape[2]
        ],
        atol=1e-5,
    )


def test_loss_ignores_padding_and_smooths_labels():
    logits = tf.constant(np.random.default_rng(0).normal(size=(2, 3, 6)), tf.float32)
    labels = tf.constant([[4, 5, 0], [4, 0, 0]])
    loss = MaskedSequenceLoss()(labels, logits).numpy()
    log_probs = tf.nn.log_softmax(logits).numpy()
    expected = -np.mean([log_probs[0, 0, 4], log_probs[0, 1, 5], log_probs[1, 0, 4]])
    np.testing.assert_allclose(loss, expected, rtol=1e-5)
    smoothed = MaskedSequenceLoss(label_smoothing=0.1)(labels, logits).numpy()
    uniform = -np.mean([log_probs[0, 0].mean(), log_probs[0, 1].mean(), log_probs[1, 0].mean()])
    np.testing.assert_allclose(smoothed, 0.9 * expected + 0.1 * uniform, rtol=1e-5)


def test_model_reloads_from_a_keras_file(tmp_path):
    translator = tiny_translator(attention="bahdanau")
    inputs = {"source": SOURCE, "target_in": np.array([[START_ID, 4], [START_ID, 5]], "int32")}
    translator.model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(restored(inputs), translator.model(inputs), atol=1e-5)
    assert restored.get_layer("decoder").get_config()["attention"] == "bahdanau"


def test_unknown_pieces_count_toward_the_output_limit():
    translator = tiny_translator(max_output_ratio=1.5)
    # Pieces 5, [UNK], [UNK], then [END] and padding: three real pieces.
    source = tf.constant([[5, 1, 1, END_ID, 0], [6, END_ID, 0, 0, 0]], tf.int32)
    assert translator.output_limits(source).numpy().tolist() == [15, 12]  # ceil(1.5 n) + 10
