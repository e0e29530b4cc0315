"""One check for every shared layer, in the spirit of keras-hub's `run_layer_test`."""

import keras
import numpy as np


def run_layer_test(
    layer_cls, init_kwargs, input_data, expected_output_shape, tmp_path, input_dtype="float32"
):
    """Config round trip, symbolic and eager calls, one `fit` step and a `.keras` round trip."""
    layer = layer_cls(**init_kwargs)
    config = layer.get_config()
    assert layer_cls.from_config(config).get_config() == config
    for key, value in init_kwargs.items():
        assert config[key] == (list(value) if isinstance(value, tuple) else value), key

    inputs = keras.Input(shape=input_data.shape[1:], dtype=input_dtype)
    symbolic = layer(inputs)
    assert tuple(symbolic.shape[1:]) == tuple(expected_output_shape[1:])
    eager = layer(input_data)
    assert tuple(eager.shape) == tuple(expected_output_shape)

    model = keras.Model(inputs, layer_cls(**init_kwargs)(inputs))
    if model.trainable_weights:
        model.compile(optimizer="sgd", loss="mse")
        targets = np.random.default_rng(0).normal(size=expected_output_shape).astype("float32")
        model.fit(input_data, targets, epochs=1, batch_size=len(input_data), verbose=0)

    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        restored.predict(input_data, verbose=0), model.predict(input_data, verbose=0), atol=1e-6
    )
    return model
