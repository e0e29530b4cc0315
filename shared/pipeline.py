"""`Pipeline`: a trained network and the fitted preprocessing around it, one `.keras` file.

As keras-hub's tasks do, the model owns its preprocessor: `keras.saving.load_model(path)` gives
back a model that `predict`s from raw inputs (review strings, raw-unit windows, waveforms) with
the vocabularies and statistics fitted on the training split, and the export serves the same
`serve` function. Training feeds the network preprocessed batches: each app's `tf.data`
pipeline applies the same preprocessor layer (or its parts) once per example, where it can
bucket, cache and augment, so `call` takes what the network takes.
"""

from typing import Any
from typing import Optional

import keras
import numpy as np
import tensorflow as tf


@keras.saving.register_keras_serializable(package="shared")
class Pipeline(keras.Model):
    """`preprocessor -> network -> postprocessor`; `fit` trains the network in the middle.

    Args:
        network: the trained model; `call` is its call (preprocessed inputs).
        preprocessor: optional layer, raw inputs -> the network's inputs, holding what was
            fitted on the training data (a vocabulary, statistics) in its config or assets.
        postprocessor: optional layer, the network's outputs -> readable values (e.g. a
            forecast back in raw units).
    """

    def __init__(
        self,
        network: keras.Model,
        preprocessor: Optional[keras.layers.Layer] = None,
        postprocessor: Optional[keras.layers.Layer] = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.network = network
        self.preprocessor = preprocessor
        self.postprocessor = postprocessor
        self._serve_fn = None
        self.built = network.built  # nothing of its own to build: its parts come built

    def call(self, inputs, training=None):
        return self.network(inputs, training=training)

    def serve(self, raw: Any) -> Any:
        """Raw inputs -> readable outputs, traceable (the export's signatures call it)."""
        inputs = raw if self.preprocessor is None else self.preprocessor(raw)
        outputs = self.network(inputs, training=False)
        return outputs if self.postprocessor is None else self.postprocessor(outputs)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """`serve` over `x` (raw inputs: arrays, a dict of arrays or a batched `tf.data`
        dataset), batch by batch; returns NumPy arrays."""
        if isinstance(x, tf.data.Dataset):
            batches = x
        else:
            batches = tf.data.Dataset.from_tensor_slices(x).batch(batch_size or 32)
        if self._serve_fn is None:
            self._serve_fn = tf.function(self.serve, reduce_retracing=True)
        outputs = [self._serve_fn(batch) for batch in batches]
        return tf.nest.map_structure(lambda *parts: np.concatenate(parts), *outputs)

    def get_config(self) -> dict:
        serialize = keras.saving.serialize_keras_object
        return {
            **super().get_config(),
            "network": serialize(self.network),
            "preprocessor": serialize(self.preprocessor),
            "postprocessor": serialize(self.postprocessor),
        }

    @classmethod
    def from_config(cls, config: dict) -> "Pipeline":
        config = dict(config)
        for key in ("network", "preprocessor", "postprocessor"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)


class TextGenerator(Pipeline):
    """A `Pipeline` whose readable output is text made by a search over the network (a
    translation, a caption) of `beam_width` (1: greedy) and `length_penalty`: subclasses
    define `generate_batch`; `serve` is its default
    search, `generate` runs it over raw inputs batch by batch and returns strings (as
    keras-hub's `generate`), and `predict` is `generate`."""

    generate_batch_size = 32

    def __init__(self, *args, beam_width: int = 1, length_penalty: float = 0.0, **kwargs):
        super().__init__(*args, **kwargs)
        self.beam_width, self.length_penalty = beam_width, length_penalty

    def width(self, beam_width: Optional[int] = None) -> int:
        """`beam_width`, or the model's own (what the export serves) when it is `None`."""
        return self.beam_width if beam_width is None else beam_width

    def generate_batch(self, raw: tf.Tensor, beam_width: Optional[int] = None) -> tf.Tensor:
        """`[batch]` raw inputs (strings or bytes) -> `[batch]` generated text."""
        raise NotImplementedError

    def serve(self, raw):
        return self.generate_batch(raw)

    def generate(self, inputs, beam_width: Optional[int] = None, batch_size: int = 0) -> list:
        """The generated text of each input (strings, or encoded images as bytes)."""
        inputs = list(np.asarray(inputs, dtype=object).ravel())
        size = batch_size or self.generate_batch_size
        run = tf.function(lambda raw: self.generate_batch(raw, beam_width))
        out = []
        for start in range(0, len(inputs), size):
            batch = tf.constant(inputs[start : start + size], tf.string)
            out += [text.decode("utf-8") for text in run(batch).numpy()]
        return out

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        return np.array(self.generate(x, batch_size=batch_size or 0), dtype=object)

    def get_config(self) -> dict:
        config = super().get_config()
        return {**config, "beam_width": self.beam_width, "length_penalty": self.length_penalty}
