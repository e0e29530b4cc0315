import keras
import numpy as np
import pytest

from shared.layers import MaskedPooling
from shared.layers import RecurrentStack
from tests.layer_test import run_layer_test

CELLS = ["lstm", "gru", "simple_rnn"]


def padded_batch():
    """Two sequences of lengths 3 and 5, post-padded with id 0."""
    return np.array([[3, 1, 4, 0, 0], [1, 5, 9, 2, 6]], dtype="int32")


def embedded_model(stack: RecurrentStack, pooling: bool = False) -> keras.Model:
    token_ids = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(token_ids)
    x = stack(x)
    if pooling:
        x = MaskedPooling()(x)
    return keras.Model(token_ids, x)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_layer_contract(cell, bidirectional, tmp_path):
    kwargs = dict(
        units=3,
        cell=cell,
        num_layers=2,
        bidirectional=bidirectional,
        return_sequences=True,
        dropout=0.1,
        l2=1e-4,
    )
    width = 6 if bidirectional else 3
    data = np.random.default_rng(0).normal(size=(2, 4, 5)).astype("float32")
    run_layer_test(RecurrentStack, kwargs, data, (2, 4, width), tmp_path)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_padding_does_not_change_outputs(cell, bidirectional, return_sequences):
    stack = RecurrentStack(
        3, cell=cell, num_layers=2, bidirectional=bidirectional, return_sequences=return_sequences
    )
    model = embedded_model(stack)
    padded = model.predict(padded_batch(), verbose=0)
    alone = model.predict(padded_batch()[:1, :3], verbose=0)
    if return_sequences:
        np.testing.assert_allclose(padded[0, :3], alone[0], atol=1e-6)
    else:
        np.testing.assert_allclose(padded[0], alone[0], atol=1e-6)


@pytest.mark.parametrize("cell", CELLS)
def test_last_state_is_output_at_length_minus_one(cell):
    token_ids = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(10, 4, mask_zero=True)(token_ids)
    sequences = RecurrentStack(3, cell=cell, num_layers=2, return_sequences=True, name="seq")
    last = RecurrentStack(3, cell=cell, num_layers=2, name="last")
    model = keras.Model(token_ids, [sequences(x), last(x)])
    last.set_weights(sequences.get_weights())
    all_steps, final = model.predict(padded_batch(), verbose=0)
    lengths = (padded_batch() != 0).sum(axis=1)
    for row, length in enumerate(lengths):
        np.testing.assert_allclose(final[row], all_steps[row, length - 1], atol=1e-6)


def test_mask_flows_out_to_the_next_layer():
    model = embedded_model(
        RecurrentStack(3, bidirectional=True, return_sequences=True), pooling=True
    )
    padded = model.predict(padded_batch(), verbose=0)
    alone = model.predict(padded_batch()[:1, :3], verbose=0)
    np.testing.assert_allclose(padded[0], alone[0], atol=1e-6)


@pytest.mark.parametrize("merge_mode, width", [("concat", 8), ("sum", 4), ("ave", 4)])
def test_stacked_bidirectional_shapes(merge_mode, width):
    stack = RecurrentStack(
        4, num_layers=3, bidirectional=True, merge_mode=merge_mode, return_sequences=True
    )
    outputs = stack(np.zeros((2, 5, 7), dtype="float32"))
    assert outputs.shape == (2, 5, width)
    assert len(stack.recurrent_layers) == 3


def test_regularization_losses_only_when_l2_positive():
    data = np.ones((2, 3, 4), dtype="float32")
    regularized = RecurrentStack(3, num_layers=2, bidirectional=True, l2=0.01)
    regularized(data)
    assert len(regularized.losses) == 2 * 2 * 2  # layers x directions x (kernel, recurrent)
    assert all(float(loss) > 0 for loss in regularized.losses)
    plain = RecurrentStack(3, num_layers=2, bidirectional=True)
    plain(data)
    assert plain.losses == []


def test_initializer_and_activation_reach_the_cells():
    stack = RecurrentStack(
        3,
        cell="gru",
        kernel_initializer="he_normal",
        recurrent_initializer="orthogonal",
        activation="relu",
    )
    stack(np.ones((1, 2, 4), dtype="float32"))
    cell = stack.recurrent_layers[0].cell
    assert isinstance(cell.kernel_initializer, keras.initializers.HeNormal)
    assert isinstance(cell.recurrent_initializer, keras.initializers.Orthogonal)
    assert cell.activation is keras.activations.relu


def test_unknown_cell_is_rejected():
    with pytest.raises(ValueError, match="cell"):
        RecurrentStack(3, cell="transformer")


def test_bidirectional_stacks_built_while_loading_keep_their_own_directions():
    """Inside `load_model`, Keras records serialized objects by `id()`; a wrapped layer freed
    (and its id reused) after `Bidirectional` copied it used to be taken for the next one:
    'Forward layer and backward layer should have different `go_backwards` value'."""
    import gc

    from keras.src.saving.serialization_lib import ObjectSharingScope

    with ObjectSharingScope():  # what load_model opens
        stacks = []
        for _ in range(12):
            stacks.append(RecurrentStack(2, cell="gru", num_layers=2, bidirectional=True))
            gc.collect()  # layers hold reference cycles: freed here, ids free for reuse
    wrappers = [layer for stack in stacks for layer in stack.recurrent_layers]
    directions = [d for w in wrappers for d in (w.forward_layer, w.backward_layer)]
    assert len({id(d) for d in directions}) == len(directions)
    assert not any(w.forward_layer.go_backwards for w in wrappers)
    assert all(w.backward_layer.go_backwards for w in wrappers)
