"""Client scripts in a fresh Python: a bare environment, started outside the repository."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np


def run_clean_client(code: str, *args: str, cwd: Path) -> dict:
    """Run `code` with `args` as argv; return the JSON of its last output line.

    The subprocess starts in `cwd` (not the repository) with a bare environment, so it sees
    only installed packages, as TF Serving would. `code` must print one JSON object last.
    """
    result = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin", "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


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
