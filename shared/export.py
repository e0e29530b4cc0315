"""SavedModel export for TensorFlow Serving: versioned, verified, never half-written."""

import contextlib
import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any
from typing import Callable
from typing import Iterator
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow.python.framework import kernels

from shared.served import shape_checked
from shared.tracing import layers_set

# TF Serving ignores this folder of a SavedModel; files the version needs besides the graph.
EXTRA_ASSETS = "assets.extra"
# Requests TF Serving replays when it loads a version, before it serves it (its warm-up file).
WARMUP_FILE = "tf_serving_warmup_requests"
# Ops with GPU kernels only, named even when the TF build at hand registers no GPU kernel.
GPU_ONLY_PREFIXES = ("CudnnRNN",)


@dataclasses.dataclass
class Endpoint:
    """One signature of the export.

    `fn` takes tensors in the order of `input_signature` and returns a dict of named outputs;
    the `tf.TensorSpec` names become the signature's input names. `sample` holds example inputs
    by name, used to check the written SavedModel against `fn`.
    """

    fn: Callable[..., dict]
    input_signature: Sequence[tf.TensorSpec]
    sample: dict[str, Any]


def next_version(export_root: Path) -> int:
    """1 + the highest integer-named version directory (TF Serving serves the highest)."""
    versions = [int(p.name) for p in Path(export_root).glob("*") if p.name.isdigit()]
    return max(versions, default=0) + 1


