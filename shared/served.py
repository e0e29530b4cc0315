"""A served batch is answered element by element: the rule every export follows.

An element that cannot be read (bytes that are no WAV file or no image, a waveform or window
holding NaN or inf) gets empty outputs (`""` labels and captions, zero probabilities, a NaN
forecast) and its reason in the `error` output; the other elements are answered as usual, with
`error` `""`. A request whose inputs have the wrong shape is refused as a whole, naming the
input (`shape_checked`).
"""

from typing import Any
from typing import Callable
from typing import Optional
from typing import Sequence

import tensorflow as tf

ERROR = "error"


def shape_checked(fn: Callable[..., dict], signature: Sequence[tf.TensorSpec]) -> Callable:
    """`fn` behind a check of each input's shape against its spec, at run time.

    A signature's declared shape is not enforced when it is called (a `[batch, 2]` string
    tensor reaches a `[batch]` input, and an op deep inside fails); this answers instead
    "Shape of tensor text [1,2] is not compatible with expected shape [?]".
    """

    def checked(*inputs):
        return fn(*[tf.ensure_shape(x, spec.shape) for x, spec in zip(inputs, signature)])

    return checked


def finite_rows(values: tf.Tensor) -> tf.Tensor:
    """bool `[batch]`: whether every number of each element is finite."""
    return tf.reduce_all(tf.math.is_finite(values), axis=list(range(1, values.shape.rank)))


def by_row(valid: tf.Tensor, values: tf.Tensor) -> tf.Tensor:
    """`valid` bool `[batch]` shaped to select whole elements of `values` in `tf.where`."""
    return tf.reshape(valid, [-1] + [1] * (values.shape.rank - 1))


def zero_rows(values: tf.Tensor, valid: tf.Tensor) -> tf.Tensor:
    """`values` with the elements that are not `valid` set to zero (so they compute safely)."""
    return tf.where(by_row(valid, values), values, tf.zeros_like(values))


def readable(
    fn: Callable[[tf.Tensor], tf.Tensor], elements: tf.Tensor, spec: tf.TensorSpec
) -> tuple[tf.Tensor, tf.Tensor]:
    """`fn` on each element of `elements` (e.g. decode a file), skipping those it fails on.

    Returns `valid` bool `[batch]` and the outputs `[batch, *spec.shape]` of `spec.dtype`,
    zeros where `fn` failed: one unreadable element no longer fails the whole batch.
    """
    count = tf.shape(elements)[0]
    results = tf.data.Dataset.from_tensor_slices((tf.range(count), elements))
    results = results.map(lambda i, element: (i, fn(element))).ignore_errors()
    nothing = tf.data.Dataset.from_tensors(
        (tf.zeros([0], tf.int32), tf.zeros([0, *spec.shape], spec.dtype))
    )
    size = tf.cast(tf.maximum(count, 1), tf.int64)
    batch = results.batch(size).concatenate(nothing).take(1)
    index, values = batch.get_single_element()
    positions = index[:, None]
    valid = tf.scatter_nd(positions, tf.ones_like(index), [count]) > 0
    shape = tf.concat([[count], tf.shape(values)[1:]], axis=0)
    return valid, tf.scatter_nd(positions, values, shape)


def with_errors(
    outputs: dict[str, tf.Tensor],
    valid: tf.Tensor,
    reason: str,
    fill: Optional[dict[str, Any]] = None,
) -> dict[str, tf.Tensor]:
    """`outputs` with the elements that are not `valid` emptied (`""`, False, 0, or the value
    `fill` gives for that output) and the `error` output: `reason` there, `""` elsewhere."""
    fill = fill or {}
    answered = {}
    for name, value in outputs.items():
        if name in fill:
            empty = tf.fill(tf.shape(value), tf.cast(fill[name], value.dtype))
        else:
            empty = (
                tf.zeros_like(value) if value.dtype != tf.string else tf.fill(tf.shape(value), "")
            )
        answered[name] = tf.where(by_row(valid, value), value, empty)
    answered[ERROR] = tf.where(valid, "", reason)
    return answered
