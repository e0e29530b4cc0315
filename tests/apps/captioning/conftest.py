"""Generated captioning data for the tests: shapes images, odd files, a TFDS stand-in."""

import io
from pathlib import Path

import numpy as np
from PIL import Image

from tests.apps.captioning.shapes import write_shapes

# Flags that make a run take seconds: small images, model and batches.
TINY_FLAGS = [
    "--backbone_weights",
    "none",
    "--image_size",
    "32",
    "--units",
    "32",
    "--embedding_dim",
    "16",
    "--attention_units",
    "16",
    "--batch_size",
    "16",
    "--epochs",
    "1",
    "--min_word_count",
    "1",
]


def png_bytes(seed: int = 0, size: int = 24) -> bytes:
    pixels = (np.random.default_rng(seed).random((size, size, 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def small_shapes(root: Path, train: int = 40, test: int = 8) -> Path:
    return write_shapes(root, {"train": train, "test": test}, size=32)
