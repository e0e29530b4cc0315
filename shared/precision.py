"""Mixed precision (`--mixed_precision`): which policy, and where it applies.

With the flag, each app builds its network under Keras' `mixed_float16` policy on a GPU
(float16 compute, float32 weights, the loss scaled against underflow by
`keras.optimizers.LossScaleOptimizer`) or `mixed_bfloat16` elsewhere (bfloat16 has float32's
range: no loss scaling; CPUs with AMX or AVX512-BF16 and TPUs run it natively). What must
stay exact stays float32 in every app: the input side (feature extraction, normalization),
attention softmaxes, output layers (logits, probabilities, forecasts), losses and metrics; so
the export takes and returns the same dtypes with or without the flag.
"""

import contextlib
from typing import Iterator

import keras
import tensorflow as tf

from shared.config import BaseConfig

FLOAT32 = "float32"


def gpu_visible() -> bool:
    return bool(tf.config.list_logical_devices("GPU"))


def policy_name(config: BaseConfig) -> str:
    """`mixed_float16` (GPU) or `mixed_bfloat16` with `--mixed_precision`, else `float32`."""
    if not config.mixed_precision:
        return FLOAT32
    return "mixed_float16" if gpu_visible() else "mixed_bfloat16"


@contextlib.contextmanager
def dtype_policy(name: str) -> Iterator[None]:
    """Layers made inside take the policy `name` (Keras' global default, restored after)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def network_precision(config: BaseConfig) -> contextlib.AbstractContextManager:
    """Build an app's network inside this: its layers take the config's policy."""
    return dtype_policy(policy_name(config))


def scale_loss(optimizer: keras.optimizers.Optimizer, config: BaseConfig):
    """`optimizer` wrapped in a `LossScaleOptimizer` when the policy is `mixed_float16`."""
    if policy_name(config) != "mixed_float16":
        return optimizer
    return keras.optimizers.LossScaleOptimizer(optimizer)


def export_tolerance(config: BaseConfig) -> float:
    """How far (absolutely, and relative to the value) a reloaded export's float outputs may
    be from the in-memory model's: the same graph, rounded again, differs in the last bits
    (float32) or the third digit (16-bit)."""
    return 1e-4 if policy_name(config) == FLOAT32 else 2e-2
