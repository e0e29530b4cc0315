"""Losses and metrics of next-token prediction over padded id sequences (0 = padding)."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="shared")
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


@keras.saving.register_keras_serializable(package="shared")
class MaskedAccuracy(keras.metrics.Mean):
    """Share of real (non-zero) target tokens predicted exactly, every token weighing the same.

    Keras' weighted mean, with the padding mask as the weights: over an epoch it is the hits
    over all real tokens, as the loss weighs them (not a mean of per-sequence shares).
    """

    def __init__(self, name="masked_accuracy", **kwargs):
        super().__init__(name=name, **kwargs)

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        mask = ops.cast(ops.not_equal(y_true, 0), "float32")
        if sample_weight is not None:
            mask = mask * ops.cast(ops.expand_dims(sample_weight, -1), "float32")
        hits = ops.cast(ops.equal(ops.cast(ops.argmax(y_pred, -1), "int32"), y_true), "float32")
        # Flat, so that Mean weighs tokens, not the per-sequence means it would reduce to.
        return super().update_state(ops.reshape(hits, [-1]), sample_weight=ops.reshape(mask, [-1]))
