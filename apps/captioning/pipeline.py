"""The captioning model as one Keras object: the network, its vocabulary and image front end,
and a `generate` that returns the export's captions (as keras-hub's `generate` does).

`keras.saving.load_model(".../best.keras").generate([jpeg_bytes])` captions in a fresh process
(after `import apps.captioning`).
"""

import functools
from typing import Optional
from typing import Sequence

import keras
import numpy as np
import tensorflow as tf

from apps.captioning.captioner import Captioner
from apps.captioning.captions import Vocabulary
from shared.backbones import BackboneHolder
from shared.pipeline import Pipeline


@keras.saving.register_keras_serializable(package="captioning")
class CaptionInputs(BackboneHolder):
    """What the captioner needs besides the network: the training vocabulary (in the config),
    the image size, and the frozen backbone whose features the network reads (`None` when the
    network holds its own small CNN, trained end to end).
    """

    def __init__(
        self,
        words: Sequence[str],
        size: int,
        max_caption_length: int,
        backbone: Optional[keras.Model] = None,
        **kwargs,
    ):
        super().__init__(backbone, **kwargs)
        self.words, self.size, self.max_caption_length = list(words), size, max_caption_length

    @property
    def vocabulary(self) -> Vocabulary:
        return Vocabulary(self.words)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "words": self.words,
            "size": self.size,
            "max_caption_length": self.max_caption_length,
        }


@keras.saving.register_keras_serializable(package="captioning")
class CaptioningModel(Pipeline):
    """The network (teacher-forced `call`, what `fit` trains) with its `CaptionInputs`;
    `caption`, `generate` and `predict` caption image bytes (beam width 1: greedy)."""

    def __init__(
        self,
        network: keras.Model,
        preprocessor: CaptionInputs,
        beam_width: int = 3,
        length_penalty: float = 0.0,
        **kwargs,
    ):
        super().__init__(network, preprocessor, **kwargs)
        self.beam_width, self.length_penalty = beam_width, length_penalty

    @functools.cached_property  # not an attribute Keras tracks: its layers are the network's
    def captioner(self) -> Captioner:
        inputs = self.preprocessor
        return Captioner(
            self.network, inputs.vocabulary, inputs.size, inputs.max_caption_length, inputs.backbone
        )

    def caption(self, image_bytes: tf.Tensor, beam_width: int | None = None) -> dict:
        """`Captioner.caption` with the model's decoding settings."""
        width = self.beam_width if beam_width is None else beam_width
        return self.captioner.caption(image_bytes, width, self.length_penalty)

    def serve(self, raw):
        return self.caption(raw)["caption"]

    def generate(self, images, beam_width: int | None = None, batch_size: int = 16) -> list[str]:
        """Captions of encoded images (JPEG/PNG bytes), as the export returns them."""
        images = list(np.asarray(images, dtype=object).ravel())
        run = tf.function(lambda data: self.caption(data, beam_width)["caption"])
        out = []
        for start in range(0, len(images), batch_size):
            batch = tf.constant(images[start : start + batch_size], tf.string)
            out += [c.decode("utf-8") for c in run(batch).numpy()]
        return out

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        return np.array(self.generate(x, batch_size=batch_size or 16), dtype=object)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beam_width": self.beam_width,
            "length_penalty": self.length_penalty,
        }
