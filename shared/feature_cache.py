"""Arrays computed once per input content and kept on disk: the image and clip caches.

An entry is the raw bytes of one array, at `<root>/<variant>/<key[:2]>/<key>.bin`, where
`key` is the SHA-1 of the input's bytes (a renamed file hits the cache, an edited one does
not) and `variant` names everything the values depend on: backbone, weights, size, frame
sampling. Entries are written through `shared.io.atomic_path`, so an entry is whole or absent,
and `meta.json` records the row shape and dtype. Captioning caches one array per image, video
one per clip (a row per sampled frame).

Why not `tf.data.Dataset.save`: a saved dataset is one pipeline's output, whole. One image
added to a split, another validation split, or another run reading the same images would
each need a new snapshot of everything; entries by content are shared by every split, run
and run directory, and a new image costs one entry.
"""

import concurrent.futures
import hashlib
import itertools
import os
from pathlib import Path
from typing import Callable
from typing import Iterable
from typing import Iterator
from typing import Sequence
from typing import TypeVar

import numpy as np
import tensorflow as tf

from shared import io

T = TypeVar("T")
R = TypeVar("R")


def ordered_map(
    function: Callable[[T], R], items: Iterable[T], *, threads: int = 2, ahead: int = 16
) -> Iterator[tuple[T, R]]:
    """`(item, function(item))` in order, computed by `threads` threads, reading at most
    `ahead` items ahead (decoding releases the GIL: TensorFlow ops, PyAV). `function` should
    return its errors rather than raise them."""
    iterator = iter(items)
    with concurrent.futures.ThreadPoolExecutor(threads) as pool:
        while window := list(itertools.islice(iterator, ahead)):
            yield from zip(window, pool.map(function, window))


def content_key(data: bytes) -> str:
    """The cache key of an input: the SHA-1 of its bytes."""
    return hashlib.sha1(data).hexdigest()


class FeatureCache:
    """Per-input arrays of rows of `row_shape` and `dtype`, under `root/variant`.

    Args:
        root: the cache folder (`--cache_dir`).
        variant: the name of what the values depend on.
        row_shape: the shape of one row (a frame's features, or a whole image's).
        dtype: how values are stored (float16 features, uint8 pixels).
    """

    def __init__(self, root: os.PathLike, variant: str, row_shape: Sequence[int], dtype):
        self.folder = Path(root) / variant
        self.row_shape = tuple(int(d) for d in row_shape)
        self.dtype = np.dtype(dtype)

    @property
    def row_bytes(self) -> int:
        return int(np.prod(self.row_shape)) * self.dtype.itemsize

    def path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.bin"

    def open(self) -> None:
        """Create the folder and record the layout of its entries."""
        self.folder.mkdir(parents=True, exist_ok=True)
        meta = {"row_shape": list(self.row_shape), "dtype": self.dtype.name}
        io.write_json(self.folder / "meta.json", meta)

    def rows(self, key: str) -> int:
        """How many rows the entry of `key` holds (0 if there is none)."""
        path = self.path(key)
        return path.stat().st_size // self.row_bytes if path.exists() else 0

    def write(self, key: str, values: np.ndarray) -> Path:
        """Store `values` (rows of `row_shape`) as the entry of `key`, atomically."""
        path = self.path(key)
        with io.atomic_path(path) as tmp:
            tmp.write_bytes(np.asarray(values, self.dtype).tobytes())
        return path

    def load(self, key: str) -> np.ndarray:
        """The entry of `key` as NumPy `[rows, *row_shape]`."""
        return np.fromfile(self.path(key), self.dtype).reshape(-1, *self.row_shape)

    def read(self, file: tf.Tensor) -> tf.Tensor:
        """The entry in `file` as a tensor `[rows, *row_shape]`, floats as float32 (in tf.data)."""
        values = tf.io.decode_raw(tf.io.read_file(file), tf.as_dtype(self.dtype))
        values = tf.reshape(values, [-1, *self.row_shape])
        return tf.cast(values, tf.float32) if self.dtype.kind == "f" else values
