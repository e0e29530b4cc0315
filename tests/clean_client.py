"""Client scripts in a fresh Python: a bare environment, started outside the repository."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

# Appended to a client by `run_clean_client(..., warmup=EXPORT)`: replays the version's warm-up
# records as TF Serving does (the protos of tensorflow-serving-api, no project code) and prints
# each signature's outputs as its own last line.
WARMUP_REPLAY = """
import json as _json, os as _os
import numpy as _np
import tensorflow as _tf
from tensorflow_serving.apis import prediction_log_pb2 as _logs
_export = _os.environ["WARMUP_EXPORT"]
_model = _tf.saved_model.load(_export)
_replayed = []
for _record in _tf.data.TFRecordDataset(_export + "/assets.extra/tf_serving_warmup_requests"):
    _request = _logs.PredictionLog.FromString(_record.numpy()).predict_log.request
    _inputs = {k: _tf.constant(_tf.make_ndarray(v)) for k, v in _request.inputs.items()}
    _outputs = _model.signatures[_request.model_spec.signature_name](**_inputs)
    _replayed.append([_request.model_spec.signature_name, {
        k: (_np.char.decode(v.numpy().astype(bytes), "utf-8") if v.dtype == _tf.string
            else v.numpy()).tolist()
        for k, v in _outputs.items()}])
print(_json.dumps(_replayed))
"""


def run_clean_client(code: str, *args: str, cwd: Path, warmup: Path | None = None) -> dict:
    """Run `code` with `args` as argv; return the JSON of its last output line.

    The subprocess starts in `cwd` (not the repository) with a bare environment, so it sees
    only installed packages, as TF Serving would. `code` must print one JSON object last.
    With `warmup` (an export version), the same process then replays the version's warm-up
    records, and `check_warmup` asserts they were answered as direct calls answer them.
    """
    env = {"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"}
    if warmup is not None:
        code, env["WARMUP_EXPORT"] = code + WARMUP_REPLAY, str(warmup)
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.strip().splitlines()
    if warmup is None:
        return json.loads(lines[-1])
    check_warmup(warmup, json.loads(lines[-1]))
    return json.loads(lines[-2])


def check_warmup(export_dir: Path, replayed: list, atol: float = 1e-4) -> None:
    """The clean replay of `export_dir`'s warm-up records (`run_clean_client(warmup=...)`)
    gave what the signatures give when called directly with the records' inputs: one request
    per signature, each answered alike."""
    import tensorflow as tf

    from shared.export import read_warmup_requests

    model = tf.saved_model.load(str(export_dir))
    requests = read_warmup_requests(export_dir)
    assert sorted(name for name, _ in requests) == sorted(model.signatures)
    assert [name for name, _ in replayed] == [name for name, _ in requests]
    for (name, inputs), (_, outputs) in zip(requests, replayed):
        direct = model.signatures[name](**{k: tf.constant(v) for k, v in inputs.items()})
        assert sorted(outputs) == sorted(direct)
        for key, value in direct.items():
            value = value.numpy()
            if value.dtype == object:
                text = np.char.decode(value.astype(bytes), "utf-8").tolist()
                assert outputs[key] == text, (name, key)
            else:
                np.testing.assert_allclose(outputs[key], value, atol=atol, rtol=atol)


KERAS_CLIENT = """
import importlib, sys
import keras, numpy as np
importlib.import_module("apps." + sys.argv[1] + ".model")  # registers the app's layers
model = keras.saving.load_model(sys.argv[2])  # safe_mode on: no lambdas, no pickles
inputs = dict(np.load(sys.argv[3]))
outputs = model.predict(inputs.pop("x") if list(inputs) == ["x"] else inputs)
np.savez(sys.argv[4], **(outputs if isinstance(outputs, dict) else {"y": outputs}))
print("{}")
"""


def predict_in_a_fresh_process(app: str, model_path: Path, inputs: Any, tmp: Path) -> Any:
    """`keras.saving.load_model(model_path).predict(inputs)` in a fresh Python (the project
    installed, nothing else imported): the `.keras` file alone must predict from raw inputs.

    `inputs` is an array or a dict of arrays; returns an array or a dict of arrays likewise.
    """
    tmp.mkdir(parents=True, exist_ok=True)
    np.savez(tmp / "inputs.npz", **(inputs if isinstance(inputs, dict) else {"x": inputs}))
    run_clean_client(
        KERAS_CLIENT, app, str(model_path), str(tmp / "inputs.npz"), str(tmp / "out.npz"), cwd=tmp
    )
    outputs = dict(np.load(tmp / "out.npz"))
    return outputs["y"] if list(outputs) == ["y"] else outputs


GENERATE_CLIENT = """
import importlib, json, pathlib, sys
import keras
importlib.import_module("apps." + sys.argv[1] + ".model")  # registers the app's layers
model = keras.saving.load_model(sys.argv[2])  # safe_mode on: no lambdas, no pickles
inputs = json.loads(sys.argv[3])
if sys.argv[4] == "files":
    inputs = [pathlib.Path(path).read_bytes() for path in inputs]
print(json.dumps({"generated": model.generate(inputs)}))
"""


def generate_in_a_fresh_process(
    app: str, model_path: Path, inputs: list[str], tmp: Path, *, files: bool = False
) -> list[str]:
    """`keras.saving.load_model(model_path).generate(inputs)` in a fresh Python; `inputs` are
    strings, or with `files` paths whose bytes are the inputs."""
    kind = "files" if files else "strings"
    answer = run_clean_client(
        GENERATE_CLIENT, app, str(model_path), json.dumps(inputs), kind, cwd=tmp
    )
    return answer["generated"]
