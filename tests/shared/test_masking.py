"""Masked steps under float16: no layer may turn a masked score into -inf (and NaN)."""

import keras
import numpy as np
import pytest
from keras import ops

from shared.layers import AttentionPooling
from shared.layers import LuongAttention
from shared.layers import MaskedPooling
from shared.layers.masking import masked_score


@pytest.fixture
def mixed_float16():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_the_masked_score_is_finite_in_every_float_type():
    assert masked_score("float32") == -1e9
    assert np.isfinite(np.float16(masked_score("float16")))
    assert masked_score("float16") < -1e4


# Row 0 has two real steps, row 1 none (an empty input after padding).
MASK = np.array([[True, True, False], [False, False, False]])


def test_fully_masked_rows_give_zeros_not_nan_under_mixed_float16(mixed_float16):
    inputs = ops.convert_to_tensor(np.random.default_rng(0).normal(size=(2, 3, 4)), "float16")
    mask = ops.convert_to_tensor(MASK)

    pooled, weights = AttentionPooling(4)(inputs, mask=mask)
    maximum = MaskedPooling(("mean", "max"))(inputs, mask=mask)
    context, attention = LuongAttention()(ops.ones((2, 4), "float16"), inputs, memory_mask=mask)
    for name, value in {
        "attention pooling": pooled,
        "pooling weights": weights,
        "mean/max pooling": maximum,
        "attention context": context,
        "attention weights": attention,
    }.items():
        value = np.asarray(ops.convert_to_numpy(value), np.float32)
        assert np.all(np.isfinite(value)), name
        np.testing.assert_array_equal(value[1], 0.0, err_msg=name)  # nothing to attend to
    # The real row still attends to its real steps only, with weights summing to 1.
    for value in (weights, attention):
        row = np.asarray(ops.convert_to_numpy(value), np.float32)[0]
        assert row[2] == 0.0 and abs(row.sum() - 1.0) < 1e-2
