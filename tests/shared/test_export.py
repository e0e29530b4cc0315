import keras
import numpy as np
import pytest
import tensorflow as tf

from shared.export import Endpoint
from shared.export import export_config_path
from shared.export import export_saved_model


def classifier_endpoint():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activation="softmax")])
    names = tf.constant(["no", "yes"])

    def serve(features):
        probabilities = model(features)
        return {
            "label": tf.gather(names, tf.argmax(probabilities, -1)),
            "probabilities": probabilities,
        }

    signature = [tf.TensorSpec([None, 3], tf.float32, name="features")]
    sample = {"features": np.random.default_rng(0).normal(size=(4, 3))}
    return model, Endpoint(serve, signature, sample)


def test_each_export_adds_a_verified_version(tmp_path):
    model, endpoint = classifier_endpoint()
    endpoints = {"serving_default": endpoint}
    first, _ = export_saved_model(tmp_path / "export", endpoints, track=[model], config_json="{1}")
    second, loaded = export_saved_model(
        tmp_path / "export", endpoints, track=[model], config_json="{2}"
    )
    assert (first.name, second.name) == ("1", "2")
    assert sorted(p.name for p in (tmp_path / "export").iterdir()) == ["1", "2"]
    # Each version keeps its own configuration, outside what TF Serving reads.
    assert export_config_path(first).read_text() == "{1}"
    assert export_config_path(second).read_text() == "{2}"
    features = tf.constant(endpoint.sample["features"], tf.float32)
    for signature in (
        tf.saved_model.load(str(second)).signatures["serving_default"],
        loaded.signatures["serving_default"],  # what the export check loaded, still usable
    ):
        outputs = signature(features=features)
        np.testing.assert_allclose(outputs["probabilities"], model(features), atol=1e-6)
        assert outputs["label"].dtype == tf.string


def test_an_export_that_fails_its_check_leaves_no_version(tmp_path):
    def serve(features):
        return {"noise": tf.random.uniform(tf.shape(features))}

    endpoint = Endpoint(
        serve,
        [tf.TensorSpec([None, 3], tf.float32, name="features")],
        {"features": np.ones((2, 3))},
    )
    with pytest.raises(AssertionError, match="noise"):
        export_saved_model(tmp_path / "export", {"serving_default": endpoint})
    assert list((tmp_path / "export").iterdir()) == []


def test_serving_default_is_required(tmp_path):
    _, endpoint = classifier_endpoint()
    with pytest.raises(ValueError, match="serving_default"):
        export_saved_model(tmp_path / "export", {"other": endpoint})
