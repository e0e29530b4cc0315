"""Reusable Keras layers; importing this package registers them for deserialization."""

from shared.layers.attention import BahdanauAttention
from shared.layers.attention import LuongAttention
from shared.layers.attention import make_attention
from shared.layers.attention_decoder import AttentionDecoder
from shared.layers.attention_pooling import AttentionPooling
from shared.layers.masked_pooling import MaskedPooling
from shared.layers.recurrent_stack import RecurrentStack

__all__ = [
    "AttentionDecoder",
    "BahdanauAttention",
    "LuongAttention",
    "make_attention",
    "AttentionPooling",
    "MaskedPooling",
    "RecurrentStack",
]
