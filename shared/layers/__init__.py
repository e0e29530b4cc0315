"""Reusable Keras layers; importing this package registers them for deserialization."""

from shared.layers.masked_pooling import MaskedPooling
from shared.layers.recurrent_stack import RecurrentStack

__all__ = ["MaskedPooling", "RecurrentStack"]
