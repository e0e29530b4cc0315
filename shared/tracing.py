"""Trace a model under temporary layer settings (export, conversion), then restore them."""

import contextlib
from typing import Any
from typing import Iterator
from typing import Sequence


@contextlib.contextmanager
def layers_set(layers: Sequence[Any], attribute: str, value: Any) -> Iterator[None]:
    """Set `attribute` of every layer to `value` while inside; give each its own back after."""
    saved = [getattr(layer, attribute) for layer in layers]
    for layer in layers:
        setattr(layer, attribute, value)
    try:
        yield
    finally:
        for layer, old in zip(layers, saved):
            setattr(layer, attribute, old)
