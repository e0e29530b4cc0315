"""The captioning model as one Keras object: the network, its vocabulary and image front end,
and a `generate` that returns the export's captions (as keras-hub's `generate` does).

`keras.saving.load_model(".../best.keras").generate([jpeg_bytes])` captions in a fresh process
(after `import apps.captioning.model`).
"""

import functools
from typing import Optional
from typing import Sequence

import keras
import tensorflow as tf

from apps.captioning.captioner import Captioner
from apps.captioning.captions import Vocabulary
from shared.backbones import BackboneHolder
from shared.pipeline import TextGenerator


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
class CaptioningModel(TextGenerator):
    """The network (teacher-forced `call`, what `fit` trains) with its `CaptionInputs`;
    `caption`, `generate` and `predict` caption image bytes (beam width 1: greedy)."""

    generate_batch_size = 16

    def __init__(
        self,
        network: keras.Model,
        preprocessor: CaptionInputs,
        beam_width: int = 3,
        length_penalty: float = 0.0,
        **kwargs,
    ):
        super().__init__(
            network, preprocessor, beam_width=beam_width, length_penalty=length_penalty, **kwargs
        )

    @functools.cached_property  # not an attribute Keras tracks: its layers are the network's
    def captioner(self) -> Captioner:
        inputs = self.preprocessor
        return Captioner(
            self.network, inputs.vocabulary, inputs.size, inputs.max_caption_length, inputs.backbone
        )

    def caption(self, image_bytes: tf.Tensor, beam_width: int | None = None) -> dict:
        """`Captioner.caption` with the model's decoding settings."""
        return self.captioner.caption(image_bytes, self.width(beam_width), self.length_penalty)

    def generate_batch(self, raw: tf.Tensor, beam_width: int | None = None) -> tf.Tensor:
        return self.caption(raw, beam_width)["caption"]
