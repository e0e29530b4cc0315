"""Attention of one decoder query over a memory sequence (encoder outputs, image regions).

Both layers share one interface, so decoders can switch between them:

    keys = attention.prepare(memory)                     # once per sequence
    context, weights = attention(query, memory, keys, memory_mask)   # at every step

`prepare` projects the memory once, outside the decoding loop (the costly part of additive
attention); each step then only projects its query. A query may also be a whole sequence,
`[batch, time, query_dim]`, attending at every step at once (a decoder whose recurrent layer
ran over the whole target first); the outputs then gain the time axis.
"""

import keras
from keras import ops

from shared.layers.masking import masked_score


class _MemoryAttention(keras.layers.Layer):
    """What both attentions share: keys from `prepare`, masking, softmax, weighted sum.

    Subclasses create `self.key_dense` in `build` and define `score(query, keys)`.
    """

    def prepare(self, memory):
        """Projected memory (the keys), reusable for every query."""
        return self.key_dense(memory)

    def call(self, query, memory, keys=None, memory_mask=None):
        keys = self.prepare(memory) if keys is None else keys
        sequence = len(query.shape) == 3
        scores = self.score(query, keys)  # [batch, steps], or [batch, time, steps]
        if memory_mask is not None:
            mask = memory_mask[:, None, :] if sequence else memory_mask
            fill = ops.full_like(scores, masked_score(scores.dtype))
            scores = ops.where(mask, scores, fill)
        weights = ops.softmax(ops.cast(scores, "float32"), axis=-1)  # float32 under mixed precision
        if memory_mask is not None:  # a fully masked row attends to nothing (zero weights)
            weights = weights * ops.cast(mask, weights.dtype)
        equation = "bts,bsd->btd" if sequence else "bs,bsd->bd"
        context = ops.einsum(equation, ops.cast(weights, memory.dtype), memory)
        return context, weights

    def compute_output_shape(self, query_shape, memory_shape, *args):
        time = tuple(query_shape[1:-1])  # () for one query, (time,) for a sequence
        return (
            (memory_shape[0], *time, memory_shape[-1]),
            (memory_shape[0], *time, memory_shape[1]),
        )


@keras.saving.register_keras_serializable(package="shared")
class BahdanauAttention(_MemoryAttention):
    """Additive attention (Bahdanau et al., 2015): `score = v . tanh(W_q q + W_k m_s)`.

    Args:
        units: int. Size of the hidden scoring layer.

    Call arguments:
        query: float `[batch, query_dim]`, e.g. the decoder state, or `[batch, time,
            query_dim]` for every step of a sequence at once.
        memory: float `[batch, steps, memory_dim]`.
        keys: the result of `prepare(memory)`; computed here when `None`.
        memory_mask: optional bool `[batch, steps]`; `False` steps get zero weight.

    Returns:
        `(context [batch, memory_dim], weights [batch, steps])`, each row of weights sums to 1
        (with a sequence of queries: `[batch, time, memory_dim]`, `[batch, time, steps]`).

    Example:
    >>> attention = BahdanauAttention(32)
    >>> context, weights = attention(ops.zeros((2, 16)), ops.zeros((2, 7, 24)))
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        dense = dict(dtype=self.dtype_policy)
        self.query_dense = keras.layers.Dense(units, use_bias=False, name="query", **dense)
        self.key_dense = keras.layers.Dense(units, name="key", **dense)
        self.score_dense = keras.layers.Dense(1, use_bias=False, name="score", **dense)

    def build(self, query_shape, memory_shape, keys_shape=None, memory_mask_shape=None):
        self.query_dense.build(query_shape)
        self.key_dense.build(memory_shape)
        self.score_dense.build((*memory_shape[:-1], self.units))

    def score(self, query, keys):
        projected = self.query_dense(query)
        if len(query.shape) == 3:  # [batch, time, 1, units] + [batch, 1, steps, units]
            hidden = ops.tanh(ops.expand_dims(keys, 1) + ops.expand_dims(projected, 2))
        else:
            hidden = ops.tanh(keys + ops.expand_dims(projected, 1))
        return ops.squeeze(self.score_dense(hidden), -1)

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config


@keras.saving.register_keras_serializable(package="shared")
class LuongAttention(_MemoryAttention):
    """Multiplicative attention (Luong et al., 2015, "general"): `score = q . W m_s`.

    Args:
        scale: bool. Divide scores by `sqrt(query_dim)`, which keeps the softmax from
            saturating early in training when states are large.

    Call arguments and returns: as `BahdanauAttention`; `prepare(memory)` gives `W m_s`
    with the query's size.

    Example:
    >>> attention = LuongAttention()
    >>> context, weights = attention(ops.zeros((2, 16)), ops.zeros((2, 7, 24)))
    """

    def __init__(self, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.key_dense = None

    def build(self, query_shape, memory_shape, keys_shape=None, memory_mask_shape=None):
        self.key_dense = keras.layers.Dense(
            query_shape[-1], use_bias=False, dtype=self.dtype_policy, name="key"
        )
        self.key_dense.build(memory_shape)

    def score(self, query, keys):
        equation = "btd,bsd->bts" if len(query.shape) == 3 else "bd,bsd->bs"
        scores = ops.einsum(equation, query, keys)
        if self.scale:
            scores = scores / ops.sqrt(ops.cast(ops.shape(query)[-1], scores.dtype))
        return scores

    def get_config(self):
        config = super().get_config()
        config["scale"] = self.scale
        return config


ATTENTION_LAYERS = {"bahdanau": BahdanauAttention, "luong": LuongAttention}


def make_attention(
    kind: str, units: int, name: str = "attention", dtype=None
) -> keras.layers.Layer:
    """`"bahdanau"` (additive, `units` hidden) or `"luong"` (multiplicative) attention."""
    if kind == "bahdanau":
        return BahdanauAttention(units, name=name, dtype=dtype)
    if kind == "luong":
        return LuongAttention(name=name, dtype=dtype)
    raise ValueError(f"attention must be one of {sorted(ATTENTION_LAYERS)}, got {kind!r}")
