"""Adam whose gradient clipping means the same on one device and on many."""

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="shared")
class ClippedAdam(keras.optimizers.Adam):
    """Adam that clips each gradient by norm after the replicas' gradients are summed.

    Keras's own `clipnorm` clips each replica's share of the gradient before the cross-replica
    sum, so under `tf.distribute` it clips something else than on one device and the training
    differs (measured here: loss curves of `mirrored` and `default` drift apart from the first
    epoch). Clipping the summed gradient, the batch's mean gradient, makes a step the same
    whatever the replicas. With one replica it is `Adam(clipnorm=...)`.
    """

    def __init__(self, *, gradient_clipnorm: float | None = None, **kwargs):
        super().__init__(**kwargs)
        self.gradient_clipnorm = gradient_clipnorm

    def _all_reduce_sum_gradients(self, grads_and_vars):
        reduced = super()._all_reduce_sum_gradients(grads_and_vars)
        if not self.gradient_clipnorm:
            return reduced
        return [
            (None if grad is None else tf.clip_by_norm(grad, self.gradient_clipnorm), variable)
            for grad, variable in reduced
        ]

    def get_config(self) -> dict:
        return {**super().get_config(), "gradient_clipnorm": self.gradient_clipnorm}
