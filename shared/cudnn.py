"""Which kernel each LSTM/GRU layer of a model takes on a GPU, read on a machine without one.

Keras' TensorFlow backend (`keras/src/backend/tensorflow/rnn.py`) runs an LSTM or GRU layer
with the fused cuDNN kernel when a GPU is visible, the layer's arguments allow it (tanh and
sigmoid, a bias, GRU `reset_after`, no `unroll`) and it has no recurrent dropout. With a mask,
cuDNN also asserts that every row is right padded and has at least one real step: one batch
that breaks it fails the training step.

`simulated_gpu()` makes the backend believe a GPU is visible and records, for every layer
that reaches the cuDNN call, whether its mask would pass that assertion; the call then falls
back to the standard kernel, so the CPU computes as usual. `cudnn_report` runs a model
eagerly on some batches inside it and says, per layer, which kernel a GPU would run. Cells
that a layer steps by hand (a step-wise decoder's `tf.scan`) never reach the backend: they
are reported as `step-wise`.
"""

import contextlib
import dataclasses
import importlib
from typing import Iterable
from typing import Iterator

import keras
import numpy as np

# The module (`keras.src.backend.tensorflow.rnn` the attribute is its `rnn` function).
backend_rnn = importlib.import_module("keras.src.backend.tensorflow.rnn")

LAYERS = (keras.layers.GRU, keras.layers.LSTM)
CELLS = (keras.layers.GRUCell, keras.layers.LSTMCell)


@dataclasses.dataclass
class KernelChoice:
    """One recurrent layer: `cudnn`, `standard` or `step-wise`, and why not cuDNN."""

    layer: str  # the layer's path in the model
    kernel: str
    reason: str = ""
    bad_mask_batches: int = 0  # batches whose mask the cuDNN kernel would reject


class _Recorder:
    def __init__(self):
        self.running: list[keras.layers.Layer] = []  # the GRU/LSTM layers being called
        self.cudnn: dict[int, int] = {}  # id(layer) -> batches with a rejected mask

    def inner_loop(self, original):
        def wrapped(layer, *args, **kwargs):
            self.running.append(layer)
            try:
                return original(layer, *args, **kwargs)
            finally:
                self.running.pop()

        return wrapped

    def decline(self, mask) -> None:
        """Stands in for the cuDNN call: note the layer, check its mask, fall back."""
        key = id(self.running[-1])
        bad = False
        if mask is not None:
            fully_masked = bool(np.asarray(backend_rnn._has_fully_masked_sequence(mask)))
            right_padded = bool(np.asarray(backend_rnn._is_sequence_right_padded(mask)))
            bad = fully_masked or not right_padded
        self.cudnn[key] = self.cudnn.get(key, 0) + int(bad)
        raise NotImplementedError  # the layer takes the standard kernel


# The backend's cuDNN calls and the position of their `mask` argument.
CUDNN_CALLS = {"_cudnn_gru": 5, "_cudnn_lstm": 6}


@contextlib.contextmanager
def simulated_gpu() -> Iterator[_Recorder]:
    """Inside, Keras' TensorFlow backend takes a GPU to be visible (see the module doc)."""
    recorder = _Recorder()
    saved = [(backend_rnn, "_is_gpu_available", backend_rnn._is_gpu_available)]
    saved += [(layer, "inner_loop", layer.inner_loop) for layer in LAYERS]
    saved += [(backend_rnn, name, getattr(backend_rnn, name)) for name in CUDNN_CALLS]
    try:
        backend_rnn._is_gpu_available = lambda: True
        for layer in LAYERS:
            layer.inner_loop = recorder.inner_loop(layer.inner_loop)
        for name, at in CUDNN_CALLS.items():
            setattr(
                backend_rnn, name, lambda *a, _at=at, **kw: recorder.decline(kw.get("mask", a[_at]))
            )
        yield recorder
    finally:
        for owner, name, value in saved:
            setattr(owner, name, value)


def cudnn_report(
    model: keras.Model, batches: Iterable, training: bool = True
) -> list[KernelChoice]:
    """Per LSTM/GRU layer (and hand-stepped cell) of `model`: the kernel a GPU would run on
    `batches` (the model's inputs, or `(inputs, targets)` pairs), in the model's layer order."""
    with simulated_gpu() as recorder:
        for batch in batches:
            inputs = batch[0] if isinstance(batch, tuple) else batch
            model(inputs, training=training)
    layers = list(model._flatten_layers(include_self=False))
    owned = {id(layer.cell) for layer in layers if isinstance(layer, LAYERS)}
    report = []
    for layer in layers:
        if isinstance(layer, LAYERS):
            if id(layer) in recorder.cudnn:
                bad = recorder.cudnn[id(layer)]
                reason = f"mask rejected in {bad} batch(es)" if bad else ""
                report.append(KernelChoice(layer.path, "cudnn", reason, bad))
            else:
                reason = "recurrent_dropout" if layer.recurrent_dropout else "arguments"
                report.append(KernelChoice(layer.path, "standard", reason))
        elif isinstance(layer, CELLS) and id(layer) not in owned:
            report.append(KernelChoice(layer.path, "step-wise", "cell stepped in a loop"))
    return report


def format_report(report: list[KernelChoice]) -> str:
    """The report as a table: layer, kernel, reason."""
    width = max([len(choice.layer) for choice in report] + [5])
    rows = [f"{'layer':<{width}}  {'kernel':<9}  why not cuDNN"]
    rows += [f"{c.layer:<{width}}  {c.kernel:<9}  {c.reason}" for c in report]
    return "\n".join(rows)
