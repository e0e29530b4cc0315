"""Attention of one decoder query over a memory sequence (encoder outputs, image regions).

Both layers share one interface, so decoders can switch between them:

    keys = attention.prepare(memory)                     # once per sequence
    context, weights = attention(query, memory, keys, memory_mask)   # at every step

`prepare` projects the memory once, outside the decoding loop (the costly part of additive
attention); each step then only projects its query.
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
        scores = self.score(query, keys)  # [batch, steps]
        if memory_mask is not None:
            fill = ops.full_like(scores, masked_score(scores.dtype))
            scores = ops.where(memory_mask, scores, fill)
        weights = ops.softmax(scores, axis=-1)
        if memory_mask is not None:  # a fully masked row attends to nothing (zero weights)
            weights = weights * ops.cast(memory_mask, weights.dtype)
        context = ops.einsum("bs,bsd->bd", weights, memory)
        return context, weights

    def compute_output_shape(self, query_shape, memory_shape, *args):
        return (memory_shape[0], memory_shape[-1]), tuple(memory_shape[:2])


@keras.saving.register_keras_serializable(package="shared")
class BahdanauAttention(_MemoryAttention):
    """Additive attention (Bahdanau et al., 2015): `score = v . tanh(W_q q + W_k m_s)`.

    Args:
        units: int. Size of the hidden scoring layer.

    Call arguments:
        query: float `[batch, query_dim]`, e.g. the decoder state.
        memory: float `[batch, steps, memory_dim]`.
        keys: the result of `prepare(memory)`; computed here when `None`.
        memory_mask: optional bool `[batch, steps]`; `False` steps get zero weight.

    Returns:
        `(context [batch, memory_dim], weights [batch, steps])`, each row of weights sums to 1.

    Example:
    >>> attention = BahdanauAttention(32)
    >>> context, weights = attention(ops.zeros((2, 16)), ops.zeros((2, 7, 24)))
    """

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.query_dense = keras.layers.Dense(units, use_bias=False, name="query")
        self.key_dense = keras.layers.Dense(units, name="key")
        self.score_dense = keras.layers.Dense(1, use_bias=False, name="score")

    def build(self, query_shape, memory_shape, keys_shape=None, memory_mask_shape=None):
        self.query_dense.build(query_shape)
        self.key_dense.build(memory_shape)
        self.score_dense.build((*memory_shape[:-1], self.units))

    def score(self, query, keys):
        hidden = ops.tanh(keys + ops.expand_dims(self.query_dense(query), 1))
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
        self.key_dense = keras.layers.Dense(query_shape[-1], use_bias=False, name="key")
        self.key_dense.build(memory_shape)

    def score(self, query, keys):
        scores = ops.einsum("bd,bsd->bs", query, keys)
        if self.scale:
            scores = scores / ops.sqrt(ops.cast(ops.shape(query)[-1], scores.dtype))
        return scores

    def get_config(self):
        config = super().get_config()
        config["scale"] = self.scale
        return config


ATTENTION_LAYERS = {"bahdanau": BahdanauAttention, "luong": LuongAttention}


def make_attention(kind: str, units: int, name: str = "attention") -> keras.layers.Layer:
    """`"bahdanau"` (additive, `units` hidden) or `"luong"` (multiplicative) attention."""
    if kind == "bahdanau":
        return BahdanauAttention(units, name=name)
    if kind == "luong":
        return LuongAttention(name=name)
    raise ValueError(f"attention must be one of {sorted(ATTENTION_LAYERS)}, got {kind!r}")
