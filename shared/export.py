"""SavedModel export for TensorFlow Serving: versioned, verified, never half-written."""

import dataclasses
import os
import shutil
from pathlib import Path
from typing import Any
from typing import Callable
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

# TF Serving ignores this folder of a SavedModel; files the version needs besides the graph.
EXTRA_ASSETS = "assets.extra"


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
    atol: float = 1e-4,
) -> tuple[Path, Any]:
    """Write `export_root/<next version>/` with the given endpoints; return its path and the
    loaded SavedModel.

    The archive is written to a hidden temporary directory, loaded back with
    `tf.saved_model.load`, and every endpoint's outputs on its sample are compared with the
    in-memory function. Only then is the directory renamed to its version number, so TF Serving
    (which watches for integer-named directories) never sees a partial or wrong model.
    `config_json` is stored as `assets.extra/config.json`: the version's own configuration
    (class names, columns, rates), so any version can be served or evaluated on its own.
    """
    if "serving_default" not in endpoints:
        raise ValueError("an export needs a 'serving_default' endpoint")
    export_root = Path(export_root)
    export_root.mkdir(parents=True, exist_ok=True)
    version = next_version(export_root)
    tmp = export_root / f".tmp-{version}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        archive = keras.export.ExportArchive()
        for resource in track:
            archive.track(resource)
        for name, endpoint in endpoints.items():
            archive.add_endpoint(name, endpoint.fn, input_signature=list(endpoint.input_signature))
        archive.write_out(str(tmp), verbose=False)
        if config_json is not None:
            (tmp / EXTRA_ASSETS).mkdir(exist_ok=True)
            (tmp / EXTRA_ASSETS / "config.json").write_text(config_json, encoding="utf-8")
        loaded = verify_export(tmp, endpoints, atol=atol)
        final = export_root / str(version)
        os.rename(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final, loaded


def verify_export(path: os.PathLike, endpoints: dict[str, Endpoint], atol: float) -> Any:
    """The loaded SavedModel; `AssertionError` unless each saved signature reproduces its
    in-memory function."""
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
            if want.dtype.kind in "fc":
                ok = want.shape == got.shape and np.allclose(want, got, atol=atol)
            else:
                ok = want.shape == got.shape and np.array_equal(want, got)
            if not ok:
                raise AssertionError(f"export check failed: {name}/{key} differs after reload")
    return loaded


def export_config_path(export_dir: os.PathLike) -> Path:
    """Where a version keeps its own configuration."""
    return Path(export_dir) / EXTRA_ASSETS / "config.json"
