import keras
import numpy as np
import pytest
import tensorflow as tf

from shared.export import Endpoint
from shared.export import export_config_path
from shared.export import export_saved_model
from shared.export import read_warmup_requests


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


def test_the_reload_check_is_relative_for_outputs_in_raw_units(tmp_path):
    """Values near 100 that differ by 0.5% after reload pass at 2e-2 (a bfloat16 forecast in
    degrees), and fail at float32's 1e-4 with the largest difference in the message."""

    def serve(features):
        noise = tf.random.uniform(tf.shape(features), -0.5, 0.5)
        return {"forecast": 100.0 + noise}

    endpoint = Endpoint(
        serve,
        [tf.TensorSpec([None, 3], tf.float32, name="features")],
        {"features": np.ones((2, 3))},
    )
    export_saved_model(tmp_path / "export", {"serving_default": endpoint}, atol=2e-2)
    with pytest.raises(AssertionError, match=r"forecast differs after reload \(largest"):
        export_saved_model(tmp_path / "export", {"serving_default": endpoint}, atol=1e-4)


def test_serving_default_is_required(tmp_path):
    _, endpoint = classifier_endpoint()
    with pytest.raises(ValueError, match="serving_default"):
        export_saved_model(tmp_path / "export", {"other": endpoint})


def test_a_graph_with_a_gpu_only_op_is_rejected(tmp_path):
    """A hand-made graph holding cuDNN's RNN op (what an LSTM traced on a GPU exports)."""

    def serve(features):
        batch = tf.shape(features)[0]
        state = tf.zeros([1, batch, 4])
        outputs = tf.raw_ops.CudnnRNNV3(
            input=tf.reshape(features, [3, batch, 1]),
            input_h=state,
            input_c=state,
            params=tf.zeros([100]),
            sequence_lengths=tf.fill([batch], 3),
            time_major=True,
        )
        return {"outputs": outputs[0]}

    endpoint = Endpoint(
        serve,
        [tf.TensorSpec([None, 3], tf.float32, name="features")],
        {"features": np.ones((2, 3))},
    )
    with pytest.raises(AssertionError, match="GPU-only ops \\(CudnnRNNV3\\)"):
        export_saved_model(tmp_path / "export", {"serving_default": endpoint})
    assert list((tmp_path / "export").iterdir()) == []


def test_recurrent_layers_export_without_cudnn_and_are_restored(tmp_path):
    model = keras.Sequential(
        [
            keras.Input((5, 2)),
            keras.layers.Bidirectional(keras.layers.LSTM(3)),
            keras.layers.Dense(1),
        ]
    )
    gru = keras.layers.GRU(2)
    gru(np.ones((1, 5, 2), "float32"))
    seen = []

    def serve(sequences):
        layers = [x for x in model._flatten_layers() if isinstance(x, keras.layers.LSTM)]
        seen.extend(layer.use_cudnn for layer in layers + [gru])
        return {"value": model(sequences) + tf.reduce_sum(gru(sequences))}

    endpoint = Endpoint(
        serve,
        [tf.TensorSpec([None, 5, 2], tf.float32, name="sequences")],
        {"sequences": np.ones((2, 5, 2))},
    )
    export_saved_model(tmp_path / "export", {"serving_default": endpoint}, track=[model, gru])
    # The export traced the forward and backward LSTM and the GRU with the generic kernels
    # (the check afterwards runs the function again, outside the export).
    assert seen[:3] == [False, False, False]
    assert all(
        x.use_cudnn == "auto" for x in model._flatten_layers() if isinstance(x, keras.layers.LSTM)
    )
    assert gru.use_cudnn == "auto"


def test_every_signature_gets_a_warm_up_request_of_its_sample(tmp_path):
    from tensorflow_serving.apis import prediction_log_pb2

    model, endpoint = classifier_endpoint()
    texts = np.array(["ein", "", "zwei drei"], dtype=object)
    endpoints = {
        "serving_default": endpoint,
        "lengths": Endpoint(
            lambda text: {"length": tf.strings.length(text)},
            [tf.TensorSpec([None], tf.string, name="text")],
            {"text": texts},
        ),
    }
    version, _ = export_saved_model(tmp_path / "export", endpoints, track=[model])
    requests = read_warmup_requests(version)
    assert [name for name, _ in requests] == ["serving_default", "lengths"]
    np.testing.assert_allclose(requests[0][1]["features"], endpoint.sample["features"], rtol=1e-6)
    assert requests[0][1]["features"].dtype == np.float32  # the signature's dtype
    assert requests[1][1]["text"].tolist() == [b"ein", b"", b"zwei drei"]
    # The file TF Serving reads: TFRecord of PredictionLog protos holding PredictRequests.
    path = version / "assets.extra" / "tf_serving_warmup_requests"
    records = list(tf.data.TFRecordDataset(str(path)))
    log = prediction_log_pb2.PredictionLog.FromString(records[1].numpy())
    assert log.WhichOneof("log_type") == "predict_log"
    assert log.predict_log.request.model_spec.signature_name == "lengths"
