import numpy as np
import pytest

from shared.layers import MaskedPooling
from tests.layer_test import run_layer_test


def test_layer_contract(tmp_path):
    data = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    run_layer_test(MaskedPooling, {"modes": ("mean", "max")}, data, (2, 6), tmp_path)


def test_pools_only_unmasked_steps_and_empty_rows_give_zeros():
    values = np.array(
        [
            [[1.0, -2.0], [3.0, -4.0], [100.0, 100.0]],
            [[5.0, 6.0], [0.0, 0.0], [0.0, 0.0]],
            [[7.0, 7.0], [7.0, 7.0], [7.0, 7.0]],
        ],
        dtype="float32",
    )
    mask = np.array([[1, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=bool)
    pooled = np.asarray(MaskedPooling(modes=("mean", "max"))(values, mask=mask))
    np.testing.assert_allclose(pooled[0], [2.0, -3.0, 3.0, -2.0])
    np.testing.assert_allclose(pooled[1], [5.0, 6.0, 5.0, 6.0])
    np.testing.assert_allclose(pooled[2], [0.0, 0.0, 0.0, 0.0])


def test_mode_order_is_output_order():
    values = np.array([[[1.0], [3.0]]], dtype="float32")
    np.testing.assert_allclose(MaskedPooling(modes=("max", "mean"))(values), [[3.0, 2.0]])
    np.testing.assert_allclose(MaskedPooling(modes=("mean",))(values), [[2.0]])


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match="modes"):
        MaskedPooling(modes=("median",))
