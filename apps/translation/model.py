"""The encoder-decoder: source ids and target ids (shifted right) in, next-token logits out."""

import keras
from keras import ops

from apps.translation.config import TranslationConfig
from shared.layers import AttentionDecoder
from shared.layers import MaskedPooling
from shared.layers import RecurrentStack
from shared.training import make_optimizer


def build_model(
    config: TranslationConfig, *, source_vocab_size: int, target_vocab_size: int
) -> keras.Model:
    """BiGRU encoder over masked source embeddings -> attention decoder -> vocabulary logits.

    The decoder starts from a projection of the mean encoder output. Layer names are what
    `apps.translation.decoding.Translator` looks up to run the parts one step at a time.
    """
    source = keras.Input(shape=(None,), dtype="int32", name="source")
    target_in = keras.Input(shape=(None,), dtype="int32", name="target_in")
    x = keras.layers.Embedding(
        source_vocab_size, config.embedding_dim, mask_zero=True, name="source_embedding"
    )(source)
    x = keras.layers.Dropout(config.embedding_dropout, name="source_dropout")(x)
    memory = RecurrentStack(**config.recurrent_kwargs(), return_sequences=True, name="encoder")(x)
    summary = MaskedPooling(modes=("mean",), name="encoder_mean")(memory)
    initial_state = keras.layers.Dense(config.decoder_units, activation="tanh", name="bridge")(
        summary
    )
    y = keras.layers.Embedding(target_vocab_size, config.embedding_dim, name="target_embedding")(
        target_in
    )
    y = keras.layers.Dropout(config.embedding_dropout, name="target_dropout")(y)
    outputs, _ = AttentionDecoder(
        config.decoder_units,
        attention=config.attention,
        attention_units=config.attention_units,
        input_feeding=config.input_feeding,
        name="decoder",
    )(y, memory, initial_state, memory_mask=ops.not_equal(source, 0))
    outputs = keras.layers.Dropout(config.output_dropout, name="output_dropout")(outputs)
    logits = keras.layers.Dense(target_vocab_size, name="logits")(outputs)
    return keras.Model({"source": source, "target_in": target_in}, logits, name="translation")


@keras.saving.register_keras_serializable(package="translation")
class MaskedSequenceLoss(keras.losses.Loss):
    """Cross-entropy of logits against token ids, averaged over real (non-zero) tokens.

    With `label_smoothing` e, the target puts `1 - e` on the right token and spreads `e`
    evenly over the vocabulary.
    """

    def __init__(self, label_smoothing=0.0, name="masked_sequence_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "int32")
        log_probs = ops.log_softmax(y_pred, axis=-1)
        nll = -ops.take_along_axis(log_probs, ops.expand_dims(y_true, -1), axis=-1)[..., 0]
        if self.label_smoothing:
            smooth = -ops.mean(log_probs, axis=-1)
            nll = (1.0 - self.label_smoothing) * nll + self.label_smoothing * smooth
        mask = ops.cast(ops.not_equal(y_true, 0), nll.dtype)
        # Per batch: summed over tokens / tokens, so every token weighs the same.
        return ops.sum(nll * mask) / ops.maximum(ops.sum(mask), 1.0) * ops.ones_like(nll[:, 0])

    def get_config(self):
        return {**super().get_config(), "label_smoothing": self.label_smoothing}


@keras.saving.register_keras_serializable(package="translation")
def masked_accuracy(y_true, y_pred):
    """Share of real (non-zero) target tokens predicted exactly, per sequence."""
    y_true = ops.cast(y_true, "int32")
    mask = ops.cast(ops.not_equal(y_true, 0), "float32")
    hits = ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, -1), "int32"), y_true), "float32")
    return ops.sum(hits * mask, axis=-1) / ops.maximum(ops.sum(mask, axis=-1), 1.0)


def compile_model(
    model: keras.Model, config: TranslationConfig, steps_per_epoch: int | None = None
) -> keras.Model:
    """Adam; with `steps_per_epoch` and `--cosine_decay`: warm-up, then a cosine to 1%."""
    decay_steps = warmup_steps = None
    if config.cosine_decay and steps_per_epoch:
        warmup_steps = int(config.warmup_epochs * steps_per_epoch)
        decay_steps = config.epochs * steps_per_epoch - warmup_steps
    optimizer = make_optimizer(config, decay_steps=decay_steps, warmup_steps=warmup_steps or 0)
    model.compile(
        optimizer=optimizer,
        loss=MaskedSequenceLoss(config.label_smoothing),
        metrics=[masked_accuracy],
    )
    return model