def export_saved_model(
    export_root: os.PathLike,
    endpoints: dict[str, Endpoint],
    *,
    track: Sequence[Any] = (),
    config_json: str | None = None,
    atol: float = 1e-4,  # absolute and relative
) -> tuple[Path, Any]:
    """Write `export_root/<next version>/` with the given endpoints; return its path and the
    loaded SavedModel.

    The archive is written to a hidden temporary directory, loaded back with
    `tf.saved_model.load`, and every endpoint's outputs on its sample are compared with the
    in-memory function. Only then is the directory renamed to its version number, so TF Serving
    (which watches for integer-named directories) never sees a partial or wrong model.
    `config_json` is stored as `assets.extra/config.json`: the version's own configuration
    (class names, columns, rates), so any version can be served or evaluated on its own.
    Every endpoint's sample becomes a warm-up request (`assets.extra/{WARMUP_FILE}`), replayed
    and checked with the rest: TF Serving runs each signature once when it loads the version,
    so no user request pays for tracing and memory allocation.
    """
    if "serving_default" not in endpoints:
        raise ValueError("an export needs a 'serving_default' endpoint")
    export_root = Path(export_root)
    export_root.mkdir(parents=True, exist_ok=True)
    version = next_version(export_root)
    tmp = export_root / f".tmp-{version}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        with portable_recurrent_layers(track):
            archive = keras.export.ExportArchive()
            for resource in track:
                archive.track(resource)
            for name, endpoint in endpoints.items():
                signature = list(endpoint.input_signature)
                fn = shape_checked(endpoint.fn, signature)
                archive.add_endpoint(name, fn, input_signature=signature)
            archive.write_out(str(tmp), verbose=False)
        (tmp / EXTRA_ASSETS).mkdir(exist_ok=True)
        if config_json is not None:
            (tmp / EXTRA_ASSETS / "config.json").write_text(config_json, encoding="utf-8")
        write_warmup_requests(warmup_path(tmp), endpoints)
        loaded = verify_export(tmp, endpoints, atol=atol)
        final = export_root / str(version)
        os.rename(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final, loaded


@contextlib.contextmanager
def portable_recurrent_layers(resources: Sequence[Any]) -> Iterator[None]:
    """Trace LSTM and GRU layers without cuDNN while exporting, then restore them.

    On a GPU, Keras runs LSTM/GRU through cuDNN kernels, and a graph traced there holds
    `CudnnRNN*` ops that a CPU-only TF Serving cannot run; the generic kernels compute the same
    function on any device.
    """
    layers = []
    for resource in resources:
        if isinstance(resource, keras.layers.Layer):
            layers += [
                layer
                for layer in resource._flatten_layers(include_self=True)
                if isinstance(layer, (keras.layers.LSTM, keras.layers.GRU))
            ]
    with layers_set(layers, "use_cudnn", False):
        yield


def graph_ops(path: os.PathLike) -> set[str]:
    """Every op type in a SavedModel's graphs and function library."""
    saved_model = saved_model_pb2.SavedModel()
    saved_model.ParseFromString((Path(path) / "saved_model.pb").read_bytes())
    ops = set()
    for meta_graph in saved_model.meta_graphs:
        ops.update(node.op for node in meta_graph.graph_def.node)
        for function in meta_graph.graph_def.library.function:
            ops.update(node.op for node in function.node_def)
    return ops


def gpu_only_ops(path: os.PathLike) -> list[str]:
    """The ops of a SavedModel that have no CPU kernel (a CPU-only server cannot run them)."""
    found = []
    for op in sorted(graph_ops(path)):
        devices = {k.device_type for k in kernels.get_registered_kernels_for_op(op).kernel}
        if op.startswith(GPU_ONLY_PREFIXES) or (devices and not devices & {"CPU", "DEFAULT"}):
            found.append(op)
    return found


def warmup_path(export_dir: os.PathLike) -> Path:
    """Where TF Serving looks for a version's warm-up requests."""
    return Path(export_dir) / EXTRA_ASSETS / WARMUP_FILE


def write_warmup_requests(path: Path, endpoints: dict[str, Endpoint]) -> None:
    """One `PredictionLog` record per endpoint (TFRecord): a `PredictRequest` of its signature
    holding its sample inputs."""
    from tensorflow_serving.apis import predict_pb2
    from tensorflow_serving.apis import prediction_log_pb2

    with tf.io.TFRecordWriter(str(path)) as writer:
        for name, endpoint in endpoints.items():
            request = predict_pb2.PredictRequest()
            request.model_spec.signature_name = name
            for spec in endpoint.input_signature:
                value = np.asarray(endpoint.sample[spec.name])
                request.inputs[spec.name].CopyFrom(tf.make_tensor_proto(value, dtype=spec.dtype))
            log = prediction_log_pb2.PredictionLog(
                predict_log=prediction_log_pb2.PredictLog(request=request)
            )
            writer.write(log.SerializeToString())


def read_warmup_requests(export_dir: os.PathLike) -> list[tuple[str, dict[str, np.ndarray]]]:
    """`(signature name, inputs)` of each warm-up record of a version."""
    from tensorflow_serving.apis import prediction_log_pb2

    requests = []
    for record in tf.data.TFRecordDataset(str(warmup_path(export_dir))):
        log = prediction_log_pb2.PredictionLog.FromString(record.numpy())
        request = log.predict_log.request
        inputs = {key: tf.make_ndarray(proto) for key, proto in request.inputs.items()}
        requests.append((request.model_spec.signature_name, inputs))
    return requests


def verify_export(path: os.PathLike, endpoints: dict[str, Endpoint], atol: float) -> Any:
    """The loaded SavedModel; `AssertionError` unless its graph runs on CPU, each saved
    signature reproduces its in-memory function, and the warm-up requests read back are the
    endpoints' samples."""
    gpu_only = gpu_only_ops(path)
    if gpu_only:
        raise AssertionError(
            f"export check failed: the graph holds GPU-only ops ({', '.join(gpu_only)}); a "
            "CPU-only TensorFlow Serving could not run it"
        )
    loaded = tf.saved_model.load(str(path))
    for name, endpoint in endpoints.items():
        inputs = {
            spec.name: tf.constant(endpoint.sample[spec.name], dtype=spec.dtype)
            for spec in endpoint.input_signature
        }
        saved = loaded.signatures[name](**inputs)
        expected = endpoint.fn(*[inputs[spec.name] for spec in endpoint.input_signature])
        for key, value in expected.items():
            want, got = np.asarray(value), np.asarray(saved[key])
            if want.dtype.kind in "fc":  # relative too: forecasts are in raw units
                ok = want.shape == got.shape and np.allclose(want, got, rtol=atol, atol=atol)
            else:
                ok = want.shape == got.shape and np.array_equal(want, got)
            if not ok:
                gap = (
                    f" (largest difference {np.abs(want - got).max():.3g})"
                    if want.dtype.kind in "fc" and want.shape == got.shape
                    else ""
                )
                raise AssertionError(f"export check failed: {name}/{key} differs after reload{gap}")
    requests = read_warmup_requests(path)
    if [name for name, _ in requests] != list(endpoints):
        raise AssertionError("export check failed: not one warm-up request per signature")
    for (name, inputs), endpoint in zip(requests, endpoints.values()):
        for spec in endpoint.input_signature:
            sample = tf.constant(np.asarray(endpoint.sample[spec.name]), dtype=spec.dtype)
            if spec.name not in inputs or not np.array_equal(inputs[spec.name], sample.numpy()):
                raise AssertionError(
                    f"export check failed: warm-up request of {name} is not its sample"
                )
    return loaded


def export_config_path(export_dir: os.PathLike) -> Path:
    """Where a version keeps its own configuration."""
    return Path(export_dir) / EXTRA_ASSETS / "config.json"
