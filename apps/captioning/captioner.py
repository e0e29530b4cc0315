"""Captioning encoded images with a trained model: decode, encode, search, detokenize.

`Captioner.caption` is what the export serves: everything from image bytes to text runs in
TensorFlow ops. The searches (`shared.decoding`) call the model's own `AttentionDecoder.step`,
the computation training ran under teacher forcing.
"""

from typing import Optional

import keras
import tensorflow as tf

from apps.captioning.captions import TOKEN_IDS
from apps.captioning.captions import Vocabulary
from shared.decoding import beam_search
from shared.decoding import context_of
from shared.decoding import decoder_step
from shared.decoding import greedy_search
from shared.images import load_pixels_batch
from shared.served import with_errors

NOT_AN_IMAGE = "not a decodable JPEG or PNG image"


class Captioner(tf.Module):
    """Decoding with a model from `apps.captioning.model.build_model`.

    Args:
        model: the trained model.
        vocabulary: its words.
        size: the side of the square images it reads.
        max_length: the most words of a caption.
        backbone: the frozen CNN whose features the model was trained on (`None` when the
            model holds its own small CNN).
    """

    def __init__(
        self,
        model: keras.Model,
        vocabulary: Vocabulary,
        size: int,
        max_length: int,
        backbone: Optional[keras.Model] = None,
    ):
        super().__init__()
        self.model = model
        self.backbone = backbone
        self.vocabulary = vocabulary
        self.size = size
        self.max_length = max_length
        starts = [model.get_layer("init_h").output]
        if "init_c" in [layer.name for layer in model.layers]:  # an LSTM cell
            starts.append(model.get_layer("init_c").output)
        self.encoder = keras.Model(
            model.get_layer("image").output, [model.get_layer("memory").output, *starts]
        )
        self.decoder = model.get_layer("decoder")
        self._step = decoder_step(
            model.get_layer("word_embedding"), self.decoder, model.get_layer("logits")
        )

    def search(self, pixels: tf.Tensor, beam_width: int, length_penalty: float = 0.0) -> dict:
        """`tokens [batch, time]` and `attention [batch, time, regions]` for uint8 pixels."""
        inputs = pixels if self.backbone is None else self.backbone(tf.cast(pixels, tf.float32))
        memory, *starts = self.encoder(inputs, training=False)
        states = self.decoder.initial_states(starts if len(starts) > 1 else starts[0])
        context = context_of(self.decoder, memory)
        limits = tf.fill([tf.shape(pixels)[0]], self.max_length + 1)
        if beam_width == 1:
            return greedy_search(self._step, states, context, limits, **TOKEN_IDS)
        return beam_search(
            self._step,
            states,
            context,
            limits,
            beam_width=beam_width,
            length_penalty=length_penalty,
            attention_steps=tf.shape(memory)[1],
            **TOKEN_IDS,
        )

    def caption(
        self, image_bytes: tf.Tensor, beam_width: int = 3, length_penalty: float = 0.0
    ) -> dict[str, tf.Tensor]:
        """string `[batch]` of JPEG/PNG bytes -> `caption`, `words`, `attention`, `decoded`
        and `error`.

        An element that is not a decodable image gets the caption `""`, `decoded` False and
        its reason in `error` (`shared.served`); the rest of the batch is captioned as usual.
        """
        decoded, pixels = load_pixels_batch(image_bytes, self.size)
        result = self.search(pixels, beam_width, length_penalty)
        tokens = result["tokens"]
        outputs = {
            "caption": self.vocabulary.detokenize(tokens),
            "words": self.vocabulary.words_of(tokens),
            "attention": result["attention"],
            "decoded": decoded,
        }
        return with_errors(outputs, decoded, NOT_AN_IMAGE)
