"""LiteRT (TensorFlow Lite) models of a speech run: one clip, or a stream hop by hop.

`convert` turns a traced function into a `.tflite` flatbuffer, in float32 or quantized:
`dynamic` stores the weights in int8 (computed in float), `int8` also quantizes activations
with ranges measured on representative inputs (training clips), leaving in float the ops
LiteRT has no integer kernel for (the FFT of the spectrogram); inputs and outputs stay float32
in every form. `LiteModel` runs one with the LiteRT interpreter (`ai-edge-litert`).
"""

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable
from typing import Iterable
from typing import Iterator
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from apps.speech import audio as audio_ops
from apps.speech.config import SpeechConfig
from shared.pipeline import Pipeline
from shared.tracing import layers_set

QUANTIZATIONS = ("float", "dynamic", "int8")
SIGNATURE = "serving_default"
# Name scopes of the network's convolutions, recurrence and head: what int8 quantizes. The rest
# stays float: the front end's power spectra span 20 orders of magnitude and its running
# statistics subtract large sums; the attention's masked scores (about -1e9) would leave the
# others no int8 step; the state a stream carries passes through unchanged.
QUANTIZED = ("conv1", "conv2", "recurrent", "_cell", "head", "probabilities")


def convert(
    fn: Callable[..., dict],
    input_signature: Sequence[tf.TensorSpec],
    quantization: str = "float",
    representative: Callable[[], Iterable[dict]] | None = None,
    *,
    track: keras.Model,
    float_nodes: Sequence[str] = (),
) -> bytes:
    """A `.tflite` model of `fn` (named float inputs -> dict of named outputs).

    The function goes through a SavedModel signature, so the LiteRT model keeps the names of
    its inputs and outputs (`LiteModel` calls it by name). `track` holds the weights `fn`
    reads; `int8` leaves the ops writing `float_nodes` (tensor names) in float.
    """
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization must be one of {QUANTIZATIONS}, got {quantization!r}")
    if quantization == "int8" and representative is None:
        raise ValueError("int8 quantization needs representative inputs")
    module = tf.Module()
    module.tracked = [variable.value for variable in track.variables]  # tf.Variables
    module.fn = tf.function(fn, input_signature=list(input_signature))
    with tempfile.TemporaryDirectory() as tmp:
        tf.saved_model.save(module, tmp, signatures={SIGNATURE: module.fn.get_concrete_function()})
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=[SIGNATURE])
        if quantization != "float":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "int8":
            names = [spec.name for spec in input_signature]

            def dataset():
                for inputs in representative():
                    yield {name: np.asarray(inputs[name], np.float32) for name in names}

            converter.representative_dataset = dataset
            debugger = tf.lite.experimental.QuantizationDebugger(
                converter=converter,
                debug_dataset=dataset,
                debug_options=tf.lite.experimental.QuantizationDebugOptions(
                    denylisted_nodes=list(float_nodes)
                ),
            )
            return debugger.get_nondebug_quantized_model()
        return converter.convert()


class LiteModel:
    """A `.tflite` model run by the LiteRT interpreter: `model(**inputs) -> dict of arrays`."""

    def __init__(self, model: bytes | os.PathLike, num_threads: int = 1):
        from ai_edge_litert.interpreter import Interpreter

        content = model if isinstance(model, bytes) else Path(model).read_bytes()
        self.size = len(content)
        self.interpreter = Interpreter(model_content=content, num_threads=num_threads)
        self.runner = self.interpreter.get_signature_runner(SIGNATURE)

    def __call__(self, **inputs: np.ndarray) -> dict[str, np.ndarray]:
        return self.runner(**{k: np.asarray(v, np.float32) for k, v in inputs.items()})

    def initial_state(self) -> dict[str, np.ndarray]:
        """Zeros for every input but `audio`: a streaming model's state before its first hop."""
        details = self.runner.get_input_details()
        return {
            name: np.zeros(detail["shape"], np.float32)
            for name, detail in details.items()
            if name != "audio"
        }


def float_nodes(model: bytes) -> list[str]:
    """The tensors of a float LiteRT model that int8 leaves in float: all but `QUANTIZED`."""
    from ai_edge_litert.interpreter import Interpreter

    names = [detail["name"] for detail in Interpreter(model_content=model).get_tensor_details()]
    return [
        name
        for name in names
        if not any(scope in part for part in name.split(";") for scope in QUANTIZED)
    ]


@contextlib.contextmanager
def lite_tracing(model: keras.Model) -> Iterator[None]:
    """Trace the model as LiteRT converts it best: recurrent layers unrolled (a clip has a fixed
    number of frames, and LiteRT's int8 calibration crashes on a recurrent loop, TF 2.21) and
    the mel filter bank elementwise (`LogMelSpectrogram.elementwise_mel`)."""
    layers = list(model._flatten_layers())
    recurrent = [layer for layer in layers if isinstance(layer, keras.layers.RNN)]
    log_mels = [layer for layer in layers if hasattr(layer, "elementwise_mel")]
    with layers_set(recurrent, "unroll", True), layers_set(log_mels, "elementwise_mel", True):
        yield


def clip_function(model: Pipeline, config: SpeechConfig) -> tuple[Callable, list]:
    """The clip model: waveform `[1, clip_samples]` at the run's rate -> `probabilities`,
    centred on its speech as `serving_default` does (trace it in `lite_tracing`)."""

    def classify(audio):
        with tf.name_scope("clip_input"):
            centred = audio_ops.centre(audio, config.clip_samples)
        probabilities = model.network({"audio": centred}, training=False)
        return {"probabilities": tf.cast(probabilities, tf.float32)}

    return classify, [tf.TensorSpec((1, config.clip_samples), tf.float32, name="audio")]
