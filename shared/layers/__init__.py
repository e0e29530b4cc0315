"""Reusable Keras layers; importing this package registers them for deserialization."""

from shared.layers.attention_pooling import AttentionPooling
from shared.layers.masked_pooling import MaskedPooling
from shared.layers.recurrent_stack import RecurrentStack

__all__ = ["AttentionPooling", "MaskedPooling", "RecurrentStack"]
